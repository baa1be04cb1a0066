#pragma once
// The redistribution planner: an A* search over placement lists, from the source layout to the target, whose edges
// are the steps of plan.hpp and whose weights are the alpha-beta model of cost_model.hpp.
//
// Edges out of a state, per mesh axis a:
//   Partial     all_reduce (-> R); reduce_scatter onto any dim
//   Shard(d)    all_gather (-> R); all_to_all onto any dim (d' != d, or d with another split factor)
//   Replicate   local_slice onto any dim; local_partition when the target is Partial on a
// plus one permute straight to the target (or to the target before its local_partitions). A state reached by a
// step need not have a shard order: gathering the outer of two axes that split a dim leaves (R, _S(d, k)), which
// the next step may well want. The placements a step leads to are proposals (the axis alone; or the later axes on
// the same dim re-strided); StepChecker keeps only those whose data really is where the step says, for every rank,
// under the composition semantics, uneven sizes and split policy included. Every plan therefore replays exactly in
// the executor; the property tests check it on thousands of random pairs.
//
// The estimate is admissible: every element a rank needs and does not hold must reach it, at best at the fastest
// axis's bandwidth. Ties on time go to fewer steps.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <vector>

#include "shardplan/layout/shard_order.hpp"
#include "shardplan/redistribution/cost_model.hpp"
#include "shardplan/redistribution/detail/permute_source.hpp"
#include "shardplan/redistribution/lower_bound.hpp"
#include "shardplan/redistribution/plan.hpp"
#include "shardplan/redistribution/step_check.hpp"

namespace shardplan {

struct PlanOptions {
  /// Merge consecutive steps of the same kind into one step on the flattened group when the model says it is not
  /// slower (local steps always merge; see CostModel::launch_us for collectives).
  bool merge_flattened = true;
  /// The search gives up (an error, never a worse plan) after visiting this many states.
  std::size_t max_states = 200000;
  friend constexpr bool operator==(const PlanOptions&, const PlanOptions&) = default;
};

inline constexpr Index kMaxPlannerRanks = Index{1} << 14;

/// Refusals that do not depend on the search: different shapes, meshes or policies on the two sides; _S lists with
/// no shard order; Partial targets with no rule; mixed reduce ops; a model for another mesh; sizes past 2^56 bytes;
/// meshes past kMaxPlannerRanks.
[[nodiscard]] constexpr Status check_redistribution(const Layout& from, const Layout& to, const CostModel& costs,
                                                    Index element_size) {
  if (from.shape() != to.shape()) {
    return make_error(ErrorCode::invalid_argument, "to.shape")
           << "global shapes differ: " << shape_text(from.shape()) << " -> " << shape_text(to.shape())
           << " (redistribution keeps the tensor)";
  }
  if (!(from.mesh() == to.mesh())) {
    return make_error(ErrorCode::invalid_argument, "to.mesh")
           << "meshes differ: " << from.mesh().to_string() << " -> " << to.mesh().to_string()
           << " (use a transfer map between meshes)";
  }
  if (from.policy() != to.policy()) {
    return make_error(ErrorCode::invalid_argument, "to.policy")
           << "split policies differ: " << to_string(from.policy()) << " -> " << to_string(to.policy());
  }
  // The search walks every rank for every step it weighs: past this, planning would take minutes, not milliseconds.
  if (from.mesh().world_size() > kMaxPlannerRanks) {
    return make_error(ErrorCode::capacity_exceeded, "mesh")
           << from.mesh().to_string() << " has " << from.mesh().world_size() << " ranks, past the planner's limit of "
           << kMaxPlannerRanks;
  }
  if (element_size < 1) {
    return make_error(ErrorCode::invalid_argument, "element_size") << "must be >= 1 byte, got " << element_size;
  }
  if (costs.ndim() != from.mesh().ndim()) {
    return make_error(ErrorCode::invalid_argument, "axis_cost")
           << "the cost model has " << static_cast<Index>(costs.ndim()) << " axes, the mesh "
           << static_cast<Index>(from.mesh().ndim());
  }
  for (std::size_t axis = 0; axis < costs.ndim(); ++axis) {
    SHARDPLAN_CHECK(check_axis_cost(costs.axis(axis), indexed_field("axis_cost", static_cast<Index>(axis)).view()));
  }
  // Plans add up a few dozen steps of at most twice the tensor each; 2^56 bytes leaves room for that in int64.
  SHARDPLAN_TRY(const Index elements, checked_product(from.shape(), "shape"));
  Index bytes = 0;
  if (__builtin_mul_overflow(elements, element_size, &bytes) || bytes > (Index{1} << 56)) {
    return make_error(ErrorCode::overflow, "shape")
           << shape_text(from.shape()) << " x " << element_size << " bytes is past the planner's 2^56-byte limit";
  }
  for (int side = 0; side < 2; ++side) {
    const Layout& layout = side == 0 ? from : to;
    const char* name = side == 0 ? "from" : "to";
    auto order = shard_order(layout);
    if (!order) {
      return make_error(ErrorCode::not_representable, name)
             << to_string(layout.placements()) << " has no shard order (" << order.error().message.view() << ")";
    }
    const Placement* partial = nullptr;
    for (std::size_t axis = 0; axis < layout.placements().size(); ++axis) {
      const Placement& p = layout.placements()[axis];
      if (!p.is_partial()) continue;
      if (partial != nullptr && partial->op != p.op) {
        return make_error(ErrorCode::invalid_argument, indexed_field(name, static_cast<Index>(axis)).view())
               << "Partial axes reduce with different ops (" << to_string(partial->op) << " and " << to_string(p.op)
               << "): the value they stand for is ambiguous";
      }
      partial = &p;
    }
  }
  for (std::size_t axis = 0; axis < to.placements().size(); ++axis) {
    const Placement& target = to.placements()[axis];
    const Placement& source = from.placements()[axis];
    if (!target.is_partial() || source.is_replicate() || source == target) continue;
    return make_error(ErrorCode::invalid_argument, indexed_field("to", static_cast<Index>(axis)).view())
           << "no rule turns " << source.to_string() << " into " << target.to_string() << " on mesh axis "
           << static_cast<Index>(axis) << ": only replicated data (or the same Partial) becomes Partial";
  }
  return Ok{};
}

class RedistributionPlanner {
 public:
  /// The least-cost plan from `from` to `to` under `costs`, for elements of `element_size` bytes.
  [[nodiscard]] Result<RedistributionPlan> plan(const Layout& from, const Layout& to, const CostModel& costs, Index element_size,
                                  const PlanOptions& options = {}) {
    SHARDPLAN_CHECK(check_redistribution(from, to, costs, element_size));
    start(from, to, costs, element_size);
    SHARDPLAN_TRY(const std::size_t goal, search(options));
    return build_plan(goal, options);
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  struct Edge {
    StepOp op = StepOp::permute;
    AxisList axes;
    StaticVector<Index, 2> tensor_dims;
    ReduceOp reduce_op = ReduceOp::sum;
    Index received = 0;  // elements, busiest rank
    double time_us = 0;
  };

  struct Node {
    Placements placements;
    bool valid = false;  // a Layout under the policy (even splits stay exact)
    bool closed = false;
    double time_us = 0;
    Index steps = 0;
    double estimate_us = 0;
    std::size_t parent = kNone;
    Edge edge;  // the step from the parent
  };

  struct Entry {
    double priority;
    Index steps;
    std::size_t node;
    friend bool operator>(const Entry& a, const Entry& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.steps > b.steps;
    }
  };

  void start(const Layout& from, const Layout& to, const CostModel& costs, Index element_size) {
    from_ = from;
    to_ = to;
    costs_ = costs;
    element_size_ = element_size;
    checker_.reset(from.shape(), from.mesh(), from.policy());
    const Mesh& mesh = from.mesh();
    coords_.clear();
    senders_.assign(static_cast<std::size_t>(mesh.world_size()), 0);
    permute_round_ = 0;
    for (Index rank = 0; rank < mesh.world_size(); ++rank) coords_.push_back(mesh.coordinate_unchecked(rank));
    nodes_.clear();
    index_.clear();
    max_gbps_ = 0;
    min_alpha_ = 0;
    for (std::size_t axis = 0; axis < costs.ndim(); ++axis) {
      max_gbps_ = std::max(max_gbps_, costs.axis(axis).gbps);
      min_alpha_ = axis == 0 ? costs.axis(axis).alpha_us : std::min(min_alpha_, costs.axis(axis).alpha_us);
    }
    // Hosts: the ranks that differ only on the fastest axes. Data entering one crosses an axis of at most the
    // fastest slow bandwidth.
    host_lacks_.clear();
    slow_axes_ = AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return is_slow(axis); });
    slow_gbps_ = 0;
    for (std::size_t axis : slow_axes_.axes()) slow_gbps_ = std::max(slow_gbps_, costs.axis(axis).gbps);
    host_size_ = mesh.world_size() / slow_axes_.size();
  }

  [[nodiscard]] Result<std::size_t> search(const PlanOptions& options) {
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> open;
    const std::size_t first = node_of(from_.placements());
    open.push({nodes_[first].estimate_us, 0, first});
    while (!open.empty()) {
      const Entry entry = open.top();
      open.pop();
      if (nodes_[entry.node].closed) continue;
      nodes_[entry.node].closed = true;
      if (nodes_[entry.node].placements == to_.placements()) return entry.node;
      if (nodes_.size() > options.max_states) break;
      expand(entry.node, [&](const Placements& next, const Edge& edge) {
        const std::size_t id = node_of(next);
        Node& node = nodes_[id];
        if (!node.valid || node.closed) return;
        const Node& here = nodes_[entry.node];
        const double time = here.time_us + edge.time_us;
        const Index steps = here.steps + 1;
        if (node.parent != kNone || id == first) {
          if (time > node.time_us || (time == node.time_us && steps >= node.steps)) return;
        }
        node.time_us = time;
        node.steps = steps;
        node.parent = entry.node;
        node.edge = edge;
        open.push({time + node.estimate_us, steps, id});
      });
    }
    return make_error(ErrorCode::capacity_exceeded, "to")
           << "no plan found from " << to_string(from_.placements()) << " to " << to_string(to_.placements())
           << " after creating " << static_cast<Index>(options.max_states) << " states (PlanOptions::max_states)";
  }

  /// The node of a placement list, created (validated, estimated) on first sight.
  std::size_t node_of(const Placements& placements) {
    auto found = index_.find(placements);
    if (found != index_.end()) return found->second;
    Node node;
    node.placements = placements;
    node.valid = Layout::create(from_.shape(), from_.mesh(), placements, from_.policy()).ok();
    if (node.valid) node.estimate_us = estimate(placements);
    nodes_.push_back(node);
    index_.emplace(placements, nodes_.size() - 1);
    return nodes_.size() - 1;
  }

  /// Admissible and consistent: the larger of two costs no plan can avoid, plus one latency if any rank lacks data.
  /// (1) The elements some rank still lacks, at the fastest bandwidth. (2) With slower axes (hosts): group the ranks
  /// that differ only on the fast axes (a host); what a host's ranks want and none of them holds must enter the host
  /// through steps on a slow axis, at most the slow bandwidth, received by its ranks at best evenly.
  [[nodiscard]] double estimate(const Placements& placements) {
    const Tables here = tables(placements);
    const Tables target = tables(to_.placements());
    const Index missing = max_missing(here, target, 0, nullptr);
    if (missing == 0) return 0;
    double bound = static_cast<double>(missing) / max_gbps_;
    if (slow_gbps_ > 0) {
      const HostLack* lacks[kMaxTensorRank]{};
      for (std::size_t d = 0; d < here.size(); ++d) lacks[d] = &host_lack(*here[d], *target[d]);
      Index worst = 0;
      slow_axes_.for_each(Coord(from_.mesh().ndim(), 0), [&](Index, const Coord& coord) {
        Index wanted = 1;
        Index held = 1;
        for (std::size_t d = 0; d < here.size(); ++d) {
          const auto combo = static_cast<std::size_t>(lacks[d]->axes.index_of(coord));
          wanted *= lacks[d]->wanted[combo];
          held *= lacks[d]->held[combo];
        }
        worst = std::max(worst, wanted - held);
      });
      bound = std::max(bound, static_cast<double>(worst) / static_cast<double>(host_size_) / slow_gbps_);
    }
    return min_alpha_ + bound * static_cast<double>(element_size_) / 1e3;
  }

  /// Per dim, for every coordinate of the slow axes involved: the size of the union over a host of the target sets
  /// (`wanted`) and of its intersection with the union of the current sets (`held`).
  struct HostLack {
    AxisSubset axes;  // the slow axes splitting the dim now or in the target
    std::vector<Index> wanted;
    std::vector<Index> held;
  };

  struct TablePair {
    const DimTable* here;
    const DimTable* target;
    friend bool operator==(const TablePair&, const TablePair&) = default;
  };
  struct TablePairHash {
    std::size_t operator()(const TablePair& pair) const {
      return static_cast<std::size_t>(redistribution_detail::hash_mix(
          static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(pair.here)),
          static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(pair.target))));
    }
  };

  [[nodiscard]] const HostLack& host_lack(const DimTable& here, const DimTable& target) {
    const TablePair key{&here, &target};
    auto found = host_lacks_.find(key);
    if (found != host_lacks_.end()) return found->second;
    HostLack lack;
    const Mesh& mesh = from_.mesh();
    const auto on_dim = [&](std::size_t axis) {
      return here.splitters.contains(axis) || target.splitters.contains(axis);
    };
    lack.axes = AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return on_dim(axis) && is_slow(axis); });
    const AxisSubset fast =
        AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return on_dim(axis) && !is_slow(axis); });
    lack.axes.for_each(Coord(mesh.ndim(), 0), [&](Index, const Coord& host) {
      IntervalSet wanted;
      IntervalSet held;
      fast.for_each(host, [&](Index, const Coord& coord) {
        wanted = unite(wanted, target.at(coord));
        held = unite(held, here.at(coord));
      });
      lack.wanted.push_back(wanted.size());
      lack.held.push_back(intersection_size(wanted, held));
    });
    return host_lacks_.emplace(key, std::move(lack)).first->second;
  }

  [[nodiscard]] bool is_slow(std::size_t axis) const { return costs_.axis(axis).gbps < max_gbps_; }

  // ---- evaluation of one proposed step ----------------------------------------------------------------------

  /// The per-dim tables of a placement list, looked up once per evaluation rather than once per rank.
  using Tables = StaticVector<const DimTable*, kMaxTensorRank>;

  [[nodiscard]] Tables tables(const Placements& placements) {
    Tables out;
    for (std::size_t d = 0; d < from_.ndim(); ++d) out.push_back(&checker_.table(placements, d));
    return out;
  }

  /// Elements of a rank's box.
  [[nodiscard]] static Index box_elements(const Tables& tables, const Coord& coord) {
    Index elements = 1;
    for (const DimTable* table : tables) elements *= table->at(coord).size();
    return elements;
  }

  /// Most elements any rank receives moving from `before` to `after` when it takes what it lacks from the members
  /// of its group on `group_axes` (mask); -1 when some rank's new data is not inside its members' old data.
  [[nodiscard]] Index max_received_move(const Tables& before, const Tables& after, unsigned group_axes,
                                        std::vector<Index>* per_rank = nullptr) {
    for (std::size_t d = 0; d < before.size(); ++d) {
      if (!checker_.relation(*before[d], *after[d], group_axes).union_subset) return -1;
    }
    return max_missing(before, after, group_axes, per_rank);
  }

  /// Most elements of a rank's `after` box that its `before` box lacks.
  [[nodiscard]] Index max_missing(const Tables& before, const Tables& after, unsigned group_axes,
                                  std::vector<Index>* per_rank) {
    const redistribution_detail::DimRelation* relations[kMaxTensorRank]{};
    for (std::size_t d = 0; d < before.size(); ++d) relations[d] = &checker_.relation(*before[d], *after[d], group_axes);
    Index busiest = 0;
    for (std::size_t rank = 0; rank < coords_.size(); ++rank) {
      const Coord& coord = coords_[rank];
      Index wanted = 1;
      Index held = 1;
      for (std::size_t d = 0; d < before.size(); ++d) {
        wanted *= after[d]->at(coord).size();
        held *= relations[d]->at(coord);
      }
      busiest = std::max(busiest, wanted - held);
      if (per_rank != nullptr) (*per_rank)[rank] = wanted - held;
    }
    return busiest;
  }

  /// A move (gather, all_to_all, slice) on `axes`; fills `edge` and returns false when the data is not there.
  [[nodiscard]] bool evaluate_move(const Placements& before, const Placements& after, const AxisList& axes,
                                   Edge& edge) {
    edge = Edge{};
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    const unsigned mask = axis_mask(axes);
    bool own = true;
    bool gathered = true;
    for (std::size_t d = 0; d < old_tables.size(); ++d) {
      const auto& relation = checker_.relation(*old_tables[d], *new_tables[d], mask);
      if (!relation.union_subset) return false;
      own = own && relation.own_subset;
      gathered = gathered && relation.union_equal;
    }
    bool all_replicate = true;
    for (std::size_t axis : axes) all_replicate = all_replicate && after[axis].is_replicate();
    edge.axes = axes;
    if (own) {
      edge.op = StepOp::local_slice;
    } else if (all_replicate && gathered) {
      edge.op = StepOp::all_gather;
    } else if (all_replicate) {
      return false;  // going to Replicate must be a plain gather
    } else {
      edge.op = StepOp::all_to_all;
    }
    edge.received = edge.op == StepOp::local_slice ? 0 : max_missing(old_tables, new_tables, mask, nullptr);
    edge.time_us = edge.op == StepOp::local_slice ? 0 : comm_time(axes, group_size(axes) - 1, edge.received);
    edge.tensor_dims = changed_dims(old_tables, new_tables);
    return true;
  }

  /// A reduction of the Partial axes `axes` (all_reduce or reduce_scatter).
  [[nodiscard]] bool evaluate_reduction(const Placements& before, const Placements& after, const AxisList& axes,
                                        Edge& edge, std::vector<Index>* per_rank = nullptr) {
    edge = Edge{};
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    for (std::size_t d = 0; d < old_tables.size(); ++d) {
      if (!checker_.relation(*old_tables[d], *new_tables[d], 0).own_subset) return false;
    }
    bool all_replicate = true;
    for (std::size_t axis : axes) all_replicate = all_replicate && after[axis].is_replicate();
    edge.op = all_replicate ? StepOp::all_reduce : StepOp::reduce_scatter;
    edge.axes = axes;
    edge.reduce_op = before[axes[0]].op;
    const Index k = group_size(axes);
    Index busiest = 0;
    for (std::size_t rank = 0; rank < coords_.size(); ++rank) {
      const Index kept = box_elements(new_tables, coords_[rank]);
      // Ring all_reduce: a reduce_scatter and an all_gather of n/k-sized chunks, 2(k-1)/k * n in all.
      const auto ring = static_cast<WideIndex>(2 * (k - 1)) * kept;
      const Index received = all_replicate ? static_cast<Index>((ring + k - 1) / k) : (k - 1) * kept;
      busiest = std::max(busiest, received);
      if (per_rank != nullptr) (*per_rank)[rank] = received;
    }
    edge.received = busiest;
    edge.time_us = comm_time(axes, all_replicate ? 2 * (k - 1) : k - 1, busiest);
    edge.tensor_dims = changed_dims(old_tables, new_tables);
    return true;
  }

  /// A permute: every rank takes its new box whole from one rank (itself when it can), and sends to at most one
  /// other. Fills the source of each rank when asked.
  [[nodiscard]] bool evaluate_permute(const Placements& before, const Placements& after, Edge& edge,
                                      std::vector<Index>* sources = nullptr) {
    edge = Edge{};
    for (std::size_t axis = 0; axis < before.size(); ++axis) {
      if (before[axis].is_partial() != after[axis].is_partial()) return false;
      if (before[axis].is_partial() && !(before[axis] == after[axis])) return false;
    }
    const Tables old_tables = tables(before);
    const Tables new_tables = tables(after);
    const Mesh& mesh = from_.mesh();
    ++permute_round_;
    const auto old_of = [&](std::size_t d) -> const DimTable& { return *old_tables[d]; };
    const auto new_of = [&](std::size_t d) -> const DimTable& { return *new_tables[d]; };
    const std::size_t ndim = old_tables.size();
    unsigned moved_axes = 0;
    Index busiest = 0;
    for (std::size_t rank = 0; rank < coords_.size(); ++rank) {
      const Coord& coord = coords_[rank];
      const std::optional<Coord> found = redistribution_detail::permute_source(old_of, new_of, ndim, coord);
      if (!found) return false;
      const Coord& source = *found;
      if (!redistribution_detail::box_inside(old_of, source, new_of, coord, ndim)) return false;
      const Index from_rank = mesh.rank_unchecked(source);
      if (sources != nullptr) (*sources)[rank] = from_rank;
      if (from_rank == static_cast<Index>(rank)) continue;
      // Point-to-point pairs: a rank sends to at most one other (XLA's collective-permute rule); a one-to-many
      // copy is a gather.
      if (senders_[static_cast<std::size_t>(from_rank)] == permute_round_) return false;
      senders_[static_cast<std::size_t>(from_rank)] = permute_round_;
      for (std::size_t axis = 0; axis < coord.size(); ++axis) {
        if (source[axis] != coord[axis]) moved_axes |= 1U << axis;
      }
      busiest = std::max(busiest, box_elements(new_tables, coord));
    }
    if (moved_axes == 0) return false;  // nothing moves: not a communication step
    edge.op = StepOp::permute;
    for (std::size_t axis = 0; axis < before.size(); ++axis) {
      if ((moved_axes & (1U << axis)) != 0) edge.axes.push_back(axis);
    }
    edge.received = busiest;
    edge.time_us = comm_time(edge.axes, 1, busiest);
    edge.tensor_dims = changed_dims(old_tables, new_tables);
    return true;
  }

  [[nodiscard]] double comm_time(const AxisList& axes, Index hops, Index elements) const {
    return CostModel::time_us(costs_.group(axes), hops, elements * element_size_) + costs_.launch_us();
  }

  [[nodiscard]] Index group_size(const AxisList& axes) const {
    return AxisSubset(from_.mesh().shape(), axes).size();
  }

  [[nodiscard]] static unsigned axis_mask(const AxisList& axes) {
    unsigned mask = 0;
    for (std::size_t axis : axes) mask |= 1U << axis;
    return mask;
  }

  /// Tensor dims whose splitting differs (at most two for one step; more only for a permute, listed first two).
  [[nodiscard]] static StaticVector<Index, 2> changed_dims(const Tables& before, const Tables& after) {
    StaticVector<Index, 2> dims;
    for (std::size_t d = 0; d < before.size() && dims.size() < 2; ++d) {
      if (before[d] != after[d]) dims.push_back(static_cast<Index>(d));
    }
    return dims;
  }

  // ---- proposals ------------------------------------------------------------------------------------------

  /// Placements with axis `axis` (now R) taken out of dim `dim`'s split: the later axes on the dim as they were,
  /// or each re-strided by the axis's size (what gathering an outer split leaves behind).
  template <class Visit>
  void removals(const Placements& before, std::size_t axis, Visit&& visit) const {
    const Index dim = before[axis].dim;
    Placements plain = before;
    plain[axis] = Placement::replicate();
    visit(plain);
    Placements strided = plain;
    bool later = false;
    for (std::size_t b = axis + 1; b < before.size(); ++b) {
      const Placement& p = before[b];
      if (!p.is_shard() || p.dim != dim) continue;
      later = true;
      const Index factor = (p.is_strided() ? p.split_factor : 1) * from_.mesh().size(axis);
      // A split factor past the product of the other axes' sizes never names a new layout (the shard-order forms
      // stay below it); capping it keeps the state space finite.
      if (factor > from_.mesh().world_size() / from_.mesh().size(b)) return;
      strided[b] = Placement::strided_shard(dim, factor);
    }
    if (later) visit(strided);
  }

  /// Placements with axis `axis` (currently R in `base`) splitting dim `dim`: as a plain Shard, as the innermost
  /// split (_S with the later axes' product), as the source or target has it, or as a Shard with the later axes'
  /// strides divided by its size.
  template <class Visit>
  void insertions(const Placements& base, std::size_t axis, Index dim, Visit&& visit) const {
    StaticVector<Placement, 8> proposals;
    auto propose = [&](const Placement& p) {
      for (const Placement& seen : proposals) {
        if (seen == p) return;
      }
      proposals.push_back(p);
    };
    Index later = 1;
    bool restride = false;
    Placements divided = base;
    for (std::size_t b = axis + 1; b < base.size(); ++b) {
      const Placement& p = base[b];
      if (!p.is_shard() || p.dim != dim) continue;
      later *= from_.mesh().size(b);
      const Index k = from_.mesh().size(axis);
      if (p.is_strided() && p.split_factor % k == 0) {
        restride = true;
        const Index factor = p.split_factor / k;
        divided[b] = factor == 1 ? Placement::shard(dim) : Placement::strided_shard(dim, factor);
      }
    }
    propose(Placement::shard(dim));
    if (later > 1) propose(Placement::strided_shard(dim, later));
    for (const Placement* known : {&from_.placements()[axis], &to_.placements()[axis]}) {
      if (known->is_shard() && known->dim == dim) propose(*known);
    }
    for (const Placement& p : proposals) {
      Placements next = base;
      next[axis] = p;
      visit(next);
    }
    if (restride) {
      divided[axis] = Placement::shard(dim);
      visit(divided);
    }
  }

  /// Partial axes of one state reduce with one op: partitioning for another op while some other is pending would
  /// mix them (a sum of products is not a product of sums).
  [[nodiscard]] static bool partial_ops_agree(const Placements& placements, ReduceOp op) {
    for (const Placement& p : placements) {
      if (p.is_partial() && p.op != op) return false;
    }
    return true;
  }

  template <class Relax>
  void expand(std::size_t id, Relax&& relax) {
    const Placements here = nodes_[id].placements;
    const Placements& target = to_.placements();
    const auto rank = static_cast<Index>(from_.ndim());
    Edge edge;
    for (std::size_t axis = 0; axis < here.size(); ++axis) {
      const Placement& p = here[axis];
      const AxisList axes{axis};
      if (p.is_partial()) {
        Placements reduced = here;
        reduced[axis] = Placement::replicate();
        if (evaluate_reduction(here, reduced, axes, edge)) relax(reduced, edge);
        for (Index dim = 0; dim < rank; ++dim) {
          insertions(reduced, axis, dim, [&](const Placements& next) {
            if (evaluate_reduction(here, next, axes, edge)) relax(next, edge);
          });
        }
      } else if (p.is_shard()) {
        removals(here, axis, [&](const Placements& gathered) {
          if (evaluate_move(here, gathered, axes, edge)) relax(gathered, edge);
          for (Index dim = 0; dim < rank; ++dim) {
            insertions(gathered, axis, dim, [&](const Placements& next) {
              if (next == here) return;
              if (evaluate_move(here, next, axes, edge)) relax(next, edge);
            });
          }
        });
      } else {
        for (Index dim = 0; dim < rank; ++dim) {
          insertions(here, axis, dim, [&](const Placements& next) {
            if (evaluate_move(here, next, axes, edge)) relax(next, edge);
          });
        }
        if (target[axis].is_partial() && partial_ops_agree(here, target[axis].op)) {
          Placements next = here;
          next[axis] = target[axis];
          edge = Edge{};
          edge.op = StepOp::local_partition;
          edge.axes = axes;
          edge.reduce_op = target[axis].op;
          relax(next, edge);
        }
      }
    }
    // A permute to the target, or to the target with its new Partial axes still replicated.
    Placements unpartitioned = target;
    for (std::size_t axis = 0; axis < target.size(); ++axis) {
      if (target[axis].is_partial() && here[axis].is_replicate()) unpartitioned[axis] = Placement::replicate();
    }
    if (evaluate_permute(here, unpartitioned, edge)) relax(unpartitioned, edge);
    // Or one all_to_all on the flattened group of the axes that change (then of every splitting axis): one step
    // where the per-axis moves would need several.
    bool partial_kept = true;
    AxisList changing;
    AxisList splitting;
    for (std::size_t axis = 0; axis < here.size(); ++axis) {
      if (here[axis].is_partial()) partial_kept = partial_kept && here[axis] == unpartitioned[axis];
      if (!(here[axis] == unpartitioned[axis])) changing.push_back(axis);
      if (here[axis].is_shard() || unpartitioned[axis].is_shard()) splitting.push_back(axis);
    }
    if (!partial_kept) return;
    for (const AxisList* axes : {&changing, &splitting}) {
      if (axes->size() < 2) continue;
      if (evaluate_move(here, unpartitioned, *axes, edge)) {
        if (edge.op != StepOp::local_slice) relax(unpartitioned, edge);
        return;
      }
    }
  }

  // ---- the plan ---------------------------------------------------------------------------------------------

  [[nodiscard]] Result<RedistributionPlan> build_plan(std::size_t goal, const PlanOptions& options) {
    std::vector<std::size_t> path;
    for (std::size_t id = goal; nodes_[id].parent != kNone; id = nodes_[id].parent) path.push_back(id);
    std::vector<Placements> states{from_.placements()};
    std::vector<Edge> edges;
    for (std::size_t i = path.size(); i-- > 0;) {
      states.push_back(nodes_[path[i]].placements);
      edges.push_back(nodes_[path[i]].edge);
    }
    if (options.merge_flattened) merge_steps(states, edges);

    RedistributionPlan plan;
    plan.from = from_;
    plan.to = to_;
    plan.element_size = element_size_;
    const std::size_t world = coords_.size();
    std::vector<Index> total(world, 0);
    std::vector<Index> step_received(world, 0);
    std::vector<Index> sent(world, 0);
    Index peak = 0;
    for (std::size_t rank = 0; rank < world; ++rank) {
      peak = std::max(peak, box_elements(tables(from_.placements()), coords_[rank]));
    }
    for (std::size_t s = 0; s < edges.size(); ++s) {
      const Placements& before = states[s];
      const Placements& after = states[s + 1];
      const Tables old_tables = tables(before);
      const Tables new_tables = tables(after);
      Edge edge = edges[s];
      const AxisList axes = edge.axes;  // evaluate_* reset the edge they fill
      std::fill(step_received.begin(), step_received.end(), 0);
      std::fill(sent.begin(), sent.end(), 0);
      Index busiest_sent = 0;
      if (edge.op == StepOp::permute) {
        std::vector<Index> sources(world, 0);
        if (!evaluate_permute(before, after, edge, &sources)) return internal_error(s);
        for (std::size_t rank = 0; rank < world; ++rank) {
          if (sources[rank] == static_cast<Index>(rank)) continue;
          step_received[rank] = box_elements(new_tables, coords_[rank]);
          sent[static_cast<std::size_t>(sources[rank])] += step_received[rank];
        }
        for (Index bytes : sent) busiest_sent = std::max(busiest_sent, bytes);
      } else if (is_reduction(edge.op)) {
        if (!evaluate_reduction(before, after, axes, edge, &step_received)) return internal_error(s);
        busiest_sent = edge.received;  // ring: each rank forwards as much as it receives
      } else if (edge.op != StepOp::local_partition) {
        if (!evaluate_move(before, after, axes, edge)) return internal_error(s);
        if (edge.op != StepOp::local_slice) {
          (void)max_received_move(old_tables, new_tables, axis_mask(edge.axes), &step_received);
          if (edge.op == StepOp::all_gather) {
            busiest_sent = edge.received;  // ring
          } else {
            // all_to_all: members' new boxes are disjoint, so each element a rank holds and will not keep goes
            // to exactly one member.
            for (std::size_t rank = 0; rank < world; ++rank) {
              const Index held = box_elements(old_tables, coords_[rank]);
              const Index kept = box_elements(new_tables, coords_[rank]) - step_received[rank];
              busiest_sent = std::max(busiest_sent, held - kept);
            }
          }
        }
      }
      for (std::size_t rank = 0; rank < world; ++rank) {
        total[rank] += step_received[rank];
        peak = std::max(peak, box_elements(old_tables, coords_[rank]) + box_elements(new_tables, coords_[rank]));
      }
      SHARDPLAN_TRY(Layout layout, Layout::create(from_.shape(), from_.mesh(), after, from_.policy()));
      PlanStep step;
      step.op = edge.op;
      step.mesh_dims = edge.axes;
      step.tensor_dims = edge.tensor_dims;
      step.reduce_op = edge.reduce_op;
      step.after = std::move(layout);
      step.bytes_received = edge.received * element_size_;
      step.bytes_sent = busiest_sent * element_size_;
      step.time_us = edge.time_us;
      plan.time_us += step.time_us;
      plan.steps.push_back(std::move(step));
    }
    for (Index bytes : total) plan.bytes_per_rank = std::max(plan.bytes_per_rank, bytes);
    plan.bytes_per_rank *= element_size_;
    plan.peak_bytes = peak * element_size_;
    plan.lower_bound_bytes = lower_bound_elements(from_, to_) * element_size_;
    return plan;
  }

  /// Merges step s and s+1 into one on the union of their axes when they are the same kind on disjoint axes, the
  /// merged step is legal, and it is not slower.
  void merge_steps(std::vector<Placements>& states, std::vector<Edge>& edges) {
    for (std::size_t s = 0; s + 1 < edges.size();) {
      const Edge& a = edges[s];
      const Edge& b = edges[s + 1];
      const bool mergeable_kind = a.op == b.op && a.reduce_op == b.reduce_op &&
                                  (a.op == StepOp::all_gather || a.op == StepOp::all_reduce ||
                                   a.op == StepOp::local_slice || a.op == StepOp::local_partition);
      if (!mergeable_kind || (axis_mask(a.axes) & axis_mask(b.axes)) != 0) {
        ++s;
        continue;
      }
      AxisList axes;
      for (std::size_t axis = 0; axis < from_.mesh().ndim(); ++axis) {
        if (((axis_mask(a.axes) | axis_mask(b.axes)) & (1U << axis)) != 0) axes.push_back(axis);
      }
      Edge merged = a;
      bool legal = true;
      if (a.op == StepOp::local_partition) {
        merged.axes = axes;
      } else if (a.op == StepOp::all_reduce) {
        legal = evaluate_reduction(states[s], states[s + 2], axes, merged);
      } else {
        legal = evaluate_move(states[s], states[s + 2], axes, merged) && merged.op == a.op;
      }
      if (!legal || merged.time_us > a.time_us + b.time_us) {
        ++s;
        continue;
      }
      merged.tensor_dims = changed_dims(tables(states[s]), tables(states[s + 2]));
      edges[s] = merged;
      edges.erase(edges.begin() + static_cast<std::ptrdiff_t>(s) + 1);
      states.erase(states.begin() + static_cast<std::ptrdiff_t>(s) + 1);
    }
  }

  [[nodiscard]] Error internal_error(std::size_t step) const {
    return make_error(ErrorCode::invalid_argument, "plan")
           << "internal: step " << static_cast<Index>(step) << " of the plan from " << to_string(from_.placements())
           << " to " << to_string(to_.placements()) << " no longer checks; please report";
  }

  Layout from_;
  Layout to_;
  CostModel costs_;
  Index element_size_ = 1;
  StepChecker checker_;
  std::vector<Coord> coords_;
  std::vector<std::uint64_t> senders_;  // per rank, the last permute_round_ in which it sent
  std::uint64_t permute_round_ = 0;
  std::vector<Node> nodes_;
  std::unordered_map<Placements, std::size_t, redistribution_detail::PlacementsHash> index_;
  double max_gbps_ = 0;
  double min_alpha_ = 0;
  AxisSubset slow_axes_;  // axes slower than the fastest
  double slow_gbps_ = 0;  // the fastest of them; 0 when every axis runs at max_gbps_
  Index host_size_ = 1;   // ranks per host
  std::unordered_map<TablePair, HostLack, TablePairHash> host_lacks_;
};

/// One plan, with a fresh planner.
[[nodiscard]] inline Result<RedistributionPlan> plan_redistribution(const Layout& from, const Layout& to, const CostModel& costs,
                                                      Index element_size, const PlanOptions& options = {}) {
  RedistributionPlanner planner;
  return planner.plan(from, to, costs, element_size, options);
}

/// One plan with the default topology of the layouts' mesh.
[[nodiscard]] inline Result<RedistributionPlan> plan_redistribution(const Layout& from, const Layout& to, Index element_size) {
  SHARDPLAN_TRY(const CostModel costs, CostModel::create(from.mesh()));
  return plan_redistribution(from, to, costs, element_size);
}

/// Plans remembered by their request: asking again returns the same plan for the cost of a hash lookup. Safe to
/// share between threads.
class PlanCache {
 public:
  [[nodiscard]] Result<std::shared_ptr<const RedistributionPlan>> plan(const Layout& from, const Layout& to, const CostModel& costs,
                                                         Index element_size, const PlanOptions& options = {}) {
    Key key{from, to, costs, element_size, options};
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      auto found = plans_.find(key);
      if (found != plans_.end()) return found->second;
    }
    RedistributionPlanner planner;
    SHARDPLAN_TRY(RedistributionPlan plan, planner.plan(from, to, costs, element_size, options));
    auto shared = std::make_shared<const RedistributionPlan>(std::move(plan));
    const std::lock_guard<std::mutex> lock(mutex_);
    return plans_.emplace(std::move(key), std::move(shared)).first->second;
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return plans_.size();
  }

 private:
  struct Key {
    Layout from;
    Layout to;
    CostModel costs;
    Index element_size;
    PlanOptions options;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const {
      using redistribution_detail::hash_mix;
      std::uint64_t seed = hash_mix(static_cast<std::uint64_t>(key.element_size), key.from.shape().size());
      for (Index size : key.from.shape()) seed = hash_mix(seed, static_cast<std::uint64_t>(size));
      for (Index size : key.from.mesh().shape()) seed = hash_mix(seed, static_cast<std::uint64_t>(size));
      seed = redistribution_detail::hash_placements(key.from.placements(), seed);
      seed = redistribution_detail::hash_placements(key.to.placements(), hash_mix(seed, 0x70));
      return static_cast<std::size_t>(hash_mix(seed, static_cast<std::uint64_t>(key.from.policy())));
    }
  };
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<const RedistributionPlan>, KeyHash> plans_;
};

}  // namespace shardplan
