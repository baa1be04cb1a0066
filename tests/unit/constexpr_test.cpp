// Layouts known at compile time are computable inside static_assert, and the per-rank path of Shard/Replicate
// layouts does not allocate.
#include <gtest/gtest.h>


#include "../support/allocation_counter.hpp"
#include "../support/interval_compare.hpp"
#include "shardplan/shardplan.hpp"


namespace shardplan {
namespace {

constexpr Layout make_layout(const Shape& shape, std::string_view mesh,
                             std::string_view placements, SplitPolicy policy = SplitPolicy::chunk) {
  return Layout::create(shape, parse_mesh(mesh).value(), parse_placements(placements).value(), policy).value();
}

// The issue's acceptance case, at compile time.
constexpr Layout kStrided = make_layout(Shape{39, 2}, "4,2,3", "S(0),_S(0,2),S(0)");
static_assert(kStrided.local_box(5)->local_shape == Shape{0, 2});
static_assert(kStrided.local_box(5)->global_offset == Shape{39, 0});
constexpr Index kStridedRank1Dim0 = [] {
  const Box box = kStrided.index_sets_at(Coord{0, 0, 1});
  return static_cast<Index>(box[0].intervals().size()) * 100 + box[0].front() * 10 + box[0].back_end();
}();
static_assert(kStridedRank1Dim0 == 2 * 100 + 2 * 10 + 6);

// Spec example 8: the empty shard reports offset 13.
constexpr Layout kUneven = make_layout(Shape{13, 2}, "dp=4,tp=2", "S(0),S(0)");
static_assert(kUneven.local_box(7)->global_offset == Shape{13, 0});
static_assert(kUneven.local_box(6)->local_shape == Shape{1, 2});

// Spec example 9 and a device order.
constexpr Layout kTwoDims = make_layout(Shape{5, 3}, "2,2", "S(0),S(1)");
static_assert(kTwoDims.local_box(3)->local_shape == Shape{2, 1});
static_assert(kTwoDims.local_box(3)->global_offset == Shape{3, 2});
static_assert(parse_mesh("4,2 <=[2,4]T(1,0)")->coordinate(4).value() == Coord{0, 1});

// Errors are values in constant expressions too.
static_assert(!Layout::create(Shape{13}, parse_mesh("4").value(), parse_placements("S(0)").value(),
                              SplitPolicy::even)
                   .ok());
static_assert(parse_placements("S(0),,R").error().code == ErrorCode::parse_error);
static_assert(parse_placements("S(0),,R").error().field == std::string_view("placements[1]"));
static_assert(checked_mul(Index{1} << 62, 4).error().code == ErrorCode::overflow);

// Shard order conversions are constexpr.
static_assert(to_shard_order(parse_placements("_S(0,2),S(0)").value(), parse_mesh("2,2").value(), 1)
                  ->dims[0] == AxisList{1, 0});
static_assert(to_shard_order(parse_placements("S(0),_S(0,2),S(0)").value(), parse_mesh("4,2,3").value(), 2)
                  .error()
                  .code == ErrorCode::not_representable);

TEST(Constexpr, RuntimeAgreesWithCompileTime) {
  EXPECT_EQ(kStrided.local_box(5).value(), (LocalBox{Shape{0, 2}, Shape{39, 0}}));
}

TEST(Allocation, ShardReplicateLocalBoxDoesNotAllocate) {
  const Layout layout = make_layout(Shape{4096, 14336}, "dp=4,tp=8", "S(0),S(1)");
  const Layout partial = make_layout(Shape{13, 7, 5}, "2,3,2", "P,S(-1),R");
  const long before = testing_support::g_allocations.load();
  Index checksum = 0;
  for (Index rank = 0; rank < 32; ++rank) checksum += layout.local_box(rank)->local_shape[1];
  for (Index rank = 0; rank < 12; ++rank) checksum += partial.local_box(rank)->global_offset[2];
  EXPECT_EQ(testing_support::g_allocations.load() - before, 0);
  EXPECT_EQ(checksum, 4 * 14336 + 4 * (0 + 2 + 4));  // dim 2 (size 5) over 3: offsets 0, 2, 4
}

TEST(Allocation, StridedLocalBoxAndIndexSetsDoNotAllocate) {
  // _S layouts too: an interval set keeps its first intervals inline (each rank of kStrided holds 2 per dim 0).
  const long before = testing_support::g_allocations.load();
  Index intervals = 0;
  Index rows = 0;
  for (Index rank = 0; rank < 24; ++rank) {
    intervals += static_cast<Index>((*kStrided.index_sets(rank))[0].intervals().size());
    rows += kStrided.local_box(rank)->local_shape[0];
  }
  EXPECT_EQ(testing_support::g_allocations.load() - before, 0);
  EXPECT_EQ(rows, 39);
  EXPECT_EQ(intervals, 24);  // ranks 1, 7, 13, 19 hold two pieces of dim 0; ranks 5, 11, 17, 23 none
}

TEST(Allocation, StridedLocalBoxCountsChunksInsteadOfListingThem) {
  // _S(0,1000) on 4096: 819 chunks of 5 and one of 1. Rank 1 of 4 keeps positions 2 and 3 of every full chunk and
  // nothing of the last: 1,638 rows from row 2, 819 intervals that index_sets would list (and allocate for).
  static const Layout layout = Layout::create(Shape{4096}, Mesh::create(AxisSizes{4}).value(),
                                              Placements{Placement::strided_shard(0, 1000)})
                                   .value();
  const long before = testing_support::g_allocations.load();
  Index rows = 0;
  for (Index rank = 0; rank < 4; ++rank) rows += layout.local_box(rank)->local_shape[0];
  const LocalBox box = layout.local_box(1).value();
  EXPECT_EQ(testing_support::g_allocations.load() - before, 0);
  EXPECT_EQ(rows, 4096);
  EXPECT_EQ(box.local_shape, Shape{1638});
  EXPECT_EQ(box.global_offset, Shape{2});
  EXPECT_EQ((*layout.index_sets(1))[0].intervals().size(), 819U);
}

TEST(Allocation, IntervalSetSpillsToTheHeapPastItsInlineCapacity) {
  // The counter is live (so the tests above can fail): 9 disjoint intervals no longer fit inline.
  static IntervalSet set;  // static: the allocation escapes, so an optimiser cannot elide it
  const long before = testing_support::g_allocations.load();
  for (Index i = 0; i < 9; ++i) set.append(Interval{2 * i, 2 * i + 1});
  EXPECT_GT(testing_support::g_allocations.load() - before, 0);
  EXPECT_EQ(set.size(), 9);
}

}  // namespace
}  // namespace shardplan
