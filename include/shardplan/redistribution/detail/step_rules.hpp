#pragma once
// The rules of each kind of step, written once: whether a step from placements X to Y on mesh axes A is legal, which
// collective it is, how many bytes its busiest rank receives and sends, and its modelled time. The search weighs
// its proposals with these rules, the merging of steps asks them whether a merged step is legal, and the plan's
// rebuild asks them for the figures it reports: one rule, so the three can never disagree. (Who sends which block
// to whom, rank by rank, is the exchange's: exchange.hpp, with the permute source of permute_source.hpp that the
// permute rule below also reads.) Internal to the planner.
//
//   move          (all_gather, all_to_all, local_slice) every rank's new box lies inside the union of its group
//                 members' old boxes: inside its own, a local_slice; equal to the union and Replicate on A, an
//                 all_gather; otherwise an all_to_all. A rank receives what it lacks; an all_gather's ring forwards
//                 as much as it receives; an all_to_all sends every element the rank held and does not keep.
//   reduction     (all_reduce, reduce_scatter) the Partial axes A become Replicate (all_reduce) or split a dim
//                 (reduce_scatter); every rank's new box lies inside its old one. Ring figures: a reduce_scatter
//                 receives (k-1) x its new box, an all_reduce 2(k-1)/k x it; sent as much as received.
//   permute       every rank takes its new box whole from one rank (permute_source.hpp), and sends to at most one
//                 other (XLA's collective-permute), so the busiest sender sends what the busiest receiver receives.
//   partition     (local_partition) Replicate axes A become Partial with the target's op; no data moves.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/mesh/axis_subset.hpp"
#include "shardplan/redistribution/budget.hpp"
#include "shardplan/redistribution/cost_model.hpp"
#include "shardplan/redistribution/detail/permute_source.hpp"
#include "shardplan/redistribution/detail/rank_classes.hpp"
#include "shardplan/redistribution/detail/step_check.hpp"
#include "shardplan/redistribution/plan.hpp"
#include "shardplan/redistribution/request_check.hpp"

namespace shardplan::redistribution_detail {

/// What each rank receives in a step, in elements, filled by a rule when the caller asks. Per combination of the
/// axes `ranks` (values[ranks.index_of(coord)]), the caller's choice: any set of axes that includes every axis
/// splitting a dim before or after the step, since ranks that differ only on the others hold the same box before
/// and after it and receive the same (all of them, for a rank count; a plan's splitting axes, for its totals).
struct PerRank {
  AxisSubset ranks;
  std::vector<Index> values;

  /// Every combination at 0, ready for a rule to fill.
  void zero() { values.assign(static_cast<std::size_t>(ranks.size()), 0); }
};

/// The per-dim tables of a placement list, looked up once per question rather than once per rank.
using Tables = StaticVector<const DimTable*, kMaxTensorRank>;

/// Elements of a rank's box.
[[nodiscard]] inline Index box_elements(const Tables& tables, const Coord& coord) {
  Index elements = 1;
  for (const DimTable* table : tables) elements *= table->at(coord).size();
  return elements;
}

/// Tensor dims whose splitting differs (at most two for one step; more only for a permute, listed first two).
[[nodiscard]] inline StaticVector<Index, 2> changed_dims(const Tables& before, const Tables& after) {
  StaticVector<Index, 2> dims;
  for (std::size_t d = 0; d < before.size() && dims.size() < 2; ++d) {
    if (before[d] != after[d]) dims.push_back(static_cast<Index>(d));
  }
  return dims;
}

/// Partial axes of one state reduce with one op: partitioning for another op while some other is pending would
/// mix them (a sum of products is not a product of sums).
[[nodiscard]] constexpr bool partial_ops_agree(const Placements& placements, ReduceOp op) {
  for (const Placement& p : placements) {
    if (p.is_partial() && p.op != op) return false;
  }
  return true;
}

/// A plan the planner built that fails its own rules: a bug in shardplan, never bad input.
[[nodiscard]] inline Error plan_internal_error(const Placements& from, const Placements& to, std::size_t step,
                                               std::string_view what) {
  return make_error(ErrorCode::internal_error, "plan")
         << "step " << static_cast<Index>(step) << " of the plan from " << to_string(from) << " to " << to_string(to)
         << ": " << what << "; please report";
}

/// Everything of a step but the layout after it, back to its defaults: the rules fill one scratch PlanStep per
/// question, and its Layout (most of its size) is only set by the plan's rebuild.
constexpr void clear_step(PlanStep& step) {
  step.op = StepOp::permute;
  step.mesh_dims.clear();
  step.tensor_dims.clear();
  step.reduce_op = ReduceOp::sum;
  step.bytes_sent = 0;
  step.bytes_received = 0;
  step.time_us = 0;
}

class StepRules {
 public:
  /// For redistributions of `from`'s tensor, mesh and policy under `costs`. Tables and relations are kept until
  /// the next reset.
  void reset(const Layout& from, const CostModel& costs, Index element_size) {
    mesh_ = from.mesh();
    ndim_ = from.ndim();
    costs_ = costs;
    element_size_ = element_size;
    checker_.reset(from.shape(), from.mesh(), from.policy());
    senders_.clear();  // its rounds are numbered from 0 again
    permute_round_ = 0;
    oversized_ = 0;
    work_ = 0;
    last_valid_ = false;
  }

  /// The work done since reset(), the rules' and the checker's, in the units of budget.hpp: what the search's
  /// budget counts. Deterministic, unlike time.
  [[nodiscard]] Index work() const { return work_ + checker_.work(); }

  [[nodiscard]] const Mesh& mesh() const { return mesh_; }
  [[nodiscard]] const Shape& shape() const { return checker_.shape(); }
  [[nodiscard]] std::size_t ndim() const { return ndim_; }
  [[nodiscard]] const CostModel& costs() const { return costs_; }
  [[nodiscard]] Index element_size() const { return element_size_; }

  /// Steps refused since reset() because their splitting axes span more than kMaxStepCombinations combinations: a
  /// search that refused one has not weighed every plan.
  [[nodiscard]] Index oversized() const { return oversized_; }

  /// Whether a step between `before` and `after` is within kMaxStepCombinations (counted in oversized() if not).
  [[nodiscard]] bool weighable(const Placements& before, const Placements& after) {
    if (splitting_axes(mesh_, before, after).size() <= kMaxStepCombinations) return true;
    ++oversized_;
    return false;
  }

  /// The tables of every dim under `placements`. The last list asked is remembered: the search asks for the
  /// same state's tables once per step it weighs out of it.
  [[nodiscard]] Tables tables(const Placements& placements) {
    if (last_valid_ && placements == last_placements_) {
      ++work_;
      return last_tables_;
    }
    work_ += kLookupWork;
    Tables out;
    for (std::size_t d = 0; d < ndim_; ++d) out.push_back(&checker_.table(placements, d));
    last_placements_ = placements;
    last_tables_ = out;
    last_valid_ = true;
    return out;
  }

  /// How a dim's sets `before` relate to its sets `after` (tables from tables()), for no group: per rank, the
  /// overlap of its two sets.
  [[nodiscard]] const DimRelation& relation(const DimTable& before, const DimTable& after) {
    return checker_.relation(before, after, 0);
  }

  /// Counts work done outside the rules for the search's budget (the estimate's walks).
  void add_work(Index work) { work_ += work; }

  /// How many elements of a rank's box in `after` are not in its box in `before` (tables from tables()): for
  /// every rank (`per_rank`), and the most over all ranks (the result). With `busiest_given_up`, also the most
  /// elements a rank holds before and not after. `group_axes` (a mask) only picks the cached relations to read:
  /// the step's, which its legality check has just built.
  [[nodiscard]] Index missing(const Tables& before, const Tables& after, unsigned group_axes = 0,
                              PerRank* per_rank = nullptr, Index* busiest_given_up = nullptr) {
    const DimRelation* relations[kMaxTensorRank]{};
    for (std::size_t d = 0; d < before.size(); ++d) relations[d] = &checker_.relation(*before[d], *after[d], group_axes);
    Index busiest = 0;
    Index given_up = 0;
    if (per_rank == nullptr) {
      // Per dim, the indices into the new sets, the overlaps and the old sets; the distinct products of
      // (wanted, kept, held) over the ranks (rank_classes.hpp).
      const AxisSubset* parts[3 * kMaxTensorRank];
      for (std::size_t d = 0; d < before.size(); ++d) {
        parts[3 * d] = &after[d]->splitters;
        parts[3 * d + 1] = &relations[d]->axes;
        parts[3 * d + 2] = &before[d]->splitters;
      }
      work_ += 2 * kLookupWork;  // the components and strides set up per call
      work_ += kRankWork * classes_.for_each<3>(
                               mesh_.shape(), before.size(), parts,
                               [&](std::size_t d, const Index* index) {
                                 return Figures<3>{after[d]->set(static_cast<std::size_t>(index[0])).size(),
                                                   relations[d]->overlap[static_cast<std::size_t>(index[1])],
                                                   before[d]->set(static_cast<std::size_t>(index[2])).size()};
                               },
                               [&](const Figures<3>& figures) {
                                 busiest = detail::max(busiest, figures[0] - figures[1]);
                                 given_up = detail::max(given_up, figures[2] - figures[1]);
                               });
    } else {
      per_rank->zero();
      work_ += kRankWork * per_rank->ranks.size();
      per_rank->ranks.for_each(Coord(mesh_.ndim(), 0), [&](Index i, const Coord& coord) {
        Index wanted = 1;
        Index kept = 1;
        for (std::size_t d = 0; d < before.size(); ++d) {
          wanted *= after[d]->at(coord).size();
          kept *= relations[d]->at(coord);
        }
        busiest = detail::max(busiest, wanted - kept);
        per_rank->values[static_cast<std::size_t>(i)] = wanted - kept;
        given_up = detail::max(given_up, box_elements(before, coord) - kept);
      });
    }
    if (busiest_given_up != nullptr) *busiest_given_up = given_up;
    return busiest;
  }

  /// The rule of `op` (the step that the search chose, or a merge proposes) on `axes`: fills `step` and returns
  /// false when the step is not legal or would be another kind.
  [[nodiscard]] bool apply(StepOp op, const Placements& before, const Placements& after, const AxisList& axes,
                           PlanStep& step, PerRank* per_rank = nullptr) {
    switch (op) {
      case StepOp::all_gather:
      case StepOp::all_to_all:
      case StepOp::local_slice: return move(before, after, axes, step, per_rank) && step.op == op;
      case StepOp::all_reduce:
      case StepOp::reduce_scatter: return reduction(before, after, axes, step, per_rank) && step.op == op;
      case StepOp::permute: return permute(before, after, step, per_rank) && step.mesh_dims == axes;
      case StepOp::local_partition:
        if (per_rank != nullptr) per_rank->zero();
        return partition(before, after, axes, step);
    }
    return false;
  }

  /// A move (all_gather, all_to_all, local_slice) on `axes`.
  [[nodiscard]] bool move(const Placements& before, const Placements& after, const AxisList& axes, PlanStep& step,
                          PerRank* per_rank = nullptr) {
    clear_step(step);
    if (!weighable(before, after)) return false;
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    const unsigned group = AxisSubset(mesh_.shape(), axes).mask();
    bool own = true;
    bool gathered = true;
    for (std::size_t d = 0; d < old_tables.size(); ++d) {
      const DimRelation& relation = checker_.relation(*old_tables[d], *new_tables[d], group);
      if (!relation.union_subset) return false;
      own = own && relation.own_subset;
      gathered = gathered && relation.union_equal;
    }
    bool all_replicate = true;
    for (std::size_t axis : axes) all_replicate = all_replicate && after[axis].is_replicate();
    if (own) {
      step.op = StepOp::local_slice;
    } else if (all_replicate && gathered) {
      step.op = StepOp::all_gather;
    } else if (all_replicate) {
      return false;  // going to Replicate must be a plain gather
    } else {
      step.op = StepOp::all_to_all;
    }
    step.mesh_dims = axes;
    step.tensor_dims = changed_dims(old_tables, new_tables);
    if (step.op == StepOp::local_slice) {
      if (per_rank != nullptr) per_rank->zero();
      return true;
    }
    Index given_up = 0;
    const Index received =
        missing(old_tables, new_tables, group, per_rank, step.op == StepOp::all_to_all ? &given_up : nullptr);
    // all_gather: the ring forwards as much as it receives. all_to_all: members' new boxes are disjoint, so each
    // element a rank holds and will not keep goes to exactly one member.
    const Index sent = step.op == StepOp::all_gather ? received : given_up;
    fill_traffic(step, received, sent, group_size(axes) - 1);
    return true;
  }

  /// A reduction of the Partial axes `axes` (all_reduce or reduce_scatter).
  [[nodiscard]] bool reduction(const Placements& before, const Placements& after, const AxisList& axes,
                               PlanStep& step, PerRank* per_rank = nullptr) {
    clear_step(step);
    if (axes.empty()) return false;
    for (std::size_t axis : axes) {
      if (!before[axis].is_partial() || before[axis].op != before[axes[0]].op || after[axis].is_partial()) {
        return false;
      }
    }
    if (!weighable(before, after)) return false;
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    for (std::size_t d = 0; d < old_tables.size(); ++d) {
      if (!checker_.relation(*old_tables[d], *new_tables[d], 0).own_subset) return false;
    }
    bool all_replicate = true;
    for (std::size_t axis : axes) all_replicate = all_replicate && after[axis].is_replicate();
    step.op = all_replicate ? StepOp::all_reduce : StepOp::reduce_scatter;
    step.mesh_dims = axes;
    step.reduce_op = before[axes[0]].op;
    step.tensor_dims = changed_dims(old_tables, new_tables);
    const Index k = group_size(axes);
    // Ring all_reduce: a reduce_scatter and an all_gather of n/k-sized chunks, 2(k-1)/k * n in all.
    const auto received_for = [&](Index kept) {
      const auto ring = static_cast<WideIndex>(2 * (k - 1)) * kept;
      return all_replicate ? static_cast<Index>((ring + k - 1) / k) : (k - 1) * kept;
    };
    Index busiest = 0;
    if (per_rank == nullptr) {
      // The busiest rank holds the largest box: dims are split by disjoint sets of axes, so its size is the
      // product of each dim's largest set.
      Index largest = 1;
      for (const DimTable* table : new_tables) {
        Index most = 0;
        for (std::size_t i = 0; i < table->count(); ++i) most = detail::max(most, table->set(i).size());
        largest *= most;
        work_ += static_cast<Index>(table->count());
      }
      busiest = received_for(largest);
    } else {
      per_rank->zero();
      work_ += kRankWork * per_rank->ranks.size();
      per_rank->ranks.for_each(Coord(mesh_.ndim(), 0), [&](Index i, const Coord& coord) {
        const Index received = received_for(box_elements(new_tables, coord));
        busiest = detail::max(busiest, received);
        per_rank->values[static_cast<std::size_t>(i)] = received;
      });
    }
    fill_traffic(step, busiest, busiest, all_replicate ? 2 * (k - 1) : k - 1);
    return true;
  }

  /// A permute: every rank takes its new box whole from one rank (itself when it can), and sends to at most one
  /// other. Its axes are those on which some rank's source differs from it. The walk covers the combinations of
  /// the axes that split a dim before or after: on every other axis a rank's source is the rank's own coordinate,
  /// so the ranks at each of their coordinates pair up the same way.
  [[nodiscard]] bool permute(const Placements& before, const Placements& after, PlanStep& step,
                             PerRank* per_rank = nullptr) {
    clear_step(step);
    for (std::size_t axis = 0; axis < before.size(); ++axis) {
      if (before[axis].is_partial() != after[axis].is_partial()) return false;
      if (before[axis].is_partial() && !(before[axis] == after[axis])) return false;
    }
    if (!weighable(before, after)) return false;
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    const AxisSubset walk = per_rank != nullptr ? per_rank->ranks : splitting_axes(mesh_, before, after);
    const auto combinations = static_cast<std::size_t>(walk.size());
    if (senders_.size() < combinations) senders_.resize(combinations, 0);
    if (per_rank != nullptr) per_rank->zero();
    ++permute_round_;
    const auto old_of = [&](std::size_t d) -> const DimTable& { return *old_tables[d]; };
    const auto new_of = [&](std::size_t d) -> const DimTable& { return *new_tables[d]; };
    const std::size_t ndim = old_tables.size();
    unsigned moved_axes = 0;
    Index busiest = 0;
    bool legal = true;
    work_ += kRankWork * walk.size();
    walk.for_each(Coord(mesh_.ndim(), 0), [&](Index i, const Coord& coord) {
      if (!legal) return;
      const std::optional<Coord> found = permute_source(old_of, new_of, ndim, coord);
      if (!found || !box_inside(old_of, *found, new_of, coord, ndim)) {
        legal = false;
        return;
      }
      const Coord& source = *found;
      const Index from = walk.index_of(source);
      if (from == i) return;
      // Point-to-point pairs: a rank sends to at most one other (XLA's collective-permute rule); a one-to-many
      // copy is a gather.
      std::uint64_t& sent_in = senders_[static_cast<std::size_t>(from)];
      if (sent_in == permute_round_) {
        legal = false;
        return;
      }
      sent_in = permute_round_;
      for (std::size_t axis = 0; axis < coord.size(); ++axis) {
        if (source[axis] != coord[axis]) moved_axes |= 1U << axis;
      }
      const Index received = box_elements(new_tables, coord);
      busiest = detail::max(busiest, received);
      if (per_rank != nullptr) per_rank->values[static_cast<std::size_t>(i)] = received;
    });
    if (!legal || moved_axes == 0) return false;  // moved_axes == 0: nothing moves, not a communication step
    step.op = StepOp::permute;
    for (std::size_t axis = 0; axis < before.size(); ++axis) {
      if ((moved_axes & (1U << axis)) != 0) step.mesh_dims.push_back(axis);
    }
    step.tensor_dims = changed_dims(old_tables, new_tables);
    fill_traffic(step, busiest, busiest, 1);
    return true;
  }

  /// Replicate axes `axes` becoming Partial with one op, every other axis unchanged: no data moves.
  [[nodiscard]] bool partition(const Placements& before, const Placements& after, const AxisList& axes,
                               PlanStep& step) const {
    clear_step(step);
    if (axes.empty() || !after[axes[0]].is_partial()) return false;
    const ReduceOp op = after[axes[0]].op;
    if (!partial_ops_agree(before, op)) return false;
    unsigned group = 0;
    for (std::size_t axis : axes) {
      if (!before[axis].is_replicate() || !(after[axis] == after[axes[0]])) return false;
      group |= 1U << axis;
    }
    for (std::size_t axis = 0; axis < before.size(); ++axis) {
      if ((group & (1U << axis)) == 0 && !(before[axis] == after[axis])) return false;
    }
    step.op = StepOp::local_partition;
    step.mesh_dims = axes;
    step.reduce_op = op;
    return true;
  }

  [[nodiscard]] Index group_size(const AxisList& axes) const { return AxisSubset(mesh_.shape(), axes).size(); }

 private:
  /// Bytes and modelled time of a collective whose busiest rank receives `received` and sends `sent` elements in
  /// `hops` message hops.
  void fill_traffic(PlanStep& step, Index received, Index sent, Index hops) const {
    step.bytes_received = received * element_size_;
    step.bytes_sent = sent * element_size_;
    step.time_us = CostModel::time_us(costs_.group(step.mesh_dims), hops, step.bytes_received) + costs_.launch_us();
  }

  Mesh mesh_;
  std::size_t ndim_ = 0;
  CostModel costs_;
  Index element_size_ = 1;
  StepChecker checker_;
  RankClasses<3> classes_;
  std::vector<std::uint64_t> senders_;  // per combination of a permute's walk, the last permute_round_ it sent in
  std::uint64_t permute_round_ = 0;
  Index oversized_ = 0;
  Index work_ = 0;
  bool last_valid_ = false;  // tables() of last_placements_ is last_tables_ (until reset)
  Placements last_placements_;
  Tables last_tables_;
};

}  // namespace shardplan::redistribution_detail
