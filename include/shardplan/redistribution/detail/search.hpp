#pragma once
// The search: A* over placement lists, from the source's to the target's, whose edges are the steps of
// proposals.hpp weighed by the step rules, and whose heuristic is estimate.hpp's (admissible; a closed state reached
// again more cheaply is opened again, so the first time the target leaves the open list its cost is the least).
// Ties on time go to fewer steps. A node keeps only the op and the axes of the step that reached it (a PlanStep
// holds a Layout, ~2 KB, and a search creates hundreds of thousands of nodes); the path's steps are asked of the
// step rules again, whole.
//
// Two things keep it finite. The best plan known bounds it: a state whose cost so far plus estimate exceeds that
// plan's cost cannot lead to a cheaper plan and is never opened. After kUnboundedOpens states (most requests end
// sooner) the constructive plan (constructive.hpp) gives the first bound; then states the search opens are
// completed by the constructive plan from there, and a cheaper completion tightens the bound. And a budget in work
// (the step rules' count, budget.hpp, checked before every step weighed) and, optionally, in states: when it runs
// out the search stops, says so, and returns the best plan it knows. On random requests on 5-8 axis meshes whose
// optimum a 4x larger budget proves, the plans given take about 1.1x the optimal time on average (1.4-1.9x at
// worst), the bare constructive plan 1.87x (7.8x): benchmarks/fallback_quality.cpp. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/redistribution/detail/constructive.hpp"
#include "shardplan/redistribution/detail/estimate.hpp"
#include "shardplan/redistribution/detail/hashing.hpp"
#include "shardplan/redistribution/detail/proposals.hpp"

namespace shardplan::redistribution_detail {

/// When the search stops.
struct SearchLimits {
  Index max_work = 0;          // the step rules' work (StepRules::work) past which it gives up
  std::size_t max_states = 0;  // states created past which it gives up; 0: no limit but the work
};

/// States opened before the search bounds itself with the constructive plan: most requests are done by then, and
/// for them the constructive plan would be pure overhead (16 variants of a few rule calls each).
inline constexpr std::size_t kUnboundedOpens = 64;

/// What the search ends with: a plan (the target reached, or the best known: the constructive plan or an opened
/// state's path completed by it), and whether it is proven the least under the model.
struct SearchOutcome {
  bool optimal = false;
  StepPath path;
};

class PlanSearch {
 public:
  /// The cheapest path from `from` to `to` (the layouts' shape, mesh and policy) if the limits allow proving it,
  /// the best one known otherwise.
  [[nodiscard]] Result<SearchOutcome> run(StepRules& rules, PlanEstimate& estimate, const Layout& from,
                                          const Layout& to, const SearchLimits& limits) {
    nodes_.clear();
    index_.clear();
    best_us_ = std::numeric_limits<double>::infinity();
    best_node_ = kNone;
    best_tail_ = {};
    Index completion_work = 0;
    std::size_t opened = 0;
    bool gave_up = false;
    bool truncated = false;  // the budget ran out while a state's steps were weighed: some were left out
    std::priority_queue<Entry, std::vector<Entry>, Entry::Later> open;
    const std::size_t first = node_of(rules, estimate, from, from.placements());
    open.push({nodes_[first].estimate_us, 0, first});
    SearchOutcome outcome;
    while (!open.empty()) {
      const Entry entry = open.top();
      open.pop();
      if (nodes_[entry.node].closed) continue;
      nodes_[entry.node].closed = true;
      if (nodes_[entry.node].placements == to.placements()) {
        if (!truncated) {
          outcome.optimal = true;
          SHARDPLAN_TRY(outcome.path, path_to(rules, from, to, entry.node));
          return outcome;
        }
        // Some state's steps went unweighed: the target is a plan found, not proven the least.
        if (nodes_[entry.node].time_us < best_us_) {
          best_us_ = nodes_[entry.node].time_us;
          best_node_ = entry.node;
          best_tail_ = {};
        }
        gave_up = true;
        break;
      }
      if (rules.work() > limits.max_work || (limits.max_states != 0 && nodes_.size() > limits.max_states)) {
        gave_up = true;
        break;
      }
      // Past the first opens, the constructive plan bounds the search; then states opened are completed by it
      // from there, within an eighth of the work (each costs a few dozen rule calls).
      if (++opened == kUnboundedOpens) {
        complete(rules, from, to, first);
      } else if (opened > kUnboundedOpens && completion_work * 8 < rules.work()) {
        const Index before = rules.work();
        complete(rules, from, to, entry.node);
        completion_work += rules.work() - before;
      }
      // Times are sums of doubles: a path as cheap as the best may add up a rounding above it.
      const double bound = best_us_ * (1 + 1e-9) + 1e-9;
      const Placements here = nodes_[entry.node].placements;
      // A step costs 0 or more, so a known state already reached as cheaply as this one (in as few steps, or
      // fewer) or whose estimate alone passes the bound from here gains nothing from any step: it is not weighed.
      // Nor is any step once the budget is spent: on a 16-axis mesh one state's steps can cost more than all of it.
      const auto not_weighed = [&](const Placements& next) {
        if (rules.work() > limits.max_work) {
          truncated = true;
          return true;
        }
        const auto* found = index_.find(next);
        if (found == nullptr) return false;
        const Node& node = nodes_[found->second];
        const Node& parent = nodes_[entry.node];
        if (!node.valid || parent.time_us + node.estimate_us > bound) return true;
        if (node.parent == kNone && found->second != first) return false;
        return node.time_us < parent.time_us || (node.time_us == parent.time_us && node.steps <= parent.steps + 1);
      };
      for_each_step(rules, from.placements(), to.placements(), here, not_weighed,
                    [&](const Placements& next, const PlanStep& step) {
        const std::size_t id = node_of(rules, estimate, from, next);
        Node& node = nodes_[id];
        if (!node.valid) return;
        const Node& parent = nodes_[entry.node];
        const double time = parent.time_us + step.time_us;
        const Index steps = parent.steps + 1;
        if (time + node.estimate_us > bound) return;
        if (node.parent != kNone || id == first) {
          if (time > node.time_us || (time == node.time_us && steps >= node.steps)) return;
        }
        // The estimate is admissible but not proven consistent: a closed state reached more cheaply opens again.
        node.closed = false;
        node.time_us = time;
        node.steps = steps;
        node.parent = entry.node;
        node.op = step.op;
        node.mesh_dims = step.mesh_dims;
        open.push({time + node.estimate_us, steps, id});
      });
    }
    // Out of budget; or every state that could beat the best known plan is closed, so that plan is the least
    // (when there was one: a search that ran dry unbounded proved nothing).
    outcome.optimal = !gave_up && best_node_ != kNone;
    if (best_node_ == kNone || (gave_up && opened < kUnboundedOpens)) complete(rules, from, to, first);
    if (best_node_ == kNone) {
      return plan_internal_error(from.placements(), to.placements(), 0, "no constructive plan is legal");
    }
    SHARDPLAN_TRY(outcome.path, path_to(rules, from, to, best_node_));
    outcome.path.time_us += best_tail_.time_us;
    for (PlanStep& step : best_tail_.steps) outcome.path.steps.push_back(std::move(step));
    return outcome;
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
    // The queue's order (smallest first). Not std::greater<>: that is the only use of <functional> in the umbrella.
    struct Later {
      bool operator()(const Entry& a, const Entry& b) const { return a > b; }
    };
  };

  /// The node of a placement list, created (validated, estimated) on first sight.
  std::size_t node_of(StepRules& rules, PlanEstimate& estimate, const Layout& from, const Placements& placements) {
    if (const auto* found = index_.find(placements)) return found->second;
    Node node;
    node.placements = placements;
    node.valid = Layout::create(from.shape(), from.mesh(), placements, from.policy()).ok();
    if (node.valid) node.estimate_us = estimate(rules, placements);
    nodes_.push_back(node);
    index_.emplace(placements, nodes_.size() - 1);
    return nodes_.size() - 1;
  }

  /// The path to `node` completed by the constructive plan from there: kept when cheaper than the best known.
  void complete(StepRules& rules, const Layout& from, const Layout& to, std::size_t node) {
    auto here = Layout::create(from.shape(), from.mesh(), nodes_[node].placements, from.policy());
    if (!here.ok()) return;
    auto tail = constructive_plan(rules, *here, to);
    if (!tail.ok() || nodes_[node].time_us + tail->time_us >= best_us_) return;
    best_us_ = nodes_[node].time_us + tail->time_us;
    best_node_ = node;
    best_tail_ = std::move(tail).value();
  }

  /// The steps from the source to node `goal`, each whole (figures and layout after it).
  [[nodiscard]] Result<StepPath> path_to(StepRules& rules, const Layout& from, const Layout& to,
                                         std::size_t goal) const {
    std::vector<std::size_t> ids;
    for (std::size_t id = goal; nodes_[id].parent != kNone; id = nodes_[id].parent) ids.push_back(id);
    PathBuilder path(rules, from);
    for (std::size_t i = ids.size(); i-- > 0;) {
      const Node& node = nodes_[ids[i]];
      if (!path.add(node.op, node.placements, node.mesh_dims)) {
        return plan_internal_error(from.placements(), to.placements(), ids.size() - 1 - i,
                                   "the step the search took no longer checks");
      }
    }
    return std::move(path).take();
  }

  std::vector<Node> nodes_;
  double best_us_ = 0;  // the best plan known: the path to best_node_ and best_tail_ after it
  std::size_t best_node_ = kNone;
  StepPath best_tail_;
  detail::HashMap<Placements, std::size_t, PlacementsHash> index_;
};

}  // namespace shardplan::redistribution_detail
