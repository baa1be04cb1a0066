#pragma once
// DCP chunk metadata as a source. A saved tensor in torch.distributed.checkpoint is a list of chunks, each a box
// given by offsets and sizes along every dim (ChunkStorageMetadata). A valid list tiles the tensor: no two chunks
// share an element and every element is in one. Overlap of two chunks follows DCP's rule per dim: disjoint when
// off1 >= off2 + size2 or off2 >= off1 + size1; otherwise the overlap length is min(end1, end2) - max(off1, off2),
// and its start is reported relative to each chunk.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/resharding/region_index.hpp"

namespace shardplan {

struct ChunkMetadata {
  Shape offsets;
  Shape sizes;
};

/// The box two chunks share, in each chunk's own coordinates.
struct ChunkOverlap {
  Shape offset_in_a;
  Shape offset_in_b;
  Shape lengths;
};

/// DCP's pairwise overlap; nullopt when the chunks are disjoint on some dim (or differ in rank).
/// A zero-size chunk overlaps nothing.
[[nodiscard]] constexpr std::optional<ChunkOverlap> chunk_overlap(const ChunkMetadata& a, const ChunkMetadata& b) {
  if (a.offsets.size() != b.offsets.size()) return std::nullopt;
  ChunkOverlap overlap;
  for (std::size_t d = 0; d < a.offsets.size(); ++d) {
    const Index a_end = a.offsets[d] + a.sizes[d];
    const Index b_end = b.offsets[d] + b.sizes[d];
    if (a.offsets[d] >= b_end || b.offsets[d] >= a_end) return std::nullopt;
    const Index begin = detail::max(a.offsets[d], b.offsets[d]);
    overlap.offset_in_a.push_back(begin - a.offsets[d]);
    overlap.offset_in_b.push_back(begin - b.offsets[d]);
    overlap.lengths.push_back(detail::min(a_end, b_end) - begin);
  }
  return overlap;
}

namespace chunk_detail {

inline Status check_chunk(const Shape& shape, const ChunkMetadata& chunk, std::size_t i) {
  const auto field = indexed_field("chunks", static_cast<Index>(i));
  if (chunk.offsets.size() != shape.size() || chunk.sizes.size() != shape.size()) {
    return make_error(ErrorCode::invalid_argument, field.view())
           << "has " << static_cast<Index>(chunk.offsets.size()) << " offsets and "
           << static_cast<Index>(chunk.sizes.size()) << " sizes for a rank-" << static_cast<Index>(shape.size())
           << " tensor";
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const Index offset = chunk.offsets[d];
    const Index size = chunk.sizes[d];
    if (offset < 0 || size < 0 || offset > shape[d] || size > shape[d] - offset) {
      return make_error(ErrorCode::out_of_range, field.view())
             << "dim " << static_cast<Index>(d) << ": offset " << offset << " size " << size << " is outside [0, "
             << shape[d] << ")";
    }
  }
  return Ok{};
}

inline FixedString<120> box_text(const Shape& offsets, const Shape& sizes) {
  FixedString<120> text;
  for (std::size_t d = 0; d < offsets.size(); ++d) {
    if (d > 0) text << " x ";
    text << "[" << offsets[d] << "," << offsets[d] + sizes[d] << ")";
  }
  if (offsets.empty()) text << "the scalar";
  return text;
}

/// Cells of the grid cut by every chunk boundary; above this many, a hole is reported without its position.
inline constexpr Index kMaxHoleSearchCells = Index{1} << 22;

/// The first grid cell (row-major) that no chunk covers, found on the grid of all chunk boundaries. Precondition:
/// the chunks are disjoint and do not cover the tensor.
inline std::optional<ChunkMetadata> find_hole(const Shape& shape, std::span<const ChunkMetadata> chunks) {
  const std::size_t ndim = shape.size();
  std::vector<std::vector<Index>> cuts(ndim);
  Index cells = 1;
  for (std::size_t d = 0; d < ndim; ++d) {
    cuts[d] = {0, shape[d]};
    for (const ChunkMetadata& chunk : chunks) {
      cuts[d].push_back(chunk.offsets[d]);
      cuts[d].push_back(chunk.offsets[d] + chunk.sizes[d]);
    }
    detail::sort_range(cuts[d]);
    cuts[d].erase(detail::unique(cuts[d].begin(), cuts[d].end()), cuts[d].end());
    const auto cells_on_dim = static_cast<Index>(cuts[d].size()) - 1;
    if (cells_on_dim < 1 || cells > kMaxHoleSearchCells / cells_on_dim) return std::nullopt;
    cells *= cells_on_dim;
  }
  std::vector<bool> covered(static_cast<std::size_t>(cells), false);
  for (const ChunkMetadata& chunk : chunks) {
    StaticVector<Index, kMaxTensorRank> lo, hi, at;
    bool empty = false;
    for (std::size_t d = 0; d < ndim; ++d) {
      lo.push_back(detail::lower_bound(cuts[d].begin(), cuts[d].end(), chunk.offsets[d]) - cuts[d].begin());
      hi.push_back(detail::lower_bound(cuts[d].begin(), cuts[d].end(), chunk.offsets[d] + chunk.sizes[d]) -
                   cuts[d].begin());
      empty = empty || lo[d] == hi[d];
      at.push_back(lo[d]);
    }
    if (empty) continue;
    while (true) {
      Index cell = 0;
      for (std::size_t d = 0; d < ndim; ++d) cell = cell * (static_cast<Index>(cuts[d].size()) - 1) + at[d];
      covered[static_cast<std::size_t>(cell)] = true;
      std::size_t d = ndim;
      while (d > 0 && ++at[d - 1] == hi[d - 1]) {
        at[d - 1] = lo[d - 1];
        --d;
      }
      if (d == 0) break;
    }
  }
  for (Index cell = 0; cell < cells; ++cell) {
    if (covered[static_cast<std::size_t>(cell)]) continue;
    ChunkMetadata hole;
    hole.offsets.resize(ndim);
    hole.sizes.resize(ndim);
    Index rest = cell;
    for (std::size_t d = ndim; d-- > 0;) {
      const Index count = static_cast<Index>(cuts[d].size()) - 1;
      const auto i = static_cast<std::size_t>(rest % count);
      rest /= count;
      hole.offsets[d] = cuts[d][i];
      hole.sizes[d] = cuts[d][i + 1] - cuts[d][i];
    }
    return hole;
  }
  return std::nullopt;
}

}  // namespace chunk_detail

/// The chunks as a ShardList (entry i is chunk i, its `rank` = i), after checking that they tile the tensor.
/// Errors name the chunks: out of the shape, two chunks sharing elements (with the shared box), or elements in no
/// chunk (with the first such box on the grid of chunk boundaries, when the grid is not huge).
[[nodiscard]] inline Result<ShardList> shards_from_chunks(const Shape& shape, std::span<const ChunkMetadata> chunks) {
  SHARDPLAN_CHECK(check_shape(shape));
  ShardList list{shape, {}};
  SHARDPLAN_TRY(const Index numel, checked_product(shape, "shape"));
  Index volume = 0;     // elements in the chunks so far, while that is <= numel
  bool overfull = false;  // the chunks hold more than numel elements: two of them overlap
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    SHARDPLAN_CHECK(chunk_detail::check_chunk(shape, chunks[i], i));
    Shard shard{static_cast<Index>(i), {}};
    for (std::size_t d = 0; d < shape.size(); ++d) {
      shard.sets.push_back(IntervalSet::range(chunks[i].offsets[d], chunks[i].offsets[d] + chunks[i].sizes[d]));
    }
    overfull = shard.numel() > numel - volume;
    if (!overfull) volume += shard.numel();
    list.shards.push_back(std::move(shard));
    if (overfull) break;  // an overlap exists among the chunks so far; the search below names it
  }
  {
    // Any two chunks sharing an element: an identical pair groups as one region, any other pair overlaps on every dim.
    const RegionIndex index = RegionIndex::build(list);
    OverlapList scratch[kMaxTensorRank];
    const bool distinct_disjoint = index.distinct_regions_disjoint_by_dims();  // then only duplicates overlap
    for (std::size_t g = 0; g < index.group_count(); ++g) {
      std::size_t a = index.members(g)[0];
      std::size_t b = index.members(g).size() > 1 ? index.members(g)[1] : a;
      if (a == b && !distinct_disjoint) {
        if (const auto other = index.other_overlapping_group(g, scratch)) b = index.members(*other)[0];
      }
      if (a != b) {
        if (a > b) std::swap(a, b);
        const ChunkOverlap shared = *chunk_overlap(chunks[a], chunks[b]);
        Shape begin;
        for (std::size_t d = 0; d < shape.size(); ++d) begin.push_back(chunks[a].offsets[d] + shared.offset_in_a[d]);
        return make_error(ErrorCode::invalid_argument, indexed_field("chunks", static_cast<Index>(b)))
               << "overlaps chunks[" << static_cast<Index>(a) << "] on " << chunk_detail::box_text(begin, shared.lengths);
      }
    }
  }
  if (volume < numel) {
    auto error = make_error(ErrorCode::invalid_argument, "chunks");
    error << "leave " << numel - volume << " of " << numel << " elements in no chunk";
    if (const auto hole = chunk_detail::find_hole(shape, chunks)) {
      error << ", e.g. " << chunk_detail::box_text(hole->offsets, hole->sizes);
    }
    return error;
  }
  return list;
}

}  // namespace shardplan
