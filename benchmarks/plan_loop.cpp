// Plans one of the redistribution benchmark's cases N times with one planner, cold each time: the program that
// plan_instructions.sh runs under valgrind to count the instructions of one cold plan, a figure that, unlike the
// benchmark's times, does not move with the machine's load.
//   build/benchmarks/shardplan_plan_loop               lists the cases, numbered
//   build/benchmarks/shardplan_plan_loop CASE N        plans case CASE N times, prints its modelled time
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>

#include "redistribution_cases.hpp"

int main(int argc, char** argv) {
  using namespace shardplan_bench;
  const std::size_t count = std::size(kCases) + std::size(kRankCases);
  const auto case_at = [](std::size_t i) -> const Case& {
    return i < std::size(kCases) ? kCases[i] : kRankCases[i - std::size(kCases)];
  };
  if (argc == 1) {
    for (std::size_t i = 0; i < count; ++i) std::printf("%zu %s\n", i, case_name(case_at(i)).c_str());
    return 0;
  }
  const long index = argc == 3 ? std::strtol(argv[1], nullptr, 10) : -1;
  const long plans = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 0;
  if (index < 0 || static_cast<std::size_t>(index) >= count || plans < 1) {
    std::fprintf(stderr, "usage: shardplan_plan_loop [CASE N]: CASE from 0 to %zu, N >= 1\n", count - 1);
    return 2;
  }
  const Request request = request_of(case_at(static_cast<std::size_t>(index)));
  shardplan::RedistributionPlanner planner;
  double time_us = 0;
  for (long i = 0; i < plans; ++i) {
    time_us = planner.plan(request.from, request.to, request.costs, kElementSize).value().time_us;
  }
  std::printf("%.3f\n", time_us);
  return 0;
}
