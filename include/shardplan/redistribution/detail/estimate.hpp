#pragma once
// The search's estimate of the cost still ahead of a state: admissible (never above the cost of the cheapest plan
// from there) and consistent, so A* returns least-cost plans. It is the larger of two costs no plan can avoid, plus
// one latency if any rank lacks data:
//   (1) the elements some rank still lacks, at the fastest axis's bandwidth;
//   (2) with slower axes (hosts): group the ranks that differ only on the fast axes (a host); what a host's ranks
//       want and none of them holds must enter the host through steps on a slow axis, at most at the fastest slow
//       bandwidth, received by its ranks at best evenly.
// Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/redistribution/detail/hashing.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"

namespace shardplan::redistribution_detail {

class PlanEstimate {
 public:
  /// For plans towards `target` with the rules' mesh and costs.
  void reset(StepRules& rules, const Placements& target) {
    target_tables_ = rules.tables(target);
    host_lacks_.clear();
    const Mesh& mesh = rules.mesh();
    const CostModel& costs = rules.costs();
    max_gbps_ = 0;
    min_alpha_ = 0;
    for (std::size_t axis = 0; axis < costs.ndim(); ++axis) {
      max_gbps_ = detail::max(max_gbps_, costs.axis(axis).gbps);
      min_alpha_ = axis == 0 ? costs.axis(axis).alpha_us : detail::min(min_alpha_, costs.axis(axis).alpha_us);
    }
    slow_axes_ = AxisSubset::where(mesh.shape(), [&](std::size_t axis) { return costs.axis(axis).gbps < max_gbps_; });
    slow_gbps_ = 0;
    for (std::size_t axis : slow_axes_.axes()) slow_gbps_ = detail::max(slow_gbps_, costs.axis(axis).gbps);
    host_size_ = mesh.world_size() / slow_axes_.size();
  }

  /// The estimate, in µs, from `placements` to the target.
  [[nodiscard]] double operator()(StepRules& rules, const Placements& placements) {
    const Tables here = rules.tables(placements);
    const Tables& target = target_tables_;
    const Index missing = rules.missing(here, target);
    if (missing == 0) return 0;
    double bound = static_cast<double>(missing) / max_gbps_;
    if (slow_gbps_ > 0) {
      const HostLack* lacks[kMaxTensorRank]{};
      for (std::size_t d = 0; d < here.size(); ++d) lacks[d] = &host_lack(rules.mesh(), *here[d], *target[d]);
      Index worst = 0;
      slow_axes_.for_each(Coord(rules.mesh().ndim(), 0), [&](Index, const Coord& coord) {
        Index wanted = 1;
        Index held = 1;
        for (std::size_t d = 0; d < here.size(); ++d) {
          const auto combo = static_cast<std::size_t>(lacks[d]->axes.index_of(coord));
          wanted *= lacks[d]->wanted[combo];
          held *= lacks[d]->held[combo];
        }
        worst = detail::max(worst, wanted - held);
      });
      bound = detail::max(bound, static_cast<double>(worst) / static_cast<double>(host_size_) / slow_gbps_);
    }
    return min_alpha_ + bound * static_cast<double>(rules.element_size()) / 1e3;
  }

 private:
  /// Per dim, for every coordinate of the slow axes involved: the size of the union over a host of the target sets
  /// (`wanted`) and of its intersection with the union of the current sets (`held`).
  struct HostLack {
    AxisSubset axes;  // the slow axes splitting the dim now or in the target
    std::vector<Index> wanted;
    std::vector<Index> held;
  };

  /// Tables are unique per (dim, placements on the dim), so a pair of table addresses names a pair of dim layouts.
  struct TablePair {
    const DimTable* here;
    const DimTable* target;
    friend bool operator==(const TablePair&, const TablePair&) = default;
  };
  struct TablePairHash {
    std::size_t operator()(const TablePair& pair) const {
      return static_cast<std::size_t>(hash_mix(hash_pointer(pair.here), hash_pointer(pair.target)));
    }
  };

  [[nodiscard]] bool is_slow(std::size_t axis) const { return slow_axes_.contains(axis); }

  [[nodiscard]] const HostLack& host_lack(const Mesh& mesh, const DimTable& here, const DimTable& target) {
    const TablePair key{&here, &target};
    if (const auto* found = host_lacks_.find(key)) return found->second;
    HostLack lack;
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

  Tables target_tables_;  // the step rules' tables stay until their reset, which comes before ours
  double max_gbps_ = 0;
  double min_alpha_ = 0;
  AxisSubset slow_axes_;  // axes slower than the fastest
  double slow_gbps_ = 0;  // the fastest of them; 0 when every axis runs at max_gbps_
  Index host_size_ = 1;   // ranks per host
  detail::HashMap<TablePair, HostLack, TablePairHash> host_lacks_;
};

}  // namespace shardplan::redistribution_detail
