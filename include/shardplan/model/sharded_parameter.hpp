#pragma once
// A parameter under a plan: its style, the mesh axis the style splits it along, and its local shape on each member
// of that axis. Local shapes come from the same layouts as everything else (SegmentedLayout over a one-axis mesh),
// so a head is never cut (the unit of an attention projection's sharded dim is a head) and KV heads fewer than the
// ranks follow the chosen short-segment policy.
#include "shardplan/core/cxx20.hpp"

#include <optional>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/llm/expert_placement.hpp"
#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/llm/segmented_dim.hpp"
#include "shardplan/llm/vocab_padding.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/parallel.hpp"
#include "shardplan/model/parameter.hpp"
#include "shardplan/model/plan.hpp"
#include "shardplan/model/plan_groups.hpp"

namespace shardplan {

struct ShardedParameter {
  ParameterGroup param;
  std::optional<PlanStyle> style;  // nullopt: no plan entry applies (replicated)
  StyleAxis axis = StyleAxis::none;
  ParameterSharding sharding;
  Index shards = 1;    // members of the axis that splits it (tp, etp or ep); 1 when replicated
  Index unit = 1;      // the sharded dim's indivisible piece (a head's rows for attention projections)
  std::vector<Index> segments;  // a fused sharded dim's parts in elements ([gate; up], phi3's [q; k; v]), each split
                                // on its own; empty: one part
  bool kv = false;     // k/v projection (or a fused qkv's k and v): the KV short-segment policy applies
  bool vocab = false;  // embedding or lm_head split on the vocabulary: padded by the vocabulary rule
  // Expert tensor parallelism under an EP plan (Megatron-LM's --expert-tensor-parallel-size): the experts ep spreads
  // are each split again over `expert_shards` = etp ranks along `expert_dim` (the output dim of gate/up, the input
  // dim of down). 1: the experts stay whole (etp 1).
  Index expert_shards = 1;
  Index expert_dim = 0;

  /// Whether ep spreads whole instances of this parameter (one tensor per expert) rather than splitting a dim.
  [[nodiscard]] constexpr bool instances_over_ep() const { return axis == StyleAxis::ep && param.experts > 0; }
  /// The members of the parameter's mesh axes that can hold different regions: the axis' members (1 when
  /// replicated or when ep spreads whole instances), times the etp members splitting each expert.
  [[nodiscard]] constexpr Index members() const {
    const Index axis_members = axis == StyleAxis::none || instances_over_ep() ? 1 : shards;
    return axis_members * expert_shards;  // both <= a parallel size, and their product <= tp·ep, checked by callers
  }

  [[nodiscard]] constexpr bool is_expert() const { return param.experts > 0 || contains("experts."); }
  [[nodiscard]] constexpr bool contains(std::string_view text) const {
    return param.pattern.view().find(text) != std::string_view::npos;
  }
};

namespace detail {

/// The rows of one head in the sharded dim of an attention parameter; 1 elsewhere.
[[nodiscard]] constexpr Index head_unit(const ParameterGroup& param, const ModelConfig& config) {
  const std::string_view name = param.pattern.view();
  const auto has = [name](std::string_view part) { return name.find(part) != std::string_view::npos; };
  if (!has("self_attn.")) return 1;
  if (config.is_mla()) {
    if (has("q_b_proj") || has("q_proj")) return config.qk_nope_head_dim + config.qk_rope_head_dim;
    if (has("kv_b_proj")) return config.qk_nope_head_dim + config.v_head_dim;
    if (has("o_proj")) return param.is_bias() ? 1 : config.v_head_dim;
    return 1;
  }
  if (has("q_proj") || has("k_proj") || has("v_proj")) return config.head_dim;
  if (has("o_proj")) return param.is_bias() ? 1 : config.head_dim;
  return 1;
}

/// Which dim Megatron-LM's expert tensor parallelism splits in an expert tensor ep spreads: a column projection
/// (gate, up: they produce features) splits its output dim and its bias, a row projection (down) its input dim and
/// keeps its bias whole (added once, after the reduction). Routed-expert tensors only; the router stays whole.
/// Sets expert_shards/expert_dim when etp > 1 and the parameter is one of the family's expert projections.
[[nodiscard]] constexpr Status split_experts_over_etp(ShardedParameter& sharded, const ModelConfig& config,
                                                      const ParallelConfig& parallel) {
  const Index etp = parallel.expert_tp();
  if (sharded.axis != StyleAxis::ep || etp <= 1 || !sharded.is_expert()) return Ok{};
  const ParameterGroup& param = sharded.param;
  const MoeModules moe = moe_modules(config.family);
  const auto listed = [&param](const std::vector<std::string_view>& keys) {
    for (std::string_view key : keys) {
      if (key_matches(key, param.pattern.view())) return true;
    }
    return false;
  };
  const auto rank = static_cast<Index>(param.shape.size());
  const bool bias = param.is_bias() || rank < 2;
  if (listed(moe.column)) {
    // [.., out, in] weights split dim -2; gpt-oss's [E, in, out] its last; biases [.., out] their last.
    sharded.expert_dim = bias || param.input_dim == -2 ? rank - 1 : rank - 2;
  } else if (listed(moe.row)) {
    if (bias) return Ok{};
    sharded.expert_dim = rank + param.input_dim;
  } else {
    return Ok{};
  }
  sharded.expert_shards = etp;
  return Ok{};
}

/// Sorts `values` and drops repeats.
constexpr void sort_unique(std::vector<Index>& values) {
  heap_sort(values.data(), values.size(), [](Index a, Index b) { return a < b; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (kept == 0 || values[kept - 1] != values[i]) values[kept++] = values[i];
  }
  values.resize(kept);
}

/// The breakpoints of split_piece(n, k, ·, policy).size over members 0..k-1, for the chunk and balanced policies
/// (even has none): the members where a piece may differ from the one before. Appends to `out`.
constexpr void split_breakpoints(Index n, Index k, std::vector<Index>& out) {
  if (k <= 1 || n <= 0) return;
  const Index chunk = ceil_div(n, k);  // chunk: `full` members of c, then a remainder, then empty ones
  const Index full = n / chunk;
  if (full < k) out.push_back(full);
  if (full + 1 < k) out.push_back(full + 1);
  if (n % k != 0) out.push_back(n % k);  // balanced: the first n % k members hold one more
}

}  // namespace detail

/// Members of a parameter's axis (0..shards-1) where its local shape may change: between two consecutive
/// breakpoints (and 0, shards) every member holds the same local shape, so the members of each run form one class
/// and one of them stands for all. A superset is harmless (more classes, same answers), so every split the region
/// could be computed with (heads per segment, elements, _S chunks, expert slots) contributes its breakpoints.
/// Sorted, unique, inside (0, shards); at most a few per segment.
[[nodiscard]] constexpr std::vector<Index> axis_breakpoints(const ShardedParameter& sharded) {
  std::vector<Index> out;
  // A vocabulary split's local shape is its padded rows on every member; its breakpoints below cover the chunked
  // split sizing falls back to when the vocabulary rule refuses the layout.
  if (sharded.axis == StyleAxis::none || sharded.instances_over_ep()) return out;
  const Index k = sharded.shards;
  const Index n = sharded.param.shape[static_cast<std::size_t>(sharded.sharding.placement.dim)];
  detail::split_breakpoints(n, k, out);
  const Index unit = sharded.unit < 1 ? 1 : sharded.unit;
  detail::split_breakpoints(n / unit, k, out);
  for (const Index segment : sharded.segments) {  // a fused dim's parts ([gate; up], phi3's [q; k; v])
    detail::split_breakpoints(segment / unit, k, out);
    detail::split_breakpoints(segment, k, out);
  }
  if (sharded.sharding.placement.is_strided() && sharded.sharding.placement.split_factor > 0) {
    const Index chunk = ceil_div(n, sharded.sharding.placement.split_factor);
    if (chunk > 0) {
      detail::split_breakpoints(chunk, k, out);
      detail::split_breakpoints(n - (ceil_div(n, chunk) - 1) * chunk, k, out);
    }
  }
  detail::sort_unique(out);
  return out;
}

/// Members of the etp split of each expert (0..expert_shards-1) where the local shape may change (see
/// axis_breakpoints).
[[nodiscard]] constexpr std::vector<Index> expert_breakpoints(const ShardedParameter& sharded) {
  std::vector<Index> out;
  if (sharded.expert_shards <= 1) return out;
  detail::split_breakpoints(sharded.param.shape[static_cast<std::size_t>(sharded.expert_dim)], sharded.expert_shards,
                            out);
  detail::sort_unique(out);
  return out;
}

/// `plan`, or the family's default plan for this layout when it is null (EP entries when ep > 1, SP entries with --sp).
[[nodiscard]] constexpr Plan plan_or_default(const Plan* plan, const ModelConfig& config,
                                             const ParallelConfig& parallel) {
  // if/else, not `?:`: GCC 12 double-frees a class prvalue/lvalue conditional in constant evaluation.
  if (plan != nullptr) return *plan;
  return default_plan(config.family, parallel.ep > 1, parallel.sequence_parallel);
}

/// How the routed experts of one MoE layer are spread over the ep ranks (contiguous blocks, `expert_policy`).
[[nodiscard]] constexpr Result<ExpertPartition> expert_partition(const ModelConfig& config,
                                                                 const ParallelConfig& parallel) {
  const SplitPolicy policy =
      parallel.expert_policy == SplitPolicy::balanced ? SplitPolicy::balanced : SplitPolicy::even;
  return ExpertPartition::create(
      ExpertSpec{config.num_experts, parallel.ep, ExpertStrategy::linear, policy, 0, {}});
}

/// Resolves every parameter of an inventory against a plan.
[[nodiscard]] constexpr Result<std::vector<ShardedParameter>> shard_parameters(const Inventory& inventory,
                                                                               const Plan& plan,
                                                                               const ModelConfig& config,
                                                                               const ParallelConfig& parallel) {
  std::vector<ShardedParameter> out;
  out.reserve(inventory.size());
  for (const ResolvedGroup& resolved : resolve_groups(inventory, plan)) {  // groups split by per-layer keys
    const ParameterGroup& param = resolved.param;
    ShardedParameter sharded;
    sharded.param = param;
    sharded.style = resolved.style;
    if (sharded.style) {
      SHARDPLAN_TRY(sharded.sharding, parameter_sharding(*sharded.style, param));
      StyleAxis axis = style_axis(*sharded.style);
      // HF applies a plan on its one mesh: without an ep axis, grouped_gemm splits a fused [E, ...] expert tensor's
      // expert dim over the tp ranks (gpt-oss at tp 8: [16, 2880, 5760] each), as expert tensor parallelism (etp).
      if (axis == StyleAxis::ep && parallel.ep == 1 && param.experts == 0) axis = StyleAxis::tp;
      const bool whole_experts = axis == StyleAxis::ep && param.experts > 0;  // instances spread, tensors whole
      sharded.axis = sharded.sharding.placement.is_shard() || whole_experts ? axis : StyleAxis::none;
    }
    if (sharded.axis == StyleAxis::tp) sharded.shards = sharded.is_expert() ? parallel.expert_tp() : parallel.tp;
    if (sharded.axis == StyleAxis::ep) sharded.shards = parallel.ep;
    if (sharded.shards == 1 && !(sharded.axis == StyleAxis::ep && param.experts > 0)) sharded.axis = StyleAxis::none;
    SHARDPLAN_CHECK(detail::split_experts_over_etp(sharded, config, parallel));
    sharded.unit = detail::head_unit(param, config);
    sharded.kv = sharded.contains("self_attn.k_proj") || sharded.contains("self_attn.v_proj") ||
                 sharded.contains("self_attn.qkv_proj");
    const Index rank = static_cast<Index>(param.shape.size());
    const Index dim = sharded.sharding.placement.dim;
    if (sharded.sharding.two_segments && param.shape[static_cast<std::size_t>(dim)] % 2 == 0) {
      const Index half = param.shape[static_cast<std::size_t>(dim)] / 2;  // a packed style's [gate; up]
      sharded.segments = {half, half};
    } else if (sharded.sharding.placement.is_shard() && !sharded.sharding.placement.is_strided() &&
               dim == rank - 2) {
      sharded.segments = fused_segments(param, config);  // a family's fused output dim (phi3)
    }
    sharded.vocab = (sharded.contains("embed_tokens") || sharded.contains("lm_head")) && sharded.axis == StyleAxis::tp &&
                    sharded.sharding.placement.dim == 0;
    out.push_back(sharded);
  }
  return out;
}

/// The member of a parameter's axes that the rank at (tp rank, ep rank) holds, in 0..members()-1: its tp rank
/// (modulo etp for expert weights), its ep rank for a tensor split over ep, 0 when whole (and for per-expert tensors,
/// which ep spreads as whole instances); with expert tensor parallelism, that member times etp plus the rank's
/// position in its etp group (its tp rank modulo etp).
[[nodiscard]] constexpr Index axis_member(const ShardedParameter& sharded, const ParallelConfig& parallel,
                                          Index tp_rank, Index ep_rank) {
  if (sharded.axis == StyleAxis::tp) return sharded.is_expert() ? tp_rank % parallel.expert_tp() : tp_rank;
  const Index spread = sharded.axis == StyleAxis::ep && sharded.param.experts == 0 ? ep_rank : 0;
  if (sharded.expert_shards <= 1) return spread;
  return spread * sharded.expert_shards + tp_rank % sharded.expert_shards;
}

/// Whether a parameter outside the decoder layers is on pipeline stage `stage` of `stages`: the final norm and
/// lm_head on the last, everything else (the embedding) on the first.
[[nodiscard]] constexpr bool global_on_stage(const ShardedParameter& sharded, Index stage, Index stages) {
  const bool last = sharded.contains("lm_head") || sharded.param.pattern.view().starts_with("model.norm");
  return last ? stage == stages - 1 : stage == 0;
}

/// What one member of a parameter's axis holds of one instance: its local shape and, per dim, the global indices.
/// A vocabulary-split parameter's local rows include the padding rows of `vocab_pad` (its sets list the real tokens).
struct LocalRegion {
  Shape local_shape;
  Box sets;
};

/// The local region of one instance on member `member` (0..members()-1, see axis_member) of the parameter's axes.
/// A short KV segment under `forbid` is an error (the validation rules say why). Constant time in the number of
/// members: no layout over all of them is built.
[[nodiscard]] constexpr Result<LocalRegion> local_region(const ShardedParameter& sharded, Index member,
                                                         const ParallelConfig& parallel) {
  const ParameterGroup& param = sharded.param;
  if (member < 0 || member >= sharded.members()) {
    return make_error(ErrorCode::out_of_range, "member")
           << "member " << member << " of " << sharded.members() << " for " << param.pattern.view();
  }
  LocalRegion region{param.shape, Box::whole(param.shape)};
  const Index etp_member = member % sharded.expert_shards;
  const Index axis_member = member / sharded.expert_shards;
  if (sharded.expert_shards > 1) {  // each expert split over its etp group, chunked (Megatron requires it exact)
    const auto dim = static_cast<std::size_t>(sharded.expert_dim);
    const Piece piece = split_piece(param.shape[dim], sharded.expert_shards, etp_member, SplitPolicy::chunk);
    region.sets[dim] = IntervalSet::range(piece.start, piece.end());
  }
  if (sharded.axis == StyleAxis::none || sharded.instances_over_ep()) {
    region.local_shape = region.sets.local_shape();
    return region;
  }
  const auto dim = static_cast<std::size_t>(sharded.sharding.placement.dim);
  const Index size = param.shape[dim];
  if (sharded.vocab) {
    SHARDPLAN_TRY(const VocabPartition partition,
                  VocabPartition::create(VocabSpec{size, 0, sharded.shards, parallel.vocab_pad}));
    SHARDPLAN_TRY(const VocabShard shard, partition.shard(axis_member));
    region.local_shape[dim] = partition.rows_per_rank();
    region.sets[dim] = shard.tokens;
    return region;
  }
  // Expert dims split like the experts themselves; everything else splits like torch.chunk (validity is judged by the
  // rules, which use the even policy).
  const SplitPolicy policy = sharded.axis == StyleAxis::ep && parallel.expert_policy == SplitPolicy::balanced
                                 ? SplitPolicy::balanced
                                 : SplitPolicy::chunk;
  const Placement& placement = sharded.sharding.placement;
  const Index unit = sharded.unit < 1 ? 1 : sharded.unit;
  SegmentedDim fused{static_cast<Index>(dim), {size}, unit};  // a fused dim's parts (phi3's [q; k; v], [gate; up])
  if (!sharded.segments.empty()) fused.sizes = sharded.segments;
  bool heads_kept = !placement.is_strided();
  for (const Index segment : fused.sizes) heads_kept = heads_kept && segment % unit == 0;
  if (heads_kept) {  // each segment split on its own, in heads
    IntervalSet joined;
    Index offset = 0;
    for (std::size_t j = 0; j < fused.sizes.size(); ++j) {
      // The KV policy applies to k and v heads only: never to the query heads of a fused [q; k; v].
      const ShortSegmentPolicy short_policy = sharded.kv ? parallel.kv_policy : ShortSegmentPolicy::forbid;
      SHARDPLAN_TRY(const IntervalSet units,
                    split_segment_units(IntervalSet::range(0, fused.sizes[j] / unit), unit, placement, sharded.shards,
                                        axis_member, policy, short_policy, may_replicate(fused, j), 0,
                                        indexed_field("segments", static_cast<Index>(j))));
      for (const Interval& held : units.intervals()) {
        joined.append(Interval{offset + held.begin * unit, offset + held.end * unit});
      }
      offset += fused.sizes[j];
    }
    region.sets[dim] = joined;
  } else {  // no head structure to keep
    region.sets[dim] = Layout::shard_of(region.sets[dim], placement, sharded.shards, axis_member, policy);
  }
  region.local_shape = region.sets.local_shape();
  return region;
}

/// The local shape of one instance on member `member` of the parameter's axis (see local_region).
[[nodiscard]] constexpr Result<Shape> local_shape(const ShardedParameter& sharded, Index member,
                                                  const ParallelConfig& parallel) {
  SHARDPLAN_TRY(const LocalRegion region, local_region(sharded, member, parallel));
  return region.local_shape;
}

}  // namespace shardplan
