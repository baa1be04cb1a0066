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

/// Whether the redistribution must reduce away the Partial of `axis`.
[[nodiscard]] constexpr bool reduces_axis(const Layout& from, const Layout& to, std::size_t axis) {
  const Placement& source = from.placements()[axis];
  return source.is_partial() && !(to.placements()[axis] == source);
}

/// On one dim, how much of `held` the members of a rank's Partial group want: its target sets over every
/// coordinate of the reduced axes that split the dim in the target (disjoint, so their overlaps add up).
[[nodiscard]] constexpr Index group_overlap(const Layout& from, const Layout& to, const DimTable& target,
                                           const Coord& coord, const IntervalSet& held) {
  const AxisSubset reduced = AxisSubset::where(from.mesh().shape(), [&](std::size_t axis) {
    return target.splitters.contains(axis) && reduces_axis(from, to, axis);
  });
  Index total = 0;
  reduced.for_each(coord, [&](Index, const Coord& member) { total += intersection_size(target.at(member), held); });
  return total;
}

/// The product of the sizes of the axes whose Partial the redistribution must reduce away.
[[nodiscard]] constexpr Index reduced_partial_group(const Layout& from, const Layout& to) {
  return AxisSubset::where(from.mesh().shape(), [&](std::size_t axis) { return reduces_axis(from, to, axis); }).size();
}

/// The bound in elements (multiply by the element size for bytes). Preconditions: same shape, same mesh.
[[nodiscard]] constexpr Index lower_bound_elements(const Layout& from, const Layout& to) {
  const Mesh& mesh = from.mesh();
  const std::vector<DimTable> source = dim_tables(from);
  const std::vector<DimTable> target = dim_tables(to);
  const Index group = reduced_partial_group(from, to);
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
      if (group > 1) reduced *= group_overlap(from, to, target[d], coord, s);
    }
    Index need = wanted - both;
    if (group > 1) {
      // (K-2) * min(|T ∩ S|, |U| / K), rounded up (plans move whole elements).
      const WideIndex share = detail::min(static_cast<WideIndex>(both) * group, static_cast<WideIndex>(reduced));
      need = wanted + static_cast<Index>(((group - 2) * share + group - 1) / group);
    }
    bound = detail::max(bound, need);
  }
  return bound;
}

}  // namespace shardplan
