#pragma once
// Every parameter one rank holds, layers and experts expanded, with its local shape and index sets: what
// `shardplan plan --rank R` prints and what a loader needs.
//
// Ranks are laid out as the row-major mesh (pp, dp, cp, tp), tp fastest (Megatron-LM's default order without ep).
// Expert parallelism borrows ranks from dp·cp (and tp when etp = 1): the ep rank of a rank is its index in that
// borrowed group modulo ep.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <vector>

#include "shardplan/llm/expert_placement.hpp"
#include "shardplan/model/sizing.hpp"

namespace shardplan {

struct ModelRank {
  Index stage = 0;
  Index dp_rank = 0;
  Index cp_rank = 0;
  Index tp_rank = 0;
  Index ep_rank = 0;
};

[[nodiscard]] constexpr Result<ModelRank> model_rank(const ParallelConfig& parallel, Index rank) {
  SHARDPLAN_CHECK(detail::check_inputs(parallel));
  SHARDPLAN_TRY(const Index world, rules::world_product(parallel));
  if (rank < 0 || rank >= world) {
    return make_error(ErrorCode::out_of_range, "rank")
           << "rank " << rank << " is outside a world of " << world << " ranks (valid: 0.." << world - 1 << ")";
  }
  ModelRank out;
  out.tp_rank = rank % parallel.tp;
  out.cp_rank = rank / parallel.tp % parallel.cp;
  out.dp_rank = rank / (parallel.tp * parallel.cp) % parallel.dp;
  out.stage = rank / (parallel.tp * parallel.cp * parallel.dp);
  const Index borrowed = out.dp_rank * parallel.cp + out.cp_rank;
  out.ep_rank = (parallel.expert_tp() == 1 ? borrowed * parallel.tp + out.tp_rank : borrowed) % parallel.ep;
  return out;
}

struct RankParameter {
  FixedString<128> name;
  Shape shape;
  std::optional<PlanStyle> style;
  Placement placement;  // on the style's axis (R when the parameter is whole on this rank)
  Shape local_shape;
  Box sets;
};

namespace detail {
/// `pattern` with its `*`s replaced by `layer` and then `expert`.
[[nodiscard]] constexpr FixedString<128> expand_name(std::string_view pattern, Index layer, Index expert) {
  FixedString<128> name;
  int stars = 0;
  for (char c : pattern) {
    if (c == '*') {
      name << (stars++ == 0 && layer >= 0 ? layer : expert);
    } else {
      name << std::string_view(&c, 1);
    }
  }
  return name;
}
}  // namespace detail

/// The most parameters one rank's listing expands to (layers × experts × tensors). A listing is about 0.5 KB an entry:
/// this bounds it near 0.5 GiB, far above any published model (DeepSeek-V3's rank 0 at ep 1 holds about 45,000).
inline constexpr Index kMaxListedParameters = Index{1} << 20;

/// Calls `visit(const RankParameter&, std::size_t group)` for every parameter `rank` holds under the plan (the
/// family's default when null), in inventory order; `group` is the parameter's index in the inventory. The parameter
/// passed is one object per group whose name changes from instance to instance (layers and experts expanded), so a
/// visitor that keeps only what it needs copies no index sets: a loader walks a rank's 45,000 DeepSeek-V3 tensors
/// this way without materialising them. A rank holding more than kMaxListedParameters is refused
/// (capacity_exceeded, field "experts") before anything is visited. Errors: model_rank's, parameter_inventory's, the
/// sharding's.
template <class Visit>
[[nodiscard]] constexpr Status for_each_rank_parameter(const ModelConfig& config, const ParallelConfig& parallel,
                                                       Index rank, const Plan* plan, Visit visit) {
  SHARDPLAN_TRY(const ModelRank where, model_rank(parallel, rank));
  SHARDPLAN_TRY(const Inventory inventory, parameter_inventory(config));
  const Plan chosen = plan_or_default(plan, config, parallel);
  SHARDPLAN_TRY(const std::vector<ShardedParameter> params, shard_parameters(inventory, chosen, config, parallel));
  SHARDPLAN_TRY(const PipelineSplit split, PipelineSplit::create(config.num_hidden_layers, parallel.pp));
  const PipelineStage stage = split.stage_unchecked(where.stage);
  IntervalSet local_experts;
  if (config.is_moe()) {
    SHARDPLAN_TRY(const ExpertPartition experts, expert_partition(config, parallel));
    local_experts = experts.slots_of(where.ep_rank);
  }
  // Count first: a config with 10^9 experts must be refused here, not after allocating its listing.
  Index listed = 0;
  for (const ShardedParameter& p : params) {
    Index copies = 1;
    if (p.param.is_per_layer()) {
      copies = intersect(p.param.layers, IntervalSet::range(stage.first_layer, stage.end_layer())).size();
    } else if (!global_on_stage(p, where.stage, parallel.pp)) {
      copies = 0;
    }
    const Index instances =
        p.param.experts == 0 ? 1 : (p.axis == StyleAxis::ep ? local_experts.size() : p.param.experts);
    listed = saturating_add(listed, saturating_mul(copies, instances));
  }
  if (listed > kMaxListedParameters) {
    return make_error(ErrorCode::capacity_exceeded, "experts")
           << "rank " << rank << " holds " << listed
           << " parameters (layers x experts x tensors), past the listing limit of " << kMaxListedParameters
           << " (kMaxListedParameters); size the layout instead, or list a config with fewer experts";
  }
  for (std::size_t group = 0; group < params.size(); ++group) {
    const ShardedParameter& p = params[group];
    const Index member = axis_member(p, parallel, where.tp_rank, where.ep_rank);
    SHARDPLAN_TRY(const LocalRegion region, local_region(p, member, parallel));
    IntervalSet layers;
    if (p.param.is_per_layer()) {
      layers = intersect(p.param.layers, IntervalSet::range(stage.first_layer, stage.end_layer()));
    } else if (!global_on_stage(p, where.stage, parallel.pp)) {
      continue;
    }
    IntervalSet experts = IntervalSet::range(-1, 0);  // one pass without an expert index
    if (p.param.experts > 0) {
      experts = p.axis == StyleAxis::ep ? local_experts : IntervalSet::range(0, p.param.experts);
    }
    RankParameter current{{}, p.param.shape, p.style, p.axis == StyleAxis::none ? Placement{} : p.sharding.placement,
                          region.local_shape, region.sets};
    const auto emit = [&](Index layer) {
      for (const Interval& range : experts.intervals()) {
        for (Index expert = range.begin; expert < range.end; ++expert) {
          current.name = detail::expand_name(p.param.pattern.view(), layer, expert);
          visit(static_cast<const RankParameter&>(current), group);
        }
      }
    };
    if (!p.param.is_per_layer()) {
      emit(-1);
      continue;
    }
    for (const Interval& range : layers.intervals()) {
      for (Index layer = range.begin; layer < range.end; ++layer) emit(layer);
    }
  }
  return Ok{};
}

/// Every parameter `rank` holds under the plan (the family's default when null), in inventory order. A listing past
/// kMaxListedParameters is refused (capacity_exceeded, field "experts") before any entry is made.
[[nodiscard]] constexpr Result<std::vector<RankParameter>> rank_parameters(const ModelConfig& config,
                                                                           const ParallelConfig& parallel, Index rank,
                                                                           const Plan* plan = nullptr) {
  std::vector<RankParameter> out;
  SHARDPLAN_CHECK(for_each_rank_parameter(config, parallel, rank, plan,
                                          [&out](const RankParameter& p, std::size_t) { out.push_back(p); }));
  return out;
}

}  // namespace shardplan
