#pragma once
// The planner's search budget, in work rather than states or time. Every state the search opens weighs a few dozen
// steps, each checked on every rank, so a fixed number of states is microseconds on 8 ranks and minutes on 256 ranks
// of an 8-axis mesh (65,536 states took 20 s there). The step rules count their work instead (StepRules::work:
// one unit per rank a rule visits, per set the checker builds or compares, and kLookupWork per placement list whose
// tables it looks up); the count is deterministic, so a plan never depends on the machine's speed. About 25 ns per
// unit on the reference machine (docs/performance.md).
// When the budget runs out, the planner answers with the constructive plan and says it is not proven optimal.
#include "shardplan/core/cxx20.hpp"

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

/// The work the default search may do: 2^23 units, about 0.2 s of search before the constructive plan answers.
inline constexpr Index kPlannerWork = Index{1} << 23;

}  // namespace shardplan
