// The redistribution planner against PyTorch DTensor's greedy redistribute planner (2.5-era
// `_gen_transform_infos_non_cached` in torch/distributed/tensor/_redistribute.py), emulated here for plain
// placements (R, S(d), P(sum)). The emulator is checked on hand-worked cases; then, over every pair of placement
// lists on a (2,2,2) mesh and samples on (4,2,2) and (2,4,2) with an uneven tensor, each of our plans replays
// exactly and is compared with PyTorch's: number of collectives, bytes the busiest rank receives, modelled time.
//
// Accounting (the same as RedistributionPlan::bytes_per_rank, so the comparison is apples to apples): each rank's
// received elements are summed over the steps and the busiest rank counts. On mesh dim i of size k, per rank:
//   all_gather, all_to_all  |new box| - |new box ∩ old box|
//   reduce_scatter          (k-1) |new box|
//   all_reduce              ceil(2(k-1) n / k), n = |box|
//   local chunk / partition 0
// PyTorch's modelled time is the planner's model applied to its steps: hops x alpha + busiest bytes / bandwidth,
// with k-1 hops (2(k-1) for all_reduce) on the step's mesh dim.
//
// What holds, set by set (each test names its set and its property): our modelled time is never above PyTorch's,
// on every pair. At most PyTorch's collectives AND bytes: every (2,2,2) pair with a sharded source (4,032 pairs).
// At most its bytes but not its collectives: the (2,2,2) pairs with a P(sum) source (3,072; 468 use more
// collectives, each an all_reduce run as reduce_scatter + all_gather apart or a permute of finely split data gathered
// last, both moving fewer bytes, which a launch cost per collective removes). Only the modelled time: the uneven
// 16-rank sample (300; 10 more collectives, 10 more bytes, each for a reason the model gives: fewer latency hops, or
// fewer bytes over the slow inter-host axis).
//
// _S endpoints. PyTorch's greedy planner has no rule for _StridedShard: it treats `_S(d,k)` -> `S(d)` on one mesh
// dim as nothing to do (both shard dim d), and its newer graph planner raises on _S lists it cannot turn into a
// shard order. Frameworks therefore go through Replicate (Hugging Face's TP code replicates before converting). The
// emulated route: gather every _S axis (and the shards nested under it on later axes) to Replicate, run the greedy
// planner between the two _S-free lists, then slice the target's _S axes locally. Our plans are compared with
// that route below (their own set each).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

using testing_support::Random;
using testing_support::describe;

// ---- the emulator -------------------------------------------------------------------------------------------

/// One `_TransformInfo`: mesh dim `mesh_dim` goes from `from` to `to`.
struct TorchTransform {
  std::size_t mesh_dim = 0;
  Placement from;
  Placement to;
  friend bool operator==(const TorchTransform&, const TorchTransform&) = default;
};

/// `_gen_transform_infos_non_cached` for plain placements.
std::vector<TorchTransform> torch_transform_infos(const Mesh& mesh, const Placements& src, const Placements& dst) {
  std::vector<TorchTransform> infos;
  if (mesh.ndim() == 1) {
    infos.push_back({0, src[0], dst[0]});
    return infos;
  }
  Placements current = src;
  const Placements& target = dst;
  Index num_shards = 1;
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (src[i].is_shard()) num_shards *= mesh.size(i);
  }
  if (num_shards > 1) {
    // Inner to outer: replicate first any mesh dim whose target Shard(d) is nested under a different sharding of d
    // on the mesh dims before it.
    for (std::size_t mesh_dim = src.size(); mesh_dim-- > 0;) {
      Placement tgt = target[mesh_dim];
      if (tgt.is_shard()) {
        std::vector<std::size_t> current_sharding;
        std::vector<std::size_t> target_sharding;
        for (std::size_t i = 0; i < mesh_dim; ++i) {
          if (current[i].is_shard() && current[i].dim == tgt.dim) current_sharding.push_back(i);
          if (target[i].is_shard() && target[i].dim == tgt.dim) target_sharding.push_back(i);
        }
        if (current_sharding != target_sharding) tgt = Placement::replicate();
      }
      if (!(current[mesh_dim] == tgt)) {
        infos.push_back({mesh_dim, current[mesh_dim], tgt});
        current[mesh_dim] = tgt;
      }
    }
  }
  // Outer to inner: whatever is left.
  for (std::size_t mesh_dim = 0; mesh_dim < src.size(); ++mesh_dim) {
    if (!(current[mesh_dim] == target[mesh_dim])) {
      infos.push_back({mesh_dim, current[mesh_dim], target[mesh_dim]});
      current[mesh_dim] = target[mesh_dim];
    }
  }
  return infos;
}

/// `placements` with every _S axis, and every later axis sharding the same dim (nested under it), replaced by
/// Replicate: the _S-free list a route through Replicate passes.
Placements without_strided(const Placements& placements) {
  Placements out = placements;
  for (std::size_t axis = 0; axis < out.size(); ++axis) {
    if (!placements[axis].is_strided()) continue;
    for (std::size_t later = axis; later < out.size(); ++later) {
      if (placements[later].is_shard() && placements[later].dim == placements[axis].dim) {
        out[later] = Placement::replicate();
      }
    }
  }
  return out;
}

bool has_strided(const Placements& placements) {
  for (const Placement& p : placements) {
    if (p.is_strided()) return true;
  }
  return false;
}

/// PyTorch's transforms from `src` to `dst`: the greedy planner's for plain lists; for _S endpoints the route
/// through Replicate (see the top of this file), three greedy legs src -> A -> B -> dst with A and B _S-free.
std::vector<TorchTransform> torch_transforms(const Mesh& mesh, const Placements& src, const Placements& dst) {
  if (!has_strided(src) && !has_strided(dst)) return torch_transform_infos(mesh, src, dst);
  const Placements a = without_strided(src);
  const Placements b = without_strided(dst);
  std::vector<TorchTransform> route;
  for (const auto& [from, to] : {std::pair{src, a}, std::pair{a, b}, std::pair{b, dst}}) {
    if (from == to) continue;
    for (const TorchTransform& t : torch_transform_infos(mesh, from, to)) route.push_back(t);
  }
  return route;
}

/// What `redistribute_local_tensor` runs for one transform.
StepOp torch_op(const Placement& from, const Placement& to) {
  if (to.is_replicate()) return from.is_partial() ? StepOp::all_reduce : StepOp::all_gather;
  if (to.is_shard()) {
    if (from.is_partial()) return StepOp::reduce_scatter;
    return from.is_replicate() ? StepOp::local_slice : StepOp::all_to_all;
  }
  return StepOp::local_partition;  // R -> P (PyTorch refuses S -> P; no case here asks for it)
}

[[nodiscard]] Index box_overlap(const Box& a, const Box& b) {
  Index product = 1;
  for (std::size_t d = 0; d < a.ndim(); ++d) product *= intersection_size(a[d], b[d]);
  return product;
}

/// PyTorch's plan, as a RedistributionPlan (so the executor can replay it) with our accounting.
struct TorchPlan {
  std::vector<TorchTransform> transforms;
  RedistributionPlan plan;
  Index collectives = 0;
  /// Every step is what it claims under the composition semantics, for every rank: a local chunk or a reduction
  /// keeps a part of the rank's own box; an all_to_all's new box lies inside the union of its group's old boxes; an
  /// all_gather's is that union. (What the executor's replay relies on, checked without running it.)
  bool steps_legal = true;
};

/// Whether the step `op` on mesh dim `axis` from `before` to `after` is legal for `rank` (see TorchPlan).
bool legal_for_rank(StepOp op, const Layout& before, const Layout& after, std::size_t axis, Index rank) {
  const Box new_box = after.index_sets(rank).value();
  const Index wanted = new_box.numel();
  if (is_local(op) || is_reduction(op)) return box_overlap(new_box, before.index_sets(rank).value()) == wanted;
  // Members' old boxes are disjoint or equal: count each distinct one once.
  std::vector<Box> seen;
  Index covered = 0;
  Index union_size = 0;
  for (Index member : before.mesh().group(rank, axis).value()) {
    Box old_box = before.index_sets(member).value();
    bool repeat = false;
    for (const Box& other : seen) repeat = repeat || other == old_box;
    if (repeat) continue;
    covered += box_overlap(new_box, old_box);
    union_size += old_box.numel();
    seen.push_back(std::move(old_box));
  }
  return covered == wanted && (op != StepOp::all_gather || union_size == wanted);
}

TorchPlan torch_plan(const Layout& from, const Layout& to, const CostModel& costs, Index element_size) {
  TorchPlan out;
  out.transforms = torch_transforms(from.mesh(), from.placements(), to.placements());
  RedistributionPlan& plan = out.plan;
  plan.from = from;
  plan.to = to;
  plan.element_size = element_size;
  const Mesh& mesh = from.mesh();
  std::vector<Index> total(static_cast<std::size_t>(mesh.world_size()), 0);
  Placements current = from.placements();
  for (const TorchTransform& t : out.transforms) {
    const Layout before = Layout::create(from.shape(), mesh, current, from.policy()).value();
    current[t.mesh_dim] = t.to;
    PlanStep step;
    step.op = torch_op(t.from, t.to);
    step.mesh_dims = AxisList{t.mesh_dim};
    step.reduce_op = t.from.is_partial() ? t.from.op : t.to.op;
    step.after = Layout::create(from.shape(), mesh, current, from.policy()).value();
    const Index k = mesh.size(t.mesh_dim);
    Index busiest = 0;
    for (Index rank = 0; rank < mesh.world_size(); ++rank) {
      const Box old_box = before.index_sets(rank).value();
      const Box new_box = step.after.index_sets(rank).value();
      out.steps_legal = out.steps_legal && legal_for_rank(step.op, before, step.after, t.mesh_dim, rank);
      Index received = 0;
      switch (step.op) {
        case StepOp::all_gather:
        case StepOp::all_to_all: received = new_box.numel() - box_overlap(new_box, old_box); break;
        case StepOp::reduce_scatter: received = (k - 1) * new_box.numel(); break;
        case StepOp::all_reduce: received = (2 * (k - 1) * new_box.numel() + k - 1) / k; break;
        default: break;
      }
      total[static_cast<std::size_t>(rank)] += received;
      busiest = std::max(busiest, received);
    }
    if (!is_local(step.op)) {
      ++out.collectives;
      const Index step_hops = step.op == StepOp::all_reduce ? 2 * (k - 1) : k - 1;
      step.bytes_received = busiest * element_size;
      step.time_us = CostModel::time_us(costs.axis(t.mesh_dim), step_hops, busiest * element_size) + costs.launch_us();
    }
    plan.time_us += step.time_us;
    plan.steps.push_back(std::move(step));
  }
  for (Index bytes : total) plan.bytes_per_rank = std::max(plan.bytes_per_rank, bytes * element_size);
  return out;
}

Index collectives(const RedistributionPlan& plan) {
  Index count = 0;
  for (const PlanStep& step : plan.steps) count += is_local(step.op) ? 0 : 1;
  return count;
}

// ---- printing -----------------------------------------------------------------------------------------------

std::string describe_pair(const Layout& from, const Layout& to) {
  std::string text = "shape ";
  text += shape_text(from.shape()).view();
  text += " mesh ";
  text += from.mesh().to_string().view();
  text += ' ';
  text += to_string(from.placements()).view();
  text += " -> ";
  text += to_string(to.placements()).view();
  return text;
}

std::string describe_both(const RedistributionPlan& ours, const TorchPlan& torch) {
  std::string text = "\n  ours: ";
  text += std::to_string(collectives(ours));
  text += " collectives, ";
  text += std::to_string(ours.bytes_per_rank);
  text += " B/rank, ";
  text += std::to_string(ours.time_us);
  text += " us";
  text += describe(ours);
  text += "\n  pytorch: ";
  text += std::to_string(torch.collectives);
  text += " collectives, ";
  text += std::to_string(torch.plan.bytes_per_rank);
  text += " B/rank, ";
  text += std::to_string(torch.plan.time_us);
  text += " us";
  text += describe(torch.plan);
  return text;
}

// ---- the emulator on hand-worked cases ------------------------------------------------------------------------

Mesh mesh_of(AxisSizes sizes) { return Mesh::create(sizes).value(); }
Placements list(std::string_view text) { return parse_placements(text).value(); }
Layout layout(const Shape& shape, const Mesh& mesh, std::string_view placements) {
  return Layout::create(shape, mesh, list(placements)).value();
}

TEST(PyTorchGreedyEmulator, NestedShardIsReplicatedInnerFirst) {
  // (S(0), S(0)) -> (R, S(0)) on (2,2). Inner to outer: mesh dim 1 targets S(0), but before it the current list
  // shards dim 0 on mesh dim 0 and the target does not: replicate. Mesh dim 0 targets R. Then outer to inner:
  // mesh dim 1 R -> S(0).
  const Mesh mesh = mesh_of({2, 2});
  const auto infos = torch_transform_infos(mesh, list("S(0),S(0)"), list("R,S(0)"));
  const std::vector<TorchTransform> expected{{1, Placement::shard(0), Placement::replicate()},
                                             {0, Placement::shard(0), Placement::replicate()},
                                             {1, Placement::replicate(), Placement::shard(0)}};
  EXPECT_EQ(infos, expected);
  // [8, 4], 1-byte elements: gather dim 0 on mesh dim 1 (2x4 -> 4x4, 8 received), then on mesh dim 0 (4x4 -> 8x4,
  // 16 received), then keep half locally. Two collectives, 24 bytes per rank.
  const TorchPlan torch = torch_plan(layout({8, 4}, mesh, "S(0),S(0)"), layout({8, 4}, mesh, "R,S(0)"),
                                     CostModel::create(mesh).value(), 1);
  EXPECT_EQ(torch.collectives, 2);
  EXPECT_EQ(torch.plan.bytes_per_rank, 24);
  EXPECT_TRUE(torch.steps_legal);
  EXPECT_TRUE(prove_plan_in_memory(torch.plan));
}

TEST(PyTorchGreedyEmulator, ThreeAxesShardToShard) {
  // (S(0),S(0),S(0)) -> (S(1),S(1),S(1)) on (2,2,2). Mesh dim 2 targets S(1) with (0, 1) sharding dim 1 before it
  // in the target and nothing in the current list: replicate. Mesh dim 1 likewise (0 before it). Mesh dim 0:
  // nothing before it, S(0) -> S(1) directly (all_to_all). Then mesh dims 1 and 2 chunk locally.
  const Mesh mesh = mesh_of({2, 2, 2});
  const auto infos = torch_transform_infos(mesh, list("S(0),S(0),S(0)"), list("S(1),S(1),S(1)"));
  const std::vector<TorchTransform> expected{{2, Placement::shard(0), Placement::replicate()},
                                             {1, Placement::shard(0), Placement::replicate()},
                                             {0, Placement::shard(0), Placement::shard(1)},
                                             {1, Placement::replicate(), Placement::shard(1)},
                                             {2, Placement::replicate(), Placement::shard(1)}};
  EXPECT_EQ(infos, expected);
}

TEST(PyTorchGreedyEmulator, PartialWithoutShardsSkipsTheFirstPass) {
  // No Shard in the source (num_shards == 1): only the outer-to-inner pass. (P, P) -> (R, S(0)): all_reduce on mesh
  // dim 0, reduce_scatter on mesh dim 1.
  const Mesh mesh = mesh_of({2, 2});
  const auto infos = torch_transform_infos(mesh, list("P,P"), list("R,S(0)"));
  const std::vector<TorchTransform> expected{{0, Placement::partial(), Placement::replicate()},
                                             {1, Placement::partial(), Placement::shard(0)}};
  EXPECT_EQ(infos, expected);
  // [8, 4], 1-byte elements: all_reduce of 32 (2(k-1)/k x 32 = 32 received), then reduce_scatter keeping 16
  // ((k-1) x 16 received): 48 bytes per rank.
  const TorchPlan torch =
      torch_plan(layout({8, 4}, mesh, "P,P"), layout({8, 4}, mesh, "R,S(0)"), CostModel::create(mesh).value(), 1);
  EXPECT_EQ(torch.collectives, 2);
  EXPECT_EQ(torch.plan.bytes_per_rank, 48);
  EXPECT_TRUE(prove_plan_in_memory(torch.plan));
  // With a Shard in the source, the first pass runs: (P, S(0)) -> (S(0), R) gathers mesh dim 1, then
  // reduce-scatters mesh dim 0.
  const auto with_shard = torch_transform_infos(mesh, list("P,S(0)"), list("S(0),R"));
  const std::vector<TorchTransform> expected_with_shard{{1, Placement::shard(0), Placement::replicate()},
                                                        {0, Placement::partial(), Placement::shard(0)}};
  EXPECT_EQ(with_shard, expected_with_shard);
}

TEST(PyTorchGreedyEmulator, OneDimensionalMeshIsOneTransform) {
  const auto infos = torch_transform_infos(mesh_of({4}), list("S(0)"), list("S(1)"));
  const std::vector<TorchTransform> expected{{0, Placement::shard(0), Placement::shard(1)}};
  EXPECT_EQ(infos, expected);
}

// ---- the named case -------------------------------------------------------------------------------------------

TEST(PyTorchGreedyComparison, ShardedOnAllAxesToAnotherDim) {
  // The issue's case: (S(0),S(0),S(0)) -> (S(1),S(1),S(1)) on (2,2,2), [16,16,16] f32 (2 KiB per rank).
  const Mesh mesh = mesh_of({2, 2, 2});
  const Layout from = layout({16, 16, 16}, mesh, "S(0),S(0),S(0)");
  const Layout to = layout({16, 16, 16}, mesh, "S(1),S(1),S(1)");
  const RedistributionPlan ours = plan_redistribution(from, to, 4).value();
  const TorchPlan torch = torch_plan(from, to, CostModel::create(mesh).value(), 4);

  // Ours: one all_to_all per mesh dim, each receiving half of the rank's 512 elements: 3 x 256 x 4 = 3072 bytes.
  // (One all_to_all on the flattened 8-rank group would receive less, 7/8 x 2048 = 1792 bytes, but costs 7 hops
  // of latency against 3: at 2 KiB per rank latency decides.)
  ASSERT_EQ(ours.steps.size(), 3U) << describe(ours);
  const char* const expected_after[] = {"S(1),_S(0,2),_S(0,2)", "S(1),S(1),_S(0,4)", "S(1),S(1),S(1)"};
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(ours.steps[s].op, StepOp::all_to_all) << describe(ours);
    EXPECT_EQ(ours.steps[s].mesh_dims, AxisList{s}) << describe(ours);
    EXPECT_EQ(ours.steps[s].after.placements(), list(expected_after[s])) << describe(ours);
    EXPECT_EQ(ours.steps[s].bytes_received, 1024) << describe(ours);
  }
  EXPECT_EQ(ours.bytes_per_rank, 3072);
  EXPECT_TRUE(prove_plan_in_memory(ours));

  // PyTorch: all_gather on mesh dim 2 (512 -> 1024 elements, 512 received), all_gather on mesh dim 1 (1024 -> 2048,
  // 1024 received), all_to_all on mesh dim 0 ([8,16,16] -> [16,8,16], 1024 received), two local chunks:
  // 2560 x 4 = 10240 bytes, three collectives.
  ASSERT_EQ(torch.plan.steps.size(), 5U);
  const StepOp torch_ops[] = {StepOp::all_gather, StepOp::all_gather, StepOp::all_to_all, StepOp::local_slice,
                              StepOp::local_slice};
  for (std::size_t s = 0; s < 5; ++s) EXPECT_EQ(torch.plan.steps[s].op, torch_ops[s]) << describe(torch.plan);
  EXPECT_EQ(torch.collectives, 3);
  EXPECT_EQ(torch.plan.bytes_per_rank, 10240);
  EXPECT_TRUE(prove_plan_in_memory(torch.plan));

  EXPECT_LE(collectives(ours), torch.collectives);
  EXPECT_LE(ours.bytes_per_rank, torch.plan.bytes_per_rank);
  EXPECT_LE(ours.time_us, torch.plan.time_us);
}

// ---- every pair -----------------------------------------------------------------------------------------------

/// The four plain placements per axis: R, S(0), S(1), S(2).
Placement plain(Index code) { return code == 0 ? Placement::replicate() : Placement::shard(code - 1); }

/// Every list over `choices` on `axes` axes (choices.size()^axes of them, axis 0 varying fastest, so the list of
/// all first choices comes first).
std::vector<Placements> all_lists(const std::vector<Placement>& choices, std::size_t axes) {
  const auto base = static_cast<Index>(choices.size());
  Index count = 1;
  for (std::size_t i = 0; i < axes; ++i) count *= base;
  std::vector<Placements> lists;
  for (Index code = 0; code < count; ++code) {
    Placements placements;
    Index rest = code;
    for (std::size_t i = 0; i < axes; ++i) {
      placements.push_back(choices[static_cast<std::size_t>(rest % base)]);
      rest /= base;
    }
    lists.push_back(placements);
  }
  return lists;
}

/// Every list over {R, S(0), S(1), S(2)} on `axes` axes (4^axes of them, R...R first).
std::vector<Placements> all_plain_lists(std::size_t axes) {
  return all_lists({plain(0), plain(1), plain(2), plain(3)}, axes);
}

/// Placements per axis for the _S sets: R, S(d) and _S(d, sf) for every tensor dim d < ndim.
std::vector<Placement> strided_choices(Index ndim, Index split_factor) {
  std::vector<Placement> choices{Placement::replicate()};
  for (Index d = 0; d < ndim; ++d) choices.push_back(Placement::shard(d));
  for (Index d = 0; d < ndim; ++d) choices.push_back(Placement::strided_shard(d, split_factor));
  return choices;
}

bool has_shard(const Placements& placements) {
  for (const Placement& p : placements) {
    if (p.is_shard()) return true;
  }
  return false;
}

/// Latency hops of a plan under the model: k-1 per collective on k ranks, 2(k-1) for all_reduce, 1 for a permute.
Index hops(const RedistributionPlan& plan) {
  Index total = 0;
  for (const PlanStep& step : plan.steps) {
    if (is_local(step.op)) continue;
    Index k = 1;
    for (std::size_t axis : step.mesh_dims) k *= plan.from.mesh().size(axis);
    total += step.op == StepOp::permute ? 1 : step.op == StepOp::all_reduce ? 2 * (k - 1) : k - 1;
  }
  return total;
}

/// Bytes the busiest rank of each step receives, summed over the steps whose group runs at less than the fastest
/// axis's bandwidth (the inter-host axes under the default topology).
Index slow_link_bytes(const RedistributionPlan& plan, const CostModel& costs) {
  double fastest = 0;
  for (std::size_t axis = 0; axis < costs.ndim(); ++axis) fastest = std::max(fastest, costs.axis(axis).gbps);
  Index total = 0;
  for (const PlanStep& step : plan.steps) {
    if (!is_local(step.op) && costs.group(step.mesh_dims).gbps < fastest) total += step.bytes_received;
  }
  return total;
}

Index count_ops(const RedistributionPlan& plan, StepOp op) {
  Index count = 0;
  for (const PlanStep& step : plan.steps) count += step.op == op ? 1 : 0;
  return count;
}

/// What a comparison over a set of pairs found. "more_*" hold the pairs where the issue's property ("at most as
/// many collectives and bytes as PyTorch's greedy planner") fails, with both plans.
struct Tally {
  int pairs = 0;
  int fewer_collectives = 0;  // strictly
  int fewer_bytes = 0;        // strictly
  int faster = 0;             // strictly, beyond rounding
  std::vector<std::string> more_collectives;
  std::vector<std::string> more_bytes;
};

/// Plans the pair both ways and checks what holds for every pair: our plan replays exactly; PyTorch's steps are
/// real collectives on their mesh dim (steps_legal; and its plan replays too when `replay_torch`, which the
/// exhaustive sets skip for time: every one of them replayed when this test was written); our modelled time is at
/// most PyTorch's (its steps are edges of our search, so the optimum cannot be slower). Where we use more
/// collectives or bytes than PyTorch, checks that it is for the reasons the model gives (see the tests) and
/// records the pair.
void compare(const Layout& from, const Layout& to, Index element_size, bool replay_torch, Tally& tally) {
  const CostModel costs = CostModel::create(from.mesh()).value();
  auto ours = plan_redistribution(from, to, element_size);
  ASSERT_TRUE(ours) << describe_pair(from, to) << ": " << ours.error().what();
  const TorchPlan torch = torch_plan(from, to, costs, element_size);
  const std::string context = describe_pair(from, to) + describe_both(*ours, torch);
  const Status ours_verified = prove_plan_in_memory(*ours);
  ASSERT_TRUE(ours_verified) << context << "\n" << ours_verified.error().what();
  ASSERT_TRUE(torch.steps_legal) << context;
  if (replay_torch) {
    const Status torch_verified = prove_plan_in_memory(torch.plan);
    ASSERT_TRUE(torch_verified) << context << "\n" << torch_verified.error().what();
  }
  ASSERT_LE(ours->time_us, torch.plan.time_us * (1 + 1e-12)) << context;
  ++tally.pairs;
  const Index our_collectives = collectives(*ours);
  if (our_collectives < torch.collectives) ++tally.fewer_collectives;
  if (our_collectives > torch.collectives) {
    // Every such pair, for one of two reasons: PyTorch all-reduces where we reduce-scatter and gather later (the
    // two phases of a ring all_reduce, the same hops, fewer bytes; counting an all_reduce as those two
    // collectives, we use no more); or we move the data while it is still finely split (a permute to the target
    // with its replicated axes still split) and gather last, moving fewer bytes.
    const bool split_all_reduce =
        count_ops(*ours, StepOp::reduce_scatter) > 0 &&
        our_collectives <= torch.collectives + count_ops(torch.plan, StepOp::all_reduce);
    EXPECT_TRUE(split_all_reduce || ours->bytes_per_rank < torch.plan.bytes_per_rank) << context;
    tally.more_collectives.push_back(context);
  }
  if (ours->bytes_per_rank < torch.plan.bytes_per_rank) ++tally.fewer_bytes;
  if (ours->bytes_per_rank > torch.plan.bytes_per_rank) {
    // Every such pair: fewer latency hops, or as many and fewer bytes over the slow (inter-host) axes.
    const Index our_hops = hops(*ours);
    const Index torch_hops = hops(torch.plan);
    EXPECT_LE(our_hops, torch_hops) << context;
    if (our_hops == torch_hops) {
      EXPECT_LT(slow_link_bytes(*ours, costs), slow_link_bytes(torch.plan, costs)) << context;
    }
    tally.more_bytes.push_back(context);
  }
  if (ours->time_us < torch.plan.time_us * (1 - 1e-9)) ++tally.faster;
}

void print_tally(const char* name, const Tally& tally) {
  std::printf("[ pytorch  ] %s: %d pairs; fewer collectives in %d, fewer bytes in %d, faster in %d; more collectives "
              "in %zu, more bytes in %zu\n",
              name, tally.pairs, tally.fewer_collectives, tally.fewer_bytes, tally.faster,
              tally.more_collectives.size(), tally.more_bytes.size());
}

std::string first_cases(const std::vector<std::string>& cases, std::size_t count = 3) {
  std::string text;
  for (std::size_t i = 0; i < cases.size() && i < count; ++i) {
    text += "\n";
    text += cases[i];
  }
  return text;
}

// The issue's property, both halves, holds on every pair with a sharded source on (2,2,2).
TEST(PyTorchGreedyComparison, ShardedSourcesOn222AtMostPyTorchsCollectivesAndBytes) {
  const Mesh mesh = mesh_of({2, 2, 2});
  const Shape shape{16, 16, 16};
  const std::vector<Placements> lists = all_plain_lists(3);
  Tally tally;
  for (const Placements& source : lists) {
    if (!has_shard(source)) continue;
    for (const Placements& target : lists) {
      compare(Layout::create(shape, mesh, source).value(), Layout::create(shape, mesh, target).value(), 4, false,
              tally);
      if (HasFatalFailure()) return;
    }
  }
  print_tally("(2,2,2) [16,16,16] sharded sources", tally);
  EXPECT_EQ(tally.pairs, 63 * 64);
  EXPECT_TRUE(tally.more_collectives.empty()) << first_cases(tally.more_collectives);
  EXPECT_TRUE(tally.more_bytes.empty()) << first_cases(tally.more_bytes);
}

// Sources with one P(sum) axis on (2,2,2): at most PyTorch's bytes on every pair. At most PyTorch's collectives
// does NOT hold on 468 of the 3,072 pairs under the default model (no per-collective cost): there PyTorch runs one
// all_reduce and we run its two ring phases apart (reduce_scatter, other steps on the smaller data, all_gather),
// the same hops and fewer bytes, e.g. (P,S(0),R) -> (R,S(1),R): ours reduce_scatter 0, all_to_all 1, all_gather 0,
// 10240 B; PyTorch all_to_all 1, all_reduce 0, 12288 B; or we permute while the data is finely split and gather
// last, moving fewer bytes. With a launch cost of 0.1 µs per collective
// (CostModel::set_launch_us) the property holds on every pair; see the next test.
TEST(PyTorchGreedyComparison, PartialSourcesOn222AtMostPyTorchsBytesNotCollectives) {
  const Mesh mesh = mesh_of({2, 2, 2});
  const Shape shape{16, 16, 16};
  const std::vector<Placements> lists = all_plain_lists(3);
  Tally tally;
  for (std::size_t partial_axis = 0; partial_axis < 3; ++partial_axis) {
    for (const Placements& base : lists) {
      if (base[partial_axis].is_shard()) continue;  // each combination of the other axes once
      Placements source = base;
      source[partial_axis] = Placement::partial();
      for (const Placements& target : lists) {
        compare(Layout::create(shape, mesh, source).value(), Layout::create(shape, mesh, target).value(), 4, false,
              tally);
        if (HasFatalFailure()) return;
      }
    }
  }
  print_tally("(2,2,2) [16,16,16] one P(sum) axis", tally);
  EXPECT_EQ(tally.pairs, 3 * 16 * 64);
  EXPECT_TRUE(tally.more_bytes.empty()) << first_cases(tally.more_bytes);
  EXPECT_EQ(tally.more_collectives.size(), 468U) << first_cases(tally.more_collectives);
}

/// Under `costs` (with a launch cost per collective), our plan uses at most PyTorch's collectives and bytes.
void expect_at_most_pytorchs(RedistributionPlanner& planner, const Layout& from, const Layout& to,
                             const CostModel& costs) {
  const RedistributionPlan ours = planner.plan(from, to, costs, 4).value();
  const TorchPlan torch = torch_plan(from, to, costs, 4);
  ASSERT_LE(collectives(ours), torch.collectives) << describe_pair(from, to) << describe_both(ours, torch);
  ASSERT_LE(ours.bytes_per_rank, torch.plan.bytes_per_rank) << describe_pair(from, to) << describe_both(ours, torch);
}

// The same pairs with a launch cost per collective: then we never use more collectives (nor bytes) than PyTorch.
// Plans only (the replays are the previous test's).
TEST(PyTorchGreedyComparison, PartialSourcesOn222WithLaunchCostAtMostPyTorchsCollectives) {
  const Mesh mesh = mesh_of({2, 2, 2});
  const Shape shape{16, 16, 16};
  CostModel costs = CostModel::create(mesh).value();
  ASSERT_TRUE(costs.set_launch_us(0.1));
  const std::vector<Placements> lists = all_plain_lists(3);
  RedistributionPlanner planner;
  int pairs = 0;
  for (std::size_t partial_axis = 0; partial_axis < 3; ++partial_axis) {
    for (const Placements& base : lists) {
      if (base[partial_axis].is_shard()) continue;
      Placements source = base;
      source[partial_axis] = Placement::partial();
      for (const Placements& target : lists) {
        expect_at_most_pytorchs(planner, Layout::create(shape, mesh, source).value(),
                                Layout::create(shape, mesh, target).value(), costs);
        if (HasFatalFailure()) return;
        ++pairs;
      }
    }
  }
  EXPECT_EQ(pairs, 3 * 16 * 64);
}

// Uneven tensor, 16 ranks over two hosts (the outer axis crosses hosts). Only "at most PyTorch's modelled time"
// holds on every pair. Of the 300 sampled pairs:
// - 10 use more collectives than PyTorch, each for the all_reduce split above (counting an all_reduce as two, none)
//   or a permute of finely split data gathered last (fewer bytes);
// - 10 use more bytes: 5 to save latency hops (e.g. (4,2,2) (S(1),P,R) -> (R,S(1),S(2)): we gather over the slow
//   axis before reducing and reduce-scatter once, 4 hops and 2184 B, where PyTorch all-reduces and gathers, 5 hops
//   and 1560 B), 5 with as many hops and fewer bytes over the slow axis (e.g. (2,4,2) (S(2),S(0),R) -> (S(0),R,R):
//   we gather the slow axis first while the pieces are small, 480 B over it, PyTorch 840 B).
// With a launch cost of 0.1 µs the collectives property holds on this sample too; the bytes one does not.
TEST(PyTorchGreedyComparison, UnevenSampleOn422And242AtMostPyTorchsTimeOnly) {
  const Shape shape{13, 10, 6};
  const std::vector<Placements> lists = all_plain_lists(3);
  Random random(20261122);
  Tally tally;
  for (const AxisSizes& sizes : {AxisSizes{4, 2, 2}, AxisSizes{2, 4, 2}}) {
    const Mesh mesh = mesh_of(sizes);
    for (int i = 0; i < 150; ++i) {
      Placements source = lists[random.index(lists.size())];
      if (random.percent(25)) {
        source[random.index(3)] = Placement::partial();
      } else if (!has_shard(source)) {
        source[random.index(3)] = plain(random.uniform(1, 3));
      }
      const Placements& target = lists[random.index(lists.size())];
      compare(Layout::create(shape, mesh, source).value(), Layout::create(shape, mesh, target).value(), 4, true,
              tally);
      if (HasFatalFailure()) return;
    }
  }
  print_tally("(4,2,2)/(2,4,2) [13,10,6] sample", tally);
  EXPECT_EQ(tally.pairs, 300);
  EXPECT_EQ(tally.more_collectives.size(), 10U) << first_cases(tally.more_collectives);
  EXPECT_EQ(tally.more_bytes.size(), 10U) << first_cases(tally.more_bytes);
}

// ---- _S endpoints ----------------------------------------------------------------------------------------------

TEST(PyTorchGreedyEmulator, StridedEndpointsGoThroughReplicate) {
  // FSDP2 + TP (_S(0,2),S(0)) -> (S(0),S(0)) on (2,2): gather mesh dim 1 (nested under the _S), then the _S axis,
  // then slice both locally. [16,16] f32: a rank holds 4 rows (64 elements); it receives 64 then 128 elements,
  // 768 bytes, in two all_gathers.
  const Mesh mesh = mesh_of({2, 2});
  EXPECT_EQ(without_strided(list("_S(0,2),S(0)")), list("R,R"));
  EXPECT_EQ(without_strided(list("S(1),_S(0,2),S(0),S(1)")), list("S(1),R,R,S(1)"));
  const auto infos = torch_transforms(mesh, list("_S(0,2),S(0)"), list("S(0),S(0)"));
  const std::vector<TorchTransform> expected{{1, Placement::shard(0), Placement::replicate()},
                                             {0, Placement::strided_shard(0, 2), Placement::replicate()},
                                             {0, Placement::replicate(), Placement::shard(0)},
                                             {1, Placement::replicate(), Placement::shard(0)}};
  EXPECT_EQ(infos, expected);
  const TorchPlan torch = torch_plan(layout({16, 16}, mesh, "_S(0,2),S(0)"), layout({16, 16}, mesh, "S(0),S(0)"),
                                     CostModel::create(mesh).value(), 4);
  EXPECT_EQ(torch.collectives, 2);
  EXPECT_EQ(torch.plan.bytes_per_rank, 768);
  EXPECT_TRUE(torch.steps_legal);
  EXPECT_TRUE(prove_plan_in_memory(torch.plan));
  // An _S target is sliced out of Replicate: S(0) -> _S(0,2) on a 1-d mesh gathers once and slices.
  const auto to_strided = torch_transforms(mesh_of({4}), list("S(0)"), list("_S(0,2)"));
  const std::vector<TorchTransform> expected_to_strided{{0, Placement::shard(0), Placement::replicate()},
                                                        {0, Placement::replicate(), Placement::strided_shard(0, 2)}};
  EXPECT_EQ(to_strided, expected_to_strided);
}

TEST(PyTorchGreedyComparison, Fsdp2TpToNestedShardsIsOnePermuteAtTheLowerBound) {
  const Mesh mesh = mesh_of({2, 2});
  const Layout from = layout({16, 16}, mesh, "_S(0,2),S(0)");
  const Layout to = layout({16, 16}, mesh, "S(0),S(0)");
  const RedistributionPlan ours = plan_redistribution(from, to, 4).value();
  const TorchPlan torch = torch_plan(from, to, CostModel::create(mesh).value(), 4);
  // Ranks (0,1) and (1,0) swap their 4 rows; (0,0) and (1,1) keep theirs: 64 elements, 256 bytes, the bound.
  ASSERT_EQ(ours.steps.size(), 1U) << describe(ours);
  EXPECT_EQ(ours.steps[0].op, StepOp::permute);
  EXPECT_EQ(ours.bytes_per_rank, 256);
  EXPECT_EQ(lower_bound_elements(from, to) * 4, 256);
  EXPECT_EQ(torch.plan.bytes_per_rank, 768);
  EXPECT_EQ(collectives(ours), 1);
  EXPECT_EQ(torch.collectives, 2);
  EXPECT_LT(ours.time_us, torch.plan.time_us);
}

// Every pair on (2,2) [16,16] with an _S on either side (sources with one P(sum) axis included): never slower
// than PyTorch's route through Replicate and never more bytes (674 of the 740 pairs move fewer). More collectives
// on 20 pairs, each the all_reduce split of the plain Partial pairs above (checked by compare); with a launch cost
// of 0.1 µs per collective, never more collectives either.
TEST(PyTorchGreedyComparison, StridedPairsOn22AtMostPyTorchsCollectivesAndBytes) {
  const Mesh mesh = mesh_of({2, 2});
  const Shape shape{16, 16};
  const std::vector<Placements> targets = all_lists(strided_choices(2, 2), 2);
  std::vector<Placements> sources = targets;
  for (std::size_t axis = 0; axis < 2; ++axis) {
    for (const Placement& other : strided_choices(2, 2)) {
      Placements source(2, other);
      source[axis] = Placement::partial();
      sources.push_back(source);
    }
  }
  Tally tally;
  for (const Placements& source : sources) {
    for (const Placements& target : targets) {
      if (!has_strided(source) && !has_strided(target)) continue;
      compare(Layout::create(shape, mesh, source).value(), Layout::create(shape, mesh, target).value(), 4, true,
              tally);
      if (HasFatalFailure()) return;
    }
  }
  print_tally("(2,2) [16,16] _S endpoints", tally);
  EXPECT_EQ(tally.pairs, 740);
  EXPECT_EQ(tally.fewer_bytes, 674);
  EXPECT_EQ(tally.more_collectives.size(), 20U) << first_cases(tally.more_collectives);
  EXPECT_TRUE(tally.more_bytes.empty()) << first_cases(tally.more_bytes);

  CostModel costs = CostModel::create(mesh).value();
  ASSERT_TRUE(costs.set_launch_us(0.1));
  RedistributionPlanner planner;
  for (const Placements& source : sources) {
    for (const Placements& target : targets) {
      if (!has_strided(source) && !has_strided(target)) continue;
      expect_at_most_pytorchs(planner, Layout::create(shape, mesh, source).value(),
                              Layout::create(shape, mesh, target).value(), costs);
      if (HasFatalFailure()) return;
    }
  }
}

// A sample of pairs with an _S on either side on (2,2,2) [16,16,16] and, uneven, on (4,2,2)/(2,4,2) [13,10,6]
// with split factors 2 and 3; a quarter of the sources have one P(sum) axis. Never slower, never more bytes (586
// of the 600 move fewer); 9 more collectives, each the all_reduce split (checked by compare).
TEST(PyTorchGreedyComparison, StridedSamplesOn222AndUnevenAtMostPyTorchsTime) {
  struct Set {
    AxisSizes mesh;
    Shape shape;
    Index split_factor;
    int pairs;
  };
  const Set sets[] = {{{2, 2, 2}, {16, 16, 16}, 2, 300},
                      {{4, 2, 2}, {13, 10, 6}, 2, 150},
                      {{2, 4, 2}, {13, 10, 6}, 3, 150}};
  Random random(20261207);
  Tally tally;
  for (const Set& set : sets) {
    const Mesh mesh = mesh_of(set.mesh);
    const std::vector<Placements> lists = all_lists(strided_choices(3, set.split_factor), 3);
    for (int i = 0; i < set.pairs;) {
      Placements source = lists[random.index(lists.size())];
      const Placements& target = lists[random.index(lists.size())];
      if (random.percent(25)) source[random.index(3)] = Placement::partial();
      if (!has_strided(source) && !has_strided(target)) continue;
      ++i;
      compare(Layout::create(set.shape, mesh, source).value(), Layout::create(set.shape, mesh, target).value(), 4,
              true, tally);
      if (HasFatalFailure()) return;
    }
  }
  print_tally("(2,2,2) [16,16,16] and (4,2,2)/(2,4,2) [13,10,6] _S sample", tally);
  EXPECT_EQ(tally.pairs, 600);
  EXPECT_EQ(tally.fewer_bytes, 586);
  EXPECT_EQ(tally.more_collectives.size(), 9U) << first_cases(tally.more_collectives);
  EXPECT_TRUE(tally.more_bytes.empty()) << first_cases(tally.more_bytes);
}

}  // namespace
}  // namespace shardplan
