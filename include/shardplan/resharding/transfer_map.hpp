#pragma once
// Transfer maps: for every destination entry, the pieces it needs from the source entries, when a tensor moves
// between two layouts that may use different meshes and world sizes (a checkpoint saved at TP=8 loaded at
// TP=4 x DP=2, training resumed under a new layout).
//
// A piece is an N-d box: `lengths[d]` elements starting at `src_offset[d]` in the source's local tensor and at
// `dst_offset[d]` in the destination's local tensor (local coordinates: positions in each side's index sets). With
// non-contiguous index sets (_S, fused segments) the elements two entries share are a union of boxes: per dim the
// shared elements form runs that are contiguous on both sides, and the pieces are the products of the runs.
//
// Every destination element comes from exactly one piece, whose source holds it. The sources must not overlap
// except as exact replicas (identical regions); when several entries hold the same region, one is chosen per
// destination entry (see TransferOptions).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/resharding/limits.hpp"
#include "shardplan/resharding/region_index.hpp"

namespace shardplan {

struct TransferPiece {
  Index src_rank = 0;
  Shape src_offset;  // in the source entry's local coordinates
  Shape dst_offset;  // in the destination entry's local coordinates
  Shape lengths;

  [[nodiscard]] Index count() const {
    Index count = 1;
    for (Index length : lengths) count *= length;
    return count;
  }
  friend bool operator==(const TransferPiece&, const TransferPiece&) = default;
};

/// A destination's pieces, stored compactly: 1 + 3·rank integers per piece (a 2-d piece is 56 bytes, where a
/// TransferPiece with its three fixed-capacity shapes is 224). A whole-model map has millions of pieces, and
/// writing them was the largest cost of building it. Reading a piece materialises a TransferPiece.
class PieceList {
 public:
  PieceList() = default;
  explicit PieceList(std::size_t ndim) : ndim_(ndim) {}

  [[nodiscard]] std::size_t size() const { return data_.size() / stride(); }
  [[nodiscard]] bool empty() const { return data_.empty(); }
  [[nodiscard]] std::size_t ndim() const { return ndim_; }
  void reserve(std::size_t pieces) { data_.reserve(pieces * stride()); }

  [[nodiscard]] TransferPiece operator[](std::size_t i) const {
    const Index* at = data_.data() + i * stride();
    TransferPiece piece;
    piece.src_rank = at[0];
    for (std::size_t d = 0; d < ndim_; ++d) {
      piece.src_offset.push_back(at[1 + d]);
      piece.dst_offset.push_back(at[1 + ndim_ + d]);
      piece.lengths.push_back(at[1 + 2 * ndim_ + d]);
    }
    return piece;
  }

  /// Precondition: the piece's shapes have ndim() dims.
  void push_back(const TransferPiece& piece) {
    data_.push_back(piece.src_rank);
    data_.insert(data_.end(), piece.src_offset.begin(), piece.src_offset.end());
    data_.insert(data_.end(), piece.dst_offset.begin(), piece.dst_offset.end());
    data_.insert(data_.end(), piece.lengths.begin(), piece.lengths.end());
  }

  /// Iterates by value (each element is materialised on access).
  class iterator {
   public:
    using value_type = TransferPiece;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const PieceList* list, std::size_t i) : list_(list), i_(i) {}
    TransferPiece operator*() const { return (*list_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }

   private:
    const PieceList* list_ = nullptr;
    std::size_t i_ = 0;
  };
  [[nodiscard]] iterator begin() const { return {this, 0}; }
  [[nodiscard]] iterator end() const { return {this, size()}; }

  friend bool operator==(const PieceList&, const PieceList&) = default;

 private:
  friend class TransferPlanner;
  [[nodiscard]] std::size_t stride() const { return 1 + 3 * ndim_; }

  std::size_t ndim_ = 0;
  std::vector<Index> data_;  // per piece: src_rank, src_offset[rank], dst_offset[rank], lengths[rank]
};

struct RankPieces {
  Index rank = 0;  // the destination entry's rank
  PieceList pieces;
  friend bool operator==(const RankPieces&, const RankPieces&) = default;
};

struct TransferMap {
  std::vector<RankPieces> ranks;       // one per destination entry, in the destination list's order
  std::vector<Index> served;           // elements each source entry sends, in the source list's order
  Index elements = 0;                  // elements moved in all, local copies (same rank) included

  /// The source entry that sends the most elements (its position in the source list), or -1 with no sources.
  [[nodiscard]] Index busiest_source() const {
    Index best = -1;
    for (std::size_t i = 0; i < served.size(); ++i) {
      if (best < 0 || served[i] > served[static_cast<std::size_t>(best)]) best = static_cast<Index>(i);
    }
    return best;
  }
};

/// How candidate sources are found: the sweep (work grows with the overlaps) or every source region against every
/// destination entry (DCP's quadratic method, kept as a reference). Both give the same map.
enum class OverlapSearch { sweep, all_pairs };

struct TransferOptions {
  /// Among replicas of a region, a destination entry whose rank holds one reads its own copy (a local copy, no
  /// transfer). Otherwise, and for the rest, the replica that has served the fewest elements so far is chosen (ties:
  /// the first in the source list), so replicated sources spread the load. Turn this off when source and
  /// destination ranks do not name the same processes (files, a restarted job with a different rank order).
  bool prefer_same_rank = true;
  OverlapSearch search = OverlapSearch::sweep;
  /// The most pieces the map may hold: past it map() stops and refuses (capacity_exceeded) instead of filling
  /// memory. check_transfer_pieces refuses the same maps before building anything.
  Index max_pieces = kMaxTransferPieces;
};

namespace transfer_detail {

/// A stretch of shared elements contiguous in both local tensors.
struct Run {
  Index src = 0;
  Index dst = 0;
  Index length = 0;
};

/// Local position of every interval of `common` in `set` (common is a subset of set), in one sweep.
class LocalCursor {
 public:
  explicit LocalCursor(const IntervalSet& set) : intervals_(set.intervals()) {}
  /// Local position of global index `begin`. Calls must come in increasing order of `begin`.
  Index position(Index begin) {
    while (begin >= intervals_[i_].end) {
      position_ += intervals_[i_].size();
      ++i_;
    }
    return position_ + (begin - intervals_[i_].begin);
  }

 private:
  std::span<const Interval> intervals_;
  std::size_t i_ = 0;
  Index position_ = 0;  // local position of intervals_[i_].begin
};

inline void local_runs(const CommonSet& common, const IntervalSet& src, const IntervalSet& dst,
                       std::vector<Run>& runs) {
  runs.clear();
  LocalCursor src_cursor(src);
  LocalCursor dst_cursor(dst);
  for (const Interval& interval : common.span()) {
    const Run run{src_cursor.position(interval.begin), dst_cursor.position(interval.begin), interval.size()};
    if (!runs.empty() && runs.back().src + runs.back().length == run.src &&
        runs.back().dst + runs.back().length == run.dst) {
      runs.back().length += run.length;
    } else {
      runs.push_back(run);
    }
  }
}

}  // namespace transfer_detail

/// Computes transfer maps, keeping its working storage between calls: a loader mapping every tensor of a model
/// through one planner allocates little beyond the maps it returns. Not thread-safe; use one per thread.
class TransferPlanner {
 public:
  /// The pieces every destination entry needs. Errors: different global shapes, entries outside the shape, sources
  /// that overlap without being replicas, destination elements that no source holds, totals beyond int64.
  [[nodiscard]] Result<TransferMap> map(const ShardList& source, const ShardList& destination,
                                        const TransferOptions& options = {}) {
    if (!(source.shape == destination.shape)) {
      return make_error(ErrorCode::invalid_argument, "shape")
             << "the source tensor is " << shape_text(source.shape) << " but the destination is "
             << shape_text(destination.shape);
    }
    SHARDPLAN_CHECK(check_shard_list_dims(source, "source"));
    SHARDPLAN_CHECK(check_shard_list_dims(destination, "destination"));
    source_ = &source;
    options_ = options;
    overflow_ = false;
    pieces_ = 0;
    index_.assign(source);
    for (std::size_t d = 0; d < source.shape.size(); ++d) SHARDPLAN_CHECK(check_bounds(source, index_.dim(d), d, "source"));
    for (std::size_t d = 0; d < destination.shape.size(); ++d) {
      dst_dims_[d].assign(destination.shards, d);
      SHARDPLAN_CHECK(check_bounds(destination, dst_dims_[d], d, "destination"));
    }
    SHARDPLAN_CHECK(check_sources_disjoint());
    build_replica_state();
    return run(destination);
  }

 private:
  Result<TransferMap> run(const ShardList& destination) {
    TransferMap map;
    map.served.assign(source_->shards.size(), 0);
    map.ranks.reserve(destination.shards.size());
    const std::size_t ndim = source_->shape.size();
    // Per dim: the destination's distinct sets and, for each, its overlaps with the source's distinct sets.
    for (std::size_t d = 0; d < ndim && options_.search == OverlapSearch::sweep; ++d) {
      dst_overlaps_[d].clear();
      for (std::uint32_t id = 0; id < dst_dims_[d].size(); ++id) {
        index_.dim(d).overlaps(dst_dims_[d].set(id), dst_overlaps_[d]);
      }
    }
    StaticVector<DimQuery, kMaxTensorRank> per_dim;
    per_dim.resize(ndim);
    for (std::size_t i = 0; i < destination.shards.size(); ++i) {
      const Shard& dst = destination.shards[i];
      RankPieces pieces{dst.rank, PieceList(ndim)};
      Index covered = 0;
      const auto visit = [&](std::size_t group, std::span<const CommonSet> commons) {
        covered += emit(dst, group, commons, map, pieces.pieces);
      };
      if (options_.search == OverlapSearch::all_pairs) {
        index_.for_each_overlap_all_pairs(dst.sets, visit);
      } else {
        std::size_t bound = 1;  // pieces when every overlap is one box: exact for Shard layouts and chunk grids
        for (std::size_t d = 0; d < ndim; ++d) {
          per_dim[d] = dst_overlaps_[d].query(dst_dims_[d].id_of_entry(i));
          bound = detail::min<std::size_t>(bound * per_dim[d].overlaps.size(), 4096);
        }
        pieces.pieces.reserve(bound);
        index_.for_each_overlap(std::span<const DimQuery>(per_dim.data(), per_dim.size()), visit);
      }
      if (pieces_ > options_.max_pieces) {
        return make_error(ErrorCode::capacity_exceeded, "destination")
               << "these layouts cut the tensor into more than " << options_.max_pieces
               << " transfer pieces (TransferOptions::max_pieces), past it at destination rank " << dst.rank;
      }
      if (overflow_) {
        return make_error(ErrorCode::overflow, "destination")
               << "the elements sent by one source, or moved in all, overflow int64 (at destination rank "
               << dst.rank << ")";
      }
      if (covered != dst.numel()) {
        return make_error(ErrorCode::invalid_argument, indexed_field("destination", static_cast<Index>(i)))
               << "rank " << dst.rank << " needs " << dst.numel() << " elements but the sources hold only "
               << covered << " of them";
      }
      overflow_ = overflow_ || add_overflows(map.elements, covered, map.elements);
      map.ranks.push_back(std::move(pieces));
    }
    return map;
  }

  /// Every set inside the shape, checked once per distinct set rather than once per entry; the error names the
  /// first entry holding the offending set, as a per-entry check would.
  static Status check_bounds(const ShardList& list, const DistinctSets& sets, std::size_t d, std::string_view side) {
    for (std::uint32_t id = 0; id < sets.size(); ++id) {
      const IntervalSet& set = sets.set(id);
      if (set.empty() || (set.front() >= 0 && set.back_end() <= list.shape[d])) continue;
      for (std::size_t i = 0; i < list.shards.size(); ++i) {
        if (sets.id_of_entry(i) == id) return shard_list_detail::check_shard(list.shape, list.shards[i], side, i);
      }
    }
    return Ok{};
  }

  /// Distinct source regions must not share elements, or a destination element could come from two pieces.
  Status check_sources_disjoint() {
    if (index_.distinct_regions_disjoint_by_dims()) return Ok{};
    for (std::size_t g = 0; g < index_.group_count(); ++g) {
      if (const auto other = index_.other_overlapping_group(g, dst_overlaps_)) {
        const Shard& a = source_->shards[index_.members(g)[0]];
        const Shard& b = source_->shards[index_.members(*other)[0]];
        return make_error(ErrorCode::invalid_argument, "source")
               << "ranks " << a.rank << " and " << b.rank
               << " hold overlapping but different regions; sources must be disjoint or exact replicas";
      }
    }
    return Ok{};
  }

  /// Per group, its members as a binary min-heap on (served, list position), and the source entries sorted by rank:
  /// picking a replica costs O(log replicas) instead of a scan of every replica for every destination entry.
  void build_replica_state() {
    const std::size_t entries = source_->shards.size();
    has_replicas_ = false;
    heap_.clear();
    heap_begin_.clear();
    by_rank_.clear();
    bool replicas = false;
    for (std::size_t g = 0; g < index_.group_count() && !replicas; ++g) replicas = index_.members(g).size() > 1;
    if (!replicas) return;  // one holder per region: nothing to choose
    has_replicas_ = true;
    heap_pos_.assign(entries, 0);
    group_of_.assign(entries, std::uint32_t(-1));
    heap_begin_.reserve(index_.group_count() + 1);
    for (std::size_t g = 0; g < index_.group_count(); ++g) {
      heap_begin_.push_back(heap_.size());
      const std::span<const std::uint32_t> members = index_.members(g);
      for (std::size_t k = 0; k < members.size(); ++k) {  // list order: already a heap (all served 0)
        heap_pos_[members[k]] = static_cast<std::uint32_t>(k);
        group_of_[members[k]] = static_cast<std::uint32_t>(g);
        heap_.push_back(members[k]);
      }
    }
    heap_begin_.push_back(heap_.size());
    if (options_.prefer_same_rank) {
      by_rank_.reserve(entries);
      for (std::size_t e = 0; e < entries; ++e) by_rank_.push_back({source_->shards[e].rank, static_cast<std::uint32_t>(e)});
      detail::sort_range(by_rank_);
    }
  }

  [[nodiscard]] bool heap_less(std::uint32_t a, std::uint32_t b, const TransferMap& map) const {
    return map.served[a] != map.served[b] ? map.served[a] < map.served[b] : a < b;
  }

  /// served[entry] grew: move it down its group's heap.
  void sift_down(std::uint32_t entry, const TransferMap& map) {
    const std::size_t g = group_of_[entry];
    std::uint32_t* heap = heap_.data() + heap_begin_[g];
    const std::size_t n = heap_begin_[g + 1] - heap_begin_[g];
    std::size_t at = heap_pos_[entry];
    while (true) {
      std::size_t child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_less(heap[child + 1], heap[child], map)) ++child;
      if (!heap_less(heap[child], entry, map)) break;
      heap[at] = heap[child];
      heap_pos_[heap[at]] = static_cast<std::uint32_t>(at);
      at = child;
    }
    heap[at] = entry;
    heap_pos_[entry] = static_cast<std::uint32_t>(at);
  }

  std::uint32_t choose_replica(std::size_t group, Index dst_rank) const {
    if (!has_replicas_) return index_.members(group)[0];
    if (options_.prefer_same_rank) {
      auto it = detail::lower_bound(by_rank_.begin(), by_rank_.end(), std::pair<Index, std::uint32_t>{dst_rank, 0});
      for (; it != by_rank_.end() && it->first == dst_rank; ++it) {
        if (group_of_[it->second] == group) return it->second;
      }
    }
    return heap_[heap_begin_[group]];
  }

  /// Appends the pieces of one (destination, source region) overlap; returns the elements they carry.
  Index emit(const Shard& dst, std::size_t group, std::span<const CommonSet> commons, TransferMap& map,
             PieceList& out) {
    const std::size_t ndim = commons.size();
    if (pieces_ > options_.max_pieces) return 0;  // refused by run() after this destination
    const std::uint32_t entry = choose_replica(group, dst.rank);
    Index elements = 1;
    Index pieces = 1;
    for (std::size_t d = 0; d < ndim; ++d) {
      transfer_detail::local_runs(commons[d], index_.set(group, d), dst.sets[d], runs_[d]);
      elements *= commons[d].size;
      pieces = saturating_mul(pieces, static_cast<Index>(runs_[d].size()));
    }
    // One overlap alone can be the product of millions of runs per dim: count before writing any of them.
    pieces_ = saturating_add(pieces_, pieces);
    if (pieces_ > options_.max_pieces) return 0;
    // The product of the runs, last dim fastest (row-major order of the pieces).
    StaticVector<std::size_t, kMaxTensorRank> at;
    at.resize(ndim);
    for (std::size_t d = 0; d < ndim; ++d) at[d] = 0;
    while (true) {
      std::vector<Index>& data = out.data_;
      const std::size_t base = data.size();
      data.resize(base + out.stride());
      data[base] = source_->shards[entry].rank;
      for (std::size_t d = 0; d < ndim; ++d) {
        const transfer_detail::Run& run = runs_[d][at[d]];
        data[base + 1 + d] = run.src;
        data[base + 1 + ndim + d] = run.dst;
        data[base + 1 + 2 * ndim + d] = run.length;
      }
      std::size_t d = ndim;
      while (d > 0 && ++at[d - 1] == runs_[d - 1].size()) at[--d] = 0;
      if (d == 0) break;
    }
    // Each destination's total is bounded by its validated shape, but sums over many destinations need not be.
    overflow_ = overflow_ || add_overflows(map.served[entry], elements, map.served[entry]);
    if (has_replicas_) sift_down(entry, map);
    return elements;
  }

  const ShardList* source_ = nullptr;
  TransferOptions options_;
  RegionIndex index_;
  DistinctSets dst_dims_[kMaxTensorRank];
  OverlapList dst_overlaps_[kMaxTensorRank];  // also the scratch of check_sources_disjoint
  std::vector<transfer_detail::Run> runs_[kMaxTensorRank];
  bool overflow_ = false;
  Index pieces_ = 0;  // written so far, against options_.max_pieces
  bool has_replicas_ = false;
  std::vector<std::uint32_t> heap_;           // per group (CSR by heap_begin_), members as a min-heap
  std::vector<std::size_t> heap_begin_;
  std::vector<std::uint32_t> heap_pos_;       // per source entry: its position in its group's heap
  std::vector<std::uint32_t> group_of_;       // per source entry: its group
  std::vector<std::pair<Index, std::uint32_t>> by_rank_;  // (rank, entry), sorted
};

/// The pieces every destination entry needs (see TransferPlanner::map; this allocates a planner per call).
[[nodiscard]] inline Result<TransferMap> transfer_map(const ShardList& source, const ShardList& destination,
                                                      const TransferOptions& options = {}) {
  TransferPlanner planner;
  return planner.map(source, destination, options);
}

/// A transfer map moves values; a Partial rank holds an addend, which is not the value of any element. The error's
/// field is `placements[axis]`, prefixed by `side` when given ("source placements[1]").
[[nodiscard]] inline Status check_no_partial(const Layout& layout, std::string_view side = {}) {
  for (std::size_t axis = 0; axis < layout.placements().size(); ++axis) {
    const Placement& placement = layout.placements()[axis];
    if (!placement.is_partial()) continue;
    FixedString<48> field;
    if (!side.empty()) field << side << " ";
    field << indexed_field("placements", static_cast<Index>(axis));
    return make_error(ErrorCode::invalid_argument, field)
           << placement.to_string() << " holds addends, not values; reduce it (all_reduce or reduce_scatter) "
           << "before resharding";
  }
  return Ok{};
}

namespace transfer_detail {

/// checked_shards_of, its error's field prefixed by the side ("source placements").
[[nodiscard]] inline Result<ShardList> side_shards(const Layout& layout, std::string_view side) {
  auto list = checked_shards_of(layout);
  if (list.ok()) return list;
  Error error = list.error();
  error.field = FixedString<48>(side);
  error.field << " " << list.error().field.view();
  return error;
}

}  // namespace transfer_detail

/// Between two layouts (any meshes, any world sizes); ranks are each mesh's ranks. Partial placements are refused,
/// and so are layouts too large to list (checked_shards_of) and maps past options.max_pieces.
[[nodiscard]] inline Result<TransferMap> transfer_map(const Layout& source, const Layout& destination,
                                                      const TransferOptions& options = {}) {
  SHARDPLAN_CHECK(check_no_partial(source, "source"));
  SHARDPLAN_CHECK(check_no_partial(destination, "destination"));
  SHARDPLAN_TRY(const ShardList from, transfer_detail::side_shards(source, "source"));
  SHARDPLAN_TRY(const ShardList to, transfer_detail::side_shards(destination, "destination"));
  return transfer_map(from, to, options);
}

}  // namespace shardplan
