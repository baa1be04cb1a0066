// The library's work bounds and the limits it honours: listing a layout's index sets (layout/work_bound.hpp),
// transfer pieces and read segments (resharding/limits.hpp), and the planner's state budget
// (redistribution/budget.hpp). Each refusal is checked with its exact message, and so is the figure just inside it.
#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

constexpr Index kMax = std::numeric_limits<Index>::max();

Layout make_layout(Shape shape, std::string_view mesh, std::string_view placements) {
  return Layout::create(shape, parse_mesh(mesh).value(), parse_placements(placements).value()).value();
}

// ---------------------------------------------------------------------------------------------------------------
// Listing a layout

TEST(WorkBound, IntervalsPerRank) {
  // One _S(0,2) on dim 0: 2 intervals there, 1 on dim 1, plus 1 for the rank.
  EXPECT_EQ(make_layout({39, 2}, "4,2,3", "S(0),_S(0,2),S(0)").intervals_per_rank_bound(), 4);
  EXPECT_EQ(make_layout({39, 2}, "4,2,3", "S(0),S(1),R").intervals_per_rank_bound(), 3);
  // Split factors on one dim multiply, up to the dim size.
  EXPECT_EQ(make_layout({100}, "2,2", "_S(0,3),_S(0,5)").dim_intervals_bound(0), 15);
  EXPECT_EQ(make_layout({10}, "2,2", "_S(0,3),_S(0,5)").dim_intervals_bound(0), 10);
  // A size-0 dim still counts one (empty) set.
  EXPECT_EQ(make_layout({0}, "2", "_S(0,3)").dim_intervals_bound(0), 1);
}

TEST(WorkBound, SaturatesInsteadOfOverflowing) {
  const Layout one = make_layout({kMax}, "1", "_S(0,9223372036854775807)");
  EXPECT_EQ(one.dim_intervals_bound(0), kMax);
  EXPECT_EQ(one.intervals_per_rank_bound(), kMax);  // 1 + INT64_MAX saturates
  const Layout two = make_layout({Index{1} << 62, 1}, "2,2", "_S(0,4611686018427387904),_S(1,4611686018427387904)");
  EXPECT_EQ(two.dim_intervals_bound(0), Index{1} << 62);
  EXPECT_EQ(two.dim_intervals_bound(1), 1);
  EXPECT_EQ(two.intervals_per_rank_bound(), (Index{1} << 62) + 2);
  // The product of split factors overflows int64 long before the dim size caps it.
  const Layout product = make_layout({kMax}, "2,2", "_S(0,4294967296),_S(0,4294967296)");
  EXPECT_EQ(product.dim_intervals_bound(0), kMax);
}

TEST(WorkBound, CheckListingNamesTheLimitAndTheNumbers) {
  // The two inputs of issue 11 that overflowed in the CLI: one rank alone is past the limit.
  Status status = check_listing(make_layout({kMax}, "1", "_S(0,9223372036854775807)"), 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(status.error().what(),
            "placements: _S split factors cut dim 0 (size 9223372036854775807) into up to 9223372036854775807 "
            "intervals per rank, past the limit of 67108864 intervals");
  status = check_listing(
      make_layout({Index{1} << 62, 1}, "2,2", "_S(0,4611686018427387904),_S(1,4611686018427387904)"), 4);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().what(),
            "placements: _S split factors cut dim 0 (size 4611686018427387904) into up to 4611686018427387904 "
            "intervals per rank, past the limit of 67108864 intervals");
  // The worst dim is named.
  status = check_listing(make_layout({4, 1000}, "2", "_S(1,1000)"), 1, 100);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().what(),
            "placements: _S split factors cut dim 1 (size 1000) into up to 1000 intervals per rank, past the limit "
            "of 100 intervals");
  // Every rank is fine, all of them are not.
  status = check_listing(make_layout({4000000}, "64,64", "_S(0,1000000),R"), 4096);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().what(),
            "mesh: listing 4096 ranks of up to 1000001 intervals each is past the limit of 67108864 intervals");
  EXPECT_TRUE(check_listing(make_layout({4000000}, "64,64", "_S(0,1000000),R"), 67).ok());  // 67 x 1000001 fits
  // At the limit exactly: 4 ranks x (1 + 2) = 12.
  const Layout small = make_layout({8}, "4", "_S(0,2)");
  EXPECT_TRUE(check_listing(small, 4, 12).ok());
  EXPECT_FALSE(check_listing(small, 4, 11).ok());
  EXPECT_TRUE(check_listing(small, 0, 3).ok());
}

TEST(WorkBound, IndexSetsHonourTheBoundAndLocalBoxNeedsNone) {
  // One rank of _S(0, 2^40) on a dim of 2^50 would hold 2^40 intervals: listing them is refused, never computed.
  const Layout huge = make_layout({Index{1} << 50, 4}, "2", "_S(0,1099511627776)");
  const std::string expected =
      "placements: _S split factors cut dim 0 (size 1125899906842624) into up to 1099511627776 intervals per rank, "
      "past the limit of 67108864 intervals";
  // local_box counts the intervals instead of listing them: 2^40 chunks of 1,024, rank 1 keeps [512, 1024) of each.
  const auto box = huge.local_box(1);
  ASSERT_TRUE(box.ok()) << box.error().what();
  EXPECT_EQ(box->local_shape, (Shape{Index{1} << 49, 4}));
  EXPECT_EQ(box->global_offset, (Shape{512, 0}));
  const auto sets = huge.index_sets(0);
  ASSERT_FALSE(sets.ok());
  EXPECT_EQ(sets.error().what(), expected);
  EXPECT_EQ(huge.check_intervals_per_rank().error().what(), expected);
  // The same layout at the limit, and any S/R layout of that size, are answered.
  const Layout at_limit = make_layout({Index{1} << 50, 4}, "2", "_S(0,67108863)");
  EXPECT_EQ(at_limit.intervals_per_rank_bound(), kMaxListedIntervals + 1);  // + 1 for dim 1
  EXPECT_FALSE(at_limit.check_intervals_per_rank().ok());
  const Layout below = make_layout({Index{1} << 50, 4}, "2", "_S(0,67108862)");
  EXPECT_TRUE(below.check_intervals_per_rank().ok());
  const Layout plain = make_layout({Index{1} << 50, 4}, "2", "S(0)");
  ASSERT_TRUE(plain.local_box(1).ok());
  EXPECT_EQ(plain.local_box(1)->global_offset, (Shape{Index{1} << 49, 0}));
  // The redistribution planner refuses it up front, naming the side.
  const Status planned = check_redistribution(huge, plain, CostModel::create(huge.mesh()).value(), 2);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.error().what(),
            "from: _S split factors cut dim 0 (size 1125899906842624) into up to 1099511627776 intervals per rank, "
            "past the limit of 67108864 intervals");
}

TEST(WorkBound, CheckedShardsOf) {
  const Layout layout = make_layout({8, 4}, "2,2", "_S(0,2),S(1)");
  const Result<ShardList> listed = checked_shards_of(layout);
  ASSERT_TRUE(listed.ok());
  const ShardList plain = shards_of(layout);
  ASSERT_EQ(listed->shards.size(), plain.shards.size());
  for (std::size_t i = 0; i < plain.shards.size(); ++i) EXPECT_EQ(listed->shards[i].sets, plain.shards[i].sets);
  // 4 ranks x (1 + 2 + 1) = 16 intervals.
  EXPECT_TRUE(checked_shards_of(layout, 16).ok());
  const Result<ShardList> refused = checked_shards_of(layout, 15);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().what(), "mesh: listing 4 ranks of up to 4 intervals each is past the limit of 15 intervals");
}

TEST(WorkBound, TransferMapBetweenLayoutsRefusesHugeSplitFactors) {
  const Layout huge = make_layout({kMax}, "1", "_S(0,9223372036854775807)");
  const Layout whole = make_layout({kMax}, "1", "R");
  auto map = transfer_map(huge, whole);
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(map.error().field.view(), "source placements");
  map = transfer_map(whole, huge);
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().field.view(), "destination placements");
}

// ---------------------------------------------------------------------------------------------------------------
// Transfer pieces

TEST(ReshardLimits, PieceBound) {
  // S(0) over 8 -> (S(0), S(1)) over (2, 2): every destination meets 4 source row blocks, 16 pieces in all, and the
  // bound is exact.
  const ShardList source = shards_of(make_layout({4096, 4096}, "8", "S(0)"));
  const ShardList destination = shards_of(make_layout({4096, 4096}, "2,2", "S(0),S(1)"));
  EXPECT_EQ(transfer_piece_bound(source, destination, 1000), 16);
  EXPECT_EQ(transfer_piece_bound(source, destination, 10), 10);  // saturates at the cap
  EXPECT_TRUE(check_transfer_pieces(source, destination, 16).ok());
  const Status status = check_transfer_pieces(source, destination, 15);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(status.error().what(), "destination: these layouts cut the tensor into more than 15 transfer pieces");
  // The real map has as many pieces as the bound says.
  const TransferMap map = transfer_map(source, destination).value();
  std::size_t pieces = 0;
  for (const RankPieces& rank : map.ranks) pieces += rank.pieces.size();
  EXPECT_EQ(pieces, 16u);
}

TEST(ReshardLimits, TransferPlannerHonoursMaxPieces) {
  const ShardList source = shards_of(make_layout({4096, 4096}, "8", "S(0)"));
  const ShardList destination = shards_of(make_layout({4096, 4096}, "2,2", "S(0),S(1)"));
  TransferOptions options;
  options.max_pieces = 16;
  EXPECT_TRUE(transfer_map(source, destination, options).ok());
  options.max_pieces = 15;
  // 4 pieces per destination: the 16th, at destination rank 3, is one too many.
  auto map = transfer_map(source, destination, options);
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(map.error().what(),
            "destination: these layouts cut the tensor into more than 15 transfer pieces "
            "(TransferOptions::max_pieces), past it at destination rank 3");
  EXPECT_EQ(TransferOptions{}.max_pieces, kMaxTransferPieces);
}

TEST(ReshardLimits, OneOverlapOfManyRunsIsCountedBeforeItIsWritten) {
  // The whole tensor on one rank -> _S(0, 2^15) over 2: each destination is 2^15 single-element intervals, one
  // overlap with the source of 2^15 runs (contiguous locally, not in the source).
  const ShardList source = shards_of(make_layout({Index{1} << 16}, "1", "R"));
  const ShardList destination = shards_of(make_layout({Index{1} << 16}, "2", "_S(0,32768)"));
  EXPECT_EQ(transfer_piece_bound(source, destination, kMax), Index{1} << 16);
  TransferOptions options;
  options.max_pieces = 1000;
  auto map = transfer_map(source, destination, options);
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().what(),
            "destination: these layouts cut the tensor into more than 1000 transfer pieces "
            "(TransferOptions::max_pieces), past it at destination rank 0");
  options.max_pieces = Index{1} << 16;
  map = transfer_map(source, destination, options);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->ranks[0].pieces.size(), std::size_t{1} << 15);
}

// ---------------------------------------------------------------------------------------------------------------
// Read segments

TEST(ReshardLimits, SegmentBound) {
  const Shape shape{4096, 4096};
  const Box whole{IntervalSet::range(0, 4096), IntervalSet::range(0, 4096)};
  const Box rows{IntervalSet::range(1024, 2048), IntervalSet::range(0, 4096)};
  const Box columns{IntervalSet::range(0, 4096), IntervalSet::range(0, 2048)};
  const Box empty{IntervalSet::range(0, 0), IntervalSet::range(0, 4096)};
  EXPECT_EQ(read_segment_bound(shape, whole, kMax), 1);
  EXPECT_EQ(read_segment_bound(shape, rows, kMax), 1);       // whole rows: one contiguous block
  EXPECT_EQ(read_segment_bound(shape, columns, kMax), 4096);  // one range per row
  EXPECT_EQ(read_segment_bound(shape, columns, 100), 100);
  EXPECT_EQ(read_segment_bound(shape, empty, kMax), 0);
  // The bound is the plan's segment count here.
  EXPECT_EQ(row_major_reads(shape, columns, 2).value().segments.size(), 4096u);
}

TEST(ReshardLimits, RowMajorReadsHonoursMaxSegments) {
  const Shape shape{4096, 4096};
  const Box columns{IntervalSet::range(0, 4096), IntervalSet::range(0, 2048)};
  EXPECT_TRUE(row_major_reads(shape, columns, 2, 0, 0, 4096).ok());
  const auto refused = row_major_reads(shape, columns, 2, 0, 0, 4095);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(refused.error().what(), "region: reading it row-major takes more than 4095 byte ranges");
  EXPECT_EQ(check_read_segments(shape, columns, 4095).error().what(), refused.error().what());
  // The default: 2^30 rows of one element each, past 2^24.
  const Shape tall{Index{1} << 30, 2};
  const Box half{IntervalSet::range(0, Index{1} << 30), IntervalSet::range(0, 1)};
  const auto tall_reads = row_major_reads(tall, half, 1);
  ASSERT_FALSE(tall_reads.ok());
  EXPECT_EQ(tall_reads.error().what(), "region: reading it row-major takes more than 16777216 byte ranges");
}

}  // namespace
}  // namespace shardplan
