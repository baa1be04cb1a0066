#pragma once
// Pipeline parallelism: which decoder layers each of pp stages runs. On uneven counts frameworks differ:
//   vLLM         every stage gets L / pp, and the L % pp extra layers go to the stages just before the last, walking
//                backwards (get_pp_indices); the last stage, which also holds the final norm and the LM head, never
//                gets one. L=61, pp=4 -> 15,15,16,15. VLLM_PP_LAYER_PARTITION replaces the rule by an explicit list.
//   Megatron-LM  L % pp must be 0 by default; uneven splits only through explicit first/last stage sizes.
// Both forms live here: the vLLM rule, computed per stage in O(1) (nothing stored, so any L and pp work), and an
// explicit list of stage sizes.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <span>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/split_policy.hpp"

namespace shardplan {

/// Stage `stage` of `layers` layers over `stages` stages under vLLM's rule, as layers [start, start + size).
/// Preconditions: layers >= stages >= 1, 0 <= stage < stages.
[[nodiscard]] constexpr Piece vllm_pipeline_stage(Index layers, Index stages, Index stage) {
  const auto [base, extra] = divmod(layers, stages);
  // The extra layers sit on stages [stages - 1 - extra, stages - 1); extra <= stages - 1, so they always fit.
  const Index first_extra = stages - 1 - extra;
  const Index extras_before = stage - first_extra < 0 ? 0 : (extra < stage - first_extra ? extra : stage - first_extra);
  const bool gets_extra = stage >= first_extra && stage < stages - 1;
  return {stage * base + extras_before, base + (gets_extra ? 1 : 0)};
}

/// One stage's layers: [first_layer, first_layer + num_layers).
struct PipelineStage {
  Index stage = 0;
  Index first_layer = 0;
  Index num_layers = 0;
  [[nodiscard]] constexpr Index end_layer() const { return first_layer + num_layers; }
  friend constexpr bool operator==(const PipelineStage&, const PipelineStage&) = default;
};

class PipelineSplit {
 public:
  constexpr PipelineSplit() = default;

  /// vLLM's default rule. Refuses layers < 1, stages < 1 and more stages than layers (a stage without a layer).
  [[nodiscard]] static constexpr Result<PipelineSplit> create(Index layers, Index stages) {
    SHARDPLAN_CHECK(check_counts(layers, stages));
    PipelineSplit split;
    split.layers_ = layers;
    split.stages_ = stages;
    return split;
  }

  /// An explicit list, one entry per stage (what vLLM's VLLM_PP_LAYER_PARTITION gives): its length must be
  /// `stages`, its sum `layers`, and every entry >= 1 (shardplan's decision: a stage without a layer is refused here
  /// for the same reason create() refuses more stages than layers).
  [[nodiscard]] static constexpr Result<PipelineSplit> from_sizes(Index layers, Index stages,
                                                                  std::span<const Index> sizes) {
    SHARDPLAN_CHECK(check_counts(layers, stages));
    if (static_cast<Index>(sizes.size()) != stages) {
      return make_error(ErrorCode::invalid_argument, "split")
             << static_cast<Index>(sizes.size()) << " entries for " << stages << " pipeline stages (one per stage)";
    }
    PipelineSplit split;
    split.layers_ = layers;
    split.stages_ = stages;
    split.starts_.reserve(sizes.size() + 1);
    split.starts_.push_back(0);
    Index sum = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 1) {
        return make_error(ErrorCode::invalid_argument, indexed_field("split", static_cast<Index>(i)))
               << "stage " << static_cast<Index>(i) << " gets " << sizes[i]
               << " layers; every stage needs at least one";
      }
      SHARDPLAN_TRY(sum, checked_add(sum, sizes[i], "split"));
      split.starts_.push_back(sum);
    }
    if (sum != layers) {
      return make_error(ErrorCode::invalid_argument, "split")
             << "entries sum to " << sum << " layers, not the " << layers << " of the model";
    }
    return split;
  }

  [[nodiscard]] constexpr Index num_layers() const { return layers_; }
  [[nodiscard]] constexpr Index num_stages() const { return stages_; }
  /// True when built from an explicit list, false under vLLM's rule.
  [[nodiscard]] constexpr bool is_explicit() const { return !starts_.empty(); }

  /// Precondition: 0 <= stage < num_stages().
  [[nodiscard]] constexpr PipelineStage stage_unchecked(Index stage) const {
    if (is_explicit()) {
      const auto i = static_cast<std::size_t>(stage);
      return {stage, starts_[i], starts_[i + 1] - starts_[i]};
    }
    const Piece piece = vllm_pipeline_stage(layers_, stages_, stage);
    return {stage, piece.start, piece.size};
  }

  [[nodiscard]] constexpr Result<PipelineStage> stage(Index stage) const {
    if (stage < 0 || stage >= stages_) {
      return make_error(ErrorCode::out_of_range, "stage")
             << "stage " << stage << " is outside " << stages_ << " pipeline stages (valid: 0.." << stages_ - 1 << ")";
    }
    return stage_unchecked(stage);
  }

  /// The stage that runs `layer`. Binary search over the stages' first layers, which increase strictly.
  [[nodiscard]] constexpr Result<Index> stage_of_layer(Index layer) const {
    if (layer < 0 || layer >= layers_) {
      return make_error(ErrorCode::out_of_range, "layer") << "layer " << layer << " is outside a model of " << layers_
                                                          << " layers (valid: 0.." << layers_ - 1 << ")";
    }
    Index lo = 0;  // invariant: stage lo starts at or before `layer`; stage hi starts after it (or hi == stages)
    Index hi = stages_;
    while (hi - lo > 1) {
      const Index mid = lo + (hi - lo) / 2;
      if (stage_unchecked(mid).first_layer <= layer) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /// Every stage's layer count, in stage order. Allocates num_stages() entries.
  [[nodiscard]] constexpr std::vector<Index> sizes() const {
    std::vector<Index> out;
    out.reserve(static_cast<std::size_t>(stages_));
    for (Index s = 0; s < stages_; ++s) out.push_back(stage_unchecked(s).num_layers);
    return out;
  }

  friend constexpr bool operator==(const PipelineSplit& a, const PipelineSplit& b) {
    if (a.layers_ != b.layers_ || a.stages_ != b.stages_) return false;
    for (Index s = 0; s < a.stages_; ++s) {
      if (a.stage_unchecked(s) != b.stage_unchecked(s)) return false;
    }
    return true;
  }

 private:
  [[nodiscard]] static constexpr Status check_counts(Index layers, Index stages) {
    if (layers < 1) return make_error(ErrorCode::invalid_argument, "layers") << "must be >= 1, got " << layers;
    if (stages < 1) return make_error(ErrorCode::invalid_argument, "pp") << "must be >= 1, got " << stages;
    if (stages > layers) {
      return make_error(ErrorCode::invalid_argument, "pp")
             << stages << " pipeline stages for " << layers << " layers: every stage needs at least one layer";
    }
    return Ok{};
  }

  Index layers_ = 1;
  Index stages_ = 1;
  std::vector<Index> starts_;  // explicit lists only: stage s runs [starts_[s], starts_[s + 1])
};

}  // namespace shardplan
