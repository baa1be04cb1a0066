#pragma once
// IntervalSet: a set of integer indices stored as sorted, disjoint, coalesced half-open intervals [begin, end).
//
// This is the one representation every layer derives from: a rank's index set on a tensor dim, the rows a rank
// holds of a fused weight, the experts it owns. A rank's local tensor lists its indices in increasing global
// order, so a set also defines the map between global indices and local positions.
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

struct Interval {
  Index begin = 0;
  Index end = 0;
  [[nodiscard]] constexpr Index size() const { return end - begin; }
  [[nodiscard]] constexpr bool empty() const { return end <= begin; }
  [[nodiscard]] constexpr bool contains(Index i) const { return begin <= i && i < end; }
  friend constexpr bool operator==(const Interval&, const Interval&) = default;
};

class IntervalSet {
 public:
  constexpr IntervalSet() = default;

  /// The set [begin, end); empty when end <= begin.
  [[nodiscard]] static constexpr IntervalSet range(Index begin, Index end) {
    IntervalSet set;
    set.append(Interval{begin, end});
    return set;
  }

  /// Any list of intervals, in any order, overlapping or not: sorted and coalesced.
  [[nodiscard]] static constexpr IntervalSet from_intervals(std::vector<Interval> intervals) {
    std::sort(intervals.begin(), intervals.end(),
              [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    IntervalSet set;
    for (const Interval& interval : intervals) set.insert_sorted(interval);
    return set;
  }

  /// Any list of indices, in any order, duplicates allowed.
  [[nodiscard]] static constexpr IntervalSet from_indices(std::vector<Index> indices) {
    std::sort(indices.begin(), indices.end());
    IntervalSet set;
    for (Index i : indices) set.insert_sorted(Interval{i, i + 1});
    return set;
  }

  /// Appends an interval that lies entirely at or after the current end (coalescing when adjacent).
  /// Precondition: interval.begin >= back().end when non-empty. Empty intervals are ignored.
  constexpr void append(Interval interval) {
    if (interval.empty()) return;
    if (!intervals_.empty() && intervals_.back().end == interval.begin) {
      intervals_.back().end = interval.end;
    } else {
      intervals_.push_back(interval);
    }
    size_ += interval.size();
  }

  /// Number of indices in the set.
  [[nodiscard]] constexpr Index size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr const std::vector<Interval>& intervals() const { return intervals_; }
  /// Smallest index. Precondition: !empty().
  [[nodiscard]] constexpr Index front() const { return intervals_.front().begin; }
  /// One past the largest index. Precondition: !empty().
  [[nodiscard]] constexpr Index back_end() const { return intervals_.back().end; }
  [[nodiscard]] constexpr bool is_contiguous() const { return intervals_.size() <= 1; }

  [[nodiscard]] constexpr bool contains(Index index) const { return find_interval(index) != npos; }

  /// Local position of a global index, or -1 when the set does not hold it.
  [[nodiscard]] constexpr Index global_to_local(Index index) const {
    Index position = 0;
    for (const Interval& interval : intervals_) {
      if (index < interval.begin) return -1;
      if (index < interval.end) return position + (index - interval.begin);
      position += interval.size();
    }
    return -1;
  }

  /// Global index at a local position. Precondition: 0 <= position < size().
  [[nodiscard]] constexpr Index local_to_global(Index position) const {
    for (const Interval& interval : intervals_) {
      if (position < interval.size()) return interval.begin + position;
      position -= interval.size();
    }
    return -1;
  }

  /// The elements at local positions [first, last): what a shard of this set holds when the split is done on
  /// positions. Preconditions: 0 <= first <= last <= size().
  [[nodiscard]] constexpr IntervalSet slice(Index first, Index last) const {
    const Interval range{first, last};
    return select(std::span<const Interval>(&range, 1));
  }

  /// The elements at the local positions listed in `positions` (sorted, disjoint ranges of positions), in one sweep:
  /// slice() for many ranges at once, linear in the number of intervals plus ranges.
  [[nodiscard]] constexpr IntervalSet select(std::span<const Interval> positions) const {
    IntervalSet out;
    std::size_t i = 0;
    Index position = 0;  // local position of intervals_[i].begin
    for (const Interval& range : positions) {
      while (i < intervals_.size() && position + intervals_[i].size() <= range.begin) {
        position += intervals_[i].size();
        ++i;
      }
      Index start = position;  // local position of intervals_[j].begin
      for (std::size_t j = i; j < intervals_.size() && start < range.end; ++j) {
        const Index lo = std::max(range.begin, start);
        const Index hi = std::min(range.end, start + intervals_[j].size());
        if (lo < hi) out.append(Interval{intervals_[j].begin + (lo - start), intervals_[j].begin + (hi - start)});
        start += intervals_[j].size();
      }
    }
    return out;
  }

  /// Appends every interval of `other`. Precondition: other lies entirely at or after this set's end.
  constexpr void append(const IntervalSet& other) {
    for (const Interval& interval : other.intervals_) append(interval);
  }

  /// Calls visit(Interval) for each interval of a ∩ b, in order, in one merge of the two lists. The intervals are
  /// non-empty and never adjacent (both sets are coalesced), so they are the intersection's normal form; callers
  /// that must not allocate (the resharding overlap search) write them where they want.
  template <class Visit>
  friend constexpr void for_each_intersection(const IntervalSet& a, const IntervalSet& b, Visit&& visit) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.intervals_.size() && j < b.intervals_.size()) {
      const Interval& x = a.intervals_[i];
      const Interval& y = b.intervals_[j];
      const Interval common{std::max(x.begin, y.begin), std::min(x.end, y.end)};
      if (!common.empty()) visit(common);
      if (x.end < y.end) {
        ++i;
      } else {
        ++j;
      }
    }
  }

  /// |a ∩ b|, without building it.
  [[nodiscard]] friend constexpr Index intersection_size(const IntervalSet& a, const IntervalSet& b) {
    Index size = 0;
    for_each_intersection(a, b, [&](Interval common) { size += common.size(); });
    return size;
  }

  [[nodiscard]] friend constexpr IntervalSet intersect(const IntervalSet& a, const IntervalSet& b) {
    IntervalSet out;
    for_each_intersection(a, b, [&](Interval common) { out.append(common); });
    return out;
  }

  [[nodiscard]] friend constexpr IntervalSet unite(const IntervalSet& a, const IntervalSet& b) {
    IntervalSet out;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.intervals_.size() || j < b.intervals_.size()) {
      const bool take_a =
          j == b.intervals_.size() || (i < a.intervals_.size() && a.intervals_[i].begin < b.intervals_[j].begin);
      out.insert_sorted(take_a ? a.intervals_[i++] : b.intervals_[j++]);
    }
    return out;
  }

  /// Elements of a that are not in b.
  [[nodiscard]] friend constexpr IntervalSet subtract(const IntervalSet& a, const IntervalSet& b) {
    IntervalSet out;
    std::size_t j = 0;
    for (Interval rest : a.intervals_) {
      while (j < b.intervals_.size() && b.intervals_[j].end <= rest.begin) ++j;
      std::size_t k = j;
      while (k < b.intervals_.size() && b.intervals_[k].begin < rest.end) {
        out.append(Interval{rest.begin, b.intervals_[k].begin});
        rest.begin = std::max(rest.begin, b.intervals_[k].end);
        ++k;
      }
      out.append(rest);
    }
    return out;
  }

  /// The set shifted by `delta` (for mapping between a segment's local indices and the fused dim).
  [[nodiscard]] constexpr IntervalSet shifted(Index delta) const {
    IntervalSet out = *this;
    for (Interval& interval : out.intervals_) {
      interval.begin += delta;
      interval.end += delta;
    }
    return out;
  }

  friend constexpr bool operator==(const IntervalSet& a, const IntervalSet& b) {
    return a.intervals_ == b.intervals_;
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  [[nodiscard]] constexpr std::size_t find_interval(Index index) const {
    auto it = std::upper_bound(intervals_.begin(), intervals_.end(), index,
                               [](Index value, const Interval& interval) { return value < interval.begin; });
    if (it == intervals_.begin()) return npos;
    --it;
    return it->contains(index) ? static_cast<std::size_t>(it - intervals_.begin()) : npos;
  }

  /// Adds an interval whose begin is >= every begin already present; merges overlap and adjacency.
  constexpr void insert_sorted(Interval interval) {
    if (interval.empty()) return;
    if (!intervals_.empty() && interval.begin <= intervals_.back().end) {
      if (interval.end > intervals_.back().end) {
        size_ += interval.end - intervals_.back().end;
        intervals_.back().end = interval.end;
      }
      return;
    }
    intervals_.push_back(interval);
    size_ += interval.size();
  }

  std::vector<Interval> intervals_;
  Index size_ = 0;
};

}  // namespace shardplan
