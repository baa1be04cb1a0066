#pragma once
// How big a transfer map or a read plan can get, known before it is built. Both are held in memory, and layouts of
// a few flags can ask for more pieces or byte ranges than any machine holds (an _S split factor of 2^40, a million
// ranks on a skewed grid). The bounds here are cheap next to the lists they bound; the limits are what the library
// refuses by default (TransferOptions::max_pieces, row_major_reads' max_segments), and callers with a tighter
// budget (the CLI, which prints every piece) check the bounds first.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/resharding/shard_list.hpp"

namespace shardplan {

/// Pieces one transfer map may hold by default: 2^24, about 1 GiB for 2-d pieces (56 bytes each).
inline constexpr Index kMaxTransferPieces = Index{1} << 24;
/// Byte ranges one read plan may hold by default: 2^24 segments, 384 MiB.
inline constexpr Index kMaxReadSegments = Index{1} << 24;

/// An upper bound on the pieces of transfer_map(source, destination), saturating at `cap`: per destination entry
/// and dim, its intervals cut at every boundary of any source interval on that dim, multiplied over dims. Every
/// piece is a union of whole cells of that grid, so pieces <= cells. Costs O(entries x intervals x log).
[[nodiscard]] inline Index transfer_piece_bound(const ShardList& source, const ShardList& destination, Index cap) {
  const std::size_t ndim = source.shape.size();
  std::vector<std::vector<Index>> cuts(ndim);
  for (std::size_t d = 0; d < ndim; ++d) {
    for (std::size_t i = 0; i < source.shards.size(); ++i) {
      const IntervalSet& set = source.shards[i].sets[d];
      // Neighbours often share a dim's set (the last mesh axis varies fastest); one copy of its cuts is enough.
      if (i > 0 && set == source.shards[i - 1].sets[d]) continue;
      for (const Interval& interval : set.intervals()) {
        cuts[d].push_back(interval.begin);
        cuts[d].push_back(interval.end);
      }
    }
    detail::sort_range(cuts[d]);
    cuts[d].erase(detail::unique(cuts[d].begin(), cuts[d].end()), cuts[d].end());
  }
  Index total = 0;
  for (const Shard& shard : destination.shards) {
    if (shard.sets.ndim() != ndim) continue;  // refused by transfer_map itself
    Index cells = 1;
    for (std::size_t d = 0; d < ndim; ++d) {
      Index count = 0;
      for (const Interval& interval : shard.sets[d].intervals()) {
        const auto first = detail::upper_bound(cuts[d].begin(), cuts[d].end(), interval.begin);
        const auto last = detail::lower_bound(first, cuts[d].end(), interval.end);
        count = saturating_add(count, 1 + static_cast<Index>(last - first), cap);
      }
      cells = saturating_mul(cells, count, cap);
    }
    total = saturating_add(total, cells, cap);
  }
  return total;
}

/// Refuses (capacity_exceeded, field `destination`) a transfer map whose bound passes `max_pieces`, before any of
/// it is built. TransferPlanner::map refuses the same maps once it gets there, without computing the bound.
[[nodiscard]] inline Status check_transfer_pieces(const ShardList& source, const ShardList& destination,
                                                  Index max_pieces = kMaxTransferPieces) {
  if (transfer_piece_bound(source, destination, saturating_add(max_pieces, 1)) > max_pieces) {
    return make_error(ErrorCode::capacity_exceeded, "destination")
           << "these layouts cut the tensor into more than " << max_pieces << " transfer pieces";
  }
  return Ok{};
}

/// An upper bound on the byte ranges of row_major_reads for `region` (the segments it coalesces them from),
/// saturating at `cap`: one per index of the dims before the last dim the region holds only part of, times that
/// dim's intervals. 0 for an empty region, 1 for the whole tensor. Precondition: one set per dim of `shape`.
[[nodiscard]] constexpr Index read_segment_bound(const Shape& shape, const Box& region, Index cap) {
  for (const IntervalSet& set : region) {
    if (set.empty()) return 0;
  }
  std::size_t partial = shape.size();
  while (partial > 0 && region[partial - 1].size() == shape[partial - 1]) --partial;
  if (partial == 0) return 1;
  Index bound = detail::min(cap, static_cast<Index>(region[partial - 1].intervals().size()));
  for (std::size_t d = 0; d + 1 < partial; ++d) bound = saturating_mul(bound, region[d].size(), cap);
  return bound;
}

/// Refuses (capacity_exceeded, field `region`) a read plan whose bound passes `max_segments`.
[[nodiscard]] constexpr Status check_read_segments(const Shape& shape, const Box& region,
                                                   Index max_segments = kMaxReadSegments) {
  if (read_segment_bound(shape, region, saturating_add(max_segments, 1)) > max_segments) {
    return make_error(ErrorCode::capacity_exceeded, "region")
           << "reading it row-major takes more than " << max_segments << " byte ranges";
  }
  return Ok{};
}

}  // namespace shardplan
