#pragma once
// Expert parallelism: which of a MoE layer's E experts each of ep ranks holds, and the global -> local map a router
// uses to send a token to the right rank and local expert. Two strategies:
//   linear       rank r holds one contiguous block (HF transformers' grouped_gemm EP, torchtitan, vLLM's default).
//                Block sizes follow a core split policy: balanced (vLLM: the first E % ep ranks hold one more;
//                E=256, ep=6 -> 43,43,43,43,42,42), even (HF: E % ep must be 0), or chunk (DTensor Shard(0)).
//   round_robin  rank r holds r, r + ep, r + 2ep, ... (vLLM's expert_placement_strategy="round_robin"); the counts
//                are the balanced ones, so only balanced and even apply.
//
// Redundant experts (vLLM's EPLB) are extra physical slots. Slots 0..E hold the experts themselves (slot e is
// expert e); slots E..E+R hold replicas, either of experts listed explicitly (the hot ones) or, given only a count
// R, of experts 0, 1, ... (i % E), which is vLLM's initial arrangement before any load statistics. The strategy
// places the E + R slots exactly as it would place E + R experts, so without replicas everything below reads
// "slot" = "expert".
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/split_policy.hpp"

namespace shardplan {

enum class ExpertStrategy { linear, round_robin };

[[nodiscard]] constexpr std::string_view to_string(ExpertStrategy strategy) {
  switch (strategy) {
    case ExpertStrategy::linear: return "linear";
    case ExpertStrategy::round_robin: return "round_robin";
  }
  return "linear";
}

/// `linear` (also `contiguous`) or `round_robin`.
[[nodiscard]] constexpr Result<ExpertStrategy> parse_expert_strategy(std::string_view text) {
  if (text == "linear" || text == "contiguous") return ExpertStrategy::linear;
  if (text == "round_robin") return ExpertStrategy::round_robin;
  return make_error(ErrorCode::parse_error, "placement")
         << "unknown expert placement '" << text.substr(0, 40) << "' (known: linear, contiguous, round_robin)";
}

/// What to place. Give at most one of `redundant` and `replicas`.
struct ExpertSpec {
  Index experts = 0;  // E, the logical experts of one MoE layer
  Index ep = 1;       // expert-parallel ranks
  ExpertStrategy strategy = ExpertStrategy::linear;
  SplitPolicy policy = SplitPolicy::balanced;
  Index redundant = 0;               // R replica slots holding experts i % E (vLLM's num_redundant_experts)
  std::vector<Index> replicas = {};  // or: the expert each replica slot E, E+1, ... holds
};

/// Where a slot lives: its rank and its position in that rank's local experts.
struct ExpertLocation {
  Index rank = -1;
  Index local = -1;
  friend constexpr bool operator==(const ExpertLocation&, const ExpertLocation&) = default;
};

/// One rank's experts. Local position i holds slot slots.local_to_global(i), which holds expert experts[i].
struct ExpertShard {
  Index rank = 0;
  IntervalSet slots;           // physical slots held; local order is increasing slot order
  std::vector<Index> experts;  // the expert in each local slot (== the slot ids without replicas)

  [[nodiscard]] constexpr Index num_local() const { return slots.size(); }

  /// The first local position holding `expert`, or -1. Primary slots (slot == expert) come before every replica
  /// slot in local order, so this is the primary copy when the rank has it.
  [[nodiscard]] constexpr Index local_of(Index expert) const {
    for (std::size_t i = 0; i < experts.size(); ++i) {
      if (experts[i] == expert) return static_cast<Index>(i);
    }
    return -1;
  }
};

class ExpertPartition {
 public:
  constexpr ExpertPartition() = default;

  /// Errors name the field: experts, ep, redundant, replicas[i], policy (round_robin with chunk; `even` with
  /// (E + R) % ep != 0, a not_divisible error naming the numbers).
  [[nodiscard]] static constexpr Result<ExpertPartition> create(ExpertSpec spec) {
    if (spec.experts < 1) {
      return make_error(ErrorCode::invalid_argument, "experts") << "must be >= 1, got " << spec.experts;
    }
    if (spec.ep < 1) return make_error(ErrorCode::invalid_argument, "ep") << "must be >= 1, got " << spec.ep;
    if (spec.redundant < 0) {
      return make_error(ErrorCode::invalid_argument, "redundant") << "must be >= 0, got " << spec.redundant;
    }
    if (spec.redundant > 0 && !spec.replicas.empty()) {
      return make_error(ErrorCode::invalid_argument, "redundant")
             << "give a count of redundant experts (" << spec.redundant << ") or a list of replicas ("
             << static_cast<Index>(spec.replicas.size()) << " entries), not both";
    }
    for (std::size_t i = 0; i < spec.replicas.size(); ++i) {
      if (spec.replicas[i] < 0 || spec.replicas[i] >= spec.experts) {
        return make_error(ErrorCode::out_of_range, indexed_field("replicas", static_cast<Index>(i)))
               << "expert " << spec.replicas[i] << " is outside the " << spec.experts << " experts (valid: 0.."
               << spec.experts - 1 << ")";
      }
    }
    if (spec.strategy == ExpertStrategy::round_robin && spec.policy == SplitPolicy::chunk) {
      return make_error(ErrorCode::invalid_argument, "policy")
             << "round_robin deals experts one at a time, so its counts are the balanced ones; use balanced or even";
    }
    ExpertPartition partition;
    partition.redundant_ = spec.replicas.empty() ? spec.redundant : static_cast<Index>(spec.replicas.size());
    SHARDPLAN_TRY(partition.slots_, checked_add(spec.experts, partition.redundant_, "redundant"));
    if (!check_split(partition.slots_, spec.ep, spec.policy).ok()) {
      auto error = make_error(ErrorCode::not_divisible, "policy") << "even policy: " << partition.slots_;
      if (partition.redundant_ > 0) {
        error << " physical slots (" << spec.experts << " experts + " << partition.redundant_ << " redundant)";
      } else {
        error << " experts";
      }
      return error << " do not split evenly over ep " << spec.ep << " (remainder " << partition.slots_ % spec.ep << ")";
    }
    partition.experts_ = spec.experts;
    partition.ep_ = spec.ep;
    partition.strategy_ = spec.strategy;
    partition.policy_ = spec.policy;
    partition.replicas_ = std::move(spec.replicas);
    return partition;
  }

  [[nodiscard]] constexpr Index num_experts() const { return experts_; }
  [[nodiscard]] constexpr Index ep() const { return ep_; }
  [[nodiscard]] constexpr ExpertStrategy strategy() const { return strategy_; }
  [[nodiscard]] constexpr SplitPolicy policy() const { return policy_; }
  /// R, the replica slots (given as a count or as a list).
  [[nodiscard]] constexpr Index num_redundant() const { return redundant_; }
  /// E + R.
  [[nodiscard]] constexpr Index num_slots() const { return slots_; }
  /// The explicit replica list; empty when the replicas were given as a count (or there are none).
  [[nodiscard]] constexpr const std::vector<Index>& replicas() const { return replicas_; }

  /// The expert a physical slot holds. Precondition: 0 <= slot < num_slots().
  [[nodiscard]] constexpr Index expert_of_slot(Index slot) const {
    if (slot < experts_) return slot;
    const Index replica = slot - experts_;
    return replicas_.empty() ? replica % experts_ : replicas_[static_cast<std::size_t>(replica)];
  }

  /// How many slots a rank holds. Precondition: 0 <= rank < ep().
  [[nodiscard]] constexpr Index num_local(Index rank) const {
    // round_robin hands out one slot per rank per turn: the balanced counts.
    const SplitPolicy counts = strategy_ == ExpertStrategy::round_robin ? SplitPolicy::balanced : policy_;
    return split_piece(slots_, ep_, rank, counts).size;
  }

  /// The slots a rank holds. Precondition: 0 <= rank < ep().
  [[nodiscard]] constexpr IntervalSet slots_of(Index rank) const {
    if (strategy_ == ExpertStrategy::linear) {
      const Piece piece = split_piece(slots_, ep_, rank, policy_);
      return IntervalSet::range(piece.start, piece.end());
    }
    IntervalSet set;
    const Index count = num_local(rank);
    for (Index i = 0; i < count; ++i) set.append(Interval{rank + i * ep_, rank + i * ep_ + 1});
    return set;
  }

  /// Precondition: 0 <= rank < ep().
  [[nodiscard]] constexpr ExpertShard shard_unchecked(Index rank) const {
    ExpertShard shard;
    shard.rank = rank;
    shard.slots = slots_of(rank);
    shard.experts.reserve(static_cast<std::size_t>(shard.slots.size()));
    for (const Interval& interval : shard.slots.intervals()) {
      for (Index slot = interval.begin; slot < interval.end; ++slot) shard.experts.push_back(expert_of_slot(slot));
    }
    return shard;
  }

  [[nodiscard]] constexpr Result<ExpertShard> shard(Index rank) const {
    SHARDPLAN_CHECK(check_rank(rank));
    return shard_unchecked(rank);
  }

  /// Where a slot lives. Precondition: 0 <= slot < num_slots().
  [[nodiscard]] constexpr ExpertLocation slot_location(Index slot) const {
    if (strategy_ == ExpertStrategy::round_robin) {
      const DivMod qr = divmod(slot, ep_);
      return {qr.remainder, qr.quotient};
    }
    // The linear blocks tile [0, slots) in rank order and only trailing blocks can be empty (they start at the
    // end), so the owner is the last rank whose block starts at or before the slot.
    Index lo = 0;
    Index hi = ep_;
    while (hi - lo > 1) {
      const Index mid = lo + (hi - lo) / 2;
      if (split_piece(slots_, ep_, mid, policy_).start <= slot) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return {lo, slot - split_piece(slots_, ep_, lo, policy_).start};
  }

  /// Where an expert's own slot (slot == expert) lives: the router's global -> (rank, local) map.
  [[nodiscard]] constexpr Result<ExpertLocation> locate(Index expert) const {
    SHARDPLAN_CHECK(check_expert(expert));
    return slot_location(expert);
  }

  /// Every copy of an expert: its own slot first, then its replica slots in slot order.
  [[nodiscard]] constexpr Result<std::vector<ExpertLocation>> holders(Index expert) const {
    SHARDPLAN_CHECK(check_expert(expert));
    std::vector<ExpertLocation> out{slot_location(expert)};
    for (Index slot = experts_; slot < slots_; ++slot) {
      if (expert_of_slot(slot) == expert) out.push_back(slot_location(slot));
    }
    return out;
  }

  /// vLLM's expert_map for a rank: for every expert, the local position of its first copy on the rank, or -1.
  [[nodiscard]] constexpr Result<std::vector<Index>> expert_map(Index rank) const {
    SHARDPLAN_CHECK(check_rank(rank));
    std::vector<Index> map(static_cast<std::size_t>(experts_), -1);
    const ExpertShard shard = shard_unchecked(rank);
    // Backwards, so that the first copy wins.
    for (std::size_t i = shard.experts.size(); i-- > 0;) {
      map[static_cast<std::size_t>(shard.experts[i])] = static_cast<Index>(i);
    }
    return map;
  }

 private:
  [[nodiscard]] constexpr Status check_rank(Index rank) const {
    if (rank < 0 || rank >= ep_) {
      return make_error(ErrorCode::out_of_range, "rank")
             << "rank " << rank << " is outside ep " << ep_ << " (valid: 0.." << ep_ - 1 << ")";
    }
    return Ok{};
  }

  [[nodiscard]] constexpr Status check_expert(Index expert) const {
    if (expert < 0 || expert >= experts_) {
      return make_error(ErrorCode::out_of_range, "expert")
             << "expert " << expert << " is outside the " << experts_ << " experts (valid: 0.." << experts_ - 1 << ")";
    }
    return Ok{};
  }

  Index experts_ = 1;
  Index ep_ = 1;
  ExpertStrategy strategy_ = ExpertStrategy::linear;
  SplitPolicy policy_ = SplitPolicy::balanced;
  Index redundant_ = 0;
  Index slots_ = 1;
  std::vector<Index> replicas_;
};

}  // namespace shardplan
