#pragma once
// The planner's search budget, in work rather than states or time. Every state the search opens weighs a few dozen
// steps, each checked on every rank, so a fixed number of states is microseconds on 8 ranks and minutes on 256 ranks
// of an 8-axis mesh (65,536 states took 20 s there). The step rules and the step checker count their work instead
// (StepRules::work), in the units below; the count is deterministic, so a plan never depends on the machine's
// speed. A unit takes 12 to 30 ns on the reference machine (docs/performance.md). When the budget runs out, the
// planner answers with the best plan it found (the constructive plan, or a cheaper completion of a searched path)
// and says it is not proven optimal.
#include "shardplan/core/cxx20.hpp"

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

/// The work the default search may do: 3 x 2^24 units, 0.6 to 1.5 s of search on the reference machine before the
/// best plan found answers. Enough to prove the optimum of every case in the redistribution benchmark (the slowest,
/// a six-step Partial case on (4,2,4,2), needs between 2^19 and 2^20).
inline constexpr Index kPlannerWork = Index{3} << 24;

// The units, calibrated so that a unit takes about the same time whatever dominates the search: rank walks (a
// 6-axis mesh of 256 ranks), lookups (an 8-axis mesh of 16 ranks, the (4,2,4,2) benchmark case) or long _S
// interval lists. Besides these, one unit per interval of a set the checker builds (on top of kTableSetWork), and
// per interval and group member it compares.
/// Weighing a step for one rank, or one class of ranks.
inline constexpr Index kRankWork = 2;
/// Looking up a placement list's tables (a hash lookup per dim); 1 when it is the list asked last.
inline constexpr Index kLookupWork = 20;
/// Looking up the relation between two dim tables (one hash lookup).
inline constexpr Index kRelationLookupWork = 5;
/// Building one set of a dim table (one per combination of the axes splitting the dim), besides its intervals: the
/// composition through every axis, and memory the search keeps to its end, which costs page faults on large tables
/// (a 16-axis mesh whose every axis splits one dim: 65,536 sets a table).
inline constexpr Index kTableSetWork = 8;

}  // namespace shardplan
