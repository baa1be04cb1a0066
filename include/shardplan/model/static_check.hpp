#pragma once
// Plan validity in a static_assert, with a readable failure:
//
//   static_assert(shardplan::require_valid_plan(*shardplan::model_preset("llama-3.1-70b"), {.tp = 8}));
//
// An invalid plan calls the function its broken rule names in kRules (model/plan_rules.hpp). Those functions are
// deliberately not constexpr, so the call cannot be a constant expression and the compiler's error names it: "call to
// non-'constexpr' function 'void shardplan::plan_errors::attention_heads_not_divisible_by_tp()'".
#include "shardplan/core/cxx20.hpp"

#include "shardplan/model/validate.hpp"

namespace shardplan {

/// True when the model's default plan is valid under `parallel`; otherwise not a constant expression (see above).
[[nodiscard]] constexpr bool require_valid_plan(const ModelConfig& config, const ParallelConfig& parallel) {
  const auto report = validate_model_plan(config, parallel, nullptr, CheckDepth::rules);
  if (!report.ok()) {
    plan_errors::invalid_input_sizes();
    return false;
  }
  for (const Diagnostic& d : report->errors) rule_spec(d.rule).compile_error();
  return report->valid();
}

}  // namespace shardplan
