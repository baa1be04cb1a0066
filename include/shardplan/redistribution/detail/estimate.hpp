#pragma once
// The search's estimate of the cost still ahead of a state: admissible (never above the cost of the cheapest plan
// from there), so A* returns least-cost plans. It bounds two quantities every plan from the state must move:
//   L  the most one rank must still receive: lower_bound.hpp's rule between the state and the target (what it
//      lacks; with Partial axes left to reduce, every element of its target box plus its share of the reduction);
//      and at least its share of the reduction as a whole: every element of the tensor is reduced from K addends
//      held by K ranks, which takes K - 1 transfers, so the ranks receive (K - 1) x elements in all;
//   H  with slower axes (hosts): group the ranks that differ only on the fast axes (a host); what a host's ranks
//      want and none of them holds must enter the host through steps on a slow axis, received by its ranks at best
//      evenly: H / (ranks per host) per rank. With slow Partial axes left to reduce, the same rule as L with hosts
//      for ranks (the other addends of what a host wants are on other hosts), and at least the share of the
//      (K_slow - 1) x elements transfers between hosts.
// Every step is on slow axes (at most the fastest slow bandwidth) or on fast ones only (at most the fastest), and
// the busiest rank of each receives at least what any one rank does. So the slow steps' busiest ranks receive at
// least H' = H / (ranks per host) and all steps' at least L, and the cheapest split of the bytes is
//   H' / (slow bandwidth) + max(0, L - H') / (fast bandwidth)
// plus the latency of the hops every plan needs (latency() below) and one launch when anything is missing.
// Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/redistribution/detail/hashing.hpp"
#include "shardplan/redistribution/detail/rank_classes.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"
#include "shardplan/redistribution/lower_bound.hpp"

namespace shardplan::redistribution_detail {

class PlanEstimate {
 public:
  /// For plans towards `target` with the rules' mesh and costs.
  void reset(StepRules& rules, const Placements& target) {
    target_ = target;
    target_tables_ = rules.tables(target);
    host_lacks_.clear();
    host_unions_.clear();
    largest_sets_.clear();
    reduced_overlaps_.clear();
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
    min_slow_alpha_ = 0;
    for (std::size_t axis : slow_axes_.axes()) {
      slow_gbps_ = detail::max(slow_gbps_, costs.axis(axis).gbps);
      min_slow_alpha_ = min_slow_alpha_ == 0 ? costs.axis(axis).alpha_us
                                             : detail::min(min_slow_alpha_, costs.axis(axis).alpha_us);
    }
    host_size_ = mesh.world_size() / slow_axes_.size();
    elements_ = 1;
    for (Index size : rules.shape()) elements_ *= static_cast<double>(size);
  }

  /// The estimate, in µs, from `placements` to the target.
  [[nodiscard]] double operator()(StepRules& rules, const Placements& placements) {
    const Tables here = rules.tables(placements);
    const AxisSubset reduced = reduced_axes(rules.mesh(), placements, target_);
    const BusiestNeed lack = busiest_lack(rules, here, reduced);
    if (lack.received == 0) return 0;
    const double fast_us = 1e3 * max_gbps_ / static_cast<double>(rules.element_size());  // elements per µs
    // Every element of the tensor is reduced somewhere, from K addends on K ranks (K - 1 transfers at least), and
    // from K_slow addends on K_slow hosts: the ranks receive at least that much in all, so the busiest at least
    // its share.
    const double world = static_cast<double>(rules.mesh().world_size());
    const double rank_lack = detail::max(static_cast<double>(lack.received),
                                         static_cast<double>(reduced.size() - 1) * elements_ / world);
    double host_lack = 0;  // H', per rank of the worst host
    if (slow_gbps_ > 0) {
      const AxisSubset reduced_slow = AxisSubset::where(rules.mesh().shape(), [&](std::size_t axis) {
        return reduced.contains(axis) && slow_axes_.contains(axis);
      });
      host_lack = detail::max(
          static_cast<double>(worst_host_lack(rules, here, reduced_slow)) / static_cast<double>(host_size_),
          static_cast<double>(reduced_slow.size() - 1) * elements_ / world);
    }
    const double slow_us = 1e3 * slow_gbps_ / static_cast<double>(rules.element_size());
    double time = host_lack > 0 ? host_lack / slow_us : 0;
    time += detail::max(0.0, rank_lack - host_lack) / fast_us;
    return time + latency(rules, here, reduced, lack, host_lack > 0) + rules.costs().launch_us();
  }

 private:
  /// The latency every plan from here pays, in µs. A step of h hops costs h x (its group's latency); after steps
  /// on groups of k_1, k_2, ... ranks (a permute counts as 2), a rank's data comes from at most k_1 x k_2 x ...
  /// ranks, in k_1 - 1 + k_2 - 1 + ... >= log2(k_1 x k_2 x ...) hops. The busiest rank needs data from at least
  /// 1 + ceil(absent / largest box) ranks, and from its whole Partial group (K ranks), so the plan takes
  /// ceil(log2 of that) hops, one of them slow when something must enter a host. And every Partial axis left to
  /// reduce is in some reduction's group of k ranks (k - 1 hops or more at its latency or more), whatever else
  /// that step does.
  [[nodiscard]] double latency(StepRules& rules, const Tables& here, const AxisSubset& reduced, const BusiestNeed& lack,
                               bool crosses_hosts) {
    Index largest = 1;
    for (const DimTable* table : here) largest *= largest_set(rules, *table);
    Index sources = reduced.size();
    if (lack.absent > 0 && largest > 0) sources = detail::max(sources, 1 + (lack.absent + largest - 1) / largest);
    Index hops = 0;
    for (Index reach = 1; reach < sources; reach *= 2) ++hops;
    double through_hops = static_cast<double>(hops) * min_alpha_;
    if (crosses_hosts) through_hops += min_slow_alpha_ - min_alpha_;
    double through_reductions = 0;
    for (std::size_t axis : reduced.axes()) {
      through_reductions += static_cast<double>(rules.mesh().size(axis) - 1) * rules.costs().axis(axis).alpha_us;
    }
    return detail::max(detail::max(through_hops, through_reductions), min_alpha_);
  }

  /// The largest set of a table (cached: the search asks once per state it creates).
  [[nodiscard]] Index largest_set(StepRules& rules, const DimTable& table) {
    rules.add_work(kRelationLookupWork);
    if (const auto* found = largest_sets_.find(&table)) return found->second;
    Index largest = 0;
    for (std::size_t i = 0; i < table.count(); ++i) largest = detail::max(largest, table.set(i).size());
    rules.add_work(static_cast<Index>(table.count()));
    return largest_sets_.emplace(&table, largest).first->second;
  }

  /// Per dim, for every coordinate of the slow axes involved: the size of the union over a host of the target sets
  /// (`wanted`), of its intersection with the union of the current sets (`held`), and of the part of the latter
  /// the hosts of its Partial group want (`reduced`).
  struct HostLack {
    AxisSubset axes;  // the slow axes splitting the dim now or in the target
    std::vector<Index> wanted;
    std::vector<Index> held;
    std::vector<Index> reduced;  // with slow Partial axes to reduce: the part of `held` the group's hosts want
  };


  /// L: the most any rank must still receive (lower_bound.hpp's least_received), over the distinct figures of
  /// (wanted, both, reduced) (rank_classes.hpp).
  [[nodiscard]] BusiestNeed busiest_lack(StepRules& rules, const Tables& here, const AxisSubset& reduced) {
    const Index group = reduced.size();
    const std::size_t ndim = here.size();
    const DimRelation* relations[kMaxTensorRank]{};
    const std::vector<Index>* reduced_values[kMaxTensorRank]{};
    const AxisSubset* parts[2 * kMaxTensorRank];
    for (std::size_t d = 0; d < ndim; ++d) {
      relations[d] = &rules.relation(*here[d], *target_tables_[d]);
      parts[2 * d] = &target_tables_[d]->splitters;
      parts[2 * d + 1] = &relations[d]->axes;
      if (group > 1) reduced_values[d] = &reduced_overlap(rules, *here[d], *target_tables_[d], *relations[d], reduced);
    }
    const BusiestNeed need = busiest_need<2>(
        classes_, rules.mesh().shape(), ndim, parts, group, [&](std::size_t d, const Index* index) {
          const auto combination = static_cast<std::size_t>(index[1]);
          return Figures<3>{target_tables_[d]->set(static_cast<std::size_t>(index[0])).size(),
                            relations[d]->overlap[combination],
                            group > 1 ? (*reduced_values[d])[combination] : 1};
        });
    rules.add_work(kRankWork * need.walked + 2 * kLookupWork);
    return need;
  }

  [[nodiscard]] const std::vector<Index>& reduced_overlap(StepRules& rules, const DimTable& here,
                                                          const DimTable& target, const DimRelation& relation,
                                                          const AxisSubset& reduced) {
    const AxisSubset on_dim = AxisSubset::where(rules.mesh().shape(), [&](std::size_t axis) {
      return target.splitters.contains(axis) && reduced.contains(axis);
    });
    const RelationKey key{&here, &target, on_dim.mask()};
    rules.add_work(kRelationLookupWork);
    if (const auto* found = reduced_overlaps_.find(key)) return found->second;
    std::vector<Index> overlap;
    relation.axes.for_each(Coord(rules.mesh().ndim(), 0), [&](Index, const Coord& coord) {
      const IntervalSetView held = here.at(coord);
      overlap.push_back(group_overlap(on_dim, target, coord, held));
      rules.add_work((1 + static_cast<Index>(held.intervals().size())) * on_dim.size());
    });
    return reduced_overlaps_.emplace(key, std::move(overlap)).first->second;
  }

  /// H: the most a host must receive through slow steps, over the combinations of the slow axes: lower_bound.hpp's
  /// rule with hosts for ranks, and the slow Partial axes left to reduce (`reduced_slow`) for the group (the host
  /// reduces the fast ones itself).
  [[nodiscard]] Index worst_host_lack(StepRules& rules, const Tables& here, const AxisSubset& reduced_slow) {
    const Index group = reduced_slow.size();
    const HostLack* lacks[kMaxTensorRank]{};
    for (std::size_t d = 0; d < here.size(); ++d) {
      lacks[d] = &host_lack(rules, *here[d], *target_tables_[d], reduced_slow);
    }
    // Hosts that differ only on slow axes splitting no dim here or in the target lack the same.
    const AxisSubset hosts = AxisSubset::where(rules.mesh().shape(), [&](std::size_t axis) {
      bool splits = false;
      for (std::size_t d = 0; d < here.size(); ++d) splits = splits || lacks[d]->axes.contains(axis);
      return splits;
    });
    Index worst = 0;
    rules.add_work(kRankWork * hosts.size());
    hosts.for_each(Coord(rules.mesh().ndim(), 0), [&](Index, const Coord& coord) {
      Index wanted = 1;
      Index held = 1;
      Index reduced_size = 1;
      for (std::size_t d = 0; d < here.size(); ++d) {
        const auto combo = static_cast<std::size_t>(lacks[d]->axes.index_of(coord));
        wanted *= lacks[d]->wanted[combo];
        held *= lacks[d]->held[combo];
        reduced_size *= lacks[d]->reduced[combo];
      }
      worst = detail::max(worst, least_received(wanted, held, reduced_size, group));
    });
    return worst;
  }

  [[nodiscard]] bool is_slow(std::size_t axis) const { return slow_axes_.contains(axis); }

  /// A table's sets united over each host: indexed by the slow axes that split the dim.
  struct HostUnions {
    AxisSubset axes;
    std::vector<IntervalSet> sets;
    [[nodiscard]] const IntervalSet& at(const Coord& host) const {
      return sets[static_cast<std::size_t>(axes.index_of(host))];
    }
  };

  [[nodiscard]] const HostUnions& host_unions(StepRules& rules, const DimTable& table) {
    rules.add_work(kRelationLookupWork);
    if (const auto* found = host_unions_.find(&table)) return found->second;
    const Mesh& mesh = rules.mesh();
    HostUnions unions;
    unions.axes = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return is_slow(axis) && table.splitters.contains(axis);
    });
    const AxisSubset fast = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return !is_slow(axis) && table.splitters.contains(axis);
    });
    std::vector<Interval> pieces;
    unions.axes.for_each(Coord(mesh.ndim(), 0), [&](Index, const Coord& host) {
      pieces.clear();
      fast.for_each(host, [&](Index, const Coord& coord) {
        for (const Interval& interval : table.at(coord).intervals()) pieces.push_back(interval);
      });
      unions.sets.push_back(IntervalSet::from_intervals_in_place(pieces));
      rules.add_work(1 + static_cast<Index>(pieces.size()));
    });
    return host_unions_.emplace(&table, std::move(unions)).first->second;
  }

  /// A dim's HostLack; `reduced_slow` are the slow axes whose Partial is left to reduce.
  [[nodiscard]] const HostLack& host_lack(StepRules& rules, const DimTable& here, const DimTable& target,
                                          const AxisSubset& reduced_slow) {
    const Mesh& mesh = rules.mesh();
    const AxisSubset reduced_on_dim = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return target.splitters.contains(axis) && reduced_slow.contains(axis);
    });
    const RelationKey key{&here, &target, reduced_on_dim.mask()};
    rules.add_work(kRelationLookupWork);
    if (const auto* found = host_lacks_.find(key)) return found->second;
    HostLack lack;
    lack.axes = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      return is_slow(axis) && (here.splitters.contains(axis) || target.splitters.contains(axis));
    });
    const HostUnions& wanted_unions = host_unions(rules, target);
    const HostUnions& held_unions = host_unions(rules, here);
    lack.axes.for_each(Coord(mesh.ndim(), 0), [&](Index, const Coord& host) {
      const IntervalSet& wanted = wanted_unions.at(host);
      const IntervalSet& held = held_unions.at(host);
      lack.wanted.push_back(wanted.size());
      lack.held.push_back(intersection_size(wanted, held));
      // What the hosts of the Partial group want of what this one holds (their unions are disjoint on the dim).
      Index reduced = 0;
      if (reduced_slow.size() > 1) {
        reduced_on_dim.for_each(host, [&](Index, const Coord& member) {
          reduced += intersection_size(wanted_unions.at(member), held);
        });
      }
      lack.reduced.push_back(reduced);
      rules.add_work(1 + reduced_on_dim.size());
    });
    return host_lacks_.emplace(key, std::move(lack)).first->second;
  }

  Placements target_;
  Tables target_tables_;  // the step rules' tables stay until their reset, which comes before ours
  double max_gbps_ = 0;
  double min_alpha_ = 0;
  double min_slow_alpha_ = 0;
  AxisSubset slow_axes_;  // axes slower than the fastest
  double slow_gbps_ = 0;  // the fastest of them; 0 when every axis runs at max_gbps_
  Index host_size_ = 1;   // ranks per host
  double elements_ = 0;   // the tensor's
  detail::HashMap<RelationKey, HostLack, RelationKeyHash> host_lacks_;  // by (tables, reduced slow axes)
  // Per dim, over the relation's combinations: how much of the rank's current set the members of its Partial group
  // want (lower_bound.hpp's group_overlap), by (tables, reduced axes that split the dim in the target).
  detail::HashMap<RelationKey, std::vector<Index>, RelationKeyHash> reduced_overlaps_;
  detail::HashMap<const DimTable*, HostUnions, PointerHash> host_unions_;
  detail::HashMap<const DimTable*, Index, PointerHash> largest_sets_;
  RankClasses<3> classes_;
};

}  // namespace shardplan::redistribution_detail
