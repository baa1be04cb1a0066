#pragma once
// User plans, read as HF transformers writes them. Two shapes:
//   - a flat {key: style} dict, HF's `tp_plan` argument (`from_pretrained(tp_plan=...)`, DistributedConfig.tp_plan):
//       {"layers.*.self_attn.q_proj": "colwise", "model.layers.0.mlp.down_proj": "replicate", "lm_head": "colwise_rep"}
//   - an object with HF's plan attributes as members (how a config class and a model hold them):
//       {"base_model_tp_plan": {...}, "base_model_ep_plan": {...}, "base_model_sp_plan": {...}, "_tp_plan": {...}}
//     (other members, e.g. the rest of a config.json, are ignored; base_model_pp_plan is not a sharding plan).
// Keys are module or parameter names. A key relative to the base model (as in every base_model_*_plan) gets the
// `model.` prefix HF's post_init adds; a key that already names something of the model as written is kept. `*` stands
// for one layer (or expert) index and a number names one layer: per-layer keys are resolved per layer
// (model/plan_groups.hpp). HF v5's fused expert keys (`experts.gate_up_proj`, `experts.down_proj`) apply to the
// per-expert tensors a checkpoint stores (`experts.*.gate_proj` and `up_proj`, `w1`/`w3`; `experts.*.down_proj`,
// `w2`), the packed styles becoming their per-tensor equivalents.
// Refused, each error naming the key: an unknown style, a key that names nothing of the model (a typo would leave
// the parameter silently replicated), a layer the model does not have, one expert by number, a sharding style on a
// module above the parameters (HF applies a style to a module's own parameters only: it would shard nothing).
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/json.hpp"
#include "shardplan/model/plan.hpp"
#include "shardplan/model/plan_groups.hpp"

namespace shardplan {

namespace user_plan_detail {

inline constexpr std::string_view kBaseModelPrefix = "model.";

/// HF's plan attributes, in the order plans are built from them.
inline constexpr std::string_view kPlanMembers[] = {"base_model_tp_plan", "_tp_plan",  "base_model_ep_plan",
                                                    "_ep_plan",           "base_model_sp_plan", "_sp_plan"};

enum class KeyMatch { none, parameter, module };

struct KeyLookup {
  KeyMatch match = KeyMatch::none;
  Index missing_layer = -1;  // the key matches a parameter pattern, but names a layer the parameter is not in
  Index expert = -1;         // the key names this expert index by number
};

/// The component indices of a pattern's second `*` (the expert index), -1 when it has none.
[[nodiscard]] constexpr Index expert_component(std::string_view pattern) {
  Index index = 0;
  bool seen_layer = false;
  for (std::size_t start = 0;; ++index) {
    const std::size_t end = pattern.find('.', start);
    if (pattern.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start) == "*") {
      if (seen_layer) return index;
      seen_layer = true;
    }
    if (end == std::string_view::npos) return -1;
    start = end + 1;
  }
}

/// What `key` names in the inventory: a parameter (or the module that owns it), a module above the parameters, or
/// nothing.
[[nodiscard]] constexpr KeyLookup lookup_key(std::string_view key, const Inventory& inventory) {
  KeyLookup found;
  const ParameterName generic = detail::generic_name(key);
  for (const ParameterGroup& group : inventory) {
    const std::string_view pattern = group.pattern.view();
    if (key_matches(key, pattern)) {
      if (const Index expert = expert_component(pattern); expert >= 0) {
        const Index number =
            detail::parse_layer_number(detail::name_component(key, static_cast<std::size_t>(expert)));
        if (number >= 0) found.expert = number;
      }
      const Index layer = key_layer(key, pattern);
      if (layer >= 0 && !group.layers.contains(layer)) {
        found.missing_layer = layer;
        continue;
      }
      found.match = KeyMatch::parameter;
      return found;
    }
    if (found.match == KeyMatch::none && pattern.size() > generic.view().size() &&
        pattern.starts_with(generic.view()) && pattern[generic.view().size()] == '.') {
      const Index position = detail::layer_component(pattern);
      const Index layer = position < 0 ? -1
                                       : detail::parse_layer_number(
                                             detail::name_component(key, static_cast<std::size_t>(position)));
      if (layer < 0 || group.layers.contains(layer)) found.match = KeyMatch::module;
    }
  }
  return found;
}

/// Styles that shard or spread a parameter (as opposed to forward-only styles: hooks on a module's input or output).
[[nodiscard]] constexpr bool shards_parameters(PlanStyle style) {
  return style_axis(style) != StyleAxis::none;
}

/// The per-tensor equivalent of a packed style, for a fused-expert key applied to one per-expert tensor.
[[nodiscard]] constexpr PlanStyle per_tensor_style(PlanStyle style) {
  switch (style) {
    case PlanStyle::packed_colwise: return PlanStyle::colwise;
    case PlanStyle::local_packed_colwise: return PlanStyle::local_colwise;
    case PlanStyle::packed_rowwise: return PlanStyle::rowwise;
    case PlanStyle::local_packed_rowwise: return PlanStyle::local_rowwise;
    default: return style;
  }
}

/// HF v5's fused expert keys ("X.experts.gate_up_proj", "X.experts.down_proj") as the per-expert module keys of a
/// checkpoint that stores one tensor per expert, those of them the inventory has.
[[nodiscard]] constexpr std::vector<ParameterName> per_expert_keys(std::string_view key, const Inventory& inventory) {
  std::vector<ParameterName> keys;
  const auto expand = [&](std::string_view fused, std::initializer_list<std::string_view> parts) {
    if (!key.ends_with(fused)) return;
    const std::string_view prefix = key.substr(0, key.size() - fused.size());
    for (std::string_view part : parts) {
      ParameterName expanded(prefix);
      expanded << ".experts.*." << part;
      if (lookup_key(expanded.view(), inventory).match == KeyMatch::parameter) keys.push_back(expanded);
    }
  };
  expand(".experts.gate_up_proj", {"gate_proj", "up_proj", "w1", "w3"});
  expand(".experts.down_proj", {"down_proj", "w2"});
  return keys;
}

/// Appends the entries of one {key: style} dict to `plan`.
[[nodiscard]] constexpr Status parse_plan_dict(const JsonValue& dict, const Inventory& inventory,
                                               std::string_view name, Plan& plan) {
  if (dict.is_null()) return Ok{};  // HF keeps an absent plan as None
  if (!dict.is_object()) {
    return make_error(ErrorCode::invalid_argument, name)
           << "expected an object of module key -> style, got " << dict.describe();
  }
  for (const JsonMember& member : dict.members()) {
    const std::string_view key = member.key();
    const std::string_view field = key.substr(0, 48);
    if (!member.value.is_string()) {
      return make_error(ErrorCode::invalid_argument, field) << "expected a style name, got " << member.value.describe();
    }
    SHARDPLAN_TRY(const PlanStyle style, parse_plan_style(member.value.as_string(), field));
    const auto refuse = [&](std::string_view why) {
      return make_error(ErrorCode::invalid_argument, name) << "'" << key.substr(0, 80) << "' " << why;
    };
    ParameterName prefixed(kBaseModelPrefix);
    prefixed << key;
    // As written first (absolute keys, lm_head), then relative to the base model as HF's post_init prefixes it.
    std::vector<PlanEntry> entries;
    Index missing_layer = -1;
    for (const std::string_view candidate : {key, prefixed.view()}) {
      const KeyLookup found = lookup_key(candidate, inventory);
      if (found.expert >= 0) {
        auto error = refuse("names expert ");
        return error << found.expert << "; a plan gives every expert of a layer one style (write '*')";
      }
      if (found.match == KeyMatch::parameter) {
        entries.push_back(PlanEntry{ParameterName(candidate), style});
        break;
      }
      if (found.match == KeyMatch::module) {
        if (shards_parameters(style)) {
          auto error = refuse("names a module above the parameters; HF applies '");
          return error << to_string(style) << "' to a module's own parameters only, so it would shard nothing";
        }
        entries.push_back(PlanEntry{ParameterName(candidate), style});
        break;
      }
      for (const ParameterName& expanded : per_expert_keys(candidate, inventory)) {
        entries.push_back(PlanEntry{expanded, user_plan_detail::per_tensor_style(style)});
      }
      if (!entries.empty()) break;
      if (found.missing_layer >= 0) missing_layer = found.missing_layer;
    }
    if (entries.empty()) {
      if (missing_layer >= 0) {
        auto error = refuse("matches no parameter of the model (it has no layer ");
        return error << missing_layer << ")";
      }
      return refuse("matches no parameter of the model");
    }
    for (const PlanEntry& entry : entries) {
      if (detail::find_entry(plan, entry.key.view()) != nullptr) {
        auto error = refuse("is a second key for '");
        return error << entry.key.view().substr(0, 80) << "'";
      }
      plan.push_back(entry);
    }
  }
  return Ok{};
}

}  // namespace user_plan_detail

/// The plans of an HF-format document (see the top of this file). A flat dict is the user's TP plan; `model_ep_plan`
/// (the family's EP plan) stays its EP plan, as HF overlays the model's `_ep_plan` on a user `tp_plan` when expert
/// parallelism is on. A document with HF's plan members gives each plan itself (an absent one is empty).
[[nodiscard]] constexpr Result<PlanSet> plan_set_from_json(std::string_view text, const Inventory& inventory,
                                                           const Plan& model_ep_plan = {},
                                                           std::string_view name = "plan") {
  SHARDPLAN_TRY(const JsonValue document, parse_json(text, name));
  if (!document.is_object()) {
    return make_error(ErrorCode::invalid_argument, name)
           << "expected an object of module key -> style, got " << document.describe();
  }
  bool members = false;
  for (const std::string_view member : user_plan_detail::kPlanMembers) members = members || document.contains(member);
  PlanSet plans;
  if (!members) {
    SHARDPLAN_CHECK(user_plan_detail::parse_plan_dict(document, inventory, name, plans.tp));
    plans.ep = model_ep_plan;
    return plans;
  }
  Plan* targets[] = {&plans.tp, &plans.tp, &plans.ep, &plans.ep, &plans.sp, &plans.sp};
  for (std::size_t i = 0; i < std::size(user_plan_detail::kPlanMembers); ++i) {
    const std::string_view member = user_plan_detail::kPlanMembers[i];
    if (const JsonValue* dict = document.find(member)) {
      SHARDPLAN_CHECK(user_plan_detail::parse_plan_dict(*dict, inventory, member, *targets[i]));
    }
  }
  return plans;
}

/// `plans` without the entries that name nothing of the model: a family's built-in plans cover every model of the
/// family (the dense MLP keys of an all-MoE model, say), while a plan given back to plan_set_from_json must not.
[[nodiscard]] constexpr PlanSet plans_for_model(const PlanSet& plans, const Inventory& inventory) {
  PlanSet out;
  const auto keep = [&inventory](const Plan& plan, Plan& kept) {
    for (const PlanEntry& entry : plan) {
      if (user_plan_detail::lookup_key(entry.key.view(), inventory).match != user_plan_detail::KeyMatch::none) {
        kept.push_back(entry);
      }
    }
  };
  keep(plans.tp, out.tp);
  keep(plans.ep, out.ep);
  keep(plans.sp, out.sp);
  return out;
}

/// The TP plan of an HF-format document (a flat dict, or its base_model_tp_plan and _tp_plan members).
[[nodiscard]] constexpr Result<Plan> user_plan_from_json(std::string_view text, const Inventory& inventory,
                                                         std::string_view name = "plan") {
  SHARDPLAN_TRY(PlanSet plans, plan_set_from_json(text, inventory, {}, name));
  return plans.tp;
}

}  // namespace shardplan
