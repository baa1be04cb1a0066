#pragma once
// The constructive plan: a plan found without search, so that every request that has a plan gets one. It follows
// the recipe PyTorch's own redistribution falls back to — reduce the Partial axes, gather what must move, slice
// out the target, partition into the target's Partial axes — with every step asked of the step rules, so its
// figures are the search's own. Sixteen variants are tried (keep the Partial axes the target keeps or not; reduce
// before the gathers, or after them straight into the target's split; gather nothing and move straight to the
// target, gather only the axes that change, every axis on a dim whose split changes, or every axis) and the
// cheapest legal one wins. Reducing everything, gathering everything and slicing is legal for every request:
// gathering the last axis that splits a dim leaves the earlier axes' sets, which is the composition walk read
// backwards.
//
// The search (search.hpp) uses it three ways: its cost bounds the search once that has run a while, it completes
// the paths to states the search opens, and when the budget runs out the best of those is the answer, reported as
// not proven optimal. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "shardplan/redistribution/detail/proposals.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"

namespace shardplan::redistribution_detail {

/// Steps of a plan with their layouts set, and their modelled time (the sum of the steps' times, before merging).
struct StepPath {
  std::vector<PlanStep> steps;
  double time_us = 0;
};

/// Which shard axes a variant gathers before slicing.
enum class GatherScope {
  nothing,       // none: one move (or permute) straight to the target, when the rules find one legal
  changed_axes,  // the axes whose placement differs from the target's
  changed_dims,  // every axis splitting a dim whose split differs from the target's
  every_axis,    // every shard axis: the tensor whole on every rank
};

/// Appends steps to a path from `from`, each checked by the step rules; the first illegal step spoils the path.
class PathBuilder {
 public:
  PathBuilder(StepRules& rules, const Layout& from) : rules_(rules), from_(from), here_(from.placements()) {}

  [[nodiscard]] const Placements& here() const { return here_; }
  [[nodiscard]] bool ok() const { return ok_; }
  void spoil() { ok_ = false; }

  /// The step of kind `op` on `axes` from the current placements to `next`; false (and the path spoiled) when the
  /// rules refuse it or `next` is not a layout under the policy.
  bool add(StepOp op, const Placements& next, const AxisList& axes) {
    if (!try_step(op, next, axes)) ok_ = false;
    return ok_;
  }

  /// The step as add() would take it, or false with the path unchanged.
  bool try_step(StepOp op, const Placements& next, const AxisList& axes) {
    if (!ok_) return false;
    PlanStep step;
    if (!rules_.apply(op, here_, next, axes, step)) return false;
    auto layout = Layout::create(from_.shape(), from_.mesh(), next, from_.policy());
    if (!layout.ok()) return false;
    step.after = std::move(layout).value();
    path_.time_us += step.time_us;
    path_.steps.push_back(std::move(step));
    here_ = next;
    return true;
  }

  /// A move (all_gather, all_to_all or local_slice, whichever the rules find it is) to `next` on `axes`, or false
  /// with the path unchanged.
  bool try_move(const Placements& next, const AxisList& axes) {
    PlanStep probe;
    return ok_ && rules_.move(here_, next, axes, probe) && try_step(probe.op, next, axes);
  }

  /// A permute to `next`, or false with the path unchanged.
  bool try_permute(const Placements& next) {
    PlanStep probe;
    return ok_ && rules_.permute(here_, next, probe) && try_step(StepOp::permute, next, probe.mesh_dims);
  }

  [[nodiscard]] StepPath take() && { return std::move(path_); }

 private:
  StepRules& rules_;
  const Layout& from_;
  Placements here_;
  StepPath path_;
  bool ok_ = true;
};

/// Does `axis` (a Shard in `here`) need gathering under `scope` on the way to `target`?
[[nodiscard]] constexpr bool must_gather(const Placements& here, const Placements& target, std::size_t axis,
                                         GatherScope scope) {
  if (!here[axis].is_shard()) return false;
  switch (scope) {
    case GatherScope::nothing: return false;
    case GatherScope::changed_axes: return !(here[axis] == target[axis]);
    case GatherScope::changed_dims: {
      const auto dim = static_cast<std::size_t>(here[axis].dim);
      return !(DimKey::of(here, dim) == DimKey::of(target, dim));
    }
    case GatherScope::every_axis: return true;
  }
  return true;
}

/// One variant of the recipe: its path, or nullopt when some step of it is illegal. With
/// `reduce_last`, the Partial axes are reduced after the gathers, each scattered straight into the target's split
/// on its axis when the rules allow (a reduce_scatter moves less than an all_reduce and a slice).
[[nodiscard]] inline std::optional<StepPath> constructive_variant(StepRules& rules, const Layout& from,
                                                                  const Layout& to, bool keep_partials,
                                                                  GatherScope scope, bool reduce_last) {
  const Placements& target = to.placements();
  PathBuilder path(rules, from);
  // 1. Reduce every Partial axis the target does not keep as it is.
  const auto reduce_partials = [&](bool scatter) {
    for (std::size_t axis = 0; axis < target.size(); ++axis) {
      const Placement& p = path.here()[axis];
      if (!p.is_partial() || (keep_partials && p == target[axis])) continue;
      Placements next = path.here();
      next[axis] = target[axis];
      if (scatter && target[axis].is_shard() && path.try_step(StepOp::reduce_scatter, next, AxisList{axis})) continue;
      next[axis] = Placement::replicate();
      path.add(StepOp::all_reduce, next, AxisList{axis});
    }
  };
  if (!reduce_last) reduce_partials(false);
  // 2. Gather, from the last mesh axis to the first: gathering the last axis on a dim leaves the others' sets.
  const Placements before_gather = path.here();
  for (std::size_t axis = target.size(); axis-- > 0 && path.ok();) {
    if (!must_gather(before_gather, target, axis, scope)) continue;
    bool gathered = false;
    removals(rules.mesh(), path.here(), axis, [&](const Placements& next) {
      gathered = gathered || path.try_move(next, AxisList{axis});  // a local_slice on an axis of size 1
    });
    if (!gathered) path.spoil();
  }
  if (reduce_last) reduce_partials(true);
  // 3. Slice (or move, or permute) what is left into the target, on the axes that still differ, in one step.
  const Placements moved = unpartitioned_target(path.here(), target);
  AxisList changing;
  for (std::size_t axis = 0; axis < target.size(); ++axis) {
    if (!(path.here()[axis] == moved[axis])) changing.push_back(axis);
  }
  if (!changing.empty() && !path.try_move(moved, changing) && !path.try_permute(moved)) path.spoil();
  // 4. Partition into the target's Partial axes.
  AxisList partial;
  for (std::size_t axis = 0; axis < target.size(); ++axis) {
    if (target[axis].is_partial() && !(path.here()[axis] == target[axis])) partial.push_back(axis);
  }
  if (!partial.empty()) path.add(StepOp::local_partition, target, partial);
  if (!path.ok() || !(path.here() == target)) return std::nullopt;
  return std::move(path).take();
}

/// The cheapest legal variant (ties to fewer steps). An internal error if none is legal, which the last variant
/// rules out.
[[nodiscard]] inline Result<StepPath> constructive_plan(StepRules& rules, const Layout& from, const Layout& to) {
  std::optional<StepPath> best;
  for (const bool keep_partials : {true, false}) {
    for (const GatherScope scope :
         {GatherScope::nothing, GatherScope::changed_axes, GatherScope::changed_dims, GatherScope::every_axis}) {
      for (const bool reduce_last : {false, true}) {
        std::optional<StepPath> path = constructive_variant(rules, from, to, keep_partials, scope, reduce_last);
        if (!path) continue;
        if (!best || path->time_us < best->time_us ||
            (path->time_us == best->time_us && path->steps.size() < best->steps.size())) {
          best = std::move(path);
        }
      }
    }
  }
  if (!best) return plan_internal_error(from.placements(), to.placements(), 0, "no constructive plan is legal");
  return *std::move(best);
}

}  // namespace shardplan::redistribution_detail
