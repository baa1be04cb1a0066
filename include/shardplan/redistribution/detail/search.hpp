#pragma once
// The search: A* over placement lists, from the source's to the target's, whose edges are the steps of
// proposals.hpp weighed by the step rules, and whose heuristic is estimate.hpp's (admissible and consistent, so the
// first time the target leaves the open list its cost is the least). Ties on time go to fewer steps. A node keeps
// only the op and the axes of the step that reached it (a PlanStep holds a Layout, ~1 KB, and a search creates up to
// 200,000 nodes); the path's steps are asked of the step rules again, whole. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "shardplan/core/result.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/redistribution/detail/estimate.hpp"
#include "shardplan/redistribution/detail/hashing.hpp"
#include "shardplan/redistribution/detail/proposals.hpp"

namespace shardplan::redistribution_detail {

class PlanSearch {
 public:
  /// The steps of the cheapest path from `from` to `to` (the layouts' shape, mesh and policy), creating at most
  /// `max_states` states; an error when the budget runs out first.
  [[nodiscard]] Result<std::vector<PlanStep>> run(StepRules& rules, PlanEstimate& estimate, const Layout& from,
                                                  const Layout& to, std::size_t max_states) {
    nodes_.clear();
    index_.clear();
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> open;
    const std::size_t first = node_of(rules, estimate, from, from.placements());
    open.push({nodes_[first].estimate_us, 0, first});
    while (!open.empty()) {
      const Entry entry = open.top();
      open.pop();
      if (nodes_[entry.node].closed) continue;
      nodes_[entry.node].closed = true;
      if (nodes_[entry.node].placements == to.placements()) return path_to(rules, from, to, entry.node);
      if (nodes_.size() > max_states) break;
      const Placements here = nodes_[entry.node].placements;
      for_each_step(rules, from.placements(), to.placements(), here, [&](const Placements& next, const PlanStep& step) {
        const std::size_t id = node_of(rules, estimate, from, next);
        Node& node = nodes_[id];
        if (!node.valid || node.closed) return;
        const Node& parent = nodes_[entry.node];
        const double time = parent.time_us + step.time_us;
        const Index steps = parent.steps + 1;
        if (node.parent != kNone || id == first) {
          if (time > node.time_us || (time == node.time_us && steps >= node.steps)) return;
        }
        node.time_us = time;
        node.steps = steps;
        node.parent = entry.node;
        node.op = step.op;
        node.mesh_dims = step.mesh_dims;
        open.push({time + node.estimate_us, steps, id});
      });
    }
    return make_error(ErrorCode::capacity_exceeded, "to")
           << "no plan found from " << to_string(from.placements()) << " to " << to_string(to.placements())
           << " after creating " << static_cast<Index>(max_states) << " states (PlanOptions::max_states)";
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  struct Node {
    Placements placements;
    bool valid = false;  // a Layout under the policy (even splits stay exact)
    bool closed = false;
    double time_us = 0;
    Index steps = 0;
    double estimate_us = 0;
    std::size_t parent = kNone;
    StepOp op = StepOp::permute;  // the step from the parent
    AxisList mesh_dims;
  };

  struct Entry {
    double priority;
    Index steps;
    std::size_t node;
    friend bool operator>(const Entry& a, const Entry& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.steps > b.steps;
    }
  };

  /// The node of a placement list, created (validated, estimated) on first sight.
  std::size_t node_of(StepRules& rules, PlanEstimate& estimate, const Layout& from, const Placements& placements) {
    auto found = index_.find(placements);
    if (found != index_.end()) return found->second;
    Node node;
    node.placements = placements;
    node.valid = Layout::create(from.shape(), from.mesh(), placements, from.policy()).ok();
    if (node.valid) node.estimate_us = estimate(rules, placements);
    nodes_.push_back(node);
    index_.emplace(placements, nodes_.size() - 1);
    return nodes_.size() - 1;
  }

  /// The steps from the source to node `goal`, each whole (figures and layout after it).
  [[nodiscard]] Result<std::vector<PlanStep>> path_to(StepRules& rules, const Layout& from, const Layout& to,
                                                      std::size_t goal) const {
    std::vector<std::size_t> path;
    for (std::size_t id = goal; nodes_[id].parent != kNone; id = nodes_[id].parent) path.push_back(id);
    std::vector<PlanStep> steps(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
      const Node& node = nodes_[path[path.size() - 1 - i]];
      const Placements& before = i == 0 ? from.placements() : steps[i - 1].after.placements();
      PlanStep& step = steps[i];
      if (!rules.apply(node.op, before, node.placements, node.mesh_dims, step)) {
        return plan_internal_error(from.placements(), to.placements(), i, "the step the search took no longer checks");
      }
      SHARDPLAN_TRY(step.after, Layout::create(from.shape(), from.mesh(), node.placements, from.policy()));
    }
    return steps;
  }

  std::vector<Node> nodes_;
  std::unordered_map<Placements, std::size_t, PlacementsHash> index_;
};

}  // namespace shardplan::redistribution_detail
