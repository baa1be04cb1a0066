#pragma once
// The redistribution planner: the least-cost plan from one layout to another on the same mesh, as an A* search over
// placement lists whose edges are the steps of plan.hpp and whose weights are the alpha-beta model of
// cost_model.hpp. The parts, each in its own header:
//   request_check.hpp        what is refused before any search (shapes, meshes, Partial rules, sizes)
//   detail/step_rules.hpp    per kind of step: legality, bytes received and sent by the busiest rank, time
//   detail/proposals.hpp     the steps tried out of a state
//   detail/estimate.hpp      the admissible estimate of the cost still ahead
//   detail/constructive.hpp  a plan without search (reduce, gather, slice): the search's bound and fallback
//   detail/search.hpp        the A* search itself, within a budget (budget.hpp)
//   detail/merge.hpp         consecutive steps merged into one collective on a flattened group
//   plan_cache.hpp           plans remembered by request (not in the umbrella header)
// This header rebuilds the search's path into a RedistributionPlan, with the figures of the same step rules. Every
// plan replays exactly in the in-memory executor (executor.hpp); the property tests check it on thousands of random
// pairs.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <utility>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/redistribution/budget.hpp"
#include "shardplan/redistribution/cost_model.hpp"
#include "shardplan/redistribution/detail/estimate.hpp"
#include "shardplan/redistribution/detail/merge.hpp"
#include "shardplan/redistribution/detail/search.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"
#include "shardplan/redistribution/lower_bound.hpp"
#include "shardplan/redistribution/plan.hpp"
#include "shardplan/redistribution/request_check.hpp"

namespace shardplan {

struct PlanOptions {
  /// Merge consecutive steps of the same kind into one step on the flattened group when the model says it is not
  /// slower (local steps always merge; see CostModel::launch_us for collectives).
  bool merge_flattened = true;
  /// The search stops after this much work (StepRules::work, budget.hpp); 0 means kPlannerWork (0.6 to 1.5 s).
  Index max_work = 0;
  /// The search also stops after creating this many states; 0 means no limit but the work.
  std::size_t max_states = 0;
  friend constexpr bool operator==(const PlanOptions&, const PlanOptions&) = default;
};

/// Plans redistributions; keeps its tables between calls on the same tensor, mesh and policy only as long as one
/// plan() lasts (a fresh search each time; PlanCache remembers whole plans).
class RedistributionPlanner {
 public:
  /// The least-cost plan from `from` to `to` under `costs`, for elements of `element_size` bytes. Every valid
  /// request gets a plan: when the search's budget runs out first, the best plan it found (at worst the
  /// constructive plan: reduce, gather, slice; detail/constructive.hpp), with `optimal` false.
  [[nodiscard]] Result<RedistributionPlan> plan(const Layout& from, const Layout& to, const CostModel& costs,
                                                Index element_size, const PlanOptions& options = {}) {
    SHARDPLAN_CHECK(check_redistribution(from, to, costs, element_size));
    rules_.reset(from, costs, element_size);
    estimate_.reset(rules_, to.placements());
    const redistribution_detail::SearchLimits limits{options.max_work != 0 ? options.max_work : kPlannerWork,
                                                     options.max_states};
    SHARDPLAN_TRY(redistribution_detail::SearchOutcome searched, search_.run(rules_, estimate_, from, to, limits));
    // A search that refused a step past kMaxStepCombinations has not weighed every plan.
    const bool weighed_all = rules_.oversized() == 0;
    std::vector<PlanStep> steps = std::move(searched.path.steps);
    if (options.merge_flattened) redistribution_detail::merge_steps(rules_, from, steps);
    SHARDPLAN_TRY(RedistributionPlan plan, rebuild(from, to, std::move(steps)));
    plan.weighed_every_step = weighed_all;
    plan.optimal = searched.optimal && weighed_all;
    return plan;
  }

 private:
  /// The plan of `steps`, its totals from the step rules' per-rank figures: bytes per rank (the most one rank
  /// receives over the whole plan) and peak bytes (the most one rank holds at once: a step's input and output).
  /// Figures are walked over the combinations of the axes that split a dim in some state of the plan: ranks that
  /// differ only on the other axes hold and receive the same in every step.
  [[nodiscard]] Result<RedistributionPlan> rebuild(const Layout& from, const Layout& to, std::vector<PlanStep> steps) {
    using redistribution_detail::box_elements;
    RedistributionPlan plan;
    plan.from = from;
    plan.to = to;
    plan.element_size = rules_.element_size();
    plan.steps = std::move(steps);
    const Mesh& mesh = from.mesh();
    const AxisSubset ranks = AxisSubset::where(mesh.shape(), [&](std::size_t axis) {
      bool splits = from.placements()[axis].is_shard();
      for (const PlanStep& step : plan.steps) splits = splits || step.after.placements()[axis].is_shard();
      return splits;
    });
    std::vector<Index> total(static_cast<std::size_t>(ranks.size()), 0);
    redistribution_detail::PerRank received{ranks, {}};
    Index peak = 0;
    const auto source_tables = rules_.tables(from.placements());
    ranks.for_each(Coord(mesh.ndim(), 0),
                   [&](Index, const Coord& coord) { peak = detail::max(peak, box_elements(source_tables, coord)); });
    for (std::size_t s = 0; s < plan.steps.size(); ++s) {
      PlanStep& step = plan.steps[s];
      const Placements& before = plan.before(s).placements();
      const StepOp op = step.op;
      const AxisList axes = step.mesh_dims;  // apply() clears the step it fills
      if (!rules_.apply(op, before, step.after.placements(), axes, step, &received)) {
        return redistribution_detail::plan_internal_error(from.placements(), to.placements(), s,
                                                          "a merged step no longer checks");
      }
      const auto old_tables = rules_.tables(before);
      const auto new_tables = rules_.tables(step.after.placements());
      ranks.for_each(Coord(mesh.ndim(), 0), [&](Index i, const Coord& coord) {
        total[static_cast<std::size_t>(i)] += received.values[static_cast<std::size_t>(i)];
        peak = detail::max(peak, box_elements(old_tables, coord) + box_elements(new_tables, coord));
      });
      plan.time_us += step.time_us;
    }
    for (Index elements : total) plan.bytes_per_rank = detail::max(plan.bytes_per_rank, elements);
    plan.bytes_per_rank *= plan.element_size;
    plan.peak_bytes = peak * plan.element_size;
    plan.lower_bound_bytes = lower_bound_elements(from, to) * plan.element_size;
    return plan;
  }

  redistribution_detail::StepRules rules_;
  redistribution_detail::PlanEstimate estimate_;
  redistribution_detail::PlanSearch search_;
};

/// One plan, with a fresh planner.
[[nodiscard]] inline Result<RedistributionPlan> plan_redistribution(const Layout& from, const Layout& to,
                                                                    const CostModel& costs, Index element_size,
                                                                    const PlanOptions& options = {}) {
  RedistributionPlanner planner;
  return planner.plan(from, to, costs, element_size, options);
}

/// One plan with the default topology of the layouts' mesh.
[[nodiscard]] inline Result<RedistributionPlan> plan_redistribution(const Layout& from, const Layout& to,
                                                                    Index element_size) {
  SHARDPLAN_TRY(const CostModel costs, CostModel::create(from.mesh()));
  return plan_redistribution(from, to, costs, element_size);
}

}  // namespace shardplan
