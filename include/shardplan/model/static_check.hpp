#pragma once
// Plan validity in a static_assert, with a readable failure:
//
//   static_assert(shardplan::require_valid_plan(*shardplan::model_preset("llama-3.1-70b"), {.tp = 8}));
//
// An invalid plan calls a function named after the broken rule. Those functions are deliberately not constexpr, so
// the call cannot be a constant expression and the compiler's error names it: "call to non-'constexpr' function
// 'void shardplan::plan_errors::attention_heads_not_divisible_by_tp()'".
#include "shardplan/model/validate.hpp"

namespace shardplan {
namespace plan_errors {
// NOLINTBEGIN: the names are the message.
inline void invalid_input_sizes() {}
inline void attention_heads_not_divisible_by_tp() {}
inline void kv_heads_not_divisible_by_tp_under_the_kv_policy() {}
inline void intermediate_size_not_divisible_by_tp() {}
inline void expert_intermediate_size_not_divisible_by_etp() {}
inline void shared_expert_intermediate_size_not_divisible_by_tp() {}
inline void experts_not_divisible_by_ep() {}
inline void vocabulary_not_divisible_under_the_padding_rule() {}
inline void quantization_blocks_cut_by_the_per_rank_shapes() {}
inline void sequence_length_not_divisible() {}
inline void more_pipeline_stages_than_layers() {}
inline void parallel_sizes_do_not_multiply_to_the_world() {}
inline void expert_parallel_cannot_borrow_its_ranks() {}
// NOLINTEND
}  // namespace plan_errors

/// True when the model's default plan is valid under `parallel`; otherwise not a constant expression (see above).
[[nodiscard]] constexpr bool require_valid_plan(const ModelConfig& config, const ParallelConfig& parallel) {
  const auto report = check_plan(config, parallel, nullptr, CheckDepth::rules);
  if (!report.ok()) {
    plan_errors::invalid_input_sizes();
    return false;
  }
  for (const Diagnostic& d : report->errors) {
    switch (d.rule) {
      case Rule::attention_heads: plan_errors::attention_heads_not_divisible_by_tp(); break;
      case Rule::kv_heads: plan_errors::kv_heads_not_divisible_by_tp_under_the_kv_policy(); break;
      case Rule::intermediate: plan_errors::intermediate_size_not_divisible_by_tp(); break;
      case Rule::expert_intermediate: plan_errors::expert_intermediate_size_not_divisible_by_etp(); break;
      case Rule::shared_expert_intermediate: plan_errors::shared_expert_intermediate_size_not_divisible_by_tp(); break;
      case Rule::experts: plan_errors::experts_not_divisible_by_ep(); break;
      case Rule::vocabulary: plan_errors::vocabulary_not_divisible_under_the_padding_rule(); break;
      case Rule::quantization_blocks: plan_errors::quantization_blocks_cut_by_the_per_rank_shapes(); break;
      case Rule::sequence:
      case Rule::context: plan_errors::sequence_length_not_divisible(); break;
      case Rule::pipeline: plan_errors::more_pipeline_stages_than_layers(); break;
      case Rule::mesh: plan_errors::parallel_sizes_do_not_multiply_to_the_world(); break;
      case Rule::expert_parallel: plan_errors::expert_parallel_cannot_borrow_its_ranks(); break;
      default: break;
    }
  }
  return report->valid();
}

}  // namespace shardplan
