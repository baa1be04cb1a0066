#pragma once
// The checks of a redistribution request that do not depend on the search, made before it starts: both layouts
// for one tensor, mesh and split policy; a cost model for that mesh; Partial only where a rule makes it; sizes the
// planner's arithmetic holds; _S split factors whose index sets can be listed. Any layout is an endpoint, _S lists
// without a shard order included: the step rules work on the composition semantics, not on shard orders.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/mesh/axis_subset.hpp"
#include "shardplan/redistribution/cost_model.hpp"

namespace shardplan {

/// The most combinations of coordinates on the mesh axes that split a dim before or after a step that the planner
/// weighs. Its walks (index sets, relations between them, the permute's pairs) cover those combinations, never the
/// ranks: axes that split nothing (Replicate or Partial on both sides) cost nothing however large, so this, not the
/// rank count, bounds a step's time and memory. 2^17: a mesh (16, 1024, 8) with every axis splitting a dim.
inline constexpr Index kMaxStepCombinations = Index{1} << 17;

/// The axes that split some dim under `placements` or `other`: the ones a step between the two depends on.
[[nodiscard]] constexpr AxisSubset splitting_axes(const Mesh& mesh, const Placements& placements,
                                                  const Placements& other) {
  return AxisSubset::where(mesh.shape(),
                           [&](std::size_t axis) { return placements[axis].is_shard() || other[axis].is_shard(); });
}

/// The largest tensor the planner takes: plans add up a few dozen steps of at most twice the tensor each, and 2^56
/// bytes leaves room for that in int64.
inline constexpr Index kMaxPlanTensorBytes = Index{1} << 56;

/// Refusals that do not depend on the search: different shapes, meshes or policies on the two sides; Partial targets
/// with no rule; mixed reduce ops; a model for another mesh; sizes past 2^56 bytes; endpoints whose splitting axes
/// span more than kMaxStepCombinations combinations (every plan's gathers and slices step over them).
[[nodiscard]] constexpr Status check_redistribution(const Layout& from, const Layout& to, const CostModel& costs,
                                                    Index element_size) {
  if (from.shape() != to.shape()) {
    return make_error(ErrorCode::invalid_argument, "to.shape")
           << "global shapes differ: " << shape_text(from.shape()) << " -> " << shape_text(to.shape())
           << " (redistribution keeps the tensor)";
  }
  if (!(from.mesh() == to.mesh())) {
    return make_error(ErrorCode::invalid_argument, "to.mesh")
           << "meshes differ: " << from.mesh().to_string() << " -> " << to.mesh().to_string()
           << " (use a transfer map between meshes)";
  }
  if (from.policy() != to.policy()) {
    return make_error(ErrorCode::invalid_argument, "to.policy")
           << "split policies differ: " << to_string(from.policy()) << " -> " << to_string(to.policy());
  }
  // Every plan has steps between states split by the endpoints' axes (the constructive plan's gathers and slices),
  // each walked over those axes' combinations: past the limit, planning would take minutes, not milliseconds.
  if (const AxisSubset splitting = splitting_axes(from.mesh(), from.placements(), to.placements());
      splitting.size() > kMaxStepCombinations) {
    return make_error(ErrorCode::capacity_exceeded, "mesh")
           << "the axes that split the tensor in " << to_string(from.placements()) << " or "
           << to_string(to.placements()) << " on " << from.mesh().to_string() << " span " << splitting.size()
           << " coordinate combinations, past the planner's limit of " << kMaxStepCombinations;
  }
  if (element_size < 1) {
    return make_error(ErrorCode::invalid_argument, "element_size") << "must be >= 1 byte, got " << element_size;
  }
  if (costs.ndim() != from.mesh().ndim()) {
    return make_error(ErrorCode::invalid_argument, "axis_cost")
           << "the cost model has " << static_cast<Index>(costs.ndim()) << " axes, the mesh "
           << static_cast<Index>(from.mesh().ndim());
  }
  for (std::size_t axis = 0; axis < costs.ndim(); ++axis) {
    // The field is named only on error: formatting it for every axis of every request cost more than the check.
    if (const Status valid = check_axis_cost(costs.axis(axis), "axis_cost"); !valid.ok()) {
      return make_error(valid.error().code, indexed_field("axis_cost", static_cast<Index>(axis)).view())
             << valid.error().message.view();
    }
  }
  SHARDPLAN_TRY(const Index elements, checked_product(from.shape(), "shape"));
  Index bytes = 0;
  if (mul_overflows(elements, element_size, bytes) || bytes > kMaxPlanTensorBytes) {
    return make_error(ErrorCode::overflow, "shape")
           << shape_text(from.shape()) << " x " << element_size << " bytes is past the planner's 2^56-byte limit";
  }
  for (int side = 0; side < 2; ++side) {
    const Layout& layout = side == 0 ? from : to;
    const char* name = side == 0 ? "from" : "to";
    if (const Status listable = layout.check_intervals_per_rank(); !listable.ok()) {
      return make_error(listable.error().code, name) << listable.error().message.view();
    }
    const Placement* partial = nullptr;
    for (std::size_t axis = 0; axis < layout.placements().size(); ++axis) {
      const Placement& p = layout.placements()[axis];
      if (!p.is_partial()) continue;
      if (partial != nullptr && partial->op != p.op) {
        return make_error(ErrorCode::invalid_argument, indexed_field(name, static_cast<Index>(axis)).view())
               << "Partial axes reduce with different ops (" << to_string(partial->op) << " and " << to_string(p.op)
               << "): the value they stand for is ambiguous";
      }
      partial = &p;
    }
  }
  for (std::size_t axis = 0; axis < to.placements().size(); ++axis) {
    const Placement& target = to.placements()[axis];
    const Placement& source = from.placements()[axis];
    if (!target.is_partial() || source.is_replicate() || source == target) continue;
    return make_error(ErrorCode::invalid_argument, indexed_field("to", static_cast<Index>(axis)).view())
           << "no rule turns " << source.to_string() << " into " << target.to_string() << " on mesh axis "
           << static_cast<Index>(axis) << ": only replicated data (or the same Partial) becomes Partial";
  }
  return Ok{};
}

}  // namespace shardplan
