#pragma once
// The steps the search tries out of a state (a placement list), per mesh axis a:
//   Partial     all_reduce (-> R); reduce_scatter onto any dim
//   Shard(d)    all_gather (-> R); all_to_all onto any dim (d' != d, or d with another split factor)
//   Replicate   local_slice onto any dim; local_partition when the target is Partial on a
// plus one permute straight to the target (or to the target before its local_partitions), and one all_to_all on
// the flattened group of the axes that change. A state reached by a step need not have a shard order: gathering the
// outer of two axes that split a dim leaves (R, _S(d, k)), which the next step may well want. The placements a step
// leads to are proposals (the axis alone; or the later axes on the same dim re-strided); the step rules
// (step_rules.hpp) keep only those whose data really is where the step says, for every rank. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/layout/placement.hpp"
#include "shardplan/mesh/mesh.hpp"
#include "shardplan/redistribution/detail/step_rules.hpp"

namespace shardplan::redistribution_detail {

/// Placements with axis `axis` (a Shard in `before`) taken out of its dim's split, made Replicate: the later axes on
/// the dim as they were, or each re-strided by the axis's size (what gathering an outer split leaves behind).
template <class Visit>
void removals(const Mesh& mesh, const Placements& before, std::size_t axis, Visit&& visit) {
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
    const Index factor = (p.is_strided() ? p.split_factor : 1) * mesh.size(axis);
    // A split factor past the product of the other axes' sizes never names a new layout (the shard-order forms
    // stay below it); capping it keeps the state space finite.
    if (factor > mesh.world_size() / mesh.size(b)) return;
    strided[b] = Placement::strided_shard(dim, factor);
  }
  if (later) visit(strided);
}

/// Placements with axis `axis` (Replicate in `base`) splitting dim `dim`: as a plain Shard, as the innermost split
/// (_S with the later axes' product), as the source or the target has it, or as a Shard with the later axes'
/// strides divided by its size.
template <class Visit>
void insertions(const Mesh& mesh, const Placements& from, const Placements& to, const Placements& base,
                std::size_t axis, Index dim, Visit&& visit) {
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
    later *= mesh.size(b);
    const Index k = mesh.size(axis);
    if (p.is_strided() && p.split_factor % k == 0) {
      restride = true;
      const Index factor = p.split_factor / k;
      divided[b] = factor == 1 ? Placement::shard(dim) : Placement::strided_shard(dim, factor);
    }
  }
  propose(Placement::shard(dim));
  if (later > 1) propose(Placement::strided_shard(dim, later));
  for (const Placement* known : {&from[axis], &to[axis]}) {
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

/// The target `to` with the Partial axes that are Replicate in `here` left Replicate: what the moves reach before
/// the local_partition (a request never asks for Partial where the source shards, request_check.hpp).
[[nodiscard]] constexpr Placements unpartitioned_target(const Placements& here, const Placements& to) {
  Placements out = to;
  for (std::size_t axis = 0; axis < to.size(); ++axis) {
    if (to[axis].is_partial() && here[axis].is_replicate()) out[axis] = Placement::replicate();
  }
  return out;
}

/// Every legal step out of `here` on the way from `from` to `to`: visit(next placements, step), with `step` filled
/// by the step rules (its layout left unset). A step to placements `next` for which skip(next) holds (the caller
/// knows no step there can help it) is not weighed: the rules are the costly part.
template <class Skip, class Visit>
void for_each_step(StepRules& rules, const Placements& from, const Placements& to, const Placements& here,
                   Skip&& skip, Visit&& visit) {
  const Mesh& mesh = rules.mesh();
  const auto ndim = static_cast<Index>(rules.ndim());
  PlanStep step;
  for (std::size_t axis = 0; axis < here.size(); ++axis) {
    const Placement& p = here[axis];
    const AxisList axes{axis};
    if (p.is_partial()) {
      Placements reduced = here;
      reduced[axis] = Placement::replicate();
      if (!skip(reduced) && rules.reduction(here, reduced, axes, step)) visit(reduced, step);
      for (Index dim = 0; dim < ndim; ++dim) {
        insertions(mesh, from, to, reduced, axis, dim, [&](const Placements& next) {
          if (!skip(next) && rules.reduction(here, next, axes, step)) visit(next, step);
        });
      }
    } else if (p.is_shard()) {
      removals(mesh, here, axis, [&](const Placements& gathered) {
        if (!skip(gathered) && rules.move(here, gathered, axes, step)) visit(gathered, step);
        for (Index dim = 0; dim < ndim; ++dim) {
          insertions(mesh, from, to, gathered, axis, dim, [&](const Placements& next) {
            if (next == here || skip(next)) return;
            if (rules.move(here, next, axes, step)) visit(next, step);
          });
        }
      });
    } else {
      for (Index dim = 0; dim < ndim; ++dim) {
        insertions(mesh, from, to, here, axis, dim, [&](const Placements& next) {
          if (!skip(next) && rules.move(here, next, axes, step)) visit(next, step);
        });
      }
      if (to[axis].is_partial()) {
        Placements next = here;
        next[axis] = to[axis];
        if (!skip(next) && rules.partition(here, next, axes, step)) visit(next, step);
      }
    }
  }
  // A permute to the target, or to the target with its new Partial axes still replicated; or to the target with
  // the axes it replicates still split as here, to be gathered after the permute on whatever axes are fastest.
  const Placements unpartitioned = unpartitioned_target(here, to);
  const bool skip_unpartitioned = skip(unpartitioned);
  if (!skip_unpartitioned && rules.permute(here, unpartitioned, step)) visit(unpartitioned, step);
  Placements gathered_later = unpartitioned;
  bool kept = false;
  for (std::size_t axis = 0; axis < here.size(); ++axis) {
    if (unpartitioned[axis].is_replicate() && here[axis].is_shard()) {
      gathered_later[axis] = here[axis];
      kept = true;
    }
  }
  if (kept && !skip(gathered_later) && rules.permute(here, gathered_later, step)) visit(gathered_later, step);
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
  if (!partial_kept || skip_unpartitioned) return;
  for (const AxisList* axes : {&changing, &splitting}) {
    if (axes->size() < 2) continue;
    if (rules.move(here, unpartitioned, *axes, step)) {
      if (step.op != StepOp::local_slice) visit(unpartitioned, step);
      return;
    }
  }
}

}  // namespace shardplan::redistribution_detail
