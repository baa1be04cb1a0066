#pragma once
// User plans: a JSON object mapping parameter names or patterns to styles, as HF transformers' `tp_plan` is written:
//   {"model.layers.*.self_attn.q_proj": "colwise", "model.layers.*.mlp.down_proj": "rowwise", "lm_head": "colwise_rep"}
// Every style must exist and every key must match at least one parameter of the model (a typo that matches nothing
// would silently leave the parameter replicated). Keys use `*` for every layer and expert index: per-layer overrides
// are refused (validation and sizing treat all layers of a parameter alike).
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/json.hpp"
#include "shardplan/model/plan.hpp"

namespace shardplan {

[[nodiscard]] constexpr Result<Plan> user_plan_from_json(std::string_view text, const Inventory& inventory,
                                                         std::string_view name = "plan") {
  SHARDPLAN_TRY(const JsonValue document, parse_json(text, name));
  if (!document.is_object()) {
    return make_error(ErrorCode::invalid_argument, name)
           << "expected an object of parameter pattern -> style, got " << document.describe();
  }
  Plan plan;
  for (const JsonMember& member : document.members()) {
    const std::string_view key = member.key();
    if (!member.value.is_string()) {
      return make_error(ErrorCode::invalid_argument, key.substr(0, 48))
             << "expected a style name, got " << member.value.describe();
    }
    SHARDPLAN_TRY(const PlanStyle style, parse_plan_style(member.value.as_string(), key.substr(0, 48)));
    if (detail::generic_name(key).view() != key) {
      // Validation and sizing work on parameter groups (all layers at once); a per-layer override would be ignored
      // there, so it is refused rather than silently dropped.
      return make_error(ErrorCode::invalid_argument, name)
             << "'" << key.substr(0, 80) << "' names one layer or expert; plans take patterns with '*' for every index";
    }
    bool matches = false;
    for (const ParameterGroup& group : inventory) matches = matches || key_matches(key, group.pattern.view());
    if (!matches) {
      return make_error(ErrorCode::invalid_argument, name)
             << "'" << key.substr(0, 80) << "' matches no parameter of the model";
    }
    plan.push_back(PlanEntry{ParameterName(key), style});
  }
  return plan;
}

}  // namespace shardplan
