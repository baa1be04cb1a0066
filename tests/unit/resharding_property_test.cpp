// Property tests for resharding, against brute-force references that materialise every element and every byte:
//  * transfer maps between random layout pairs on different meshes (1-3 axes of size 1-4, tensors of rank 1-3 with
//    uneven sizes, R/S/_S, every split policy): every destination element comes from exactly one piece, whose
//    source holds that very element at the source-local position the piece names; the sweep and the all-pairs
//    search give the same map;
//  * DCP chunk grids as sources: valid grids pass and move correctly; a removed chunk is named as the hole, a grown
//    chunk as the overlap;
//  * row-major byte ranges for random regions: the segments copy exactly the region's bytes to the right buffer
//    offsets, are maximal (nothing left to coalesce), and gap bridging never changes what is copied.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

using testing_support::Random;

Mesh random_mesh(Random& random) {
  AxisSizes sizes;
  const Index axes = random.uniform(1, 3);
  for (Index a = 0; a < axes; ++a) sizes.push_back(random.uniform(1, 4));
  return Mesh::create(sizes).value();
}

/// A random layout on a random mesh; policies other than chunk only where they accept the sizes.
Layout random_layout(Random& random, const Shape& shape) {
  while (true) {
    const Mesh mesh = random_mesh(random);
    Placements placements;
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
      const Index dim = random.uniform(0, static_cast<Index>(shape.size()) - 1);
      switch (random.uniform(0, 3)) {
        case 0: placements.push_back(Placement::replicate()); break;
        case 1:
        case 2: placements.push_back(Placement::shard(dim)); break;
        default: placements.push_back(Placement::strided_shard(dim, random.uniform(1, 4))); break;
      }
    }
    const SplitPolicy policy = random.percent(70) ? SplitPolicy::chunk
                               : random.percent(50) ? SplitPolicy::balanced
                                                    : SplitPolicy::even;
    auto layout = Layout::create(shape, mesh, placements, policy);
    if (layout.ok()) return std::move(layout).value();
  }
}

Shape random_shape(Random& random, Index max_size) {
  Shape shape;
  const Index rank = random.uniform(1, 3);
  for (Index d = 0; d < rank; ++d) shape.push_back(random.uniform(0, max_size));
  return shape;
}

/// Checks a map against the element-by-element truth. Returns a description of the first problem, or "".
std::string check_map(const ShardList& source, const ShardList& destination, const TransferMap& map) {
  if (map.ranks.size() != destination.shards.size()) return "wrong number of destination entries";
  const std::size_t rank = destination.shape.size();
  Index moved = 0;
  std::vector<Index> served(source.shards.size(), 0);
  for (std::size_t i = 0; i < destination.shards.size(); ++i) {
    const Shard& dst = destination.shards[i];
    const Shape local = dst.local_shape();
    std::vector<int> hits(static_cast<std::size_t>(dst.numel()), 0);
    for (const TransferPiece& piece : map.ranks[i].pieces) {
      const auto src = std::find_if(source.shards.begin(), source.shards.end(),
                                    [&](const Shard& s) { return s.rank == piece.src_rank; });
      if (src == source.shards.end()) return "piece from an unknown source rank";
      served[static_cast<std::size_t>(src - source.shards.begin())] += piece.count();
      if (piece.count() <= 0) return "empty piece";
      Shape at;
      at.resize(rank);
      for (std::size_t d = 0; d < rank; ++d) at[d] = 0;
      while (true) {
        Index linear = 0;
        for (std::size_t d = 0; d < rank; ++d) {
          const Index dst_position = piece.dst_offset[d] + at[d];
          const Index src_position = piece.src_offset[d] + at[d];
          if (dst_position >= local[d] || src_position >= src->sets[d].size()) return "piece outside a local tensor";
          if (dst.sets[d].local_to_global(dst_position) != src->sets[d].local_to_global(src_position)) {
            return "piece maps an element to a different global index";
          }
          linear = linear * local[d] + dst_position;
        }
        ++hits[static_cast<std::size_t>(linear)];
        std::size_t d = rank;
        while (d > 0 && ++at[d - 1] == piece.lengths[d - 1]) at[--d] = 0;
        if (d == 0) break;
      }
      moved += piece.count();
    }
    for (int h : hits) {
      if (h != 1) {
        std::string problem = "destination ";  // appended piecewise: GCC 12's -Wrestrict misfires on "lit" + string
        problem += std::to_string(i);
        problem += " has an element covered ";
        problem += std::to_string(h);
        problem += " times";
        return problem;
      }
    }
  }
  if (moved != map.elements) return "elements total is wrong";
  if (served != map.served) return "served counts are wrong";
  return "";
}

std::string describe(const Layout& layout) {
  std::string text = layout.mesh().to_string().str() + " [";
  for (std::size_t i = 0; i < layout.placements().size(); ++i) {
    if (i > 0) text += ",";
    text += layout.placements()[i].to_string().view();
  }
  return text + "] " + std::string(to_string(layout.policy()));
}

TEST(ReshardingProperty, TransferMapsBetweenRandomLayoutsAreExact) {
  Random random(20261121);
  for (int trial = 0; trial < 5000; ++trial) {
    const Shape shape = random_shape(random, 13);
    const Layout from = random_layout(random, shape);
    const Layout to = random_layout(random, shape);
    const ShardList source = shards_of(from);
    const ShardList destination = shards_of(to);
    const TransferOptions options{.prefer_same_rank = random.percent(50)};
    const TransferMap map = transfer_map(source, destination, options).value();
    ASSERT_EQ(check_map(source, destination, map), "") << describe(from) << " -> " << describe(to);
    TransferOptions all_pairs = options;
    all_pairs.search = OverlapSearch::all_pairs;
    const TransferMap reference = transfer_map(source, destination, all_pairs).value();
    ASSERT_EQ(map.ranks, reference.ranks) << describe(from) << " -> " << describe(to);
  }
}

TEST(ReshardingProperty, ReplicasShareTheLoad) {
  // R on a k-rank axis, k replicas of every block: with the least-loaded rule no replica serves more than its
  // share rounded up to one destination's piece.
  Random random(7);
  for (int trial = 0; trial < 500; ++trial) {
    const Index k = random.uniform(2, 4);
    const Index tp = random.uniform(1, 4);
    const Index n = random.uniform(1, 40);
    const Layout from = Layout::create(Shape{n}, Mesh::create(AxisSizes{k, tp}).value(),
                                       Placements{Placement::replicate(), Placement::shard(0)})
                            .value();
    const Layout to = Layout::create(Shape{n}, Mesh::create(AxisSizes{random.uniform(1, 12)}).value(),
                                     Placements{Placement::shard(0)})
                          .value();
    const TransferMap map = transfer_map(from, to, TransferOptions{.prefer_same_rank = false}).value();
    Index largest_piece = 0;
    for (const RankPieces& rank : map.ranks) {
      for (const TransferPiece& piece : rank.pieces) largest_piece = std::max(largest_piece, piece.count());
    }
    for (Index t = 0; t < tp; ++t) {  // replicas of block t are ranks t, tp + t, ...
      Index lo = map.served[static_cast<std::size_t>(t)];
      Index hi = lo;
      for (Index r = 1; r < k; ++r) {
        lo = std::min(lo, map.served[static_cast<std::size_t>(r * tp + t)]);
        hi = std::max(hi, map.served[static_cast<std::size_t>(r * tp + t)]);
      }
      ASSERT_LE(hi - lo, largest_piece) << "n=" << n << " k=" << k << " tp=" << tp;
    }
  }
}

/// A random grid of chunks: per dim sorted cuts, every cell a chunk (in a shuffled order).
std::vector<ChunkMetadata> random_grid(Random& random, const Shape& shape) {
  std::vector<std::vector<Index>> cuts(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    cuts[d] = {0, shape[d]};
    const Index extra = random.uniform(0, 3);
    for (Index c = 0; c < extra; ++c) cuts[d].push_back(random.uniform(0, shape[d]));
    std::sort(cuts[d].begin(), cuts[d].end());
    cuts[d].erase(std::unique(cuts[d].begin(), cuts[d].end()), cuts[d].end());
  }
  std::vector<ChunkMetadata> chunks;
  std::vector<std::size_t> at(shape.size(), 0);
  while (true) {
    ChunkMetadata chunk;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      chunk.offsets.push_back(cuts[d][at[d]]);
      chunk.sizes.push_back(cuts[d][at[d] + 1] - cuts[d][at[d]]);
    }
    chunks.push_back(chunk);
    std::size_t d = shape.size();
    while (d > 0 && ++at[d - 1] + 1 == cuts[d - 1].size()) at[--d] = 0;
    if (d == 0) break;
  }
  random.shuffle(chunks);
  return chunks;
}

TEST(ReshardingProperty, ChunkGridsAsSources) {
  Random random(42);
  for (int trial = 0; trial < 1500; ++trial) {
    Shape shape = random_shape(random, 9);
    for (Index& size : shape) size = std::max<Index>(size, 1);  // every cell non-empty
    std::vector<ChunkMetadata> chunks = random_grid(random, shape);
    const ShardList source = shards_from_chunks(shape, chunks).value();
    const Layout to = random_layout(random, shape);
    const ShardList destination = shards_of(to);
    const TransferMap map = transfer_map(source, destination).value();
    ASSERT_EQ(check_map(source, destination, map), "") << describe(to);

    // Remove a chunk: the hole reported is exactly that chunk (the first uncovered cell of the grid).
    const std::size_t removed = random.index(chunks.size());
    std::vector<ChunkMetadata> holey = chunks;
    holey.erase(holey.begin() + static_cast<std::ptrdiff_t>(removed));
    const auto hole = shards_from_chunks(shape, holey);
    ASSERT_FALSE(hole.ok());
    std::string box;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (d > 0) box += " x ";
      box += '[';
      box += std::to_string(chunks[removed].offsets[d]);
      box += ',';
      box += std::to_string(chunks[removed].offsets[d] + chunks[removed].sizes[d]);
      box += ')';
    }
    ASSERT_NE(hole.error().message.view().find("e.g. " + box), std::string_view::npos) << hole.error().what();

    // Grow a chunk by one along a dim where it can: it now overlaps a neighbour.
    std::vector<ChunkMetadata> grown = chunks;
    ChunkMetadata& chunk = grown[random.index(grown.size())];
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (chunk.offsets[d] + chunk.sizes[d] < shape[d]) {
        ++chunk.sizes[d];
        const auto overlap = shards_from_chunks(shape, grown);
        ASSERT_FALSE(overlap.ok());
        ASSERT_NE(overlap.error().message.view().find("overlaps chunks["), std::string_view::npos);
        break;
      }
    }
  }
}

/// (file byte, buffer byte) for every byte of the region, in buffer order: the truth a read plan must reproduce.
std::vector<std::pair<Index, Index>> brute_force_bytes(const Shape& global, const Box& region, Index element_size,
                                                       Index file_offset) {
  // A plain vector: GCC 12 at -O2 warns (wrongly) about StaticVector's unused tail once this is inlined.
  const std::vector<Index> shape(global.begin(), global.end());
  std::vector<std::pair<Index, Index>> bytes;
  std::vector<std::vector<Index>> lists;
  for (const IntervalSet& set : region) lists.push_back(testing_support::to_list(set));
  for (const auto& list : lists) {
    if (list.empty()) return bytes;
  }
  std::vector<std::size_t> at(shape.size(), 0);
  Index buffer = 0;
  while (true) {
    Index linear = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) linear = linear * shape[d] + lists[d][at[d]];
    for (Index b = 0; b < element_size; ++b) bytes.emplace_back(file_offset + linear * element_size + b, buffer++);
    std::size_t d = shape.size();
    while (d > 0 && ++at[d - 1] == lists[d - 1].size()) at[--d] = 0;
    if (d == 0) break;
  }
  return bytes;
}

TEST(ReshardingProperty, ByteRangesCopyExactlyTheRegion) {
  Random random(5);
  for (int trial = 0; trial < 4000; ++trial) {
    Shape shape;
    const Index rank = random.uniform(0, 4);
    for (Index d = 0; d < rank; ++d) shape.push_back(random.uniform(0, 6));
    Box region;
    for (Index size : shape) {
      std::vector<Index> indices;
      const Index mode = random.uniform(0, 2);  // whole dim, a range, or any subset
      for (Index i = 0; i < size; ++i) {
        if (mode == 0 || (mode == 1 && i >= size / 3 && i < size - size / 4) || (mode == 2 && random.percent(60))) {
          indices.push_back(i);
        }
      }
      region.push_back(IntervalSet::from_indices(indices));
    }
    const Index element_size = random.uniform(1, 4);
    const Index file_offset = random.uniform(0, 100);
    const auto truth = brute_force_bytes(shape, region, element_size, file_offset);

    // Minimal segment count: a new segment wherever the file bytes stop being consecutive.
    std::size_t breaks = truth.empty() ? 0 : 1;
    for (std::size_t i = 1; i < truth.size(); ++i) breaks += truth[i].first != truth[i - 1].first + 1;

    std::vector<ByteSegment> first_segments;
    for (Index max_gap : {Index{0}, random.uniform(1, 8), Index{1000}}) {
      const ReadPlan plan = row_major_reads(shape, region, element_size, file_offset, max_gap).value();
      std::vector<std::pair<Index, Index>> copied;
      for (const ByteSegment& segment : plan.segments) {
        for (Index b = 0; b < segment.length; ++b) copied.emplace_back(segment.file_offset + b, segment.dst_offset + b);
      }
      ASSERT_EQ(copied, truth) << "trial " << trial;
      ASSERT_EQ(plan.segments.size(), breaks) << "trial " << trial;
      ASSERT_EQ(plan.bytes_needed, static_cast<Index>(truth.size()));
      if (first_segments.empty()) first_segments = plan.segments;
      ASSERT_EQ(plan.segments, first_segments);  // bridging changes the reads, never the copies

      Index bytes_read = 0;
      std::size_t next_segment = 0;
      for (std::size_t r = 0; r < plan.reads.size(); ++r) {
        const FileRead& read = plan.reads[r];
        ASSERT_EQ(read.first_segment, next_segment);
        ASSERT_GE(read.segment_count, 1u);
        const ByteSegment& first = plan.segments[read.first_segment];
        const ByteSegment& last = plan.segments[read.first_segment + read.segment_count - 1];
        ASSERT_EQ(read.file_offset, first.file_offset);
        ASSERT_EQ(read.file_offset + read.length, last.file_offset + last.length);
        for (std::size_t s = read.first_segment + 1; s < read.first_segment + read.segment_count; ++s) {
          const Index gap = plan.segments[s].file_offset - (plan.segments[s - 1].file_offset + plan.segments[s - 1].length);
          ASSERT_LE(gap, max_gap);
        }
        if (r > 0) {
          const FileRead& previous = plan.reads[r - 1];
          ASSERT_GT(read.file_offset - (previous.file_offset + previous.length), max_gap);
        }
        next_segment += read.segment_count;
        bytes_read += read.length;
      }
      ASSERT_EQ(next_segment, plan.segments.size());
      ASSERT_EQ(plan.bytes_read, bytes_read);
      if (max_gap == 0) {
        ASSERT_EQ(plan.bytes_read, plan.bytes_needed);
      }
    }
  }
}

}  // namespace
}  // namespace shardplan
