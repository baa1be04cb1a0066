// Runs redistribution plans with real MPI collectives.
//
// For each case (a tensor, a mesh, a source and a target layout), every rank computes the same plan with
// plan_redistribution() and then executes it step by step with MPI, taking what it sends and receives only from
// rank_exchange(): the blocks of its local tensor to pack for each group member, and where each received block goes
// in its new local tensor. Mesh rank == MPI world rank (meshes without a device order).
//
// Checks: after every step, each rank's tensor must equal, element for element, what the in-memory executor computes
// for that rank; at the end rank 0 gathers every final tensor and checks it against the reference data with
// check_reference() (Partial targets by reduction). Exit status 0 when every rank's bytes match.
//
//   mpiexec -n 4 redistribute_mpi        (or -n 8: the cases depend on the number of ranks)
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "shardplan/shardplan.hpp"

using namespace shardplan;

namespace {

using Tensor = LocalTensor<std::int64_t>;  // int64 elements: sums of the reference addends are exact

struct Case {
  std::string mesh;  // mesh axis sizes, e.g. "2,2"
  Shape shape;
  std::string from;
  std::string to;
  SplitPolicy policy = SplitPolicy::chunk;
  // A fixed cost per collective, µs (CostModel::set_launch_us). 0: the default model. With one, the planner
  // prefers one collective on a flattened group (several mesh axes at once) to one per axis.
  double launch_us = 0;
};

std::vector<Case> cases_for(int world) {
  constexpr SplitPolicy balanced = SplitPolicy::balanced;
  if (world == 4) {
    return {
        {"2,2", {8, 8}, "S(0),S(1)", "S(1),S(0)"},
        {"2,2", {16, 16}, "P,S(0)", "R,R"},
        {"2,2", {16}, "_S(0,2),S(0)", "S(0),S(0)"},
        {"2,2", {16}, "S(0),S(0)", "_S(0,2),S(0)"},
        {"2,2", {8, 8}, "S(0),S(0)", "R,S(0)"},
        {"2,2", {6, 10}, "P,P", "R,R"},
        {"2,2", {7, 9}, "P(min),S(1)", "S(0),R", balanced},
        {"2,2", {7, 9}, "S(0),S(1)", "S(1),S(0)", balanced},
        // Flattened groups: one collective on both axes.
        {"2,2", {16, 16}, "S(0),S(1)", "R,R", SplitPolicy::chunk, 50},
        {"2,2", {8, 8}, "P,P", "R,R", SplitPolicy::chunk, 50},
        {"2,2", {16}, "_S(0,2),S(0)", "R,R", SplitPolicy::chunk, 50},
        // 13 rows over 4 ranks: uneven pieces (4,4,4,1 under chunk; 4,3,3,3 under balanced), through every kind.
        {"4", {13, 6}, "S(0)", "R"},
        {"4", {13, 6}, "R", "S(0)"},
        {"4", {13, 6}, "P", "R"},
        {"4", {13, 6}, "P", "S(0)"},
        {"4", {13, 6}, "S(0)", "S(1)"},
        {"4", {13, 6}, "R", "P"},
        {"4", {13, 6}, "P(max)", "S(0)", balanced},
        {"4", {13, 6}, "P(avg)", "S(1)", balanced},
        {"4", {13, 6}, "S(0)", "S(1)", balanced},
        // _S endpoints without a shard order: a packed gate_up_proj (two halves) on a 1-axis TP mesh.
        {"4", {16, 6}, "_S(0,2)", "S(0)"},
        {"4", {13, 5}, "S(0)", "_S(0,2)"},
        {"4", {16, 6}, "P", "_S(0,2)"},
    };
  }
  return {
      {"2,2,2", {16, 16, 16}, "S(0),S(0),S(0)", "S(1),S(1),S(1)"},
      {"4,2", {16}, "_S(0,2),S(0)", "S(0),S(0)"},
      {"4,2", {16}, "S(0),S(0)", "_S(0,2),S(0)"},
      {"2,4", {13, 10}, "P,S(1)", "S(0),R"},
      {"8", {13, 5}, "S(0)", "S(1)"},
      {"8", {13, 5}, "S(0)", "S(1)", balanced},
      {"8", {13, 5}, "P(max)", "S(0)", balanced},
      {"2,4", {13, 10}, "P(avg),R", "R,S(0)", balanced},
      {"2,2,2", {6, 10}, "P,P,S(0)", "R,R,R"},
      {"2,4", {5, 7}, "R,R", "P(product),P(product)"},
      {"4,2", {13, 6}, "P,P", "S(0),S(0)"},
      // Flattened groups: one collective on several axes.
      {"2,2,2", {16, 16, 16}, "S(0),S(0),S(0)", "S(1),S(1),S(1)", SplitPolicy::chunk, 50},
      {"2,4", {13, 10}, "P(max),P(max)", "R,R", SplitPolicy::chunk, 50},
      {"2,4", {13, 7}, "S(0),S(1)", "R,R", balanced, 50},
      {"2,2,2", {13, 10}, "R,R,R", "S(0),S(0),S(1)", balanced, 50},
      // _S endpoints without a shard order.
      {"2,4", {16, 6}, "R,_S(0,2)", "R,S(0)"},
      {"8", {16, 6}, "_S(0,2)", "_S(0,4)", balanced},
  };
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg: return MPI_SUM;  // avg: the sum, divided by the group size afterwards
    case ReduceOp::product: return MPI_PROD;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

/// An element count or offset as MPI wants it (our tensors are small; a real runtime would use MPI-4 large counts).
int count(Index n) { return static_cast<int>(n); }

/// Copies `block.lengths` elements from `from` (shape `from_shape`, at `from_offset`) into `to` (at `to_offset`).
void copy_box(const std::int64_t* from, const Shape& from_shape, const Shape& from_offset, std::int64_t* to,
              const Shape& to_shape, const Shape& to_offset, const Shape& lengths) {
  redistribution_detail::for_each_run(from_shape, from_offset, to_shape, to_offset, lengths,
                                      [&](Index source, Index destination, Index length) {
                                        for (Index i = 0; i < length; ++i) to[destination + i] = from[source + i];
                                      });
}

/// Appends a block of `tensor` (at the block's own_offset) to `buffer`, packed as a row-major box of its lengths.
void pack(const Tensor& tensor, const ExchangeBlock& block, std::vector<std::int64_t>& buffer) {
  const std::size_t at = buffer.size();
  buffer.resize(at + static_cast<std::size_t>(block.elements()));
  copy_box(tensor.values.data(), tensor.shape, block.own_offset, buffer.data() + at, block.lengths,
           Shape(block.lengths.size(), 0), block.lengths);
}

/// Copies a packed block (at `packed`) into `tensor` at the block's own_offset.
void unpack(const std::int64_t* packed, const ExchangeBlock& block, Tensor& tensor) {
  copy_box(packed, block.lengths, Shape(block.lengths.size(), 0), tensor.values.data(), tensor.shape,
           block.own_offset, block.lengths);
}

/// The group communicators of a mesh: one per mesh axis, built up front with MPI_Comm_split, plus one per
/// flattened group (several axes, in the step's order), split on first use. A group is the ranks that share every
/// coordinate except those on its axes: color = the coordinates on the other axes, key = position in the group.
class GroupComms {
 public:
  GroupComms(const Mesh& mesh, Index rank) : mesh_(mesh), rank_(rank) {
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) (void)get(AxisList{axis});
  }
  GroupComms(const GroupComms&) = delete;
  GroupComms& operator=(const GroupComms&) = delete;
  ~GroupComms() {
    for (auto& entry : comms_) MPI_Comm_free(&entry.second);
  }

  MPI_Comm get(const AxisList& axes) {
    const std::vector<std::size_t> key(axes.begin(), axes.end());
    auto found = comms_.find(key);
    if (found != comms_.end()) return found->second;
    const Coord coord = mesh_.coordinate_unchecked(rank_);
    Index color = 0;
    for (std::size_t axis = 0; axis < mesh_.ndim(); ++axis) {
      bool in_group = false;
      for (std::size_t a : axes) in_group = in_group || a == axis;
      if (!in_group) color = color * mesh_.size(axis) + coord[axis];
    }
    const std::vector<Index> members = mesh_.group(rank_, axes).value();
    Index position = 0;
    while (members[static_cast<std::size_t>(position)] != rank_) ++position;
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, count(color), count(position), &comm);
    return comms_.emplace(key, comm).first->second;
  }

 private:
  Mesh mesh_;
  Index rank_;
  std::map<std::vector<std::size_t>, MPI_Comm> comms_;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "redistribute_mpi: %s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // not reached
}

/// Runs step `step` of `plan` on this rank's tensor with MPI and returns its new local tensor.
Tensor run_step(const RedistributionPlan& plan, std::size_t step, Index rank, const Tensor& old, GroupComms& comms) {
  const PlanStep& s = plan.steps[step];
  const RankExchange exchange = rank_exchange(plan, step, rank).value();
  const std::vector<Index>& members = exchange.members;
  const std::size_t group = members.size();
  Tensor out;
  out.shape = exchange.after_shape;
  out.values.assign(static_cast<std::size_t>(numel(out.shape)), 0);

  // Counts and displacements of a variable-size collective, per group member, in member order.
  std::vector<int> send_counts(group, 0), send_displs(group, 0), recv_counts(group, 0), recv_displs(group, 0);
  const auto displacements = [](const std::vector<int>& counts, std::vector<int>& displs) {
    int total = 0;
    for (std::size_t j = 0; j < counts.size(); ++j) {
      displs[j] = total;
      total += counts[j];
    }
    return static_cast<std::size_t>(total);
  };
  // Packs this rank's `sends` member by member (they come grouped by peer in member order).
  const auto pack_sends = [&](std::vector<std::int64_t>& buffer) {
    for (std::size_t j = 0; j < group; ++j) {
      for (const ExchangeBlock& block : exchange.sends) {
        if (block.peer != members[j]) continue;
        pack(old, block, buffer);
        send_counts[j] += count(block.elements());
      }
    }
    displacements(send_counts, send_displs);
  };
  const bool collective = s.op != StepOp::permute && !is_local(s.op);
  MPI_Comm comm = collective ? comms.get(s.mesh_dims) : MPI_COMM_WORLD;
  if (collective) {  // the communicator's ranks must be the group, in group order
    int comm_rank = 0, comm_size = 0;
    MPI_Comm_rank(comm, &comm_rank);
    MPI_Comm_size(comm, &comm_size);
    if (static_cast<std::size_t>(comm_size) != group || members[static_cast<std::size_t>(comm_rank)] != rank) {
      fail("communicator does not match the exchange's group");
    }
  }

  switch (s.op) {
    case StepOp::all_gather: {
      // Everyone contributes its whole tensor; member j's arrives as a tensor of j's shape before the step.
      std::vector<Shape> shapes;
      for (std::size_t j = 0; j < group; ++j) {
        shapes.push_back(plan.before(step).local_shape(members[j]).value());
        recv_counts[j] = count(numel(shapes.back()));
      }
      std::vector<std::int64_t> received(displacements(recv_counts, recv_displs));
      MPI_Allgatherv(old.values.data(), count(numel(old.shape)), MPI_INT64_T, received.data(),
                     recv_counts.data(), recv_displs.data(), MPI_INT64_T, comm);
      for (std::size_t j = 0; j < group; ++j) {
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer != members[j]) continue;  // replicas of an earlier member send nothing used
          copy_box(received.data() + recv_displs[j], shapes[j], block.peer_offset, out.values.data(), out.shape,
                   block.own_offset, block.lengths);
        }
      }
      break;
    }
    case StepOp::all_to_all: {
      std::vector<std::int64_t> send_buffer;
      pack_sends(send_buffer);
      for (std::size_t j = 0; j < group; ++j) {
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer == members[j]) recv_counts[j] += count(block.elements());
        }
      }
      std::vector<std::int64_t> received(displacements(recv_counts, recv_displs));
      MPI_Alltoallv(send_buffer.data(), send_counts.data(), send_displs.data(), MPI_INT64_T, received.data(),
                    recv_counts.data(), recv_displs.data(), MPI_INT64_T, comm);
      // A source's blocks arrive in the order of this rank's receives from it.
      for (std::size_t j = 0; j < group; ++j) {
        const std::int64_t* at = received.data() + recv_displs[j];
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer != members[j]) continue;
          unpack(at, block, out);
          at += block.elements();
        }
      }
      break;
    }
    case StepOp::reduce_scatter:
    case StepOp::all_reduce: {
      // Both end with this rank's new box reduced over the group, packed as its receive blocks from itself.
      std::vector<std::int64_t> reduced;
      if (s.op == StepOp::reduce_scatter) {
        std::vector<std::int64_t> send_buffer;
        pack_sends(send_buffer);
        for (std::size_t j = 0; j < group; ++j) {
          recv_counts[j] = count(numel(s.after.local_shape(members[j]).value()));
          if (recv_counts[j] != send_counts[j]) fail("reduce_scatter: sends do not match the members' new sizes");
        }
        std::size_t me = 0;
        while (members[me] != rank) ++me;
        reduced.resize(static_cast<std::size_t>(recv_counts[me]));
        MPI_Reduce_scatter(send_buffer.data(), reduced.data(), recv_counts.data(), MPI_INT64_T, mpi_op(s.reduce_op),
                           comm);
        const std::int64_t* at = reduced.data();
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer != rank) continue;
          unpack(at, block, out);
          at += block.elements();
        }
      } else {
        reduced.resize(old.values.size());
        MPI_Allreduce(old.values.data(), reduced.data(), count(numel(old.shape)), MPI_INT64_T,
                      mpi_op(s.reduce_op), comm);
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer != rank) continue;
          copy_box(reduced.data(), old.shape, block.peer_offset, out.values.data(), out.shape, block.own_offset,
                   block.lengths);
        }
      }
      if (s.reduce_op == ReduceOp::avg) {
        for (std::int64_t& value : out.values) value /= static_cast<std::int64_t>(group);
      }
      break;
    }
    case StepOp::permute: {
      // Point to point on the world: one message per peer with all of its blocks; blocks to or from itself are copies.
      constexpr int kTag = 7;
      std::vector<MPI_Request> requests;
      std::vector<std::vector<std::int64_t>> send_buffers, recv_buffers;
      std::vector<Index> sources;
      send_buffers.reserve(group);
      recv_buffers.reserve(group);
      for (Index peer : members) {
        if (peer == rank) continue;
        std::vector<std::int64_t> buffer;
        for (const ExchangeBlock& block : exchange.sends) {
          if (block.peer == peer) pack(old, block, buffer);
        }
        if (!buffer.empty()) {
          send_buffers.push_back(std::move(buffer));
          requests.emplace_back();
          MPI_Isend(send_buffers.back().data(), count(static_cast<Index>(send_buffers.back().size())), MPI_INT64_T,
                    count(peer), kTag, MPI_COMM_WORLD, &requests.back());
        }
        Index expected = 0;
        for (const ExchangeBlock& block : exchange.receives) expected += block.peer == peer ? block.elements() : 0;
        if (expected > 0) {
          recv_buffers.emplace_back(static_cast<std::size_t>(expected));
          sources.push_back(peer);
          requests.emplace_back();
          MPI_Irecv(recv_buffers.back().data(), count(expected), MPI_INT64_T, count(peer), kTag, MPI_COMM_WORLD,
                    &requests.back());
        }
      }
      MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
      for (std::size_t i = 0; i < sources.size(); ++i) {
        const std::int64_t* at = recv_buffers[i].data();
        for (const ExchangeBlock& block : exchange.receives) {
          if (block.peer != sources[i]) continue;
          unpack(at, block, out);
          at += block.elements();
        }
      }
      for (const ExchangeBlock& block : exchange.receives) {
        if (block.peer == rank) {
          copy_box(old.values.data(), old.shape, block.peer_offset, out.values.data(), out.shape, block.own_offset,
                   block.lengths);
        }
      }
      break;
    }
    case StepOp::local_slice:
    case StepOp::local_partition: {
      for (const ExchangeBlock& block : exchange.receives) {
        copy_box(old.values.data(), old.shape, block.peer_offset, out.values.data(), out.shape, block.own_offset,
                 block.lengths);
      }
      if (s.op == StepOp::local_partition && !exchange.keeps_value) {
        // Replicate -> Partial(sum/product): one member keeps the value, the others hold the op's identity.
        for (std::int64_t& value : out.values) value = s.reduce_op == ReduceOp::product ? 1 : 0;
      }
      break;
    }
  }
  return out;
}

/// `element 5 is 17, expected 19`, or "" when the tensors are equal.
std::string difference(const Tensor& got, const Tensor& want) {
  if (got.shape != want.shape) {
    return "local shape " + shape_text(got.shape).str() + ", expected " + shape_text(want.shape).str();
  }
  for (std::size_t i = 0; i < got.values.size(); ++i) {
    if (got.values[i] != want.values[i]) {
      return "element " + std::to_string(i) + " is " + std::to_string(got.values[i]) + ", expected " +
             std::to_string(want.values[i]);
    }
  }
  return "";
}

/// Plans and runs one case on every rank; rank 0 prints the plan's steps.
void run_case(const Case& c, std::size_t number, Index rank) {
  const std::string name = "case " + std::to_string(number) + " (" + c.mesh + ") " + shape_text(c.shape).str() + " " +
                           c.from + " -> " + c.to + " " + std::string(to_string(c.policy));
  const Mesh mesh = parse_mesh(c.mesh).value();
  const Layout from = Layout::create(c.shape, mesh, parse_placements(c.from).value(), c.policy).value();
  const Layout to = Layout::create(c.shape, mesh, parse_placements(c.to).value(), c.policy).value();
  CostModel costs = CostModel::create(mesh).value();
  if (!costs.set_launch_us(c.launch_us).ok()) fail(name + ": bad launch_us");
  const auto planned = plan_redistribution(from, to, costs, /*element_size=*/8);
  if (!planned.ok()) fail(name + ": " + planned.error().what());
  const RedistributionPlan& plan = *planned;
  GroupComms comms(mesh, rank);

  // The in-memory executor's state of every rank, advanced one step at a time next to the MPI run: a plan of
  // just step k from the layout before it gives exactly the exchanges of step k of the whole plan.
  std::vector<Tensor> expected = reference_tensors(plan.from);
  Tensor tensor = expected[static_cast<std::size_t>(rank)];  // this rank's input
  for (std::size_t step = 0; step < plan.steps.size(); ++step) {
    tensor = run_step(plan, step, rank, tensor, comms);

    RedistributionPlan one_step = plan;
    one_step.from = plan.before(step);
    one_step.steps = {plan.steps[step]};
    auto executed = execute(one_step, std::move(expected));
    if (!executed.ok()) fail(name + ": in-memory executor: " + executed.error().what());
    expected = std::move(*executed);
    const std::string diff = difference(tensor, expected[static_cast<std::size_t>(rank)]);
    if (!diff.empty()) {
      fail(name + ", step " + std::to_string(step) + " (" + std::string(to_string(plan.steps[step].op)) + "), rank " +
           std::to_string(rank) + ": " + diff);
    }
  }
  // The same as running the whole plan in memory at once.
  const auto whole = execute(plan, reference_tensors(plan.from));
  if (!whole.ok() || !difference(tensor, (*whole)[static_cast<std::size_t>(rank)]).empty()) {
    fail(name + ", rank " + std::to_string(rank) + ": differs from execute() of the whole plan");
  }

  // Rank 0 gathers every final tensor and checks them against the reference data of the target layout.
  const Index world = mesh.world_size();
  std::vector<int> counts(static_cast<std::size_t>(world)), displs(static_cast<std::size_t>(world));
  int total = 0;
  for (Index r = 0; r < world; ++r) {
    counts[static_cast<std::size_t>(r)] = count(numel(plan.to.local_shape(r).value()));
    displs[static_cast<std::size_t>(r)] = total;
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<std::int64_t> all(static_cast<std::size_t>(total));
  MPI_Gatherv(tensor.values.data(), count(static_cast<Index>(tensor.values.size())), MPI_INT64_T, all.data(),
              counts.data(), displs.data(), MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::vector<Tensor> finals;
    for (Index r = 0; r < world; ++r) {
      Tensor t;
      t.shape = plan.to.local_shape(r).value();
      const auto begin = all.begin() + displs[static_cast<std::size_t>(r)];
      t.values.assign(begin, begin + counts[static_cast<std::size_t>(r)]);
      finals.push_back(std::move(t));
    }
    const Status status = check_reference(plan.to, finals);
    if (!status.ok()) fail(name + ": gathered result: " + status.error().what());
    std::string ops;
    for (const PlanStep& s : plan.steps) {
      ops += ops.empty() ? "" : ", ";
      ops += std::string(to_string(s.op)) + "(axes";
      for (std::size_t axis : s.mesh_dims) ops.append(" ").append(std::to_string(axis));
      ops += ")";
    }
    std::printf("%s: %s\n", name.c_str(), ops.empty() ? "no steps" : ops.c_str());
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int world = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (world != 4 && world != 8) {
    if (rank == 0) std::fprintf(stderr, "redistribute_mpi: run with 4 or 8 ranks (mpiexec -n 4), not %d\n", world);
    MPI_Finalize();
    return 1;
  }
  const std::vector<Case> cases = cases_for(world);
  for (std::size_t i = 0; i < cases.size(); ++i) run_case(cases[i], i, rank);
  if (rank == 0) {
    std::printf("redistribute_mpi: %zu cases on %d ranks: every rank's bytes match\n", cases.size(), world);
  }
  MPI_Finalize();
  return 0;
}
