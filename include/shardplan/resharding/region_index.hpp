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
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "shardplan/resharding/shard_list.hpp"

namespace shardplan {

/// One distinct set that a query set meets on a dim, and the elements they share.
struct DimOverlap {
  std::uint32_t set_id = 0;
  IntervalSet common;
};

namespace region_index_detail {

inline bool set_less(const IntervalSet& a, const IntervalSet& b) {
  const auto& x = a.intervals();
  const auto& y = b.intervals();
  return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(), [](const Interval& p, const Interval& q) {
    return p.begin != q.begin ? p.begin < q.begin : p.end < q.end;
  });
}

}  // namespace region_index_detail

/// The distinct index sets that a list's entries hold on one dim, sorted (by first index), each with an id.
class DistinctSets {
 public:
  [[nodiscard]] static DistinctSets build(std::span<const Shard> shards, std::size_t dim) {
    DistinctSets out;
    std::vector<std::uint32_t> order(shards.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return region_index_detail::set_less(shards[a].sets[dim], shards[b].sets[dim]);
    });
    out.id_of_entry_.resize(shards.size());
    out.sets_.reserve(shards.size());
    out.max_end_.reserve(shards.size());
    for (std::uint32_t entry : order) {
      const IntervalSet& set = shards[entry].sets[dim];
      if (out.sets_.empty() || !(*out.sets_.back() == set)) {
        // Pairwise disjoint so far: every non-empty set one interval, starting at or after the previous ones' end.
        if (!set.empty()) {
          const Index previous_end = out.max_end_.empty() ? 0 : out.max_end_.back();
          out.disjoint_ = out.disjoint_ && set.is_contiguous() && set.front() >= previous_end;
        }
        out.sets_.push_back(&set);
        if (set.empty()) out.first_nonempty_ = out.sets_.size();
        const Index end = set.empty() ? 0 : set.back_end();
        out.max_end_.push_back(out.max_end_.empty() ? end : std::max(out.max_end_.back(), end));
      }
      out.id_of_entry_[entry] = static_cast<std::uint32_t>(out.sets_.size() - 1);
    }
    return out;
  }

  [[nodiscard]] std::size_t size() const { return sets_.size(); }
  /// No two distinct sets share an index (found cheaply: contiguous sets that do not overlap; false otherwise).
  [[nodiscard]] bool pairwise_disjoint() const { return disjoint_; }
  [[nodiscard]] const IntervalSet& set(std::uint32_t id) const { return *sets_[id]; }
  [[nodiscard]] std::uint32_t id_of_entry(std::size_t entry) const { return id_of_entry_[entry]; }

  /// Appends every distinct set that shares an element with `query`, with the shared elements, by increasing id.
  /// Candidates are the sets that start before the query ends and whose running maximum end passes its start;
  /// for disjoint sets (Shard layouts, chunk grids) that is exactly the overlapping ones.
  void overlaps(const IntervalSet& query, std::vector<DimOverlap>& out) const {
    if (query.empty()) return;
    const auto first = static_cast<std::ptrdiff_t>(first_nonempty_);
    const auto starts_before_end = [&](const IntervalSet* set) { return set->front() < query.back_end(); };
    const auto stop = std::partition_point(sets_.begin() + first, sets_.end(), starts_before_end) - sets_.begin();
    const auto start =
        std::partition_point(max_end_.begin() + first, max_end_.begin() + stop,
                             [&](Index end) { return end <= query.front(); }) -
        max_end_.begin();
    for (auto id = start; id < stop; ++id) {
      const IntervalSet& set = *sets_[static_cast<std::size_t>(id)];
      if (set.back_end() <= query.front()) continue;
      IntervalSet common = intersect(set, query);
      if (!common.empty()) out.push_back(DimOverlap{static_cast<std::uint32_t>(id), std::move(common)});
    }
  }

 private:
  std::vector<const IntervalSet*> sets_;  // points into the ShardList, which must outlive this
  std::vector<Index> max_end_;            // running maximum of the sets' ends
  std::vector<std::uint32_t> id_of_entry_;
  std::size_t first_nonempty_ = 0;        // empty sets sort first and meet nothing
  bool disjoint_ = true;
};

/// The distinct regions of a ShardList (replicas grouped), searchable by overlap.
class RegionIndex {
 public:
  /// Keeps pointers into `list`, which must outlive the index.
  [[nodiscard]] static RegionIndex build(const ShardList& list) {
    RegionIndex index;
    index.rank_ = list.shape.size();
    index.dims_.reserve(index.rank_);
    for (std::size_t d = 0; d < index.rank_; ++d) index.dims_.push_back(DistinctSets::build(list.shards, d));
    std::vector<std::uint32_t> holders;
    holders.reserve(list.shards.size());
    for (std::size_t i = 0; i < list.shards.size(); ++i) {
      if (list.shards[i].numel() > 0) holders.push_back(static_cast<std::uint32_t>(i));
    }
    const auto key = [&](std::uint32_t entry, std::size_t d) { return index.dims_[d].id_of_entry(entry); };
    std::sort(holders.begin(), holders.end(), [&](std::uint32_t a, std::uint32_t b) {
      for (std::size_t d = 0; d < index.rank_; ++d) {
        if (key(a, d) != key(b, d)) return key(a, d) < key(b, d);
      }
      return a < b;
    });
    index.group_begin_.reserve(holders.size() + 1);
    index.keys_.reserve(holders.size() * index.rank_);
    for (std::size_t i = 0; i < holders.size(); ++i) {
      bool same = i > 0;
      for (std::size_t d = 0; same && d < index.rank_; ++d) same = key(holders[i], d) == key(holders[i - 1], d);
      if (!same) {
        index.group_begin_.push_back(i);
        for (std::size_t d = 0; d < index.rank_; ++d) index.keys_.push_back(key(holders[i], d));
      }
    }
    index.group_begin_.push_back(holders.size());
    index.members_ = std::move(holders);
    return index;
  }

  [[nodiscard]] std::size_t group_count() const { return group_begin_.size() - 1; }
  [[nodiscard]] const DistinctSets& dim(std::size_t d) const { return dims_[d]; }
  /// Entries (positions in the ShardList) holding group g's region, in list order.
  [[nodiscard]] std::span<const std::uint32_t> members(std::size_t group) const {
    return std::span<const std::uint32_t>(members_).subspan(group_begin_[group],
                                                            group_begin_[group + 1] - group_begin_[group]);
  }
  /// Group g's set on dim d.
  [[nodiscard]] const IntervalSet& set(std::size_t group, std::size_t d) const {
    return dims_[d].set(keys_[group * rank_ + d]);
  }

  /// Calls visit(group, commons) for every group whose region meets the query, in group order; `per_dim[d]` is the
  /// query's DistinctSets::overlaps on dim d against this index's dim d, and commons[d] the shared elements.
  template <class Visit>
  void for_each_overlap(std::span<const std::vector<DimOverlap>* const> per_dim, Visit&& visit) const {
    StaticVector<const IntervalSet*, kMaxTensorRank> commons;
    descend(0, 0, group_count(), per_dim, commons, visit);
  }

  /// The same answer by testing every group: the quadratic method, kept as the reference for tests and benchmarks.
  template <class Visit>
  void for_each_overlap_all_pairs(const IndexSets& query, Visit&& visit) const {
    std::vector<IntervalSet> common(rank_);
    StaticVector<const IntervalSet*, kMaxTensorRank> commons;
    for (std::size_t g = 0; g < group_count(); ++g) {
      bool meets = true;
      commons.clear();
      for (std::size_t d = 0; meets && d < rank_; ++d) {
        common[d] = intersect(set(g, d), query[d]);
        meets = !common[d].empty();
        commons.push_back(&common[d]);
      }
      if (meets) visit(g, std::span<const IntervalSet* const>(commons.data(), commons.size()));
    }
  }

 private:
  template <class Visit>
  void descend(std::size_t d, std::size_t lo, std::size_t hi, std::span<const std::vector<DimOverlap>* const> per_dim,
               StaticVector<const IntervalSet*, kMaxTensorRank>& commons, Visit& visit) const {
    if (d == rank_) {
      for (std::size_t g = lo; g < hi; ++g) visit(g, std::span<const IntervalSet* const>(commons.data(), commons.size()));
      return;
    }
    // Groups [lo, hi) agree on dims < d and are sorted by their id on dim d.
    for (const DimOverlap& overlap : *per_dim[d]) {
      const auto [first, last] = equal_range_of(lo, hi, d, overlap.set_id);
      if (first == last) continue;
      commons.push_back(&overlap.common);
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
