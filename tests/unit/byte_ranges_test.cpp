// Shard-on-read byte ranges and DCP chunk lists: worked examples with exact values, and every error.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

Box region_of(std::string_view mesh, std::string_view placements, Shape shape, Index rank) {
  return Layout::create(shape, parse_mesh(mesh).value(), parse_placements(placements).value())
      .value()
      .index_sets(rank)
      .value();
}

TEST(ByteRanges, RowShardIsOneRead) {
  // S(0) over 8 of a 4096 x 4096 bf16 matrix at byte 1000: rank 3 holds rows [1536, 2048), one contiguous read.
  const ReadPlan plan = row_major_reads({4096, 4096}, region_of("8", "S(0)", {4096, 4096}, 3), 2, 1000).value();
  ASSERT_EQ(plan.segments.size(), 1u);
  EXPECT_EQ(plan.segments[0], (ByteSegment{1000 + 1536 * 8192, 512 * 8192, 0}));
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0], (FileRead{1000 + 1536 * 8192, 512 * 8192, 0, 1}));
  EXPECT_EQ(plan.bytes_needed, 512 * 8192);
  EXPECT_EQ(plan.bytes_read, 512 * 8192);
  EXPECT_EQ(plan.read_amplification(), 1.0);
}

TEST(ByteRanges, ColumnShardIsOneReadPerRow) {
  // (S(0), S(1)) over (2, 2), rank 1: rows [0, 2048) x cols [2048, 4096): 2048 reads of 4096 bytes.
  const ReadPlan plan = row_major_reads({4096, 4096}, region_of("2,2", "S(0),S(1)", {4096, 4096}, 1), 2).value();
  ASSERT_EQ(plan.segments.size(), 2048u);
  for (Index row = 0; row < 2048; ++row) {
    EXPECT_EQ(plan.segments[static_cast<std::size_t>(row)], (ByteSegment{row * 8192 + 4096, 4096, row * 4096}));
  }
  EXPECT_EQ(plan.bytes_needed, 2048 * 4096);
}

TEST(ByteRanges, WholeTrailingDimsCoalesce) {
  // A [4, 3, 5] f32 tensor, rows {1, 2} of dim 0 with dims 1 and 2 whole: one read of 2 * 15 elements.
  const ReadPlan plan =
      row_major_reads({4, 3, 5}, {IntervalSet::range(1, 3), IntervalSet::range(0, 3), IntervalSet::range(0, 5)}, 4, 8)
          .value();
  ASSERT_EQ(plan.segments.size(), 1u);
  EXPECT_EQ(plan.segments[0], (ByteSegment{8 + 60, 120, 0}));
  // Dim 1 partial ({0, 1}): one read per dim-0 index, of 2 * 5 elements.
  const ReadPlan partial =
      row_major_reads({4, 3, 5}, {IntervalSet::range(1, 3), IntervalSet::range(0, 2), IntervalSet::range(0, 5)}, 4)
          .value();
  EXPECT_EQ(partial.segments, (std::vector<ByteSegment>{{60, 40, 0}, {120, 40, 40}}));
}

TEST(ByteRanges, GapBridging) {
  // Columns {0, 1} and {4, 5} of an 8-wide u8 matrix, rows 0-1: four segments of 2 bytes, gaps of 2 and 6 bytes.
  const Box region{IntervalSet::range(0, 2), IntervalSet::from_intervals({{0, 2}, {4, 6}})};
  const ReadPlan exact = row_major_reads({2, 8}, region, 1).value();
  EXPECT_EQ(exact.segments, (std::vector<ByteSegment>{{0, 2, 0}, {4, 2, 2}, {8, 2, 4}, {12, 2, 6}}));
  EXPECT_EQ(exact.reads.size(), 4u);
  EXPECT_EQ(exact.bytes_read, 8);

  // max_gap 2 bridges within a row only (the row-to-row gap is 2 too: 6 -> 8): one read of 14 bytes.
  const ReadPlan bridged = row_major_reads({2, 8}, region, 1, 0, 2).value();
  EXPECT_EQ(bridged.reads, (std::vector<FileRead>{{0, 14, 0, 4}}));
  EXPECT_EQ(bridged.bytes_read, 14);
  EXPECT_DOUBLE_EQ(bridged.read_amplification(), 14.0 / 8.0);
  EXPECT_EQ(bridged.segments, exact.segments);

  const ReadPlan one = row_major_reads({2, 8}, region, 1, 0, 1).value();
  EXPECT_EQ(one.reads.size(), 4u);
}

TEST(ByteRanges, StridedRegionWrapsRows) {
  // Columns {3} and {0} of consecutive rows are adjacent in the file: the region {rows 0-1} x {0, 3} of a 4-wide
  // matrix reads [0], [3, 5), [7]: byte 3 (row 0 col 3) and 4 (row 1 col 0) merge.
  const Box region{IntervalSet::range(0, 2), IntervalSet::from_intervals({{0, 1}, {3, 4}})};
  const ReadPlan plan = row_major_reads({2, 4}, region, 1).value();
  EXPECT_EQ(plan.segments, (std::vector<ByteSegment>{{0, 1, 0}, {3, 2, 1}, {7, 1, 3}}));
}

TEST(ByteRanges, ScalarAndEmpty) {
  const ReadPlan scalar = row_major_reads({}, {}, 8, 24).value();
  EXPECT_EQ(scalar.segments, (std::vector<ByteSegment>{{24, 8, 0}}));
  const ReadPlan empty = row_major_reads({2, 0}, {IntervalSet::range(0, 2), IntervalSet()}, 4).value();
  EXPECT_TRUE(empty.reads.empty());
  EXPECT_EQ(empty.bytes_needed, 0);
  EXPECT_EQ(empty.read_amplification(), 1.0);
}

TEST(ByteRanges, Errors) {
  const Box row{IntervalSet::range(0, 2)};
  auto error = row_major_reads({4}, row, 0).error();
  EXPECT_EQ(error.field, "element_size");
  EXPECT_EQ(error.message, "must be >= 1 byte, got 0");
  error = row_major_reads({4}, row, 1, -1).error();
  EXPECT_EQ(error.field, "file_offset");
  error = row_major_reads({4}, row, 1, 0, -5).error();
  EXPECT_EQ(error.field, "max_gap");
  EXPECT_EQ(error.message, "must be >= 0, got -5");
  error = row_major_reads({4}, {IntervalSet::range(2, 6)}, 1).error();
  EXPECT_EQ(error.field, "region[0]");
  EXPECT_EQ(error.message, "rank 0 holds [2, 6) on dim 0, outside [0, 4)");
  error = row_major_reads({4, 4}, row, 1).error();
  EXPECT_EQ(error.message, "rank 0 has index sets for 1 dims, the tensor has 2");
  const Index big = Index{1} << 40;
  error = row_major_reads({big, big}, {IntervalSet::range(0, 1), IntervalSet::range(0, 1)}, 1).error();
  EXPECT_EQ(error.code, ErrorCode::overflow);
  error = row_major_reads({Index{1} << 61}, {IntervalSet::range(0, 1)}, 8).error();
  EXPECT_EQ(error.code, ErrorCode::overflow);
  EXPECT_EQ(error.field, "tensor bytes");
  const Index max = std::numeric_limits<Index>::max();
  error = row_major_reads({8}, {IntervalSet::range(0, 1)}, 1, max - 4).error();
  EXPECT_EQ(error.code, ErrorCode::overflow);
}

TEST(ChunkList, DcpOverlapRule) {
  const ChunkMetadata a{{0, 0}, {4, 4}};
  const ChunkMetadata b{{2, 3}, {4, 4}};
  const ChunkOverlap overlap = chunk_overlap(a, b).value();
  EXPECT_EQ(overlap.offset_in_a, (Shape{2, 3}));
  EXPECT_EQ(overlap.offset_in_b, (Shape{0, 0}));
  EXPECT_EQ(overlap.lengths, (Shape{2, 1}));
  // Touching is disjoint: off2 >= off1 + size1.
  EXPECT_FALSE(chunk_overlap(ChunkMetadata{{0}, {2}}, ChunkMetadata{{2}, {2}}).has_value());
  EXPECT_FALSE(chunk_overlap(ChunkMetadata{{0, 0}, {2, 2}}, ChunkMetadata{{1, 2}, {2, 2}}).has_value());
  EXPECT_FALSE(chunk_overlap(ChunkMetadata{{0}, {0}}, ChunkMetadata{{0}, {2}}).has_value());
}

TEST(ChunkList, SavedTp2LoadedAtTp4) {
  // DCP saved a [8, 6] weight as two row chunks; loading at S(1) over 3 takes a 4 x 2 piece of each.
  const std::vector<ChunkMetadata> chunks = {{{4, 0}, {4, 6}}, {{0, 0}, {4, 6}}};
  const ShardList source = shards_from_chunks({8, 6}, chunks).value();
  const Layout to = Layout::create({8, 6}, parse_mesh("3").value(), parse_placements("S(1)").value()).value();
  const TransferMap map = transfer_map(source, shards_of(to)).value();
  ASSERT_EQ(map.ranks[2].pieces.size(), 2u);
  EXPECT_EQ(map.ranks[2].pieces[0], (TransferPiece{1, {0, 4}, {0, 0}, {4, 2}}));  // chunk 1 holds rows [0, 4)
  EXPECT_EQ(map.ranks[2].pieces[1], (TransferPiece{0, {0, 4}, {4, 0}, {4, 2}}));
}

TEST(ChunkList, Errors) {
  auto error = shards_from_chunks({8, 6}, std::vector<ChunkMetadata>{{{0, 0}, {4, 6}}, {{3, 0}, {5, 6}}}).error();
  EXPECT_EQ(error.field, "chunks[1]");
  EXPECT_EQ(error.message, "overlaps chunks[0] on [3,4) x [0,6)");

  error = shards_from_chunks({8, 6}, std::vector<ChunkMetadata>{{{0, 0}, {4, 6}}, {{4, 0}, {4, 5}}}).error();
  EXPECT_EQ(error.field, "chunks");
  EXPECT_EQ(error.message, "leave 4 of 48 elements in no chunk, e.g. [4,8) x [5,6)");

  error = shards_from_chunks({8, 6}, std::vector<ChunkMetadata>{{{0, 0}, {8, 6}}, {{0, 0}, {8, 6}}}).error();
  EXPECT_EQ(error.message, "overlaps chunks[0] on [0,8) x [0,6)");

  error = shards_from_chunks({8, 6}, std::vector<ChunkMetadata>{{{0, 2}, {8, 5}}}).error();
  EXPECT_EQ(error.code, ErrorCode::out_of_range);
  EXPECT_EQ(error.field, "chunks[0]");
  EXPECT_EQ(error.message, "dim 1: offset 2 size 5 is outside [0, 6)");

  error = shards_from_chunks({8, 6}, std::vector<ChunkMetadata>{{{0}, {8}}}).error();
  EXPECT_EQ(error.message, "has 1 offsets and 1 sizes for a rank-2 tensor");

  error = shards_from_chunks({8}, std::vector<ChunkMetadata>{{{-1}, {8}}}).error();
  EXPECT_EQ(error.code, ErrorCode::out_of_range);

  const Index max = std::numeric_limits<Index>::max();
  error = shards_from_chunks({max}, std::vector<ChunkMetadata>{{{0}, {max}}, {{1}, {max - 1}}}).error();
  EXPECT_EQ(error.message, "overlaps chunks[0] on [1,9223372036854775807)");

  // Zero-size chunks are allowed (DCP saves them for empty shards); a scalar is one chunk with no dims.
  EXPECT_TRUE(shards_from_chunks({4}, std::vector<ChunkMetadata>{{{0}, {4}}, {{4}, {0}}}).ok());
  EXPECT_TRUE(shards_from_chunks({}, std::vector<ChunkMetadata>{{{}, {}}}).ok());
  error = shards_from_chunks({}, std::vector<ChunkMetadata>{{{}, {}}, {{}, {}}}).error();
  EXPECT_EQ(error.message, "overlaps chunks[0] on the scalar");
  error = shards_from_chunks({}, std::vector<ChunkMetadata>{}).error();
  EXPECT_EQ(error.message, "leave 1 of 1 elements in no chunk, e.g. the scalar");
}

TEST(Dtype, Sizes) {
  EXPECT_EQ(dtype_size("bf16").value(), 2);
  EXPECT_EQ(dtype_size("float32").value(), 4);
  EXPECT_EQ(dtype_size("fp8").value(), 1);
  EXPECT_EQ(dtype_size("c128").value(), 16);
  const Error error = dtype_size("fp4").error();
  EXPECT_EQ(error.field, "dtype");
  EXPECT_NE(error.message.view().find("unknown dtype 'fp4'"), std::string_view::npos);
}

}  // namespace
}  // namespace shardplan
