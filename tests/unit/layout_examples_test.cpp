// Every worked example of the layouts specification as an exact-value test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/interval_compare.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

using Indices = std::vector<Index>;
using Intervals = std::vector<Interval>;

Layout layout_of(const Shape& shape, std::string_view mesh, std::string_view placements,
                 SplitPolicy policy = SplitPolicy::chunk) {
  auto parsed_mesh = parse_mesh(mesh);
  auto parsed_placements = parse_placements(placements);
  EXPECT_TRUE(parsed_mesh.ok() && parsed_placements.ok());
  auto layout = Layout::create(shape, *parsed_mesh, *parsed_placements, policy);
  EXPECT_TRUE(layout.ok()) << (layout.ok() ? "" : layout.error().what());
  return *layout;
}

std::string layout_error(const Shape& shape, std::string_view mesh, std::string_view placements,
                         SplitPolicy policy = SplitPolicy::chunk) {
  auto layout = Layout::create(shape, *parse_mesh(mesh), *parse_placements(placements), policy);
  EXPECT_FALSE(layout.ok());
  return layout.ok() ? "" : layout.error().what();
}

/// Dim `dim`'s index set of every rank, as plain index lists (rank order).
std::vector<Indices> index_lists(const Layout& layout, std::size_t dim) {
  std::vector<Indices> lists;
  for (Index rank = 0; rank < layout.mesh().world_size(); ++rank) {
    Indices list;
    const Box sets = layout.index_sets(rank).value();
    for (const Interval& interval : sets[dim].intervals()) {
      for (Index i = interval.begin; i < interval.end; ++i) list.push_back(i);
    }
    lists.push_back(list);
  }
  return lists;
}

// 1. n=16, mesh (dp=2, tp=2), FSDP2 + TP.
TEST(LayoutExamples, Fsdp2PlusTp) {
  const Layout strided = layout_of(Shape{16}, "dp=2,tp=2", "_S(0,2),S(0)");
  // Rank order is (0,0) (0,1) (1,0) (1,1).
  EXPECT_EQ(index_lists(strided, 0),
            (std::vector<Indices>{{0, 1, 2, 3}, {8, 9, 10, 11}, {4, 5, 6, 7}, {12, 13, 14, 15}}));
  const Layout plain = layout_of(Shape{16}, "dp=2,tp=2", "S(0),S(0)");
  EXPECT_EQ(index_lists(plain, 0),
            (std::vector<Indices>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}));
}

// 2. n=10, same mesh: uneven, and non-contiguous when _S follows S.
TEST(LayoutExamples, UnevenStrided) {
  EXPECT_EQ(index_lists(layout_of(Shape{10}, "dp=2,tp=2", "_S(0,2),S(0)"), 0),
            (std::vector<Indices>{{0, 1, 2}, {5, 6, 7}, {3, 4}, {8, 9}}));
  const Layout reversed = layout_of(Shape{10}, "dp=2,tp=2", "S(0),_S(0,2)");
  EXPECT_EQ(index_lists(reversed, 0), (std::vector<Indices>{{0, 1, 3}, {2, 4}, {5, 6, 8}, {7, 9}}));
  EXPECT_EQ(reversed.index_sets(0).value()[0].intervals(), (Intervals{{0, 2}, {3, 4}}));
}

// 3. shape (18,2), mesh (4,2), [S(0), S(0)].
TEST(LayoutExamples, NestedChunks) {
  const Layout layout = layout_of(Shape{18, 2}, "4,2", "S(0),S(0)");
  EXPECT_EQ(index_lists(layout, 0), (std::vector<Indices>{{0, 1, 2},
                                                          {3, 4},
                                                          {5, 6, 7},
                                                          {8, 9},
                                                          {10, 11, 12},
                                                          {13, 14},
                                                          {15, 16},
                                                          {17}}));
  EXPECT_EQ(index_lists(layout, 1), std::vector<Indices>(8, Indices{0, 1}));
}

// 4. shape (2,5), mesh (2,2), [S(1), S(1)].
TEST(LayoutExamples, BothAxesOnTheLastDim) {
  const Layout layout = layout_of(Shape{2, 5}, "2,2", "S(1),S(1)");
  const std::vector<LocalBox> expected{
      {Shape{2, 2}, Shape{0, 0}}, {Shape{2, 1}, Shape{0, 2}}, {Shape{2, 1}, Shape{0, 3}}, {Shape{2, 1}, Shape{0, 4}}};
  for (Index rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(layout.local_box(rank).value(), expected[static_cast<std::size_t>(rank)]) << "rank " << rank;
  }
}

// 5. n=8 on a mesh of 4: _S(0,1) is chunk; _S(0,2) interleaves.
TEST(LayoutExamples, SplitFactorOneIsChunk) {
  EXPECT_EQ(index_lists(layout_of(Shape{8}, "4", "_S(0,1)"), 0),
            (std::vector<Indices>{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(index_lists(layout_of(Shape{8}, "4", "_S(0,2)"), 0),
            (std::vector<Indices>{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
}

// 6. n=9, mesh 4, _S(0,2).
TEST(LayoutExamples, StridedUneven) {
  EXPECT_EQ(index_lists(layout_of(Shape{9}, "4", "_S(0,2)"), 0),
            (std::vector<Indices>{{0, 1, 5}, {2, 3, 6}, {4, 7}, {8}}));
}

// 7. Fused gate_up with F=8 over 4 ranks: rank r holds [gate_r; up_r].
TEST(LayoutExamples, FusedGateUp) {
  const Layout layout = layout_of(Shape{16}, "4", "_S(0,2)");
  for (Index r = 0; r < 4; ++r) {
    EXPECT_EQ(index_lists(layout, 0)[static_cast<std::size_t>(r)], (Indices{2 * r, 2 * r + 1, 8 + 2 * r, 9 + 2 * r}));
  }
}

// 8. shape (13,2), mesh (4,2), [S(0), S(0)]: the last rank is empty and reports offset 13.
TEST(LayoutExamples, EmptyShardOffsetIsDimSize) {
  const Layout layout = layout_of(Shape{13, 2}, "4,2", "S(0),S(0)");
  for (Index dp = 0; dp < 3; ++dp) {
    EXPECT_EQ(layout.local_box(2 * dp).value(), (LocalBox{Shape{2, 2}, Shape{4 * dp, 0}}));
    EXPECT_EQ(layout.local_box(2 * dp + 1).value(), (LocalBox{Shape{2, 2}, Shape{4 * dp + 2, 0}}));
  }
  EXPECT_EQ(layout.local_box(6).value(), (LocalBox{Shape{1, 2}, Shape{12, 0}}));
  EXPECT_EQ(layout.local_box(7).value(), (LocalBox{Shape{0, 2}, Shape{13, 0}}));
}

// 9. shape (5,3), mesh (2,2), [S(0), S(1)].
TEST(LayoutExamples, TwoDimsTwoAxes) {
  const Layout layout = layout_of(Shape{5, 3}, "2,2", "S(0),S(1)");
  EXPECT_EQ(layout.local_box(0).value(), (LocalBox{Shape{3, 2}, Shape{0, 0}}));
  EXPECT_EQ(layout.local_box(1).value(), (LocalBox{Shape{3, 1}, Shape{0, 2}}));
  EXPECT_EQ(layout.local_box(2).value(), (LocalBox{Shape{2, 2}, Shape{3, 0}}));
  EXPECT_EQ(layout.local_box(3).value(), (LocalBox{Shape{2, 1}, Shape{3, 2}}));
}

// The issue's acceptance case: rank 5, coordinate (0,1,2), holds nothing on dim 0 and reports offset 39.
TEST(LayoutExamples, ThreeAxesWithStridedMiddle) {
  const Layout layout = layout_of(Shape{39, 2}, "4,2,3", "S(0),_S(0,2),S(0)");
  EXPECT_EQ(layout.mesh().coordinate(5).value(), (Coord{0, 1, 2}));
  EXPECT_EQ(layout.local_box(5).value(), (LocalBox{Shape{0, 2}, Shape{39, 0}}));
  EXPECT_TRUE(layout.index_sets(5).value()[0].empty());
  EXPECT_EQ(layout.index_sets(1).value()[0].intervals(), (Intervals{{2, 3}, {5, 6}}));
  EXPECT_EQ(layout.local_box(1).value(), (LocalBox{Shape{2, 2}, Shape{2, 0}}));
  EXPECT_EQ(layout.index_sets(20).value()[0].intervals(), (Intervals{{36, 37}}));
}

TEST(Layout, NegativeDimsAreNormalised) {
  const Layout layout = layout_of(Shape{4, 6}, "2", "S(-1)");
  EXPECT_EQ(layout.placements()[0], Placement::shard(1));
  EXPECT_EQ(layout.local_box(1).value(), (LocalBox{Shape{4, 3}, Shape{0, 3}}));
}

TEST(Layout, PoliciesDisagreeOnUnevenSizes) {
  EXPECT_EQ(index_lists(layout_of(Shape{7}, "3", "S(0)"), 0),
            (std::vector<Indices>{{0, 1, 2}, {3, 4, 5}, {6}}));
  EXPECT_EQ(index_lists(layout_of(Shape{7}, "3", "S(0)", SplitPolicy::balanced), 0),
            (std::vector<Indices>{{0, 1, 2}, {3, 4}, {5, 6}}));
  EXPECT_EQ(index_lists(layout_of(Shape{12}, "2,3", "S(0),S(0)", SplitPolicy::even), 0),
            (std::vector<Indices>{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}}));
}

TEST(Layout, ReplicateAndPartialHoldEverything) {
  const Layout layout = layout_of(Shape{3, 4}, "2,2", "R,P(max)");
  for (Index rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(layout.local_box(rank).value(), (LocalBox{Shape{3, 4}, Shape{0, 0}}));
  }
}

TEST(Layout, ScalarsAndEmptyTensors) {
  const Layout scalar = layout_of(Shape{}, "2", "R");
  EXPECT_EQ(scalar.local_box(1).value(), (LocalBox{}));
  const Layout empty = layout_of(Shape{0, 3}, "2", "S(0)");
  EXPECT_EQ(empty.local_box(0).value(), (LocalBox{Shape{0, 3}, Shape{0, 0}}));
  EXPECT_EQ(empty.local_box(1).value(), (LocalBox{Shape{0, 3}, Shape{0, 0}}));
}

TEST(Layout, BadInputNamesTheFieldAndNumbers) {
  EXPECT_EQ(layout_error(Shape{4, -1}, "2", "S(0)"), "shape[1]: size must be >= 0, got -1");
  EXPECT_EQ(layout_error(Shape{4294967296, 4294967296}, "2", "S(0)"),
            "shape: 4294967296 * 4294967296 overflows int64");
  EXPECT_EQ(layout_error(Shape{8}, "2,2", "S(0)"), "placements: 1 placements for a 2-axis mesh (one per axis)");
  EXPECT_EQ(layout_error(Shape{8, 8}, "2,2", "S(0),S(2)"),
            "placements[1]: dim 2 is outside a rank-2 tensor (valid: -2..1)");
  EXPECT_EQ(layout_error(Shape{}, "2", "S(0)"), "placements[0]: dim 0 cannot be sharded: the tensor is a scalar");
  EXPECT_EQ(layout_error(Shape{13}, "4", "S(0)", SplitPolicy::even),
            "placements[0]: even policy: dim 0 has 13 indices here, not divisible by mesh axis 0 of size 4");
  EXPECT_EQ(layout_error(Shape{12}, "2,4", "S(0),S(0)", SplitPolicy::even),
            "placements[1]: even policy: dim 0 has 6 indices here, not divisible by mesh axis 1 of size 4");
  EXPECT_EQ(layout_error(Shape{10}, "2", "_S(0,4)", SplitPolicy::even),
            "placements[0]: even policy: dim 0 has 10 indices here, not divisible by split factor 4");
  EXPECT_EQ(layout_error(Shape{12}, "4", "_S(0,2)", SplitPolicy::even),
            "placements[0]: even policy: dim 0 has 6 indices per piece here, not divisible by mesh axis 0 of size 4");
  EXPECT_EQ(Layout::create(Shape{8}, *parse_mesh("2"), Placements{Placement::strided_shard(0, 0)}).error().what(),
            "placements[0]: _S split factor must be >= 1, got 0");
  // A split factor far beyond the dim size costs nothing extra.
  const Layout huge = layout_of(Shape{4}, "2", "_S(0,1000000000000)");
  EXPECT_EQ(huge.index_sets(0).value()[0].intervals(), (Intervals{{0, 4}}));
  EXPECT_TRUE(huge.index_sets(1).value()[0].empty());
  const Layout layout = layout_of(Shape{8}, "2,2", "S(0),R");
  EXPECT_EQ(layout.local_box(4).error().what(), "rank: rank 4 is outside a mesh of 4 ranks (valid: 0..3)");
  EXPECT_EQ(layout.index_sets(-1).error().what(), "rank: rank -1 is outside a mesh of 4 ranks (valid: 0..3)");
}

TEST(Layout, DeviceOrderMovesRanksNotBlocks) {
  // The same layout on a transposed device order: the block at each cell is unchanged; the rank there differs.
  const Layout ordered = layout_of(Shape{8}, "4,2 <=[2,4]T(1,0)", "S(0),S(0)");
  // Cell (0,1) holds rank 4 and block [1,2).
  EXPECT_EQ(ordered.index_sets(4).value()[0].intervals(), (Intervals{{1, 2}}));
  EXPECT_EQ(ordered.index_sets(1).value()[0].intervals(), (Intervals{{2, 3}}));
}

}  // namespace
}  // namespace shardplan
