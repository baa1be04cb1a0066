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
#include "shardplan/redistribution/detail/rank_classes.hpp"

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
                                           const Coord& coord, IntervalSetView held) {
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

/// What the busiest ranks need: the most one must receive (least_received) and the most elements one lacks
/// outright (|T| - |T ∩ S|), with the combinations walked (rank_classes.hpp's count).
struct BusiestNeed {
  Index received = 0;
  Index absent = 0;
  Index walked = 0;
};

/// BusiestNeed over every rank, by rank classes: dim d's figures are (|T|, |T ∩ S|, |U|) = figures(d, indices),
/// `indices[j]` indexing the rank's coordinates in *parts[d * P + j]; `group` is K. The lower bound below and the
/// planner's estimate both read it.
template <std::size_t P, class DimFigures>
[[nodiscard]] constexpr BusiestNeed busiest_need(redistribution_detail::RankClasses<3>& classes,
                                                 const AxisSizes& mesh_shape, std::size_t ndim,
                                                 const AxisSubset* const* parts, Index group, DimFigures&& figures) {
  BusiestNeed need;
  need.walked = classes.template for_each<P>(mesh_shape, ndim, parts, figures,
                                             [&](const redistribution_detail::Figures<3>& f) {
                                               need.received =
                                                   detail::max(need.received, least_received(f[0], f[1], f[2], group));
                                               need.absent = detail::max(need.absent, f[0] - f[1]);
                                             });
  return need;
}

/// The bound in elements (multiply by the element size for bytes). Preconditions: same shape, same mesh. Each
/// dim's figures (|T|, |T ∩ S|, |U|) over the combinations of the axes that split it on either side, and the
/// ranks' products by rank classes (detail/rank_classes.hpp): no walk over the ranks.
[[nodiscard]] constexpr Index lower_bound_elements(const Layout& from, const Layout& to) {
  using redistribution_detail::Figures;
  const Mesh& mesh = from.mesh();
  const std::vector<DimTable> source = dim_tables(from);
  const std::vector<DimTable> target = dim_tables(to);
  const AxisSubset reduced_all = reduced_axes(mesh, from.placements(), to.placements());
  const Index group = reduced_all.size();
  std::vector<std::vector<Figures<3>>> figures(from.ndim());
  StaticVector<AxisSubset, kMaxTensorRank> axes;
  for (std::size_t d = 0; d < from.ndim(); ++d) {
    axes.push_back(AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return source[d].splitters.contains(axis) || target[d].splitters.contains(axis);
    }));
    const AxisSubset reduced_on_dim = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return target[d].splitters.contains(axis) && reduced_all.contains(axis);
    });
    axes[d].for_each(Coord(mesh.ndim(), 0), [&](Index, const Coord& coord) {
      const IntervalSetView s = source[d].at(coord);
      const IntervalSetView t = target[d].at(coord);
      // |U|: the part of the source set some member of the Partial group wants.
      figures[d].push_back(
          {t.size(), intersection_size(s, t), group > 1 ? group_overlap(reduced_on_dim, target[d], coord, s) : 1});
    });
  }
  const AxisSubset* parts[kMaxTensorRank]{};
  for (std::size_t d = 0; d < from.ndim(); ++d) parts[d] = &axes[d];
  redistribution_detail::RankClasses<3> classes;
  return busiest_need<1>(classes, mesh.shape(), from.ndim(), parts, group, [&](std::size_t d, const Index* index) {
           return figures[d][static_cast<std::size_t>(index[0])];
         }).received;
}

}  // namespace shardplan
