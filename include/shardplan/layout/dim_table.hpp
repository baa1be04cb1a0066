#pragma once
// Every rank's index sets of one tensor dim under a placement list, as a table. A dim's set depends only on the
// coordinates of the mesh axes that split it, so a table over those coordinates answers for every rank at a cost of
// prod(sizes of those axes) instead of world_size: what the lower bound, the planner's step rules and the exchange
// read instead of asking a Layout rank by rank. The table is built with Layout::shard_of, the step of the Layout's
// own composition walk, so the two cannot disagree.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/mesh/axis_subset.hpp"

namespace shardplan {

/// The sets of one tensor dim: `splitters` are the mesh axes that split the dim, in mesh order; `sets` is indexed
/// by splitters.index_of(coord).
struct DimTable {
  /// An interval of one combination's set.
  struct Piece {
    Interval interval;
    Index member = 0;
  };

  AxisSubset splitters;
  std::vector<IntervalSet> sets;
  std::vector<Piece> by_position;  // every interval of every set, by position (disjoint): member_holding's index

  [[nodiscard]] constexpr const IntervalSet& at(const Coord& coord) const {
    return sets[static_cast<std::size_t>(splitters.index_of(coord))];
  }

  /// The combination of coordinates on `splitters` whose set holds `index`, or nullopt when none does (an index
  /// outside the dim). Sets of distinct combinations are disjoint, so at most one does. A binary search: the
  /// permute rule asks it for every rank.
  [[nodiscard]] constexpr std::optional<Index> member_holding(Index index) const {
    std::size_t lo = 0;
    std::size_t hi = by_position.size();
    while (lo < hi) {  // the first piece that begins after `index`
      const std::size_t mid = lo + (hi - lo) / 2;
      if (by_position[mid].interval.begin <= index) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0 || !by_position[lo - 1].interval.contains(index)) return std::nullopt;
    return by_position[lo - 1].member;
  }

  /// Fills by_position from sets.
  constexpr void index_positions() {
    by_position.clear();
    for (std::size_t i = 0; i < sets.size(); ++i) {
      for (const Interval& interval : sets[i].intervals()) by_position.push_back({interval, static_cast<Index>(i)});
    }
    // Sets of plain S splits come in position order already: sort only when a piece is out of order.
    const auto before = [](const Piece& a, const Piece& b) { return a.interval.begin < b.interval.begin; };
    for (std::size_t i = 1; i < by_position.size(); ++i) {
      if (before(by_position[i], by_position[i - 1])) {
        detail::sort_range(by_position.data(), by_position.data() + by_position.size(), before);
        return;
      }
    }
  }
};

/// The table of dim `dim` of a tensor of size `size` under `placements` (already normalised, as in a Layout).
[[nodiscard]] constexpr DimTable dim_table(Index size, const Mesh& mesh, const Placements& placements,
                                           std::size_t dim, SplitPolicy policy) {
  DimTable table;
  table.splitters = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
    return placements[axis].is_shard() && static_cast<std::size_t>(placements[axis].dim) == dim;
  });
  // Breadth-first over the splitting axes: level i holds the sets of every combination of the first i axes.
  table.sets.push_back(IntervalSet::range(0, size));
  for (std::size_t axis : table.splitters.axes()) {
    const Index k = mesh.size(axis);
    std::vector<IntervalSet> next;
    next.reserve(table.sets.size() * static_cast<std::size_t>(k));
    for (const IntervalSet& parent : table.sets) {
      for (Index member = 0; member < k; ++member) {
        next.push_back(Layout::shard_of(parent, placements[axis], k, member, policy));
      }
    }
    table.sets = std::move(next);
  }
  table.index_positions();
  return table;
}

/// The table of every dim of `layout`.
[[nodiscard]] constexpr std::vector<DimTable> dim_tables(const Layout& layout) {
  std::vector<DimTable> tables;
  for (std::size_t d = 0; d < layout.shape().size(); ++d) {
    tables.push_back(dim_table(layout.shape()[d], layout.mesh(), layout.placements(), d, layout.policy()));
  }
  return tables;
}

/// The coordinate of the rank that holds element `point` (one index per dim) in the layout whose tables
/// `table_of(d)` gives, with `base`'s coordinates on the axes that split no dim (R and P axes: every choice holds
/// it). nullopt when the point is outside the tensor.
template <class TableOf, class Point>
[[nodiscard]] constexpr std::optional<Coord> coord_holding(TableOf&& table_of, const Point& point, Coord base) {
  for (std::size_t d = 0; d < point.size(); ++d) {
    const DimTable& table = table_of(d);
    const std::optional<Index> member = table.member_holding(point[d]);
    if (!member) return std::nullopt;
    base = table.splitters.coord_at(*member, base);
  }
  return base;
}

}  // namespace shardplan
