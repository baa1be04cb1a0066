#pragma once
// What one rank does in one step of a plan, down to the box: which blocks of which peer's tensor it receives and
// where they go in its new local tensor (the local reorder, as an interval map), which blocks of its own tensor it
// sends to whom, and the sizes a padded or a variable-size collective needs. The in-memory executor and the MPI
// example both run plans from this and nothing else.
//
// Who provides what (moves: all_gather, all_to_all, local_slice): a rank takes what it already holds from itself,
// the rest from its group members in group order, skipping a member whose old box equals one already used (a
// replica). Members' old boxes are disjoint or equal, so every element comes from exactly one place. Reductions
// take the rank's new box from every member and combine them in group order. A permute takes the whole new box
// from one rank: itself when it can, otherwise the rank holding the box's first element (with this rank's
// coordinates on the axes that do not split the tensor), the rule of detail/permute_source.hpp.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/layout/dim_table.hpp"
#include "shardplan/redistribution/detail/permute_source.hpp"
#include "shardplan/redistribution/plan.hpp"

namespace shardplan {

/// A box copied between two local tensors (row-major, in local coordinates).
struct ExchangeBlock {
  Index peer = 0;     // the other rank
  Shape peer_offset;  // receives: in the peer's tensor before the step; sends: in the peer's tensor after it
  Shape own_offset;   // receives: in this rank's tensor after the step; sends: in this rank's tensor before it
  Shape lengths;

  [[nodiscard]] constexpr Index elements() const { return numel(lengths); }
  friend constexpr bool operator==(const ExchangeBlock&, const ExchangeBlock&) = default;
};

struct RankExchange {
  Index rank = 0;
  std::vector<Index> members;  // the collective's group in group order; for a permute, every rank of the mesh
  Shape before_shape;          // local shapes around the step
  Shape after_shape;
  std::vector<ExchangeBlock> receives;  // grouped by peer in `members` order
  std::vector<ExchangeBlock> sends;     // grouped by peer in `members` order
  /// local_partition only: false when this rank's new tensor is the op's identity (0 for sum, 1 for product).
  bool keeps_value = true;
  /// The largest contribution any member makes to the collective (its whole tensor for all_gather and all_reduce,
  /// its largest block for reduce_scatter and all_to_all): what a padded collective sends per member.
  Index padded_elements = 0;

  [[nodiscard]] Index elements_received() const {
    Index total = 0;
    for (const ExchangeBlock& block : receives) total += block.peer == rank ? 0 : block.elements();
    return total;
  }
  [[nodiscard]] Index elements_sent() const {
    Index total = 0;
    for (const ExchangeBlock& block : sends) total += block.peer == rank ? 0 : block.elements();
    return total;
  }
};

namespace redistribution_detail {

/// Appends the blocks of `wanted ∩ held` (one index set per dim each): offsets are positions in each side's set.
inline void append_blocks(const Box& wanted, const Box& held, Index peer, std::vector<ExchangeBlock>& out) {
  intersect(wanted, held).for_each_block([&](const Block& piece) {
    ExchangeBlock block;
    block.peer = peer;
    for (std::size_t d = 0; d < piece.size(); ++d) {
      block.peer_offset.push_back(held[d].global_to_local(piece[d].begin));
      block.own_offset.push_back(wanted[d].global_to_local(piece[d].begin));
      block.lengths.push_back(piece[d].size());
    }
    out.push_back(std::move(block));
  });
}

/// The dim tables of a permute's two layouts, built once per step and read for every rank (empty for other steps).
struct PermuteTables {
  std::vector<DimTable> before;
  std::vector<DimTable> after;

  [[nodiscard]] static PermuteTables of(const RedistributionPlan& plan, std::size_t step) {
    PermuteTables tables;
    if (plan.steps[step].op != StepOp::permute) return tables;
    tables.before = dim_tables(plan.before(step));
    tables.after = dim_tables(plan.steps[step].after);
    return tables;
  }

  /// The rank a permute takes `rank`'s new box from (detail/permute_source.hpp).
  [[nodiscard]] Index source(const Mesh& mesh, Index rank) const {
    const auto old_of = [&](std::size_t d) -> const DimTable& { return before[d]; };
    const auto new_of = [&](std::size_t d) -> const DimTable& { return after[d]; };
    // Every element of a layout's tensor has a holder, so a box's first element has one.
    const Coord coord = mesh.coordinate_unchecked(rank);
    return mesh.rank_unchecked(permute_source(old_of, new_of, before.size(), coord).value());
  }
};

/// What `rank` receives in `step`, and its group. `permute` is PermuteTables::of(plan, step).
[[nodiscard]] inline RankExchange receives_of(const RedistributionPlan& plan, std::size_t step, Index rank,
                                              const PermuteTables& permute) {
  const PlanStep& s = plan.steps[step];
  const Layout& before = plan.before(step);
  const Mesh& mesh = before.mesh();
  const Coord coord = mesh.coordinate_unchecked(rank);
  const Box wanted = s.after.index_sets_at(coord);
  RankExchange exchange;
  exchange.rank = rank;
  exchange.before_shape = before.local_box_at(coord).local_shape;
  exchange.after_shape = wanted.local_shape();
  if (s.op == StepOp::permute) {
    for (Index r = 0; r < mesh.world_size(); ++r) exchange.members.push_back(r);
    const Index source = permute.source(mesh, rank);
    append_blocks(wanted, before.index_sets(source).value(), source, exchange.receives);
    return exchange;
  }
  // A local step involves nobody else, whatever axes it names.
  exchange.members = is_local(s.op) ? std::vector<Index>{rank} : mesh.group(rank, s.mesh_dims).value();
  if (s.op == StepOp::local_partition) {
    append_blocks(wanted, before.index_sets_at(coord), rank, exchange.receives);
    const bool identity_elsewhere = s.reduce_op == ReduceOp::sum || s.reduce_op == ReduceOp::product;
    for (std::size_t axis : s.mesh_dims) {
      if (identity_elsewhere && coord[axis] != 0) exchange.keeps_value = false;
    }
    return exchange;
  }
  if (is_reduction(s.op)) {
    for (Index member : exchange.members) {
      append_blocks(wanted, before.index_sets(member).value(), member, exchange.receives);
    }
    return exchange;
  }
  // Moves: self first, then members in order, replicas skipped.
  const Box own = before.index_sets_at(coord);
  std::vector<Box> used{own};
  std::vector<ExchangeBlock> blocks;
  append_blocks(wanted, own, rank, blocks);
  for (Index member : exchange.members) {
    if (member == rank) continue;
    Box theirs = before.index_sets(member).value();
    bool replica = false;
    for (const Box& seen : used) replica = replica || seen == theirs;
    if (replica) continue;
    append_blocks(wanted, theirs, member, blocks);
    used.push_back(std::move(theirs));
  }
  // Group order for the runtime: blocks by peer in `members` order (the self block at its own place).
  for (Index member : exchange.members) {
    for (const ExchangeBlock& block : blocks) {
      if (block.peer == member) exchange.receives.push_back(block);
    }
  }
  return exchange;
}

}  // namespace redistribution_detail

/// A step that a hand-made or edited plan could get wrong: its index, its axes, and a layout after it for another
/// tensor or mesh.
[[nodiscard]] inline Status check_step(const RedistributionPlan& plan, std::size_t step) {
  if (step >= plan.steps.size()) {
    return make_error(ErrorCode::out_of_range, "step")
           << "step " << static_cast<Index>(step) << " of a plan with " << static_cast<Index>(plan.steps.size())
           << " steps";
  }
  const PlanStep& s = plan.steps[step];
  const auto field = indexed_field("steps", static_cast<Index>(step));
  if (!(s.after.mesh() == plan.from.mesh()) || s.after.shape() != plan.from.shape()) {
    return make_error(ErrorCode::invalid_argument, field.view())
           << "its layout is for " << shape_text(s.after.shape()) << " on " << s.after.mesh().to_string()
           << ", the plan's for " << shape_text(plan.from.shape()) << " on " << plan.from.mesh().to_string();
  }
  auto group = plan.from.mesh().group(0, s.mesh_dims);
  if (!group) return make_error(ErrorCode::invalid_argument, field.view()) << "mesh_dims: " << group.error().message;
  return Ok{};
}

/// Everything rank `rank` does in step `step` of `plan`.
[[nodiscard]] inline Result<RankExchange> rank_exchange(const RedistributionPlan& plan, std::size_t step, Index rank) {
  SHARDPLAN_CHECK(check_step(plan, step));
  SHARDPLAN_CHECK(plan.from.mesh().check_rank(rank));
  const redistribution_detail::PermuteTables permute = redistribution_detail::PermuteTables::of(plan, step);
  RankExchange exchange = redistribution_detail::receives_of(plan, step, rank, permute);
  const StepOp op = plan.steps[step].op;
  if (is_local(op)) {
    // The single self block is both what it receives and what it sends.
    for (const ExchangeBlock& block : exchange.receives) {
      exchange.sends.push_back({rank, block.own_offset, block.peer_offset, block.lengths});
    }
    exchange.padded_elements = numel(exchange.after_shape);
    return exchange;
  }
  // Sends mirror the peers' receives. A permute's peers are every rank; the rest are the group.
  for (Index peer : exchange.members) {
    const RankExchange theirs = redistribution_detail::receives_of(plan, step, peer, permute);
    if (op == StepOp::all_gather || op == StepOp::all_reduce) {
      exchange.padded_elements = detail::max(exchange.padded_elements, numel(theirs.before_shape));
    }
    // Per source, what this peer takes: the padded size is the largest over every pair of the group.
    std::size_t first = 0;
    while (first < theirs.receives.size()) {
      const Index source = theirs.receives[first].peer;
      Index contribution = 0;
      std::size_t next = first;
      for (; next < theirs.receives.size() && theirs.receives[next].peer == source; ++next) {
        const ExchangeBlock& block = theirs.receives[next];
        contribution += block.elements();
        if (source == rank) exchange.sends.push_back({peer, block.own_offset, block.peer_offset, block.lengths});
      }
      if (op != StepOp::all_gather && op != StepOp::all_reduce) {
        exchange.padded_elements = detail::max(exchange.padded_elements, contribution);
      }
      first = next;
    }
  }
  return exchange;
}

}  // namespace shardplan
