#pragma once
// The planner's search budget, derived from the mesh. Every state the search creates costs work proportional to
// the ranks (each step it weighs is checked on every rank), so a fixed number of states is seconds on 8 ranks and
// hours on 16,384. The budget caps states x ranks instead: a search that will not finish gives up in about a second
// on any mesh, with an error that says so, rather than running for hours.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/fixed_string.hpp"

namespace shardplan {

/// States x ranks the default budget allows: 2^24, about a second of search.
inline constexpr Index kPlannerWork = Index{1} << 24;
/// The most states on any mesh (small meshes reach it first), and the fewest: even 16,384 ranks get 1,024 states.
inline constexpr std::size_t kPlannerMaxStates = 200000;
inline constexpr std::size_t kPlannerMinStates = 64;

/// The number of states the planner may create on a mesh of `world` ranks: kPlannerWork / world, clamped to
/// [kPlannerMinStates, kPlannerMaxStates].
[[nodiscard]] constexpr std::size_t planner_state_budget(Index world) {
  const auto states = static_cast<std::size_t>(kPlannerWork / (world < 1 ? Index{1} : world));
  return states < kPlannerMinStates ? kPlannerMinStates : (kPlannerMaxStates < states ? kPlannerMaxStates : states);
}

/// How planner_state_budget(world) came about, for a message: "2^24 / 4096 ranks = 4096 states".
[[nodiscard]] constexpr FixedString<96> planner_state_budget_text(Index world) {
  const std::size_t states = planner_state_budget(world);
  FixedString<96> text;
  text << "2^24 / " << world << (world == 1 ? " rank" : " ranks") << " = " << kPlannerWork / (world < 1 ? Index{1} : world)
       << " states";
  if (states != static_cast<std::size_t>(kPlannerWork / (world < 1 ? Index{1} : world))) {
    text << ", clamped to " << static_cast<Index>(states);
  }
  return text;
}

}  // namespace shardplan
