#pragma once
// Every rank's index sets of one tensor dim under a placement list, as a table. A dim's set depends only on the
// coordinates of the mesh axes that split it, so a table over those coordinates answers for every rank at a cost of
// prod(sizes of those axes) instead of world_size: what the lower bound, the planner's step rules and the exchange
// read instead of asking a Layout rank by rank. The table is built with Layout::shard_of, the step of the Layout's
// own composition walk, so the two cannot disagree.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/mesh/axis_subset.hpp"

namespace shardplan {

/// The sets of one tensor dim: `splitters` are the mesh axes that split the dim, in mesh order; set(i) is the set of
/// combination i = splitters.index_of(coord). The sets are stored flat, one interval list for all of them (a table
/// can hold 2^17 sets: 32 bytes for a one-interval set and its entry rather than an IntervalSet's 160, plus the
/// position index).
class DimTable {
 public:
  /// An interval of one combination's set.
  struct Piece {
    Interval interval;
    Index member = 0;
  };

  AxisSubset splitters;

  /// Number of sets: splitters.size().
  [[nodiscard]] constexpr std::size_t count() const { return sets_.empty() ? 0 : sets_.size() - 1; }

  [[nodiscard]] constexpr IntervalSetView set(std::size_t combination) const {
    const std::size_t begin = sets_[combination].start;
    return {std::span<const Interval>(intervals_.data() + begin, sets_[combination + 1].start - begin),
            sets_[combination].size};
  }

  [[nodiscard]] constexpr IntervalSetView at(const Coord& coord) const {
    return set(static_cast<std::size_t>(splitters.index_of(coord)));
  }

  /// Room for `sets` sets of `intervals` intervals in all.
  constexpr void reserve(std::size_t sets, std::size_t intervals) {
    intervals_.reserve(intervals);
    sets_.reserve(sets + 1);
  }

  /// Appends the set of the next combination.
  constexpr void push_back(const IntervalSet& set) {
    if (sets_.empty()) sets_.push_back({0, 0});  // the end marker, from here on
    sets_.back().size = set.size();
    for (const Interval& interval : set.intervals()) intervals_.push_back(interval);
    sets_.push_back({intervals_.size(), 0});
  }

  /// The combination of coordinates on `splitters` whose set holds `index`, or nullopt when none does (an index
  /// outside the dim). Sets of distinct combinations are disjoint, so at most one does. A binary search: the
  /// permute rule asks it for every rank.
  [[nodiscard]] constexpr std::optional<Index> member_holding(Index index) const {
    std::size_t lo = 0;
    std::size_t hi = by_position_.size();
    while (lo < hi) {  // the first piece that begins after `index`
      const std::size_t mid = lo + (hi - lo) / 2;
      if (by_position_[mid].interval.begin <= index) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0 || !by_position_[lo - 1].interval.contains(index)) return std::nullopt;
    return by_position_[lo - 1].member;
  }

  /// Lists every interval of every set by position (they are disjoint), for member_holding. Call once, after the
  /// last push_back.
  constexpr void index_positions() {
    by_position_.clear();
    by_position_.reserve(intervals_.size());
    for (std::size_t i = 0; i < count(); ++i) {
      for (std::size_t k = sets_[i].start; k < sets_[i + 1].start; ++k) {
        by_position_.push_back({intervals_[k], static_cast<Index>(i)});
      }
    }
    // Sets of plain S splits come in position order already: sort only when a piece is out of order.
    const auto before = [](const Piece& a, const Piece& b) { return a.interval.begin < b.interval.begin; };
    for (std::size_t i = 1; i < by_position_.size(); ++i) {
      if (before(by_position_[i], by_position_[i - 1])) {
        detail::sort_range(by_position_.data(), by_position_.data() + by_position_.size(), before);
        return;
      }
    }
  }

 private:
  /// Where a set's intervals begin in intervals_, and its size: one entry a set, then an end marker.
  struct Entry {
    std::size_t start = 0;
    Index size = 0;
  };

  std::vector<Interval> intervals_;  // every set's intervals, set after set
  std::vector<Entry> sets_;          // set i's intervals are intervals_[sets_[i].start, sets_[i + 1].start)
  std::vector<Piece> by_position_;   // every interval of every set, by position (disjoint): member_holding's index
};

/// The table of dim `dim` of a tensor of size `size` under `placements` (already normalised, as in a Layout).
[[nodiscard]] constexpr DimTable dim_table(Index size, const Mesh& mesh, const Placements& placements,
                                           std::size_t dim, SplitPolicy policy) {
  DimTable table;
  table.splitters = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
    return placements[axis].is_shard() && static_cast<std::size_t>(placements[axis].dim) == dim;
  });
  // Breadth-first over the splitting axes: level i holds the sets of every combination of the first i axes; the
  // last level goes into the table.
  std::vector<IntervalSet> level{IntervalSet::range(0, size)};
  std::vector<IntervalSet> next;
  const AxisList& axes = table.splitters.axes();
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::size_t axis = axes[i];
    const Index k = mesh.size(axis);
    const bool last = i + 1 == axes.size();
    next.clear();
    const std::size_t sets = level.size() * static_cast<std::size_t>(k);
    if (last) {
      table.reserve(sets, sets);  // one interval a set, unless _S cuts more
    } else {
      next.reserve(sets);
    }
    for (const IntervalSet& parent : level) {
      for (Index member = 0; member < k; ++member) {
        IntervalSet set = Layout::shard_of(parent, placements[axis], k, member, policy);
        if (last) {
          table.push_back(set);
        } else {
          next.push_back(std::move(set));
        }
      }
    }
    level.swap(next);
  }
  if (axes.empty()) table.push_back(level.front());
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
