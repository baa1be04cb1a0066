#pragma once
// RegionIndex: finds every region of a ShardList that a query region meets, with work that grows with the number of
// overlaps rather than with the number of regions. PyTorch DCP matches every local chunk against every saved chunk
// (quadratic in the chunk counts); here:
//  - per dim, the distinct index sets are sorted by their first index with a running maximum of their ends, so the
//    sets a query set meets are found by two binary searches and a scan of the candidates between them
//    (DistinctSets::overlaps);
//  - regions are keyed by their tuple of per-dim set ids and sorted, an implicit trie: a query descends one dim at a
//    time, following only the set ids that overlap on that dim (RegionIndex::for_each_overlap).
// Identical regions (replicas) form one group whose members the caller chooses between. Entries that hold nothing
// (an empty set on some dim) are left out.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/resharding/shard_list.hpp"

namespace shardplan {

/// Elements a query set shares with one set: intervals stored in an OverlapList's pool (no allocation per overlap).
struct CommonSet {
  const Interval* intervals = nullptr;
  std::uint32_t count = 0;
  Index size = 0;  // elements
  [[nodiscard]] std::span<const Interval> span() const { return {intervals, count}; }
};

/// One distinct set that a query set meets on a dim: its id and where the shared intervals sit in the pool.
struct DimOverlap {
  std::uint32_t set_id = 0;
  std::uint32_t first = 0;  // into the pool
  std::uint32_t count = 0;
  Index size = 0;
};

/// The overlaps of one query set on one dim, with the pool their intervals live in.
struct DimQuery {
  std::span<const DimOverlap> overlaps;
  const Interval* pool = nullptr;
  [[nodiscard]] CommonSet common(const DimOverlap& overlap) const {
    return CommonSet{pool + overlap.first, overlap.count, overlap.size};
  }
};

/// The overlaps of many query sets against one dim's DistinctSets, stored flat and reused between calls.
class OverlapList {
 public:
  void clear() {
    overlaps_.clear();
    begin_.assign(1, 0);
    pool_.clear();
  }
  /// Query i's overlaps, for the i-th call of DistinctSets::overlaps since clear(). Valid until the next change.
  [[nodiscard]] DimQuery query(std::size_t i) const {
    // Spans here are made from (pointer, size): std::span's range constructor costs ~10 ms of compile time per type.
    return DimQuery{std::span<const DimOverlap>(overlaps_.data() + begin_[i], begin_[i + 1] - begin_[i]), pool_.data()};
  }

 private:
  friend class DistinctSets;
  std::vector<DimOverlap> overlaps_;
  std::vector<std::uint32_t> begin_ = {0};  // CSR: query i's overlaps are [begin_[i], begin_[i + 1])
  std::vector<Interval> pool_;
};

namespace region_index_detail {

inline bool set_less(const IntervalSet& a, const IntervalSet& b) {
  const auto& x = a.intervals();
  const auto& y = b.intervals();
  return detail::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(),
                                         [](const Interval& p, const Interval& q) {
                                           return p.begin != q.begin ? p.begin < q.begin : p.end < q.end;
                                         });
}

/// Appends a ∩ b to `out`; returns the number of elements.
inline Index append_intersection(const IntervalSet& a, const IntervalSet& b, std::vector<Interval>& out) {
  Index size = 0;
  for_each_intersection(a, b, [&](Interval common) {
    out.push_back(common);
    size += common.size();
  });
  return size;
}

}  // namespace region_index_detail

/// The distinct index sets that a list's entries hold on one dim, sorted (by first index), each with an id.
class DistinctSets {
 public:
  /// Rebuilds for another list, reusing this object's storage. Keeps pointers into `shards`.
  void assign(std::span<const Shard> shards, std::size_t dim) {
    sets_.clear();
    max_end_.clear();
    first_nonempty_ = 0;
    disjoint_ = true;
    // Sort on a copy of each set's first interval, so that comparisons do not chase pointers; the full
    // lexicographic comparison only breaks ties (equal first intervals), which keeps equal sets adjacent.
    order_.clear();
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const IntervalSet& set = shards[i].sets[dim];
      const Interval first = set.empty() ? Interval{} : set.intervals().front();
      order_.push_back(
          SortKey{first.begin, first.end, set.empty(), set.is_contiguous(), static_cast<std::uint32_t>(i)});
    }
    const auto less = [&](const SortKey& a, const SortKey& b) {
      if (a.empty != b.empty) return a.empty;  // empty sets first
      if (a.begin != b.begin) return a.begin < b.begin;
      if (a.end != b.end) return a.end < b.end;
      if (a.contiguous != b.contiguous) return a.contiguous;  // [b, e) sorts before [b, e) ∪ more
      if (a.contiguous) return a.entry < b.entry;             // equal sets: keep list order
      const IntervalSet& x = shards[a.entry].sets[dim];
      const IntervalSet& y = shards[b.entry].sets[dim];
      return region_index_detail::set_less(x, y) || (!region_index_detail::set_less(y, x) && a.entry < b.entry);
    };
    // Replicated dims come in order already (every key equal): skip the sort.
    if (!detail::is_sorted(order_.begin(), order_.end(), less)) detail::sort_range(order_, less);
    id_of_entry_.resize(shards.size());
    const SortKey* previous = nullptr;
    for (const SortKey& key : order_) {
      const std::uint32_t entry = key.entry;
      const IntervalSet& set = shards[entry].sets[dim];
      // Different first intervals: a new set, no need to compare the whole sets.
      const bool same_start = previous != nullptr && previous->empty == key.empty && previous->begin == key.begin &&
                              previous->end == key.end;
      previous = &key;
      if (!same_start || !(*sets_.back() == set)) {
        // Pairwise disjoint so far: every non-empty set one interval, starting at or after the previous ones' end.
        if (!set.empty()) {
          const Index previous_end = max_end_.empty() ? 0 : max_end_.back();
          disjoint_ = disjoint_ && set.is_contiguous() && set.front() >= previous_end;
        }
        sets_.push_back(&set);
        if (set.empty()) first_nonempty_ = sets_.size();
        const Index end = set.empty() ? 0 : set.back_end();
        max_end_.push_back(max_end_.empty() ? end : detail::max(max_end_.back(), end));
      }
      id_of_entry_[entry] = static_cast<std::uint32_t>(sets_.size() - 1);
    }
  }

  [[nodiscard]] std::size_t size() const { return sets_.size(); }
  /// No two distinct sets share an index (found cheaply: contiguous sets that do not overlap; false otherwise).
  [[nodiscard]] bool pairwise_disjoint() const { return disjoint_; }
  [[nodiscard]] const IntervalSet& set(std::uint32_t id) const { return *sets_[id]; }
  [[nodiscard]] std::uint32_t id_of_entry(std::size_t entry) const { return id_of_entry_[entry]; }

  /// Records, as the next query of `out`, every distinct set that shares an element with `query`, with the shared
  /// elements, by increasing id. Candidates are the sets that start before the query ends and whose running maximum
  /// end passes its start; for disjoint sets (Shard layouts, chunk grids) that is exactly the overlapping ones.
  void overlaps(const IntervalSet& query, OverlapList& out) const {
    if (!query.empty()) {
      const auto first = static_cast<std::ptrdiff_t>(first_nonempty_);
      const auto starts_before_end = [&](const IntervalSet* set) { return set->front() < query.back_end(); };
      const auto stop = detail::partition_point(sets_.begin() + first, sets_.end(), starts_before_end) - sets_.begin();
      const auto start = detail::partition_point(max_end_.begin() + first, max_end_.begin() + stop,
                                              [&](Index end) { return end <= query.front(); }) -
                         max_end_.begin();
      for (auto id = start; id < stop; ++id) {
        const IntervalSet& set = *sets_[static_cast<std::size_t>(id)];
        if (set.back_end() <= query.front()) continue;
        const auto pool_start = static_cast<std::uint32_t>(out.pool_.size());
        const Index size = region_index_detail::append_intersection(set, query, out.pool_);
        if (size > 0) {
          out.overlaps_.push_back(DimOverlap{static_cast<std::uint32_t>(id), pool_start,
                                             static_cast<std::uint32_t>(out.pool_.size() - pool_start), size});
        }
      }
    }
    out.begin_.push_back(static_cast<std::uint32_t>(out.overlaps_.size()));
  }

 private:
  std::vector<const IntervalSet*> sets_;  // points into the ShardList, which must outlive this
  std::vector<Index> max_end_;            // running maximum of the sets' ends
  std::vector<std::uint32_t> id_of_entry_;
  std::size_t first_nonempty_ = 0;        // empty sets sort first and meet nothing
  bool disjoint_ = true;
  struct SortKey {
    Index begin = 0;  // of the set's first interval
    Index end = 0;
    bool empty = false;
    bool contiguous = true;
    std::uint32_t entry = 0;
  };
  std::vector<SortKey> order_;  // scratch of assign()
};

/// The distinct regions of a ShardList (replicas grouped), searchable by overlap.
class RegionIndex {
 public:
  /// Keeps pointers into `list`, which must outlive the index.
  [[nodiscard]] static RegionIndex build(const ShardList& list) {
    RegionIndex index;
    index.assign(list);
    return index;
  }

  /// Rebuilds for another list, reusing this object's storage (a planner mapping many tensors allocates once).
  void assign(const ShardList& list) {
    rank_ = list.shape.size();
    if (dims_.size() < rank_) dims_.resize(rank_);
    const std::span<const Shard> shards(list.shards.data(), list.shards.size());
    for (std::size_t d = 0; d < rank_; ++d) dims_[d].assign(shards, d);
    members_.clear();
    for (std::size_t i = 0; i < list.shards.size(); ++i) {
      if (list.shards[i].numel() > 0) members_.push_back(static_cast<std::uint32_t>(i));
    }
    const auto key = [&](std::uint32_t entry, std::size_t d) { return dims_[d].id_of_entry(entry); };
    detail::sort_range(members_, [&](std::uint32_t a, std::uint32_t b) {
      for (std::size_t d = 0; d < rank_; ++d) {
        if (key(a, d) != key(b, d)) return key(a, d) < key(b, d);
      }
      return a < b;
    });
    group_begin_.clear();
    keys_.clear();
    for (std::size_t i = 0; i < members_.size(); ++i) {
      bool same = i > 0;
      for (std::size_t d = 0; same && d < rank_; ++d) same = key(members_[i], d) == key(members_[i - 1], d);
      if (!same) {
        group_begin_.push_back(i);
        for (std::size_t d = 0; d < rank_; ++d) keys_.push_back(key(members_[i], d));
      }
    }
    group_begin_.push_back(members_.size());
  }

  [[nodiscard]] std::size_t group_count() const { return group_begin_.size() - 1; }
  /// A cheap sufficient proof that distinct regions share no element: two distinct regions differ on some dim, and
  /// when every dim's distinct sets are pairwise disjoint (any layout without _S) they are disjoint there.
  [[nodiscard]] bool distinct_regions_disjoint_by_dims() const {
    for (std::size_t d = 0; d < rank_; ++d) {
      if (!dims_[d].pairwise_disjoint()) return false;
    }
    return true;
  }
  [[nodiscard]] const DistinctSets& dim(std::size_t d) const { return dims_[d]; }
  /// Entries (positions in the ShardList) holding group g's region, in list order.
  [[nodiscard]] std::span<const std::uint32_t> members(std::size_t group) const {
    return std::span<const std::uint32_t>(members_.data() + group_begin_[group],
                                          group_begin_[group + 1] - group_begin_[group]);
  }
  /// Group g's set on dim d.
  [[nodiscard]] const IntervalSet& set(std::size_t group, std::size_t d) const {
    return dims_[d].set(keys_[group * rank_ + d]);
  }

  /// Calls visit(group, commons) for every group whose region meets the query, in group order; `per_dim[d]` holds
  /// the query's overlaps on dim d (DistinctSets::overlaps against this index's dim d), commons[d] the shared
  /// elements.
  template <class Visit>
  void for_each_overlap(std::span<const DimQuery> per_dim, Visit&& visit) const {
    StaticVector<CommonSet, kMaxTensorRank> commons;
    descend(0, 0, group_count(), per_dim, commons, visit);
  }

  /// The same answer by testing every group: the quadratic method, kept as the reference for tests and benchmarks.
  template <class Visit>
  void for_each_overlap_all_pairs(const Box& query, Visit&& visit) const {
    std::vector<Interval> pool;
    StaticVector<CommonSet, kMaxTensorRank> commons;
    StaticVector<std::size_t, kMaxTensorRank> starts;
    for (std::size_t g = 0; g < group_count(); ++g) {
      bool meets = true;
      pool.clear();
      commons.clear();
      starts.clear();
      for (std::size_t d = 0; meets && d < rank_; ++d) {
        starts.push_back(pool.size());
        const Index size = region_index_detail::append_intersection(set(g, d), query[d], pool);
        commons.push_back(CommonSet{nullptr, static_cast<std::uint32_t>(pool.size() - starts[d]), size});
        meets = size > 0;
      }
      if (!meets) continue;
      for (std::size_t d = 0; d < rank_; ++d) commons[d].intervals = pool.data() + starts[d];  // pool is final now
      visit(g, std::span<const CommonSet>(commons.data(), commons.size()));
    }
  }

  /// A group other than g whose region shares an element with g's, if any (for proving regions disjoint).
  [[nodiscard]] std::optional<std::size_t> other_overlapping_group(std::size_t g, OverlapList* scratch) const {
    StaticVector<DimQuery, kMaxTensorRank> per_dim;
    for (std::size_t d = 0; d < rank_; ++d) {
      scratch[d].clear();
      dims_[d].overlaps(set(g, d), scratch[d]);
    }
    for (std::size_t d = 0; d < rank_; ++d) per_dim.push_back(scratch[d].query(0));
    std::optional<std::size_t> other;
    for_each_overlap(std::span<const DimQuery>(per_dim.data(), per_dim.size()),
                     [&](std::size_t h, std::span<const CommonSet>) {
                       if (h != g && !other) other = h;
                     });
    return other;
  }

 private:
  template <class Visit>
  void descend(std::size_t d, std::size_t lo, std::size_t hi, std::span<const DimQuery> per_dim,
               StaticVector<CommonSet, kMaxTensorRank>& commons, Visit& visit) const {
    if (d == rank_) {
      for (std::size_t g = lo; g < hi; ++g) visit(g, std::span<const CommonSet>(commons.data(), commons.size()));
      return;
    }
    // Groups [lo, hi) agree on dims < d and are sorted by their id on dim d.
    for (const DimOverlap& overlap : per_dim[d].overlaps) {
      const auto [first, last] = equal_range_of(lo, hi, d, overlap.set_id);
      if (first == last) continue;
      commons.push_back(per_dim[d].common(overlap));
      descend(d + 1, first, last, per_dim, commons, visit);
      commons.pop_back();
    }
  }

  /// The groups in [lo, hi) whose id on dim d is `id`, by two binary searches (never a scan of the range: a query
  /// that matches many groups on dim 0 but few on dim 1 must not pay for all of them).
  [[nodiscard]] std::pair<std::size_t, std::size_t> equal_range_of(std::size_t lo, std::size_t hi, std::size_t d,
                                                                   std::uint32_t id) const {
    const auto bound = [&](std::size_t first, bool upper) {
      std::size_t count = hi - first;
      while (count > 0) {
        const std::size_t half = count / 2;
        const std::uint32_t at = keys_[(first + half) * rank_ + d];
        if (upper ? at <= id : at < id) {
          first += half + 1;
          count -= half + 1;
        } else {
          count = half;
        }
      }
      return first;
    };
    const std::size_t first = bound(lo, false);
    return {first, bound(first, true)};
  }

  std::size_t rank_ = 0;
  std::vector<DistinctSets> dims_;
  std::vector<std::uint32_t> keys_;         // group-major: the set id of group g on dim d at g * rank_ + d
  std::vector<std::size_t> group_begin_;    // CSR offsets into members_
  std::vector<std::uint32_t> members_;
};

}  // namespace shardplan
