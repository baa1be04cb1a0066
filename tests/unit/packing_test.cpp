// Packing kinds of fused weights: each gives the right rows of every component per rank.
#include <gtest/gtest.h>

#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

/// The rows of every component that rank `rank` holds when the fused dim 0 of `packing` is split over `tp`.
std::vector<IntervalSet> rows_of(const Packing& packing, Index tp, Index rank) {
  const Layout layout = Layout::create(Shape{packing.size()}, Mesh::create(AxisSizes{tp}).value(),
                                       Placements{Placement::shard(0)})
                            .value();
  const SegmentedLayout fused = SegmentedLayout::create(layout, {packing.segmented_dim(0)}).value();
  return packing.component_rows(fused.index_sets(rank).value()[0]);
}

TEST(Packing, StackedQkvGivesEachHeadsRows) {
  const Packing qkv = Packing::stacked({ComponentName("q"), ComponentName("k"), ComponentName("v")},
                                       {8192, 1024, 1024}, 128)
                          .value();
  for (Index r = 0; r < 8; ++r) {
    const auto rows = rows_of(qkv, 8, r);
    EXPECT_EQ(rows[0], IntervalSet::range(1024 * r, 1024 * r + 1024));
    EXPECT_EQ(rows[1], IntervalSet::range(128 * r, 128 * r + 128));
    EXPECT_EQ(rows[2], IntervalSet::range(128 * r, 128 * r + 128));
  }
}

// Megatron-LM's grouped QKV of Llama-3.1-70B (64 heads, 8 groups, hd 128) gives the same heads per rank as the
// stacked form: TP rank r holds group r.
TEST(Packing, GroupedQkvMatchesStacked) {
  const Packing grouped = Packing::grouped_qkv(64, 8, 128).value();
  EXPECT_EQ(grouped.size(), 10240);
  for (Index r = 0; r < 8; ++r) {
    const auto rows = rows_of(grouped, 8, r);
    EXPECT_EQ(rows[0], IntervalSet::range(1024 * r, 1024 * r + 1024));
    EXPECT_EQ(rows[1], IntervalSet::range(128 * r, 128 * r + 128));
    EXPECT_EQ(rows[2], IntervalSet::range(128 * r, 128 * r + 128));
  }
  // At TP=4 a rank holds two whole groups.
  const auto rows = rows_of(grouped, 4, 1);
  EXPECT_EQ(rows[0], IntervalSet::range(2048, 4096));
  EXPECT_EQ(rows[1], IntervalSet::range(256, 512));
}

// gpt-oss interleaves gate and up column by column: a contiguous split with an even local width is right.
TEST(Packing, InterleavedGateUp) {
  const Packing gate_up = Packing::interleaved({ComponentName("gate"), ComponentName("up")}, 2880).value();
  EXPECT_EQ(gate_up.size(), 5760);
  for (Index r = 0; r < 4; ++r) {
    const auto rows = rows_of(gate_up, 4, r);
    EXPECT_EQ(rows[0], IntervalSet::range(720 * r, 720 * r + 720));
    EXPECT_EQ(rows[1], IntervalSet::range(720 * r, 720 * r + 720));
  }
  // An odd split point would cut a (gate, up) pair: the unit of 2 keeps local widths even even over 3 ranks.
  const auto rows = rows_of(Packing::interleaved({ComponentName("gate"), ComponentName("up")}, 5).value(), 3, 0);
  EXPECT_EQ(rows[0], IntervalSet::range(0, 2));
  EXPECT_EQ(rows[1], IntervalSet::range(0, 2));
}

TEST(Packing, ComponentRowsOfArbitraryRows) {
  const Packing gate_up = Packing::interleaved({ComponentName("gate"), ComponentName("up")}, 4).value();
  // Fused rows 1..4: up0, gate1, up1, gate2.
  const auto rows = gate_up.component_rows(IntervalSet::range(1, 5));
  EXPECT_EQ(rows[0], IntervalSet::range(1, 3));
  EXPECT_EQ(rows[1], IntervalSet::range(0, 2));
  const Packing grouped = Packing::grouped_qkv(4, 2, 2).value();  // group = [q q q q k k v v] (8 rows)
  const auto qkv = grouped.component_rows(IntervalSet::range(3, 11));  // q3 k0 k1 v0 v1 | q4 q5 q6
  EXPECT_EQ(qkv[0], IntervalSet::from_intervals({{3, 4}, {4, 7}}));
  EXPECT_EQ(qkv[1], IntervalSet::range(0, 2));
  EXPECT_EQ(qkv[2], IntervalSet::range(0, 2));
}

TEST(Packing, BadInput) {
  EXPECT_EQ(Packing::grouped_qkv(64, 6, 128).error().what(),
            "packing: grouped QKV needs query heads (64) a positive multiple of the groups (6) and head_dim >= 1 (128)");
  EXPECT_EQ(Packing::stacked({ComponentName("q")}, {8192, 1024}).error().what(), "packing: 1 names for 2 sizes");
  EXPECT_EQ(Packing::stacked({ComponentName("q"), ComponentName("k")}, {8192, 1000}, 128).error().what(),
            "packing.sizes[1]: size 1000 must be a positive multiple of the unit 128");
  EXPECT_EQ(Packing::interleaved({ComponentName("gate")}, 8).error().what(),
            "packing: interleaving needs at least 2 components");
  EXPECT_EQ(Packing::interleaved({ComponentName("a"), ComponentName("b")}, 0).error().what(),
            "packing.sizes[0]: size 0 must be a positive multiple of the unit 2");
}

}  // namespace
}  // namespace shardplan
