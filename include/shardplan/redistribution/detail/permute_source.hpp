#pragma once
// Which rank a permute takes a rank's new box from, written once for the planner (which decides whether a step is a
// permute) and the exchange (which lists its blocks): the rank itself when its old box holds the new one or the new
// box is empty, otherwise the rank holding the new box's first element, with this rank's coordinates on the axes
// that split no dim. A permute is legal only if that rank's old box holds the whole new box; the planner checks it.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>

#include "shardplan/layout/dim_table.hpp"

namespace shardplan::redistribution_detail {

/// Whether the box at `inner_coord` of the tables `inner_of(d)` lies inside the box at `outer_coord` of `outer_of`.
template <class OuterOf, class InnerOf>
[[nodiscard]] constexpr bool box_inside(OuterOf&& outer_of, const Coord& outer_coord, InnerOf&& inner_of,
                                        const Coord& inner_coord, std::size_t ndim) {
  for (std::size_t d = 0; d < ndim; ++d) {
    const IntervalSetView small = inner_of(d).at(inner_coord);
    if (intersection_size(outer_of(d).at(outer_coord), small) != small.size()) return false;
  }
  return true;
}

/// The coordinate of the rank a permute from the layout of `old_of(d)` to that of `new_of(d)` (tables per dim)
/// takes `coord`'s new box from; nullopt when no rank holds its first element.
template <class OldOf, class NewOf>
[[nodiscard]] constexpr std::optional<Coord> permute_source(OldOf&& old_of, NewOf&& new_of, std::size_t ndim,
                                                            const Coord& coord) {
  StaticVector<Index, kMaxTensorRank> first;
  for (std::size_t d = 0; d < ndim; ++d) {
    const IntervalSetView wanted = new_of(d).at(coord);
    if (wanted.empty()) return coord;
    first.push_back(wanted.front());
  }
  if (box_inside(old_of, coord, new_of, coord, ndim)) return coord;
  return coord_holding(old_of, first, coord);
}

}  // namespace shardplan::redistribution_detail
