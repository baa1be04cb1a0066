// shardplan/fmt.hpp: fmt::format prints exactly the library's to_string text for every value type, with string
// format specs, and the unbounded types (interval sets, plans) print whole where to_string would cut at its capacity.
// Built only when {fmt} is found (its own executable, linked with fmt::fmt).
#include "shardplan/fmt.hpp"

#include <fmt/ranges.h>  // the formatters must win over fmt's range formatter for Shape and Placements
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

Layout make_layout(const Shape& shape, std::string_view mesh, std::string_view placements) {
  return Layout::create(shape, parse_mesh(mesh).value(), parse_placements(placements).value()).value();
}

TEST(Fmt, ShapeIsShapeText) {
  const Shape shape{39, 2};
  EXPECT_EQ(fmt::format("{}", shape), "[39, 2]");
  EXPECT_EQ(fmt::format("{}", shape), shape_text(shape).view());
  EXPECT_EQ(fmt::format("{}", Shape{}), "[]");
}

TEST(Fmt, Mesh) {
  const Mesh mesh = parse_mesh("dp=4,tp=2").value();
  EXPECT_EQ(fmt::format("{}", mesh), mesh.to_string().view());
  EXPECT_EQ(fmt::format("{}", mesh), "(dp=4,tp=2)");
  const Mesh ordered = parse_mesh("4,2 <=[2,4]T(1,0)").value();
  EXPECT_EQ(fmt::format("{}", ordered), ordered.to_string().view());
  EXPECT_EQ(fmt::format("{}", ordered), "(4,2) <=[2,4]T(1,0)");
}

TEST(Fmt, PlacementAndPlacements) {
  const Placements placements = parse_placements("S(0),_S(0,2),P(max),R").value();
  EXPECT_EQ(fmt::format("{}", placements), "S(0),_S(0,2),P(max),R");
  EXPECT_EQ(fmt::format("{}", placements), to_string(placements).view());
  EXPECT_EQ(fmt::format("{}", placements[1]), "_S(0,2)");
  EXPECT_EQ(fmt::format("{}", placements[2]), placements[2].to_string().view());
  EXPECT_EQ(fmt::format("{}", Placement::replicate()), "R");
}

TEST(Fmt, FormatSpecsApply) {
  EXPECT_EQ(fmt::format("[{:>8}]", Placement::shard(1)), "[    S(1)]");
  EXPECT_EQ(fmt::format("[{:*<9}]", Shape{2, 3}), "[[2, 3]***]");
  EXPECT_EQ(fmt::format("[{:^10}]", ErrorCode::overflow), "[ overflow ]");
}

TEST(Fmt, LayoutIsTheShardsHeadline) {
  const Layout layout = make_layout(Shape{10}, "2,2", "S(0),_S(0,2)");
  EXPECT_EQ(fmt::format("{}", layout), "shape (10)  mesh (2,2)  placements S(0),_S(0,2)  policy chunk");
  EXPECT_EQ(fmt::format("{}", layout), to_string(layout).view());
  const Layout even =
      Layout::create(Shape{8, 4, 2}, parse_mesh("tp=2").value(), parse_placements("S(1)").value(), SplitPolicy::even)
          .value();
  EXPECT_EQ(fmt::format("{}", even), "shape (8,4,2)  mesh (tp=2)  placements S(1)  policy even");
  EXPECT_EQ(fmt::format("{}", even), to_string(even).view());
}

TEST(Fmt, IntervalSet) {
  const IntervalSet set = IntervalSet::from_indices(std::vector<Index>{0, 1, 3, 8, 9, 10});
  EXPECT_EQ(fmt::format("{}", set), "[0,2)U[3,4)U[8,11)");
  EXPECT_EQ(fmt::format("{}", set), to_string(set).view());
  EXPECT_EQ(fmt::format("{}", IntervalSet{}), "{}");
  EXPECT_EQ(to_string(IntervalSet{}).view(), "{}");
}

TEST(Fmt, IntervalSetLongerThanToStringPrintsWhole) {
  std::vector<Index> every_other;
  for (Index i = 0; i < 400; i += 2) every_other.push_back(i);
  const IntervalSet set = IntervalSet::from_indices(every_other);
  std::string expected;
  for (Index i = 0; i < 400; i += 2) expected += (i > 0 ? "U[" : "[") + std::to_string(i) + "," + std::to_string(i + 1) + ")";
  EXPECT_EQ(fmt::format("{}", set), expected);
  const auto cut = to_string(set);
  EXPECT_EQ(cut.size(), 512u);
  EXPECT_EQ(std::string(cut.view()), expected.substr(0, 509) + "...");
}

TEST(Fmt, BoxIsToString) {
  // A rank's sets, dims joined by x: rank 1 of S(0) on 2 ranks holds rows [2,4) of an (4, 4) tensor.
  const Layout layout = make_layout(Shape{4, 4}, "2", "S(0)");
  const Box box = layout.index_sets(1).value();
  EXPECT_EQ(fmt::format("{}", box), "[2,4)x[0,4)");
  EXPECT_EQ(fmt::format("{}", box), to_string(box).view());
  EXPECT_EQ(fmt::format("{:>13}", box), "  [2,4)x[0,4)");
  const Box runs{IntervalSet::from_indices(std::vector<Index>{0, 1, 4, 5}), IntervalSet::range(0, 3)};
  EXPECT_EQ(fmt::format("{}", runs), "[0,2)U[4,6)x[0,3)");
  EXPECT_EQ(fmt::format("{}", runs), to_string(runs).view());
  EXPECT_EQ(fmt::format("{}", Box{IntervalSet::range(0, 2), IntervalSet{}}), "[0,2)x{}");
  EXPECT_EQ(fmt::format("{}", Box{}), "()");
  EXPECT_EQ(to_string(Box{}).view(), "()");
  static_assert(to_string(Box{IntervalSet::range(0, 2), IntervalSet::range(0, 4)}).view() == "[0,2)x[0,4)");
}

TEST(Fmt, BoxLongerThanToStringPrintsWhole) {
  std::vector<Index> every_other;
  for (Index i = 0; i < 200; i += 2) every_other.push_back(i);
  const Box box{IntervalSet::from_indices(every_other), IntervalSet::range(0, 1)};
  std::string expected;
  for (Index i = 0; i < 200; i += 2) expected += (i > 0 ? "U[" : "[") + std::to_string(i) + "," + std::to_string(i + 1) + ")";
  expected += "x[0,1)";
  EXPECT_EQ(fmt::format("{}", box), expected);
  const auto cut = to_string(box);
  EXPECT_EQ(cut.size(), 512u);
  EXPECT_EQ(std::string(cut.view()), expected.substr(0, 509) + "...");
}

TEST(Fmt, ErrorAndErrorCode) {
  const Error error = make_error(ErrorCode::not_divisible, "placements[0]") << "13 % 4 != 0";
  EXPECT_EQ(fmt::format("{}", error), "placements[0]: 13 % 4 != 0");
  EXPECT_EQ(fmt::format("{}", error), error.text().view());
  EXPECT_EQ(fmt::format("{}", error.code), "not_divisible");
  EXPECT_EQ(fmt::format("{}", ErrorCode::internal_error), "internal_error");
  const auto failed = parse_mesh("4,x");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(fmt::format("{}", failed.error()), failed.error().what());
}

TEST(Fmt, Enums) {
  EXPECT_EQ(fmt::format("{} {} {}", ReduceOp::avg, SplitPolicy::balanced, StepOp::reduce_scatter),
            "avg balanced reduce_scatter");
}

TEST(Fmt, PlanAndSteps) {
  const Layout from = make_layout(Shape{16, 8}, "4,2", "P,S(0)");
  const Layout to = make_layout(Shape{16, 8}, "4,2", "S(1),R");
  const RedistributionPlan plan = plan_redistribution(from, to, 2).value();
  // 16x8 bf16: a rank holds 8x8 partial sums (128 bytes); reduce_scatter over the 4 ranks of axis 0 leaves 8x2
  // (32 bytes) and receives 3 x 32; the all_gather over axis 1 receives the other 32.
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(fmt::format("{}", plan.steps[0]),
            "reduce_scatter mesh_dims [0] tensor_dims [1] reduce sum -> S(1),S(0) (received 96, sent 96)");
  EXPECT_EQ(fmt::format("{}", plan.steps[0]), to_string(plan.steps[0]).view());
  EXPECT_EQ(fmt::format("{}", plan.steps[1]), "all_gather mesh_dims [1] tensor_dims [0] -> S(1),R (received 32, sent 32)");
  EXPECT_EQ(fmt::format("{}", plan.steps[1]), to_string(plan.steps[1]).view());
  EXPECT_EQ(fmt::format("{}", plan),
            "P(sum),S(0) -> S(1),R in 2 steps (128 bytes per rank, lower bound 128): "
            "reduce_scatter mesh_dims [0] tensor_dims [1] reduce sum -> S(1),S(0) (received 96, sent 96); "
            "all_gather mesh_dims [1] tensor_dims [0] -> S(1),R (received 32, sent 32)");
  EXPECT_EQ(fmt::format("{}", plan), to_string(plan).view());
}

TEST(Fmt, EmptyPlan) {
  const Layout layout = make_layout(Shape{6}, "2", "S(0)");
  const RedistributionPlan plan = plan_redistribution(layout, layout, 4).value();
  EXPECT_EQ(fmt::format("{}", plan), "S(0) -> S(0) in 0 steps (0 bytes per rank, lower bound 0)");
  EXPECT_EQ(fmt::format("{}", plan), to_string(plan).view());
}

}  // namespace
}  // namespace shardplan
