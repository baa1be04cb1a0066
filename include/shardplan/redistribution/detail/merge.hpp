#pragma once
// Merging consecutive steps into one collective on a flattened group: two steps of the same kind (all_gather,
// all_reduce, local_slice, local_partition) on disjoint axes become one step on the union of their axes when the
// step rules accept the merged step as that kind and the model says it is not slower (local steps cost nothing, so
// they always merge; CostModel::launch_us is what a collective saves). Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <vector>

#include "shardplan/redistribution/detail/step_rules.hpp"

namespace shardplan::redistribution_detail {

[[nodiscard]] constexpr bool is_mergeable(StepOp op) {
  return op == StepOp::all_gather || op == StepOp::all_reduce || op == StepOp::local_slice ||
         op == StepOp::local_partition;
}

/// Merges step s and s+1 of `steps` (a plan from `from`) wherever it may; the layouts after the steps stay.
inline void merge_steps(StepRules& rules, const Layout& from, std::vector<PlanStep>& steps) {
  const Mesh& mesh = rules.mesh();
  PlanStep merged;
  for (std::size_t s = 0; s + 1 < steps.size();) {
    const PlanStep& a = steps[s];
    const PlanStep& b = steps[s + 1];
    const unsigned a_axes = AxisSubset(mesh.shape(), a.mesh_dims).mask();
    const unsigned b_axes = AxisSubset(mesh.shape(), b.mesh_dims).mask();
    if (a.op != b.op || a.reduce_op != b.reduce_op || !is_mergeable(a.op) || (a_axes & b_axes) != 0) {
      ++s;
      continue;
    }
    const AxisList axes =
        AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return ((a_axes | b_axes) & (1U << axis)) != 0; })
            .axes();
    const Placements& before = s == 0 ? from.placements() : steps[s - 1].after.placements();
    if (!rules.apply(a.op, before, b.after.placements(), axes, merged) || merged.time_us > a.time_us + b.time_us) {
      ++s;
      continue;
    }
    merged.after = b.after;
    steps[s] = merged;
    steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(s) + 1);
  }
}

}  // namespace shardplan::redistribution_detail
