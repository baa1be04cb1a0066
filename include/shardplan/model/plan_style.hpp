#pragma once
// Plan styles: HF transformers' tensor-parallel vocabulary (colwise, rowwise, packed_colwise, grouped_gemm, ...), and
// what each does to a parameter (its placement on the style's mesh axis) and to activations.
//
// The names are the union of the ParallelInterface registries of current transformers: the 5.x
// integrations/tensor_parallel.py (embedding_colwise, mla_kv_a_proj, all_reduce, moe_tp_experts, moe_identity_expert,
// megamoe_*), the distributed/tensor_parallel.py rewrite (colwise_allgather, vocab_reduce_scatter, moe_tp_*_colwise/
// rowwise, moe_experts_allreduce, module_allgather*) and 4.5x (colwise_rep, rowwise_rep, local_*, local, gather).
// Styles HF registers with no parameter sharding (a forward hook only) leave the parameter replicated here too.
//
// Dims follow HF's ParallelInterface: colwise shards the output features, dim -2 of a weight stored [..., out, in]
// (an embedding [vocab, hidden] is the exception: colwise shards its hidden dim 1); rowwise shards the input
// features, dim -1, and leaves the bias whole (it is added once, after the reduction). Packed styles split a fused
// [gate; up] dim as two segments, each on its own (a plain Shard of a fused bias mixes gate and up: a known trap).
#include "shardplan/core/cxx20.hpp"

#include <iterator>
#include <string_view>

#include "shardplan/layout/placement.hpp"
#include "shardplan/model/parameter.hpp"

namespace shardplan {

enum class PlanStyle {
  colwise,
  colwise_gather_output,
  rowwise,
  rowwise_reduce_scatter,
  rowwise_split_input,
  packed_colwise,
  packed_rowwise,
  embedding_rowwise,
  sequence_parallel,
  activation,
  activation_seq_dim_2,
  grouped_gemm,
  ep_router,
  moe_tp_experts,
  local_colwise,
  local_rowwise,
  local_packed_colwise,
  local_packed_rowwise,
  replicate,
  replicated_with_grad_allreduce,
  // Added with HF's current registries (issue 13).
  embedding_colwise,
  colwise_loss_parallel,
  vocab_reduce_scatter,
  moe_tp_gate_up_colwise,
  moe_tp_down_rowwise,
  moe_identity_expert,
  megamoe_router,
  megamoe_experts,
  mla_kv_a_proj,
  all_reduce,
  gather,
  local,
  module_allgather,
  module_allgather_hidden_states,
  module_allgather_split,
};

struct PlanStyleName {
  std::string_view name;
  PlanStyle style;
};

/// Canonical names first; aliases (HF spellings) after.
inline constexpr PlanStyleName kPlanStyleNames[] = {
    {"colwise", PlanStyle::colwise},
    {"colwise_gather_output", PlanStyle::colwise_gather_output},
    {"rowwise", PlanStyle::rowwise},
    {"rowwise_reduce_scatter", PlanStyle::rowwise_reduce_scatter},
    {"rowwise_split_input", PlanStyle::rowwise_split_input},
    {"packed_colwise", PlanStyle::packed_colwise},
    {"packed_rowwise", PlanStyle::packed_rowwise},
    {"embedding_rowwise", PlanStyle::embedding_rowwise},
    {"sequence_parallel", PlanStyle::sequence_parallel},
    {"activation", PlanStyle::activation},
    {"activation_seq_dim_2", PlanStyle::activation_seq_dim_2},
    {"grouped_gemm", PlanStyle::grouped_gemm},
    {"ep_router", PlanStyle::ep_router},
    {"moe_tp_experts", PlanStyle::moe_tp_experts},
    {"local_colwise", PlanStyle::local_colwise},
    {"local_rowwise", PlanStyle::local_rowwise},
    {"local_packed_colwise", PlanStyle::local_packed_colwise},
    {"local_packed_rowwise", PlanStyle::local_packed_rowwise},
    {"replicate", PlanStyle::replicate},
    {"replicated_with_grad_allreduce", PlanStyle::replicated_with_grad_allreduce},
    {"embedding_colwise", PlanStyle::embedding_colwise},
    {"colwise_loss_parallel", PlanStyle::colwise_loss_parallel},
    {"vocab_reduce_scatter", PlanStyle::vocab_reduce_scatter},
    {"moe_tp_gate_up_colwise", PlanStyle::moe_tp_gate_up_colwise},
    {"moe_tp_down_rowwise", PlanStyle::moe_tp_down_rowwise},
    {"moe_identity_expert", PlanStyle::moe_identity_expert},
    {"megamoe_router", PlanStyle::megamoe_router},
    {"megamoe_experts", PlanStyle::megamoe_experts},
    {"mla_kv_a_proj", PlanStyle::mla_kv_a_proj},
    {"all_reduce", PlanStyle::all_reduce},
    {"gather", PlanStyle::gather},
    {"local", PlanStyle::local},
    {"module_allgather", PlanStyle::module_allgather},
    {"module_allgather_hidden_states", PlanStyle::module_allgather_hidden_states},
    {"module_allgather_split", PlanStyle::module_allgather_split},
    // aliases: the same HF class under another registry's name
    {"colwise_rep", PlanStyle::colwise_gather_output},
    {"colwise_allgather", PlanStyle::colwise_gather_output},
    {"rowwise_allreduce", PlanStyle::rowwise},
    {"rowwise_rep", PlanStyle::rowwise_split_input},
    {"vocab", PlanStyle::embedding_rowwise},
    {"vocab_allreduce", PlanStyle::embedding_rowwise},
    {"moe_experts_allreduce", PlanStyle::moe_tp_experts},
};

/// The canonical names: one per PlanStyle, first in kPlanStyleNames.
inline constexpr std::size_t kCanonicalPlanStyles = static_cast<std::size_t>(PlanStyle::module_allgather_split) + 1;

[[nodiscard]] constexpr std::string_view to_string(PlanStyle style) {
  for (const PlanStyleName& entry : kPlanStyleNames) {
    if (entry.style == style) return entry.name;
  }
  return "replicate";
}

[[nodiscard]] constexpr Result<PlanStyle> parse_plan_style(std::string_view text, std::string_view field = "style") {
  for (const PlanStyleName& entry : kPlanStyleNames) {
    if (entry.name == text) return entry.style;
  }
  // The message has room for the common names only; docs/plans.md lists every one.
  auto error = make_error(ErrorCode::parse_error, field) << "unknown plan style '" << text.substr(0, 40) << "' (known:";
  constexpr std::size_t kListed = 5;
  for (std::size_t i = 0; i < kListed; ++i) error << (i == 0 ? " " : ", ") << kPlanStyleNames[i].name;
  return error << ", ... " << static_cast<Index>(std::size(kPlanStyleNames) - kListed) << " more in docs/plans.md)";
}

/// Which mesh axis a style shards along: tensor parallel, expert parallel (whole experts), or none.
enum class StyleAxis { none, tp, ep };

[[nodiscard]] constexpr StyleAxis style_axis(PlanStyle style) {
  switch (style) {
    case PlanStyle::grouped_gemm: return StyleAxis::ep;
    case PlanStyle::sequence_parallel:
    case PlanStyle::activation:
    case PlanStyle::activation_seq_dim_2:
    case PlanStyle::ep_router:
    case PlanStyle::replicate:
    case PlanStyle::replicated_with_grad_allreduce:
    case PlanStyle::moe_tp_experts:
    case PlanStyle::moe_identity_expert:
    case PlanStyle::megamoe_router:
    case PlanStyle::megamoe_experts:
    case PlanStyle::mla_kv_a_proj:
    case PlanStyle::all_reduce:
    case PlanStyle::gather:
    case PlanStyle::local:
    case PlanStyle::module_allgather:
    case PlanStyle::module_allgather_hidden_states:
    case PlanStyle::module_allgather_split: return StyleAxis::none;
    default: return StyleAxis::tp;
  }
}

/// What a style does to the layer's output, for readers and the communication estimate.
[[nodiscard]] constexpr std::string_view activation_effect(PlanStyle style) {
  switch (style) {
    case PlanStyle::colwise:
    case PlanStyle::local_colwise:
    case PlanStyle::packed_colwise:
    case PlanStyle::local_packed_colwise: return "output sharded on features";
    case PlanStyle::colwise_gather_output: return "output all-gathered";
    case PlanStyle::rowwise:
    case PlanStyle::local_rowwise:
    case PlanStyle::packed_rowwise:
    case PlanStyle::local_packed_rowwise: return "output partial sums, all-reduced";
    case PlanStyle::rowwise_reduce_scatter: return "output reduce-scattered on the sequence dim";
    case PlanStyle::rowwise_split_input: return "replicated input split locally, output all-reduced";
    case PlanStyle::embedding_rowwise: return "out-of-range ids masked, output all-reduced";
    case PlanStyle::sequence_parallel:
    case PlanStyle::activation: return "activations sharded on the sequence dim (1)";
    case PlanStyle::activation_seq_dim_2: return "activations sharded on the sequence dim (2)";
    case PlanStyle::grouped_gemm: return "routed tokens only (all-to-all)";
    case PlanStyle::ep_router: return "routing masked to local experts";
    case PlanStyle::moe_tp_experts: return "expert output all-reduced";
    case PlanStyle::replicate: return "none";
    case PlanStyle::replicated_with_grad_allreduce: return "gradient all-reduced";
    case PlanStyle::embedding_colwise: return "hidden slices combined (all-reduced)";
    case PlanStyle::colwise_loss_parallel: return "logits stay sharded on the vocabulary (loss parallel)";
    case PlanStyle::vocab_reduce_scatter: return "out-of-range ids masked, output reduce-scattered on the sequence dim";
    case PlanStyle::moe_tp_gate_up_colwise:
    case PlanStyle::moe_tp_down_rowwise: return "none (the experts module's moe_experts_allreduce reduces)";
    case PlanStyle::moe_identity_expert: return "input divided by tp (the experts' all-reduce sums it back)";
    case PlanStyle::megamoe_router: return "global expert ids kept (the kernel dispatches)";
    case PlanStyle::megamoe_experts: return "dispatch and combine inside the kernel";
    case PlanStyle::mla_kv_a_proj: return "rotary part's gradient all-reduced";
    case PlanStyle::all_reduce:
    case PlanStyle::gather: return "output all-reduced";
    case PlanStyle::local: return "none (parameter divided by tp, the parent reduces)";
    case PlanStyle::module_allgather:
    case PlanStyle::module_allgather_hidden_states: return "input all-gathered from the sequence dim";
    case PlanStyle::module_allgather_split: return "input all-gathered, output split on the sequence dim";
  }
  return "none";
}

/// How a style shards one parameter on its axis: a placement, or (packed_colwise) a dim of two equal segments.
struct ParameterSharding {
  Placement placement;         // normalised against the parameter's rank; R when the style leaves it whole
  bool two_segments = false;   // packed_colwise: `placement` is S(d) and dim d is [gate; up], split each on its own
                               // (ShardedParameter::segments holds the sizes, as it does for a family's fused
                               // tensors: phi3's qkv_proj and gate_up_proj under any style)
};

[[nodiscard]] constexpr bool is_embedding(const ParameterGroup& param) {
  return param.pattern.view().find("embed_tokens") != std::string_view::npos;
}

/// The parameter's sharding under `style`, or an error when the style cannot apply to its shape (e.g. a packed style
/// on a dim of odd size).
[[nodiscard]] constexpr Result<ParameterSharding> parameter_sharding(PlanStyle style, const ParameterGroup& param) {
  const auto rank = static_cast<Index>(param.shape.size());
  const bool bias = param.is_bias() || rank == 1;
  const auto shard = [&](Index dim) -> Result<ParameterSharding> {
    SHARDPLAN_TRY(const Index d, normalize_dim(dim, rank, param.pattern.view()));
    return ParameterSharding{Placement::shard(d), false};
  };
  const bool gate_up = param.pattern.view().find("gate_up") != std::string_view::npos;
  switch (style) {
    case PlanStyle::colwise:
    case PlanStyle::colwise_gather_output:
    case PlanStyle::colwise_loss_parallel:
    case PlanStyle::local_colwise:
      if (is_embedding(param)) return shard(1);
      return shard(bias ? -1 : -2);
    case PlanStyle::embedding_colwise: return shard(-1);  // the hidden dim of [vocab, hidden]
    case PlanStyle::rowwise:
    case PlanStyle::rowwise_reduce_scatter:
    case PlanStyle::rowwise_split_input:
    case PlanStyle::local_rowwise:
      if (bias) return ParameterSharding{};
      return shard(-1);
    case PlanStyle::packed_colwise:
    case PlanStyle::local_packed_colwise: {
      SHARDPLAN_TRY(ParameterSharding sharding, shard(bias ? -1 : -2));
      sharding.two_segments = true;
      return sharding;
    }
    case PlanStyle::packed_rowwise:
    case PlanStyle::local_packed_rowwise: {
      if (bias) return ParameterSharding{};
      SHARDPLAN_TRY(const Index d, normalize_dim(-1, rank, param.pattern.view()));
      return ParameterSharding{Placement::strided_shard(d, 2), false};
    }
    case PlanStyle::embedding_rowwise:
    case PlanStyle::vocab_reduce_scatter: return shard(0);
    case PlanStyle::grouped_gemm:
      // Per-expert tensors are placed whole (the expert index is not a tensor dim); fused ones split dim 0.
      if (param.experts > 0) return ParameterSharding{};
      return shard(0);
    case PlanStyle::moe_tp_gate_up_colwise:
      // HF: _StridedShard(-2, 2) of a fused [.., 2I, H] gate_up; a per-expert gate or up tensor is one segment.
      if (gate_up && !bias) {
        SHARDPLAN_TRY(const Index d, normalize_dim(-2, rank, param.pattern.view()));
        return ParameterSharding{Placement::strided_shard(d, 2), false};
      }
      if (gate_up) {
        SHARDPLAN_TRY(ParameterSharding sharding, shard(-1));
        sharding.two_segments = true;
        return sharding;
      }
      return shard(bias ? -1 : -2);
    case PlanStyle::moe_tp_down_rowwise:
      if (bias) return ParameterSharding{};
      return shard(-1);
    case PlanStyle::moe_tp_experts:  // HF registers no parameter sharding: a forward all-reduce of the experts' output
    case PlanStyle::moe_identity_expert:
    case PlanStyle::megamoe_router:
    case PlanStyle::megamoe_experts:
    case PlanStyle::mla_kv_a_proj:
    case PlanStyle::all_reduce:
    case PlanStyle::gather:
    case PlanStyle::local:
    case PlanStyle::module_allgather:
    case PlanStyle::module_allgather_hidden_states:
    case PlanStyle::module_allgather_split:
    case PlanStyle::sequence_parallel:
    case PlanStyle::activation:
    case PlanStyle::activation_seq_dim_2:
    case PlanStyle::ep_router:
    case PlanStyle::replicate:
    case PlanStyle::replicated_with_grad_allreduce: return ParameterSharding{};
  }
  return ParameterSharding{};
}

}  // namespace shardplan
