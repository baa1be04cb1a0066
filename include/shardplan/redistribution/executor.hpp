#pragma once
// The in-memory executor: runs a plan for every rank of the mesh inside one process, on real data, from the very
// blocks rank_exchange() gives a runtime. Use it for dry runs and in your own tests; the planner's tests run every
// plan through it. It checks as it goes that every element of every new local tensor is written exactly once
// (moves) or receives exactly one contribution per group member (reductions): nothing lost, nothing duplicated.
//
// Reductions combine in group order: sum, product, max, min; avg is the sum divided by the group size (exact for
// integers only when the sum divides, as with the addends reference_tensors() makes).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shardplan/redistribution/exchange.hpp"

namespace shardplan {

template <class T>
struct LocalTensor {
  Shape shape;
  std::vector<T> values;  // row-major
  friend bool operator==(const LocalTensor&, const LocalTensor&) = default;
};

namespace redistribution_detail {

/// Calls visit(source_index, destination_index, run_length) for each innermost-dim run of a block copied from a
/// tensor of shape `from` at `from_offset` to a tensor of shape `to` at `to_offset`.
template <class Visit>
void for_each_run(const Shape& from, const Shape& from_offset, const Shape& to, const Shape& to_offset,
                  const Shape& lengths, Visit&& visit) {
  const std::size_t ndim = lengths.size();
  for (Index length : lengths) {
    if (length == 0) return;
  }
  if (ndim == 0) {
    visit(Index{0}, Index{0}, Index{1});
    return;
  }
  std::vector<Index> index(ndim, 0);  // position inside the block, last dim excluded
  while (true) {
    Index source = 0;
    Index destination = 0;
    for (std::size_t d = 0; d < ndim; ++d) {
      const Index i = d + 1 == ndim ? 0 : index[d];
      source = source * from[d] + from_offset[d] + i;
      destination = destination * to[d] + to_offset[d] + i;
    }
    visit(source, destination, lengths[ndim - 1]);
    std::size_t d = ndim - 1;
    while (d > 0 && ++index[d - 1] == lengths[d - 1]) index[--d] = 0;
    if (d == 0) return;
  }
}

template <class T>
[[nodiscard]] T combine(ReduceOp op, const T& a, const T& b) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg: return a + b;
    case ReduceOp::product: return a * b;
    case ReduceOp::max: return a < b ? b : a;
    case ReduceOp::min: return b < a ? b : a;
  }
  return a + b;
}

[[nodiscard]] inline ErrorBuilder executor_error(std::size_t step, Index rank) {
  return make_error(ErrorCode::invalid_argument, "plan")
         << "step " << static_cast<Index>(step) << ", rank " << rank << ": ";
}

}  // namespace redistribution_detail

/// Runs `plan` on `tensors` (one per rank, in rank order, each of the source layout's local shape) and returns every
/// rank's final local tensor.
template <class T>
[[nodiscard]] Result<std::vector<LocalTensor<T>>> execute(const RedistributionPlan& plan, std::vector<LocalTensor<T>> tensors) {
  using redistribution_detail::executor_error;
  const Mesh& mesh = plan.from.mesh();
  if (static_cast<Index>(tensors.size()) != mesh.world_size()) {
    return make_error(ErrorCode::invalid_argument, "tensors")
           << static_cast<Index>(tensors.size()) << " local tensors for a mesh of " << mesh.world_size() << " ranks";
  }
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    const LocalTensor<T>& tensor = tensors[static_cast<std::size_t>(rank)];
    const Shape expected = plan.from.local_box_at(mesh.coordinate_unchecked(rank)).local_shape;
    if (tensor.shape != expected || static_cast<Index>(tensor.values.size()) != numel(expected)) {
      return make_error(ErrorCode::invalid_argument, indexed_field("tensors", rank))
             << "holds " << shape_text(tensor.shape) << " with " << static_cast<Index>(tensor.values.size())
             << " values; the source layout gives rank " << rank << " " << shape_text(expected);
    }
  }
  for (std::size_t step = 0; step < plan.steps.size(); ++step) {
    SHARDPLAN_CHECK(check_step(plan, step));
    const PlanStep& s = plan.steps[step];
    std::vector<LocalTensor<T>> next(tensors.size());
    const auto permute = redistribution_detail::PermuteTables::of(plan, step);
    for (Index rank = 0; rank < mesh.world_size(); ++rank) {
      // Receives only: the sends (the peers' receives mirrored) would be the same blocks seen from the other side.
      const RankExchange exchange = redistribution_detail::receives_of(plan, step, rank, permute);
      LocalTensor<T>& out = next[static_cast<std::size_t>(rank)];
      out.shape = exchange.after_shape;
      out.values.assign(static_cast<std::size_t>(numel(out.shape)), T{});
      std::vector<std::int32_t> writes(out.values.size(), 0);
      for (const ExchangeBlock& block : exchange.receives) {
        const LocalTensor<T>& source = tensors[static_cast<std::size_t>(block.peer)];
        redistribution_detail::for_each_run(
            source.shape, block.peer_offset, out.shape, block.own_offset, block.lengths,
            [&](Index from, Index to, Index length) {
              for (Index i = 0; i < length; ++i) {
                const auto at = static_cast<std::size_t>(to + i);
                const T& value = source.values[static_cast<std::size_t>(from + i)];
                out.values[at] = writes[at] == 0 ? value : redistribution_detail::combine(s.reduce_op, out.values[at], value);
                ++writes[at];
              }
            });
      }
      const std::int32_t expected_writes =
          is_reduction(s.op) ? static_cast<std::int32_t>(exchange.members.size()) : std::int32_t{1};
      for (std::size_t at = 0; at < writes.size(); ++at) {
        if (writes[at] != expected_writes) {
          return executor_error(step, rank) << to_string(s.op) << " wrote element " << static_cast<Index>(at)
                                            << " of the new local tensor " << writes[at] << " times, not "
                                            << expected_writes;
        }
      }
      if (is_reduction(s.op) && s.reduce_op == ReduceOp::avg) {
        for (T& value : out.values) value = value / static_cast<T>(exchange.members.size());
      }
      if (s.op == StepOp::local_partition && !exchange.keeps_value) {
        const T identity = s.reduce_op == ReduceOp::product ? T{1} : T{0};
        for (T& value : out.values) value = identity;
      }
    }
    tensors = std::move(next);
  }
  return tensors;
}

// ---- reference data: what each rank holds under a layout, for dry runs and tests ------------------------------

/// A deterministic, well-spread integer for a global element (its row-major index): distinct neighbours, so a
/// misplaced element never matches by accident.
[[nodiscard]] constexpr std::int64_t reference_value(Index linear) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(linear) * 2654435761ULL) % 1000003ULL) - 500000;
}

namespace redistribution_detail {

/// The addend member `member` of a Partial group of `group` holds for `value`, such that reducing the group's
/// addends with `op` gives `value` back (exactly, for integers).
[[nodiscard]] constexpr std::int64_t addend(ReduceOp op, std::int64_t value, Index member, Index group, Index linear) {
  const auto noise = [&](Index m) { return static_cast<std::int64_t>((linear * 31 + m * 17) % 13) - 6; };
  switch (op) {
    case ReduceOp::sum: {
      if (member != 0) return noise(member);
      std::int64_t rest = 0;
      for (Index m = 1; m < group; ++m) rest += noise(m);
      return value - rest;
    }
    case ReduceOp::avg: return value;
    case ReduceOp::product: return member == 0 ? value : 1;
    case ReduceOp::max: return member == 0 ? value : value - 1 - (noise(member) + 6);
    case ReduceOp::min: return member == 0 ? value : value + 1 + (noise(member) + 6);
  }
  return value;
}

/// Member index of a coordinate within its group over the layout's Partial axes (row-major), and the group size.
[[nodiscard]] constexpr Index partial_member(const Layout& layout, const Coord& coord, Index* group = nullptr) {
  Index member = 0;
  Index size = 1;
  for (std::size_t axis = 0; axis < layout.placements().size(); ++axis) {
    if (!layout.placements()[axis].is_partial()) continue;
    member = member * layout.mesh().size(axis) + coord[axis];
    size *= layout.mesh().size(axis);
  }
  if (group != nullptr) *group = size;
  return member;
}

/// Calls visit(local_index, global_linear_index) for every element of a rank's box.
template <class Visit>
void for_each_element(const Shape& shape, const Box& sets, Visit&& visit) {
  const std::size_t ndim = sets.ndim();
  const Index count = sets.numel();
  std::vector<Index> position(ndim, 0);
  for (Index local = 0; local < count; ++local) {
    Index linear = 0;
    for (std::size_t d = 0; d < ndim; ++d) linear = linear * shape[d] + sets[d].local_to_global(position[d]);
    visit(local, linear);
    for (std::size_t d = ndim; d-- > 0;) {
      if (++position[d] < sets[d].size()) break;
      position[d] = 0;
    }
  }
}

}  // namespace redistribution_detail

/// Every rank's local tensor under `layout` for the global tensor reference_value(i); under Partial axes, addends
/// that reduce to it (every Partial axis of a layout uses the same op).
[[nodiscard]] inline std::vector<LocalTensor<std::int64_t>> reference_tensors(const Layout& layout) {
  const Mesh& mesh = layout.mesh();
  ReduceOp op = ReduceOp::sum;
  for (const Placement& p : layout.placements()) {
    if (p.is_partial()) op = p.op;
  }
  std::vector<LocalTensor<std::int64_t>> tensors;
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    const Coord coord = mesh.coordinate_unchecked(rank);
    const Box sets = layout.index_sets_at(coord);
    Index group = 1;
    const Index member = redistribution_detail::partial_member(layout, coord, &group);
    LocalTensor<std::int64_t> tensor;
    tensor.shape = sets.local_shape();
    tensor.values.resize(static_cast<std::size_t>(numel(tensor.shape)));
    redistribution_detail::for_each_element(layout.shape(), sets, [&](Index local, Index linear) {
      tensor.values[static_cast<std::size_t>(local)] =
          redistribution_detail::addend(op, reference_value(linear), member, group, linear);
    });
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

/// Checks that `tensors` hold the reference tensor under `layout`: each rank exactly its box, and under Partial axes
/// addends whose reduction over each Partial group is the reference value. The error names the first mismatch.
[[nodiscard]] inline Status check_reference(const Layout& layout, const std::vector<LocalTensor<std::int64_t>>& tensors) {
  const Mesh& mesh = layout.mesh();
  ReduceOp op = ReduceOp::sum;
  AxisList partial_axes;
  for (std::size_t axis = 0; axis < layout.placements().size(); ++axis) {
    if (layout.placements()[axis].is_partial()) {
      op = layout.placements()[axis].op;
      partial_axes.push_back(axis);
    }
  }
  for (Index rank = 0; rank < mesh.world_size(); ++rank) {
    const Coord coord = mesh.coordinate_unchecked(rank);
    const Box sets = layout.index_sets_at(coord);
    const Shape shape = sets.local_shape();
    const LocalTensor<std::int64_t>& tensor = tensors[static_cast<std::size_t>(rank)];
    if (tensor.shape != shape) {
      return make_error(ErrorCode::invalid_argument, indexed_field("tensors", rank))
             << "has local shape " << shape_text(tensor.shape) << ", the layout gives " << shape_text(shape);
    }
    if (redistribution_detail::partial_member(layout, coord) != 0) continue;  // checked with its group's first member
    std::vector<Index> group{rank};
    if (!partial_axes.empty()) group = mesh.group(rank, partial_axes).value();
    Status status = Ok{};
    redistribution_detail::for_each_element(layout.shape(), sets, [&](Index local, Index linear) {
      if (!status) return;
      const auto at = static_cast<std::size_t>(local);
      std::int64_t value = tensor.values[at];
      for (std::size_t m = 1; m < group.size(); ++m) {
        value = redistribution_detail::combine(op, value, tensors[static_cast<std::size_t>(group[m])].values[at]);
      }
      if (op == ReduceOp::avg) value /= static_cast<std::int64_t>(group.size());
      if (value != reference_value(linear)) {
        status = make_error(ErrorCode::invalid_argument, indexed_field("tensors", rank))
                 << "holds " << value << " for global element " << linear << ", expected " << reference_value(linear);
      }
    });
    SHARDPLAN_CHECK(status);
  }
  return Ok{};
}

/// Runs `plan` on the reference tensor (integers, so sums are exact) and checks that every rank ends with exactly
/// its target data.
[[nodiscard]] inline Status prove_plan_in_memory(const RedistributionPlan& plan) {
  SHARDPLAN_TRY(const auto result, execute(plan, reference_tensors(plan.from)));
  return check_reference(plan.to, result);
}

}  // namespace shardplan
