#pragma once
// Every rank's index sets of a placement list, factored per tensor dim. A dim's set depends only on the coordinates
// of the mesh axes that split it, so a table over the combinations of those coordinates answers for every rank at a
// cost of prod(sizes of those axes) per dim instead of world_size x rank. The redistribution planner reasons on
// placements and checks every step it proposes against these tables (the same composition as Layout::index_sets).
#include <cstddef>
#include <vector>

#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// The sets of one tensor dim under a placement list: `axes` are the mesh axes that split the dim, in mesh order;
/// `sets` is indexed row-major by the coordinates on those axes (first axis slowest).
struct DimSets {
  AxisList axes;
  StaticVector<Index, kMaxMeshAxes> axis_sizes;
  std::vector<IntervalSet> sets;

  /// The index of a rank's set, from its mesh coordinate.
  [[nodiscard]] constexpr std::size_t combo(const Coord& coord) const {
    std::size_t index = 0;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      index = index * static_cast<std::size_t>(axis_sizes[i]) + static_cast<std::size_t>(coord[axes[i]]);
    }
    return index;
  }
  [[nodiscard]] constexpr const IntervalSet& at(const Coord& coord) const { return sets[combo(coord)]; }
};

/// The sets of dim `dim` of a tensor of size `size` under `placements` (already normalised, as in a Layout).
[[nodiscard]] constexpr DimSets dim_sets(Index size, const Mesh& mesh, const Placements& placements, std::size_t dim,
                                         SplitPolicy policy) {
  DimSets table;
  for (std::size_t axis = 0; axis < placements.size(); ++axis) {
    if (placements[axis].is_shard() && static_cast<std::size_t>(placements[axis].dim) == dim) {
      table.axes.push_back(axis);
      table.axis_sizes.push_back(mesh.size(axis));
    }
  }
  // Breadth-first over the axes: level i holds the sets for every combination of the first i axes' coordinates.
  table.sets.push_back(IntervalSet::range(0, size));
  for (std::size_t i = 0; i < table.axes.size(); ++i) {
    const Placement& placement = placements[table.axes[i]];
    const Index k = table.axis_sizes[i];
    std::vector<IntervalSet> next;
    next.reserve(table.sets.size() * static_cast<std::size_t>(k));
    for (const IntervalSet& parent : table.sets) {
      for (Index member = 0; member < k; ++member) next.push_back(Layout::shard_of(parent, placement, k, member, policy));
    }
    table.sets = std::move(next);
  }
  return table;
}

/// Number of elements of a box given as one set per dim.
[[nodiscard]] constexpr Index box_size(const Box& sets) {
  Index product = 1;
  for (const IntervalSet& set : sets) product *= set.size();
  return product;
}

}  // namespace shardplan
