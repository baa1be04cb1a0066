#pragma once
// What listing a layout's index sets costs, known before any of it is done. A Layout is cheap to describe at any
// size, but `_S(d, sf)` cuts dim d into up to sf intervals per rank, and computing them takes as long as writing
// them: `_S(0,9223372036854775807)` would loop for centuries. Callers that list ranks (shards_of, the CLI) check
// the bound first and refuse with the figures, instead of running out of time or memory.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// The default limit of check_listing: ranks x intervals per rank. 2^26 intervals take about a second and 1 GiB.
inline constexpr Index kMaxListedIntervals = Index{1} << 26;

/// An upper bound on the intervals of dim `d` in any one rank's index set: the product of the split factors of the
/// _S placements on d, never more than the dim size (each interval holds an index), at least 1.
[[nodiscard]] constexpr Index dim_intervals_bound(const Layout& layout, std::size_t d) {
  const Index most = layout.shape()[d] < 1 ? 1 : layout.shape()[d];
  Index pieces = 1;
  for (const Placement& placement : layout.placements()) {
    if (placement.is_strided() && placement.dim == static_cast<Index>(d)) {
      pieces = saturating_mul(pieces, placement.split_factor, most);
    }
  }
  return pieces;
}

/// An upper bound on the work of one rank's index sets: 1 (the rank itself) plus every dim's intervals bound,
/// saturating at INT64_MAX.
[[nodiscard]] constexpr Index intervals_per_rank_bound(const Layout& layout) {
  Index bound = 1;
  for (std::size_t d = 0; d < layout.ndim(); ++d) bound = saturating_add(bound, dim_intervals_bound(layout, d));
  return bound;
}

/// Refuses (capacity_exceeded) listing the index sets of `ranks` ranks of `layout` when ranks x
/// intervals_per_rank_bound could pass `max_intervals`. The error names `placements` when one rank alone is past
/// the limit (the split factors are at fault), `mesh` otherwise (too many ranks: list fewer).
[[nodiscard]] constexpr Status check_listing(const Layout& layout, Index ranks,
                                             Index max_intervals = kMaxListedIntervals) {
  const Index per_rank = intervals_per_rank_bound(layout);
  if (per_rank > max_intervals) {
    std::size_t worst = 0;
    for (std::size_t d = 1; d < layout.ndim(); ++d) {
      if (dim_intervals_bound(layout, d) > dim_intervals_bound(layout, worst)) worst = d;
    }
    return make_error(ErrorCode::capacity_exceeded, "placements")
           << "_S split factors cut dim " << static_cast<Index>(worst) << " (size " << layout.shape()[worst]
           << ") into up to " << dim_intervals_bound(layout, worst) << " intervals per rank, past the limit of "
           << max_intervals << " intervals";
  }
  if (saturating_mul(ranks < 0 ? 0 : ranks, per_rank) > max_intervals) {
    return make_error(ErrorCode::capacity_exceeded, "mesh")
           << "listing " << ranks << " ranks of up to " << per_rank << " intervals each is past the limit of "
           << max_intervals << " intervals";
  }
  return Ok{};
}

}  // namespace shardplan
