#pragma once
// ShardList: who holds which part of one tensor, as (rank, per-dim index sets) entries. It is the common input of
// transfer maps: built from a Layout (every rank of its mesh), a SegmentedLayout (fused dims), DCP chunk metadata
// (one entry per saved chunk), or by hand, e.g. one expert's weight held only by the ranks of its EP group, with
// global rank ids. Several entries may hold the same region (replicas); an entry's region is the product of its sets.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/layout/work_bound.hpp"
#include "shardplan/llm/segmented_dim.hpp"

namespace shardplan {

struct Shard {
  Index rank = 0;  // whatever the caller's rank space is: a global rank, a mesh rank, a chunk or file index
  Box sets;  // one per tensor dim, global indices; the local tensor lists them in increasing order

  /// Elements held (fits: each set is inside the validated global shape).
  [[nodiscard]] Index numel() const { return sets.numel(); }
  /// Local shape: the set sizes.
  [[nodiscard]] Shape local_shape() const { return sets.local_shape(); }
};

struct ShardList {
  Shape shape;  // the global tensor
  std::vector<Shard> shards;
};

namespace shard_list_detail {

/// Entry `index` of list `side` (held by `rank`) has one set per dim, each inside the shape.
inline Status check_sets(const Shape& shape, Index rank, const Box& sets, std::string_view side,
                         std::size_t index) {
  if (sets.ndim() != shape.size()) {
    return make_error(ErrorCode::invalid_argument, indexed_field(side, static_cast<Index>(index)).view())
           << "rank " << rank << " has index sets for " << static_cast<Index>(sets.ndim()) << " dims, the tensor has "
           << static_cast<Index>(shape.size());
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const IntervalSet& set = sets[d];
    if (!set.empty() && (set.front() < 0 || set.back_end() > shape[d])) {
      return make_error(ErrorCode::out_of_range, indexed_field(side, static_cast<Index>(index)).view())
             << "rank " << rank << " holds [" << set.front() << ", " << set.back_end() << ") on dim "
             << static_cast<Index>(d) << ", outside [0, " << shape[d] << ")";
    }
  }
  return Ok{};
}

inline Status check_shard(const Shape& shape, const Shard& shard, std::string_view side, std::size_t index) {
  return check_sets(shape, shard.rank, shard.sets, side, index);
}

}  // namespace shard_list_detail

/// The shape is valid (sizes >= 0, product fits in int64) and every entry has one set per dim; does not look
/// inside the sets (the transfer planner checks each distinct set once).
[[nodiscard]] inline Status check_shard_list_dims(const ShardList& list, std::string_view side) {
  SHARDPLAN_CHECK(check_shape(list.shape));
  for (std::size_t i = 0; i < list.shards.size(); ++i) {
    if (list.shards[i].sets.ndim() != list.shape.size()) {
      return shard_list_detail::check_shard(list.shape, list.shards[i], side, i);
    }
  }
  return Ok{};
}

/// Every rank of the layout's mesh, rank r at position r.
[[nodiscard]] inline ShardList shards_of(const Layout& layout) {
  ShardList list{layout.shape(), {}};
  const Index world = layout.mesh().world_size();
  list.shards.reserve(static_cast<std::size_t>(world));
  for (Index rank = 0; rank < world; ++rank) {
    list.shards.push_back(Shard{rank, layout.index_sets_at(layout.mesh().coordinate_unchecked(rank))});
  }
  return list;
}

/// shards_of, refused up front (check_listing, capacity_exceeded) when every rank's index sets could pass
/// `max_intervals` intervals in all: an _S split factor of 2^40 is an error in microseconds, not a loop for hours.
[[nodiscard]] inline Result<ShardList> checked_shards_of(const Layout& layout,
                                                         Index max_intervals = kMaxListedIntervals) {
  SHARDPLAN_CHECK(check_listing(layout, layout.mesh().world_size(), max_intervals));
  return shards_of(layout);
}

/// Every rank of a layout with fused (segmented) dims.
[[nodiscard]] inline ShardList shards_of(const SegmentedLayout& layout) {
  const Mesh& mesh = layout.layout().mesh();
  ShardList list{layout.layout().shape(), {}};
  list.shards.reserve(static_cast<std::size_t>(mesh.world_size()));
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    list.shards.push_back(Shard{rank, layout.index_sets_at(mesh.coordinate_unchecked(rank))});
  }
  return list;
}

}  // namespace shardplan
