#pragma once
// The least number of bytes the busiest rank must receive to go from one layout to another on the same mesh.
//
// Without Partial in the source (axes that stay Partial with the same op in the target count as held data): rank i
// must receive every element of its target region T_i that it does not hold, |T_i| - |T_i ∩ S_i|.
// With K = the product of the sizes of the axes that are Partial in the source and not in the target: every element
// of T_i needs the other K-1 addends. The rank receives at least one value per element of T_i, and the elements it
// reduces itself cost K-1 addends each. The group must reduce U_i, the part of the source box that some member
// wants; a fair share of that is |U_i| / K. So
//   bound_i = |T_i| + ceil((K - 2) * min(|T_i ∩ S_i|, |U_i| / K))
// which is exactly a reduce_scatter's (K-1)|T_i| for P -> S and a ring all_reduce's 2(K-1)/K |T_i| for P -> R when
// the pieces are even. With uneven pieces the busiest rank of a reduce_scatter holds ceil(n/K) > n/K, and the plan
// sits at most K-2 elements above the bound; the bound stays below every plan, hierarchical ones included.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/sorting.hpp"
#include "shardplan/layout/dim_table.hpp"

namespace shardplan {

/// Whether the redistribution must reduce away the Partial of `axis`: Partial in `from`, not the same Partial in
/// `to`.
[[nodiscard]] constexpr bool reduces_axis(const Placements& from, const Placements& to, std::size_t axis) {
  return from[axis].is_partial() && !(to[axis] == from[axis]);
}

/// The axes whose Partial the redistribution must reduce away.
[[nodiscard]] constexpr AxisSubset reduced_axes(const Mesh& mesh, const Placements& from, const Placements& to) {
  return AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return reduces_axis(from, to, axis); });
}

/// On one dim, how much of `held` the members of a rank's Partial group want: the target sets over every
/// coordinate of `reduced_on_dim` (the reduced axes that split the dim in the target; disjoint sets, so their
/// overlaps add up).
[[nodiscard]] constexpr Index group_overlap(const AxisSubset& reduced_on_dim, const DimTable& target,
                                           const Coord& coord, const IntervalSet& held) {
  Index total = 0;
  reduced_on_dim.for_each(coord, [&](Index, const Coord& member) {
    total += intersection_size(target.at(member), held);
  });
  return total;
}

/// The least one rank receives, from what its target box T and source box S hold: `wanted` = |T|, `both` =
/// |T ∩ S|, `reduced` = |U| (the part of S some member of its Partial group wants), `group` = K, the product of
/// the reduced axes' sizes (1: nothing to reduce, and the rank lacks |T| - |T ∩ S|).
[[nodiscard]] constexpr Index least_received(Index wanted, Index both, Index reduced, Index group) {
  if (group < 2) return wanted - both;
  // (K-2) * min(|T ∩ S|, |U| / K), rounded up (plans move whole elements).
  const WideIndex share = detail::min(static_cast<WideIndex>(both) * group, static_cast<WideIndex>(reduced));
  return wanted + static_cast<Index>(((group - 2) * share + group - 1) / group);
}

/// The bound in elements (multiply by the element size for bytes). Preconditions: same shape, same mesh.
[[nodiscard]] constexpr Index lower_bound_elements(const Layout& from, const Layout& to) {
  const Mesh& mesh = from.mesh();
  const std::vector<DimTable> source = dim_tables(from);
  const std::vector<DimTable> target = dim_tables(to);
  const AxisSubset reduced_axes_all = reduced_axes(mesh, from.placements(), to.placements());
  const Index group = reduced_axes_all.size();
  StaticVector<AxisSubset, kMaxTensorRank> reduced_on_dim;
  for (const DimTable& table : target) {
    reduced_on_dim.push_back(AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return table.splitters.contains(axis) && reduced_axes_all.contains(axis);
    }));
  }
  Index bound = 0;
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    const Coord coord = mesh.coordinate_unchecked(rank);
    Index wanted = 1;
    Index both = 1;
    Index reduced = 1;  // |U|: the part of the source box some member of the Partial group wants
    for (std::size_t d = 0; d < from.ndim(); ++d) {
      const IntervalSet& s = source[d].at(coord);
      const IntervalSet& t = target[d].at(coord);
      wanted *= t.size();
      both *= intersection_size(s, t);
      if (group > 1) reduced *= group_overlap(reduced_on_dim[d], target[d], coord, s);
    }
    bound = detail::max(bound, least_received(wanted, both, reduced, group));
  }
  return bound;
}

}  // namespace shardplan
