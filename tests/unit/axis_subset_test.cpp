// AxisSubset numbers the coordinates on some mesh axes; DimTable lists a dim's sets over them. Both are checked
// against the definitions they replace: Mesh::group's order, and Layout::index_sets_at rank by rank.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "shardplan/layout/dim_table.hpp"
#include "shardplan/layout/placement_parse.hpp"
#include "shardplan/mesh/axis_subset.hpp"
#include "shardplan/mesh/mesh_parse.hpp"

namespace shardplan {
namespace {

constexpr AxisSizes kShape{2, 3, 4};

// Axes 2 then 0 (in that order): 4 x 2 combinations, axis 2 slowest.
static_assert(AxisSubset(kShape, AxisList{2, 0}).size() == 8);
static_assert(AxisSubset(kShape, AxisList{2, 0}).index_of(Coord{1, 2, 3}) == 3 * 2 + 1);
static_assert(AxisSubset(kShape, AxisList{2, 0}).coord_at(7, Coord{0, 2, 0}) == Coord{1, 2, 3});
static_assert(AxisSubset(kShape, AxisList{2, 0}).mask() == 0b101U);
static_assert(AxisSubset().size() == 1 && AxisSubset().index_of(Coord{1, 1, 1}) == 0);

TEST(AxisSubset, ForEachCountsRowMajorOverTheListedAxesKeepingTheOthers) {
  const AxisSubset subset(kShape, AxisList{2, 0});
  std::vector<std::string> seen;
  subset.for_each(Coord{1, 2, 3}, [&](Index index, const Coord& coord) {
    EXPECT_EQ(subset.index_of(coord), index);
    EXPECT_EQ(subset.coord_at(index, Coord{0, 2, 0}), coord);
    seen.push_back(std::to_string(coord[0]) + std::to_string(coord[1]) + std::to_string(coord[2]));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"020", "120", "021", "121", "022", "122", "023", "123"}));
}

TEST(AxisSubset, WhereKeepsMeshOrder) {
  const AxisSubset odd = AxisSubset::where(kShape, [](std::size_t axis) { return axis != 1; });
  EXPECT_EQ(odd.axes(), (AxisList{0, 2}));
  EXPECT_EQ(odd.size(), 8);
  EXPECT_TRUE(odd.contains(2));
  EXPECT_FALSE(odd.contains(1));
}

TEST(AxisSubset, GroupOrderIsTheMeshGroupsOrder) {
  const Mesh mesh = parse_mesh("2,3,4").value();
  const AxisSubset subset(mesh.shape(), AxisList{2, 0});
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    const std::vector<Index> group = mesh.group(rank, AxisList{2, 0}).value();
    ASSERT_EQ(static_cast<Index>(group.size()), subset.size());
    for (Index i = 0; i < subset.size(); ++i) {
      const Coord member = subset.coord_at(i, mesh.coordinate_unchecked(rank));
      EXPECT_EQ(group[static_cast<std::size_t>(i)], mesh.rank_unchecked(member));
    }
  }
}

TEST(DimTable, StridedExample) {
  // 13 rows over (3,4,3) as _S(0,4),S(0),R: axis 0 cuts each of 4 chunks, axis 1 cuts what axis 0 left.
  const Mesh mesh = parse_mesh("3,4,3").value();
  const Placements placements = parse_placements("_S(0,4),S(0),R").value();
  const DimTable table = dim_table(13, mesh, placements, 0, SplitPolicy::chunk);
  EXPECT_EQ(table.splitters.axes(), (AxisList{0, 1}));
  ASSERT_EQ(table.count(), 12U);
  EXPECT_EQ(table.at(Coord{0, 0, 2}), IntervalSet::range(0, 2));
  EXPECT_EQ(table.at(Coord{0, 1, 0}), IntervalSet::range(4, 6));
  EXPECT_EQ(table.at(Coord{1, 0, 1}), IntervalSet::range(2, 4));
  EXPECT_EQ(table.at(Coord{1, 3, 0}), IntervalSet{});
  EXPECT_EQ(table.member_holding(12), 3);  // (0, 3): [12,13)
  EXPECT_EQ(table.member_holding(7), 5);   // (1, 1): [6,8)
  EXPECT_EQ(table.member_holding(13), std::nullopt);
  const auto table_of = [&](std::size_t) -> const DimTable& { return table; };
  const std::optional<Coord> holder = coord_holding(table_of, Shape{7}, Coord{2, 2, 2});
  EXPECT_EQ(holder, (Coord{1, 1, 2}));  // axis 2 (R) keeps the base's coordinate
}

TEST(DimTable, AgreesWithTheLayoutOnEveryRankOfRandomLayouts) {
  std::mt19937_64 rng(11);
  const char* kinds[] = {"R", "P", "S(0)", "S(1)", "_S(0,2)", "_S(1,3)", "_S(0,5)"};
  int checked = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const AxisSizes sizes{static_cast<Index>(1 + rng() % 4), static_cast<Index>(1 + rng() % 3),
                          static_cast<Index>(1 + rng() % 3)};
    const Mesh mesh = Mesh::create(sizes).value();
    std::string text;
    for (std::size_t axis = 0; axis < 3; ++axis) text += std::string(axis ? "," : "") + kinds[rng() % 7];
    const Shape shape{static_cast<Index>(rng() % 20), static_cast<Index>(rng() % 9)};
    const SplitPolicy policy = rng() % 2 ? SplitPolicy::chunk : SplitPolicy::balanced;
    auto layout = Layout::create(shape, mesh, parse_placements(text).value(), policy);
    if (!layout) continue;
    const std::vector<DimTable> tables = dim_tables(*layout);
    for (Index rank = 0; rank < mesh.world_size(); ++rank) {
      const Coord coord = mesh.coordinate_unchecked(rank);
      const Box box = layout->index_sets_at(coord);
      for (std::size_t d = 0; d < 2; ++d) {
        ASSERT_EQ(tables[d].at(coord), box[d]) << text << " rank " << rank << " dim " << d;
        // member_holding finds this rank's combination for every index it holds, and nothing else does.
        for (const Interval& interval : box[d].intervals()) {
          for (Index i = interval.begin; i < interval.end; ++i) {
            ASSERT_EQ(tables[d].member_holding(i), tables[d].splitters.index_of(coord)) << text;
          }
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 5000);
}

// for_each_projected visits the combinations in for_each's order and keeps every part's index equal to its
// index_of, with the strides of parts that skip axes (and of the empty part, always 0).
TEST(AxisSubset, ForEachProjectedKeepsEveryPartsIndex) {
  const AxisSizes shape{2, 3, 1, 4};
  const AxisSubset walk(shape, AxisList{0, 1, 3});
  const AxisSubset parts[] = {AxisSubset(shape, AxisList{3}), AxisSubset(shape, AxisList{0}),
                              AxisSubset(shape, AxisList{0, 3}), AxisSubset(shape, AxisList{1, 3}), AxisSubset()};
  const AxisSubset* pointers[] = {&parts[0], &parts[1], &parts[2], &parts[3], &parts[4]};
  std::vector<Coord> coords;
  walk.for_each(Coord(4, 0), [&](Index, const Coord& coord) { coords.push_back(coord); });
  std::size_t visited = 0;
  walk.for_each_projected(pointers, 5, [&](const Index* indices) {
    ASSERT_LT(visited, coords.size());
    for (std::size_t j = 0; j < 5; ++j) EXPECT_EQ(indices[j], parts[j].index_of(coords[visited])) << visited << " " << j;
    ++visited;
  });
  EXPECT_EQ(visited, 24U);
  EXPECT_EQ(parts[2].stride(0), 4);
  EXPECT_EQ(parts[2].stride(3), 1);
  EXPECT_EQ(parts[2].stride(1), 0);
}

}  // namespace
}  // namespace shardplan
