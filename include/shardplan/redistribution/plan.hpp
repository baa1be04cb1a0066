#pragma once
// A redistribution plan: the ordered steps that turn a tensor held in one layout into the same tensor held in
// another layout on the same mesh, with the modelled cost of each step and the plan's totals.
//
// PlanStep semantics (a group = the ranks that share every coordinate except those on the step's mesh axes, ordered
// row-major over those axes):
//   all_gather      every member contributes its local tensor and receives every member's; the result is their
//                   union, in increasing global order (a local reorder when pieces interleave, as with _S)
//   reduce_scatter  Partial -> Shard: every member contributes its whole local tensor and keeps its own piece,
//                   reduced over the group
//   all_reduce      Partial -> Replicate: the local tensor reduced over the group
//   all_to_all      Shard(d) -> Shard(d'): every member sends each other member the part of its tensor that member
//                   needs next (an alltoallv when pieces are uneven)
//   permute         point-to-point: every rank receives its next tensor whole from one other rank (or keeps its own)
//   local_slice     Replicate -> Shard: every rank keeps a part of what it holds; no communication
//   local_partition Replicate -> Partial: for sum (and product) the member at coordinate 0 keeps the value and the
//                   others hold 0 (1); for avg, max and min every member keeps the value
// Exactly who sends which box to whom, per rank, comes from rank_exchange() (exchange.hpp).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

#include "shardplan/layout/layout.hpp"

namespace shardplan {

enum class StepOp { all_gather, reduce_scatter, all_reduce, all_to_all, permute, local_slice, local_partition };

[[nodiscard]] constexpr std::string_view to_string(StepOp op) {
  switch (op) {
    case StepOp::all_gather: return "all_gather";
    case StepOp::reduce_scatter: return "reduce_scatter";
    case StepOp::all_reduce: return "all_reduce";
    case StepOp::all_to_all: return "all_to_all";
    case StepOp::permute: return "permute";
    case StepOp::local_slice: return "local_slice";
    case StepOp::local_partition: return "local_partition";
  }
  return "permute";
}

/// No data leaves the rank.
[[nodiscard]] constexpr bool is_local(StepOp op) { return op == StepOp::local_slice || op == StepOp::local_partition; }
/// The step combines the members' values with a reduce op.
[[nodiscard]] constexpr bool is_reduction(StepOp op) { return op == StepOp::reduce_scatter || op == StepOp::all_reduce; }
/// The reduce op is part of the step (reductions and local_partition).
[[nodiscard]] constexpr bool has_reduce_op(StepOp op) { return is_reduction(op) || op == StepOp::local_partition; }

struct PlanStep {
  StepOp op = StepOp::permute;
  AxisList mesh_dims;                  // the group's axes (several: one collective on the flattened group)
  StaticVector<Index, 2> tensor_dims;  // dims whose split changes: gathered, scattered, or (from, to) of all_to_all
  ReduceOp reduce_op = ReduceOp::sum;  // reductions and local_partition only
  Layout after;                        // the layout once the step is done
  Index bytes_sent = 0;                // by the busiest sender
  Index bytes_received = 0;            // by the busiest receiver
  double time_us = 0;                  // modelled
};

struct RedistributionPlan {
  Layout from;
  Layout to;
  Index element_size = 1;
  std::vector<PlanStep> steps;
  double time_us = 0;           // sum of the steps' modelled times
  Index bytes_per_rank = 0;     // the most bytes any one rank receives over the whole plan
  Index lower_bound_bytes = 0;  // no plan can make its busiest rank receive less (see lower_bound.hpp)
  Index peak_bytes = 0;         // the most bytes one rank holds at once: its input and output buffers of a step
  bool optimal = true;          // the search proved no plan of its steps cheaper; false: its budget ran out, or
                                // it left out a step past kMaxStepCombinations, and this is the best plan it
                                // found (correct, maybe dearer than the least)
  bool weighed_every_step = true;  // false: a step past kMaxStepCombinations was left out (so optimal is false)

  /// The layout before step `i` (the source for the first).
  [[nodiscard]] constexpr const Layout& before(std::size_t i) const { return i == 0 ? from : steps[i - 1].after; }
};

// ---------------------------------------------------------------------------------------------------------------
// Text, with the column names of `shardplan redistribute`'s table:
//   step: reduce_scatter mesh_dims [1] tensor_dims [0] reduce sum -> S(0),R (received 4096, sent 12288)
//   plan: P,S(0) -> S(1),R in 2 steps (8192 bytes per rank, lower bound 8192): <step>; <step>
// append_text writes to anything with append(std::string_view) (see core/interval_set_text.hpp); the modelled
// times are left out (doubles have no constexpr text form).

template <class Out>
constexpr void append_text(Out& out, const PlanStep& step) {
  FixedString<640> text(to_string(step.op));
  const auto append_list = [&text](const auto& values) {
    text << "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) text << ",";
      text << static_cast<Index>(values[i]);
    }
    text << "]";
  };
  text << " mesh_dims ";
  append_list(step.mesh_dims);
  text << " tensor_dims ";
  append_list(step.tensor_dims);
  if (has_reduce_op(step.op)) text << " reduce " << to_string(step.reduce_op);
  text << " -> " << to_string(step.after.placements()) << " (received " << step.bytes_received << ", sent "
       << step.bytes_sent << ")";
  out.append(text.view());
}

[[nodiscard]] constexpr FixedString<640> to_string(const PlanStep& step) {
  FixedString<640> out;
  append_text(out, step);
  return out;
}

template <class Out>
constexpr void append_text(Out& out, const RedistributionPlan& plan) {
  FixedString<1024> head(to_string(plan.from.placements()).view());
  head << " -> " << to_string(plan.to.placements()) << " in " << static_cast<Index>(plan.steps.size())
       << (plan.steps.size() == 1 ? " step (" : " steps (") << plan.bytes_per_rank << " bytes per rank, lower bound "
       << plan.lower_bound_bytes << (plan.optimal ? ")" : ", not proven optimal)");
  out.append(head.view());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    out.append(std::string_view(i == 0 ? ": " : "; "));
    append_text(out, plan.steps[i]);
  }
}

/// append_text into a FixedString: a plan too long for it (dozens of steps) ends in "...".
[[nodiscard]] constexpr FixedString<4096> to_string(const RedistributionPlan& plan) {
  FixedString<4096> out;
  append_text(out, plan);
  return out;
}

}  // namespace shardplan
