#pragma once
// IntervalSet: a set of integer indices stored as sorted, disjoint, coalesced half-open intervals [begin, end).
//
// This is the one representation every layer derives from: a rank's index set on a tensor dim, the rows a rank
// holds of a fused weight, the experts it owns. A rank's local tensor lists its indices in increasing global
// order, so a set also defines the map between global indices and local positions.
//
// The intervals live inline up to kInlineIntervals and spill to the heap only past it: a rank's set under `S`, `R`
// or `_S(d, k)` with k <= kInlineIntervals never allocates, which keeps the per-rank path allocation-free.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/sorting.hpp"

namespace shardplan {

/// Trivially default-constructible on purpose (no member initialisers): the inline buffer of an IntervalSet is left
/// uninitialised until written, so building a Box of eight empty sets costs nothing. Write `Interval{}` for [0, 0).
struct Interval {
  Index begin;
  Index end;
  [[nodiscard]] constexpr Index size() const { return end - begin; }
  [[nodiscard]] constexpr bool empty() const { return end <= begin; }
  [[nodiscard]] constexpr bool contains(Index i) const { return begin <= i && i < end; }
  friend constexpr bool operator==(const Interval&, const Interval&) = default;
};

namespace detail {

/// The intervals of a set: a vector with kInline slots inside the object. constexpr throughout (the heap part uses
/// new[]/delete[], which constant evaluation allows when freed before the evaluation ends).
template <std::size_t kInline>
class IntervalBuffer {
 public:
  constexpr IntervalBuffer() {}  // NOLINT: the inline slots stay uninitialised until written (see Interval)
  constexpr IntervalBuffer(const IntervalBuffer& other) { copy_from(other); }
  constexpr IntervalBuffer(IntervalBuffer&& other) noexcept { take(other); }
  constexpr IntervalBuffer& operator=(const IntervalBuffer& other) {
    if (this != &other) {
      size_ = 0;
      copy_from(other);
    }
    return *this;
  }
  constexpr IntervalBuffer& operator=(IntervalBuffer&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  constexpr ~IntervalBuffer() { release(); }

  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr Interval* data() { return heap_ != nullptr ? heap_ : inline_; }
  [[nodiscard]] constexpr const Interval* data() const { return heap_ != nullptr ? heap_ : inline_; }
  constexpr Interval& operator[](std::size_t i) { return data()[i]; }
  constexpr const Interval& operator[](std::size_t i) const { return data()[i]; }
  constexpr Interval& back() { return data()[size_ - 1]; }
  constexpr const Interval& back() const { return data()[size_ - 1]; }
  constexpr const Interval& front() const { return data()[0]; }
  constexpr Interval* begin() { return data(); }
  constexpr Interval* end() { return data() + size_; }
  constexpr const Interval* begin() const { return data(); }
  constexpr const Interval* end() const { return data() + size_; }

  constexpr void push_back(Interval interval) {
    if (size_ == capacity_) reserve(2 * capacity_);
    data()[size_++] = interval;
  }

  constexpr void reserve(std::size_t capacity) {
    if (capacity <= capacity_) return;
    auto* grown = new Interval[capacity];
    for (std::size_t i = 0; i < size_; ++i) grown[i] = data()[i];
    delete[] heap_;
    heap_ = grown;
    capacity_ = capacity;
  }

  friend constexpr bool operator==(const IntervalBuffer& a, const IntervalBuffer& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i) {
      if (!(a[i] == b[i])) return false;
    }
    return true;
  }

 private:
  constexpr void copy_from(const IntervalBuffer& other) {
    reserve(other.size_);
    for (std::size_t i = 0; i < other.size_; ++i) data()[i] = other[i];
    size_ = other.size_;
  }
  constexpr void take(IntervalBuffer& other) {
    if (other.heap_ != nullptr) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
      other.heap_ = nullptr;
      other.capacity_ = kInline;
    } else {
      heap_ = nullptr;
      capacity_ = kInline;
      for (std::size_t i = 0; i < other.size_; ++i) inline_[i] = other.inline_[i];
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  constexpr void release() {
    delete[] heap_;
    heap_ = nullptr;
    capacity_ = kInline;
    size_ = 0;
  }

  Interval* heap_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = kInline;
  Interval inline_[kInline];
};

[[nodiscard]] constexpr Index min_index(Index a, Index b) { return b < a ? b : a; }
[[nodiscard]] constexpr Index max_index(Index a, Index b) { return a < b ? b : a; }

/// Calls visit(common) for every non-empty intersection of an interval of `a` with one of `b` (both sorted,
/// disjoint), in order: the walk behind every intersection of sets and set views.
template <class Visit>
constexpr void for_each_intersection(std::span<const Interval> a, std::span<const Interval> b, Visit&& visit) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const Interval& x = a[i];
    const Interval& y = b[j];
    const Interval common{max_index(x.begin, y.begin), min_index(x.end, y.end)};
    if (!common.empty()) visit(common);
    if (x.end < y.end) {
      ++i;
    } else {
      ++j;
    }
  }
}

}  // namespace detail

class IntervalSet {
 public:
  /// Sets with up to this many intervals never allocate: enough for `_S(d, 8)` and for every layout the benchmarks
  /// time, while a set stays small to copy (8 x 16 bytes inline).
  static constexpr std::size_t kInlineIntervals = 8;

  constexpr IntervalSet() {}  // NOLINT: user-provided, or g++ zero-fills the inline buffer of every empty set

  /// The set [begin, end); empty when end <= begin.
  [[nodiscard]] static constexpr IntervalSet range(Index begin, Index end) {
    IntervalSet set;
    set.append(Interval{begin, end});
    return set;
  }

  /// Any list of intervals, in any order, overlapping or not: sorted and coalesced.
  [[nodiscard]] static constexpr IntervalSet from_intervals(std::vector<Interval> intervals) {
    return from_intervals_in_place(intervals);
  }

  /// The same, sorting the caller's intervals where they are (a scratch buffer reused across calls: no copy, no
  /// allocation). Pieces gathered in position order, the usual case, skip the sort.
  [[nodiscard]] static constexpr IntervalSet from_intervals_in_place(std::span<Interval> intervals) {
    const auto before = [](const Interval& a, const Interval& b) { return a.begin < b.begin; };
    bool sorted = true;
    for (std::size_t i = 1; i < intervals.size() && sorted; ++i) sorted = !before(intervals[i], intervals[i - 1]);
    if (!sorted) detail::heap_sort(intervals.data(), intervals.size(), before);
    IntervalSet set;
    for (const Interval& interval : intervals) set.insert_sorted(interval);
    return set;
  }

  /// Any list of indices, in any order, duplicates allowed.
  [[nodiscard]] static constexpr IntervalSet from_indices(std::vector<Index> indices) {
    detail::heap_sort(indices.data(), indices.size(), [](Index a, Index b) { return a < b; });
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
  [[nodiscard]] constexpr std::span<const Interval> intervals() const { return {intervals_.data(), intervals_.size()}; }
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
    const Interval* const held = intervals_.data();
    const std::size_t count = intervals_.size();
    std::size_t i = 0;
    Index position = 0;  // local position of held[i].begin
    for (const Interval& range : positions) {
      while (i < count && position + held[i].size() <= range.begin) {
        position += held[i].size();
        ++i;
      }
      Index start = position;  // local position of held[j].begin
      for (std::size_t j = i; j < count && start < range.end; ++j) {
        const Index lo = detail::max_index(range.begin, start);
        const Index hi = detail::min_index(range.end, start + held[j].size());
        if (lo < hi) out.append(Interval{held[j].begin + (lo - start), held[j].begin + (hi - start)});
        start += held[j].size();
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
    detail::for_each_intersection(a.intervals(), b.intervals(), visit);
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
        rest.begin = detail::max_index(rest.begin, b.intervals_[k].end);
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
    const std::size_t after = detail::upper_bound_index(
        intervals_.data(), intervals_.size(), index,
        [](Index value, const Interval& interval) { return value < interval.begin; });
    if (after == 0) return npos;
    return intervals_[after - 1].contains(index) ? after - 1 : npos;
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

  detail::IntervalBuffer<kInlineIntervals> intervals_;
  Index size_ = 0;
};

/// A set's intervals and size, not owned: how a table of many sets (layout/dim_table.hpp) hands out one of them,
/// storing all of them in one interval list rather than an IntervalSet (160 bytes) each. An IntervalSet converts to
/// its view; the view lives as long as what it looks at.
class IntervalSetView {
 public:
  constexpr IntervalSetView() = default;
  constexpr IntervalSetView(const IntervalSet& set)  // NOLINT: implicit, a set is a view of itself
      : intervals_(set.intervals()), size_(set.size()) {}
  /// `intervals` sorted, disjoint and coalesced, holding `size` indices.
  constexpr IntervalSetView(std::span<const Interval> intervals, Index size) : intervals_(intervals), size_(size) {}

  [[nodiscard]] constexpr Index size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr std::span<const Interval> intervals() const { return intervals_; }
  /// Smallest index. Precondition: !empty().
  [[nodiscard]] constexpr Index front() const { return intervals_.front().begin; }

  /// The same indices.
  friend constexpr bool operator==(IntervalSetView a, IntervalSetView b) {
    if (a.size_ != b.size_ || a.intervals_.size() != b.intervals_.size()) return false;
    for (std::size_t i = 0; i < a.intervals_.size(); ++i) {
      if (!(a.intervals_[i] == b.intervals_[i])) return false;
    }
    return true;
  }

 private:
  std::span<const Interval> intervals_;
  Index size_ = 0;
};

/// |a ∩ b| of two sets or views (a set converts to its view), without building it.
[[nodiscard]] constexpr Index intersection_size(IntervalSetView a, IntervalSetView b) {
  Index size = 0;
  detail::for_each_intersection(a.intervals(), b.intervals(), [&](Interval common) { size += common.size(); });
  return size;
}

}  // namespace shardplan
