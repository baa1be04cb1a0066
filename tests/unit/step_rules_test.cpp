// The planner's step rules (redistribution/detail/step_rules.hpp), asked directly: which kind a step is, whether it
// is legal, and the exact bytes its busiest rank receives and sends, per rank where asked. The search, the merging
// and the rebuild all read these answers; the planner tests check the plans they lead to.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "shardplan/redistribution/detail/step_rules.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

using redistribution_detail::PerRank;
using redistribution_detail::StepRules;

constexpr Index kF32 = 4;

Placements placements(std::string_view text) { return parse_placements(text).value(); }

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
  PerRank received(4, -1);
  ASSERT_TRUE(rules.permute(placements("S(0),S(1)"), placements("S(1),S(0)"), step, &received));
  EXPECT_EQ(step.op, StepOp::permute);
  EXPECT_EQ(step.mesh_dims, (AxisList{0, 1}));
  EXPECT_EQ(step.tensor_dims, (StaticVector<Index, 2>{0, 1}));
  // Ranks (0,1) and (1,0) swap their 4x4 blocks; (0,0) and (1,1) keep theirs.
  EXPECT_EQ(step.bytes_received, 16 * kF32);
  EXPECT_EQ(step.bytes_sent, 16 * kF32);
  EXPECT_EQ(received, (PerRank{0, 16, 16, 0}));
  EXPECT_EQ(step.time_us, CostModel::time_us(rules.costs().group(step.mesh_dims), 1, 16 * kF32) +
                              rules.costs().launch_us());
}

TEST(StepRules, MoveIsAGatherASliceOrAnAllToAll) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  PerRank received(4, -1);
  ASSERT_TRUE(rules.move(placements("S(0),R"), placements("R,R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_gather);
  EXPECT_EQ(step.bytes_received, 32 * kF32);  // the other half of the rows
  EXPECT_EQ(step.bytes_sent, 32 * kF32);      // a ring forwards what it receives
  EXPECT_EQ(received, (PerRank{32, 32, 32, 32}));

  ASSERT_TRUE(rules.move(placements("R,R"), placements("S(0),R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::local_slice);
  EXPECT_EQ(step.bytes_received, 0);
  EXPECT_EQ(step.time_us, 0);
  EXPECT_EQ(received, (PerRank{0, 0, 0, 0}));

  // Rows [0,4) -> columns [0,4): keep the 4x4 corner, receive 16 elements, send the 16 it no longer holds.
  ASSERT_TRUE(rules.move(placements("S(0),R"), placements("S(1),R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_to_all);
  EXPECT_EQ(step.tensor_dims, (StaticVector<Index, 2>{0, 1}));
  EXPECT_EQ(step.bytes_received, 16 * kF32);
  EXPECT_EQ(step.bytes_sent, 16 * kF32);
  EXPECT_EQ(received, (PerRank{16, 16, 16, 16}));

  // Not where the data is: axis 1's members hold the same rows, so no move on axis 1 gives the other rows.
  EXPECT_FALSE(rules.move(placements("S(0),R"), placements("R,R"), AxisList{1}, step));
}

TEST(StepRules, ReductionsFollowTheRingFigures) {
  StepRules rules = rules_for_8x8();
  PlanStep step;
  PerRank received(4, -1);
  ASSERT_TRUE(rules.reduction(placements("P(sum),R"), placements("R,R"), AxisList{0}, step, &received));
  EXPECT_EQ(step.op, StepOp::all_reduce);
  EXPECT_EQ(step.reduce_op, ReduceOp::sum);
  EXPECT_EQ(step.bytes_received, 64 * kF32);  // 2(k-1)/k x 64 elements, k = 2
  EXPECT_EQ(received, (PerRank{64, 64, 64, 64}));

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

}  // namespace
}  // namespace shardplan
