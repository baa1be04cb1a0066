// The planner's step rules (redistribution/detail/step_rules.hpp), asked directly: which kind a step is, whether it
// is legal, and the exact bytes its busiest rank receives and sends, per rank where asked. The search, the merging
// and the rebuild all read these answers; the planner tests check the plans they lead to.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "shardplan/redistribution/detail/estimate.hpp"
#include "shardplan/redistribution/detail/rank_classes.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"
#include "shardplan/shardplan.hpp"
#include "../support/test_support.hpp"

namespace shardplan {
namespace {

using redistribution_detail::Figures;
using redistribution_detail::PerRank;
using redistribution_detail::PlanEstimate;
using redistribution_detail::RankClasses;
using redistribution_detail::StepRules;
using testing_support::Random;

constexpr Index kF32 = 4;

Placements placements(std::string_view text) { return parse_placements(text).value(); }

/// Per-rank figures over every axis of `mesh`: values indexed by rank.
PerRank every_rank(const Mesh& mesh) { return {AxisSubset::where(mesh.shape(), [](std::size_t) { return true; }), {}}; }

/// Rules for an [8, 8] f32 tensor on a (2, 2) mesh with the default costs.
StepRules rules_for_8x8() {
  const Layout from = Layout::create({8, 8}, Mesh::create(AxisSizes{2, 2}).value(), placements("R,R")).value();
  StepRules rules;
  rules.reset(from, CostModel::create(from.mesh()).value(), kF32);
  return rules;
}

TEST(StepRules, PermuteSwapsTheOffDiagonalBlocks) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  PerRank received = every_rank(rules.mesh());
  ASSERT_TRUE(rules.permute(placements("S(0),S(1)"), placements("S(1),S(0)"), step, &received));
  EXPECT_EQ(step.op, StepOp::permute);
  EXPECT_EQ(step.mesh_dims, (AxisList{0, 1}));
  EXPECT_EQ(step.tensor_dims, (StaticVector<Index, 2>{0, 1}));
  // Ranks (0,1) and (1,0) swap their 4x4 blocks; (0,0) and (1,1) keep theirs.
  EXPECT_EQ(step.bytes_received, 16 * kF32);
  EXPECT_EQ(step.bytes_sent, 16 * kF32);
  EXPECT_EQ(received.values, (std::vector<Index>{0, 16, 16, 0}));
  EXPECT_EQ(step.time_us, CostModel::time_us(rules.costs().group(step.mesh_dims), 1, 16 * kF32) +
                              rules.costs().launch_us());
}

TEST(StepRules, MoveIsAGatherASliceOrAnAllToAll) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  PerRank received = every_rank(rules.mesh());
  ASSERT_TRUE(rules.move(placements("S(0),R"), placements("R,R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_gather);
  EXPECT_EQ(step.bytes_received, 32 * kF32);  // the other half of the rows
  EXPECT_EQ(step.bytes_sent, 32 * kF32);      // a ring forwards what it receives
  EXPECT_EQ(received.values, (std::vector<Index>{32, 32, 32, 32}));

  ASSERT_TRUE(rules.move(placements("R,R"), placements("S(0),R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::local_slice);
  EXPECT_EQ(step.bytes_received, 0);
  EXPECT_EQ(step.time_us, 0);
  EXPECT_EQ(received.values, (std::vector<Index>{0, 0, 0, 0}));

  // Rows [0,4) -> columns [0,4): keep the 4x4 corner, receive 16 elements, send the 16 it no longer holds.
  ASSERT_TRUE(rules.move(placements("S(0),R"), placements("S(1),R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_to_all);
  EXPECT_EQ(step.tensor_dims, (StaticVector<Index, 2>{0, 1}));
  EXPECT_EQ(step.bytes_received, 16 * kF32);
  EXPECT_EQ(step.bytes_sent, 16 * kF32);
  EXPECT_EQ(received.values, (std::vector<Index>{16, 16, 16, 16}));

  // Not where the data is: axis 1's members hold the same rows, so no move on axis 1 gives the other rows.
  EXPECT_FALSE(rules.move(placements("S(0),R"), placements("R,R"), AxisList{1}, step));
}

TEST(StepRules, ReductionsFollowTheRingFigures) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  PerRank received = every_rank(rules.mesh());
  ASSERT_TRUE(rules.reduction(placements("P(sum),R"), placements("R,R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_reduce);
  EXPECT_EQ(step.reduce_op, ReduceOp::sum);
  EXPECT_EQ(step.bytes_received, 64 * kF32);  // 2(k-1)/k x 64 elements, k = 2
  EXPECT_EQ(received.values, (std::vector<Index>{64, 64, 64, 64}));

  ASSERT_TRUE(rules.reduction(placements("P(max),R"), placements("S(1),R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::reduce_scatter);
  EXPECT_EQ(step.reduce_op, ReduceOp::max);
  EXPECT_EQ(step.bytes_received, 32 * kF32);  // (k-1) x its 32-element piece
  EXPECT_EQ(step.bytes_sent, 32 * kF32);

  EXPECT_FALSE(rules.reduction(placements("S(0),R"), placements("R,R"), AxisList{0}, step));  // nothing Partial
  EXPECT_FALSE(rules.reduction(placements("P(sum),R"), placements("P(sum),R"), AxisList{0}, step));
}

TEST(StepRules, PartitionOnlyTurnsReplicateIntoOnePartial) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  ASSERT_TRUE(rules.partition(placements("R,S(0)"), placements("P(avg),S(0)"), AxisList{0}, step));
  EXPECT_EQ(step.op, StepOp::local_partition);
  EXPECT_EQ(step.reduce_op, ReduceOp::avg);
  EXPECT_EQ(step.bytes_received, 0);
  ASSERT_TRUE(rules.partition(placements("R,R"), placements("P(sum),P(sum)"), AxisList{0, 1}, step));
  EXPECT_EQ(step.mesh_dims, (AxisList{0, 1}));
  EXPECT_FALSE(rules.partition(placements("S(0),R"), placements("P(sum),R"), AxisList{0}, step));  // not R
  EXPECT_FALSE(rules.partition(placements("R,R"), placements("P(sum),S(0)"), AxisList{0}, step));  // axis 1 moves
  EXPECT_FALSE(rules.partition(placements("R,P(max)"), placements("P(sum),P(max)"), AxisList{0}, step));  // mixed
}

TEST(StepRules, ApplyRefusesAStepOfAnotherKind) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  EXPECT_TRUE(rules.apply(StepOp::all_gather, placements("S(0),R"), placements("R,R"), AxisList{0}, step));
  EXPECT_FALSE(rules.apply(StepOp::all_to_all, placements("S(0),R"), placements("R,R"), AxisList{0}, step));
  EXPECT_FALSE(rules.apply(StepOp::reduce_scatter, placements("P(sum),R"), placements("R,R"), AxisList{0}, step));
  // A permute's axes are those on which ranks trade: asked on other axes, it is not that step.
  EXPECT_TRUE(rules.apply(StepOp::permute, placements("S(0),S(1)"), placements("S(1),S(0)"), AxisList{0, 1}, step));
  EXPECT_FALSE(rules.apply(StepOp::permute, placements("S(0),S(1)"), placements("S(1),S(0)"), AxisList{0}, step));
}

// ---- rank classes and the estimate, on random cases -------------------------------------------------------------

Mesh random_mesh(Random& random) {
  AxisSizes sizes;
  const Index axes = random.uniform(1, 4);
  for (Index i = 0; i < axes; ++i) sizes.push_back(random.uniform(1, 4));
  return Mesh::create(sizes).value();
}

/// 1 to 3 dims of 1 to `largest` elements.
Shape random_shape(Random& random, Index largest) {
  Shape shape;
  const std::size_t ndim = random.index(3) + 1;
  for (std::size_t d = 0; d < ndim; ++d) shape.push_back(random.uniform(1, largest));
  return shape;
}

/// `[8, 3] S(0),R -> R,S(1) on (2,2)`, for failure messages.
std::string describe(const Shape& shape, const Placements& from, const Placements& to, const Mesh& mesh) {
  std::string text(shape_text(shape).view());
  text += ' ';
  text += to_string(from).view();
  text += " -> ";
  text += to_string(to).view();
  text += " on ";
  text += mesh.to_string().view();
  return text;
}

/// Plain placements (S in mesh order, R, P(sum)), valid under the chunk policy for any shape.
Placements random_plain_placements(Random& random, const Mesh& mesh, std::size_t ndim, bool partial) {
  Placements out;
  for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
    const Index roll = random.uniform(0, 99);
    if (roll < 60) {
      out.push_back(Placement::shard(static_cast<Index>(random.index(ndim))));
    } else {
      out.push_back(partial && roll >= 85 ? Placement::partial() : Placement::replicate());
    }
  }
  return out;
}

/// A request's mesh, shape and endpoints: a source that may have Partial axes, a target without.
struct RandomRequest {
  Mesh mesh;
  Shape shape;
  Placements source;
  Placements target;
};

RandomRequest random_request(Random& random, Index largest) {
  RandomRequest request;
  request.mesh = random_mesh(random);
  request.shape = random_shape(random, largest);
  request.source = random_plain_placements(random, request.mesh, request.shape.size(), true);
  request.target = random_plain_placements(random, request.mesh, request.shape.size(), false);
  return request;
}

// The distinct products of per-dim figures are exactly the per-rank products a walk over every rank finds, whether
// the dims' axes overlap (one component) or not.
TEST(RankClasses, DistinctProductsAreEveryRanksProducts) {
  Random random(20261207);
  RankClasses<3> classes;
  for (int trial = 0; trial < 2000; ++trial) {
    const Mesh mesh = random_mesh(random);
    const std::size_t ndim = random.index(4) + 1;
    // Per dim, two subsets of axes (as the step rules pass: the new splitters and the union) and random figures.
    std::vector<AxisSubset> parts;
    std::vector<std::vector<Figures<3>>> values;
    for (std::size_t d = 0; d < ndim; ++d) {
      for (int j = 0; j < 2; ++j) {
        const AxisSubset part = AxisSubset::where(mesh.shape(), [&](std::size_t) { return random.percent(30); });
        parts.push_back(part);
        values.emplace_back();
        for (Index i = 0; i < part.size(); ++i) {
          values.back().push_back({random.uniform(0, 3), random.uniform(0, 2), random.uniform(1, 2)});
        }
      }
    }
    std::vector<const AxisSubset*> pointers;
    for (const AxisSubset& part : parts) pointers.push_back(&part);
    const auto figures_of = [&](std::size_t d, const Index* index) {
      Figures<3> product{1, 1, 1};
      for (std::size_t j = 0; j < 2; ++j) {
        const Figures<3>& f = values[2 * d + j][static_cast<std::size_t>(index[j])];
        for (std::size_t k = 0; k < 3; ++k) product[k] *= f[k];
      }
      return product;
    };
    std::set<Figures<3>> visited;
    std::size_t visits = 0;
    classes.for_each<2>(mesh.shape(), ndim, pointers.data(), figures_of, [&](const Figures<3>& f) {
      visited.insert(f);
      ++visits;
    });
    std::set<Figures<3>> expected;
    for (Index rank = 0; rank < mesh.world_size(); ++rank) {
      const Coord coord = mesh.coordinate_unchecked(rank);
      Figures<3> product{1, 1, 1};
      for (std::size_t d = 0; d < ndim; ++d) {
        const Index index[2] = {parts[2 * d].index_of(coord), parts[2 * d + 1].index_of(coord)};
        const Figures<3> f = figures_of(d, index);
        for (std::size_t k = 0; k < 3; ++k) product[k] *= f[k];
      }
      expected.insert(product);
    }
    // Products of distinct choices may coincide; every visited product is some rank's and every rank's is visited.
    ASSERT_EQ(visited, expected) << "trial " << trial << " mesh " << mesh.to_string().view();
    EXPECT_LE(visits, static_cast<std::size_t>(mesh.world_size()));
  }
}

// The busiest receiver and the most given up, by rank classes (what the search reads) and by a walk over every
// rank (what the plan's rebuild reads), agree on random moves.
TEST(StepRules, MissingByClassesAgreesWithTheWalkOverRanks) {
  Random random(7);
  for (int trial = 0; trial < 1500; ++trial) {
    const Mesh mesh = random_mesh(random);
    const Shape shape = random_shape(random, 13);
    const std::size_t ndim = shape.size();
    const Placements before = random_plain_placements(random, mesh, ndim, false);
    const Placements after = random_plain_placements(random, mesh, ndim, false);
    const Layout from = Layout::create(shape, mesh, before).value();
    StepRules rules;
    rules.reset(from, CostModel::create(mesh).value(), kF32);
    const auto old_tables = rules.tables(before);
    const auto new_tables = rules.tables(after);
    Index given_up_by_classes = -1;
    const Index by_classes = rules.missing(old_tables, new_tables, 0, nullptr, &given_up_by_classes);
    PerRank per_rank = every_rank(mesh);
    Index given_up_by_ranks = -1;
    const Index by_ranks = rules.missing(old_tables, new_tables, 0, &per_rank, &given_up_by_ranks);
    const std::string context = describe(shape, before, after, mesh);
    ASSERT_EQ(by_classes, by_ranks) << context;
    ASSERT_EQ(given_up_by_classes, given_up_by_ranks) << context;
  }
}

// A permute weighed over the combinations of its splitting axes (what the search does) is the permute weighed over
// every rank: same legality, same axes, same figures. 6,000 random pairs on meshes with Replicate and Partial axes
// that split nothing, random (even and uneven) shapes.
TEST(StepRules, PermuteOverTheSplittingAxesAgreesWithTheWalkOverRanks) {
  Random random(11);
  int legal = 0;
  for (int trial = 0; trial < 6000; ++trial) {
    const auto [mesh, shape, before, target] = random_request(random, 13);
    Placements after = target;
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
      if (before[axis].is_partial()) after[axis] = before[axis];  // a permute keeps Partial axes
    }
    StepRules rules;
    rules.reset(Layout::create(shape, mesh, before).value(), CostModel::create(mesh).value(), kF32);
    PlanStep by_walk;
    PlanStep by_ranks;
    PerRank per_rank = every_rank(mesh);
    const bool walked = rules.permute(before, after, by_walk);
    const std::string context = describe(shape, before, after, mesh);
    ASSERT_EQ(walked, rules.permute(before, after, by_ranks, &per_rank)) << context;
    if (!walked) continue;
    ++legal;
    ASSERT_EQ(by_walk.mesh_dims, by_ranks.mesh_dims) << context;
    ASSERT_EQ(by_walk.bytes_received, by_ranks.bytes_received) << context;
    ASSERT_EQ(by_walk.time_us, by_ranks.time_us) << context;
  }
  EXPECT_GT(legal, 150);
}

// A plan's totals (bytes per rank, peak bytes), which the planner walks over the combinations of the axes that split
// a dim in some state of the plan, are the maxima of every rank's own sums.
TEST(StepRules, PlanTotalsAreEveryRanksTotals) {
  Random random(12);
  for (int trial = 0; trial < 800; ++trial) {
    const auto [mesh, shape, source, target] = random_request(random, 13);
    const Layout from = Layout::create(shape, mesh, source).value();
    const Layout to = Layout::create(shape, mesh, target).value();
    const CostModel costs = CostModel::create(mesh).value();
    const RedistributionPlan plan = plan_redistribution(from, to, costs, kF32).value();
    StepRules rules;
    rules.reset(from, costs, kF32);
    std::vector<Index> total(static_cast<std::size_t>(mesh.world_size()), 0);
    Index peak = 0;
    for (Index rank = 0; rank < mesh.world_size(); ++rank) {
      peak = std::max(peak, numel(from.local_box(rank).value().local_shape));
    }
    PerRank received = every_rank(mesh);
    for (std::size_t s = 0; s < plan.steps.size(); ++s) {
      const PlanStep& step = plan.steps[s];
      const Layout& before = plan.before(s);
      PlanStep again;
      ASSERT_TRUE(
          rules.apply(step.op, before.placements(), step.after.placements(), step.mesh_dims, again, &received));
      for (Index rank = 0; rank < mesh.world_size(); ++rank) {
        total[static_cast<std::size_t>(rank)] += received.values[static_cast<std::size_t>(rank)];
        const Index held = numel(before.local_box(rank).value().local_shape);
        peak = std::max(peak, held + numel(step.after.local_box(rank).value().local_shape));
      }
    }
    const std::string context = describe(shape, source, target, mesh);
    EXPECT_EQ(plan.bytes_per_rank, *std::max_element(total.begin(), total.end()) * kF32) << context;
    EXPECT_EQ(plan.peak_bytes, peak * kF32) << context;
  }
}

// The search's estimate never exceeds the cost still ahead on an optimal plan, at every state of it, under random
// costs (slow and fast axes, latencies, launch costs): what makes A*'s plans the least.
TEST(PlanEstimate, NeverAboveTheCostAheadOnOptimalPlans) {
  Random random(42);
  int checked = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const auto [mesh, shape, source, target] = random_request(random, 64);
    CostModel costs = CostModel::create(mesh, random.uniform(1, 8)).value();
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
      if (random.percent(50)) continue;
      ASSERT_TRUE(costs.set_axis(axis, AxisCost{0.1 * static_cast<double>(random.uniform(1, 40)),
                                                static_cast<double>(random.uniform(1, 100))}));
    }
    if (random.percent(30)) {
      ASSERT_TRUE(costs.set_launch_us(0.1 * static_cast<double>(random.uniform(0, 30))));
    }
    const Layout from = Layout::create(shape, mesh, source).value();
    const Layout to = Layout::create(shape, mesh, target).value();
    const Index element_size = random.uniform(1, 4);
    const RedistributionPlan plan = plan_redistribution(from, to, costs, element_size).value();
    if (!plan.optimal) continue;
    ++checked;
    StepRules rules;
    rules.reset(from, costs, element_size);
    PlanEstimate estimate;
    estimate.reset(rules, to.placements());
    double ahead = plan.time_us;
    const std::string context = describe(shape, source, target, mesh);
    ASSERT_LE(estimate(rules, source), ahead * (1 + 1e-9) + 1e-9) << context;
    for (const PlanStep& step : plan.steps) {
      ahead -= step.time_us;
      ASSERT_LE(estimate(rules, step.after.placements()), ahead * (1 + 1e-9) + 1e-9)
          << context << " after " << to_string(step.op) << " to " << to_string(step.after.placements()).view();
    }
    EXPECT_EQ(estimate(rules, target), 0) << context;
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace shardplan
