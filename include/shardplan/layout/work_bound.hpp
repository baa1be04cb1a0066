#pragma once
// What listing a layout's index sets costs, known before any of it is done. A Layout is cheap to describe at any
// size, but `_S(d, sf)` cuts dim d into up to sf intervals per rank, and computing them takes as long as writing
// them: `_S(0,9223372036854775807)` would loop for centuries. The bound of one rank is the Layout's own
// (Layout::intervals_per_rank_bound, honoured by local_box and index_sets); callers that list many ranks
// (shards_of, the CLI) check the total here first and refuse with the figures, instead of running out of time or
// memory.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// Refuses (capacity_exceeded) listing the index sets of `ranks` ranks of `layout` when ranks x
/// layout.intervals_per_rank_bound() could pass `max_intervals`. The error names `placements` when one rank alone
/// is past the limit (the split factors are at fault), `mesh` otherwise (too many ranks: list fewer).
[[nodiscard]] constexpr Status check_listing(const Layout& layout, Index ranks,
                                             Index max_intervals = kMaxListedIntervals) {
  SHARDPLAN_CHECK(layout.check_intervals_per_rank(max_intervals));
  const Index per_rank = layout.intervals_per_rank_bound();
  if (saturating_mul(ranks < 0 ? 0 : ranks, per_rank) > max_intervals) {
    return make_error(ErrorCode::capacity_exceeded, "mesh")
           << "listing " << ranks << " ranks of up to " << per_rank << " intervals each is past the limit of "
           << max_intervals << " intervals";
  }
  return Ok{};
}

}  // namespace shardplan
