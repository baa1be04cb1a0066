// Redistribution planning: the time to plan one layout change on 2-d, 3-d and 4-d meshes, cold (a full A* search)
// and cached (a PlanCache hit). bf16 tensors (element size 2), the default topology (8 devices per host).
// Run: build/benchmarks/shardplan_bench_redistribution (Release build; figures in docs/performance.md)
#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include "redistribution_cases.hpp"
#include "shardplan/redistribution/plan_cache.hpp"
#include "shardplan/shardplan.hpp"

namespace {

using namespace shardplan;
using namespace shardplan_bench;

void report_plan(benchmark::State& state, const RedistributionPlan& plan) {
  state.counters["steps"] = static_cast<double>(plan.steps.size());
  state.counters["MB/rank"] = static_cast<double>(plan.bytes_per_rank) / 1e6;
  state.counters["model_us"] = plan.time_us;
}

// Cold: a full search. One planner for every call, as a framework holding a planner would use it (it resets its
// tables on every call, so nothing carries over between iterations but the allocations).
void BM_PlanCold(benchmark::State& state, const Case& c) {
  const Request request = request_of(c);
  RedistributionPlanner planner;
  RedistributionPlan plan;
  for (auto _ : state) {
    plan = planner.plan(request.from, request.to, request.costs, kElementSize).value();
    benchmark::DoNotOptimize(plan);
  }
  report_plan(state, plan);
}

// Cold through plan_redistribution: a fresh planner (and fresh tables) per call.
void BM_PlanFresh(benchmark::State& state, const Case& c) {
  const Request request = request_of(c);
  RedistributionPlan plan;
  for (auto _ : state) {
    plan = plan_redistribution(request.from, request.to, request.costs, kElementSize).value();
    benchmark::DoNotOptimize(plan);
  }
  report_plan(state, plan);
}

// Cached: PlanCache::plan on a request already in the cache (key built from the request, hashed, looked up under
// the lock, shared_ptr copied out). The library calls a benchmark function several times while it sizes the
// iteration count, so the cache is filled once per case, outside the function.
void BM_PlanCached(benchmark::State& state, const Case& c, PlanCache& cache) {
  const Request request = request_of(c);
  std::shared_ptr<const RedistributionPlan> plan =
      cache.plan(request.from, request.to, request.costs, kElementSize).value();
  if (cache.size() != 1) state.SkipWithError("the cache should hold exactly this request");
  for (auto _ : state) {
    plan = cache.plan(request.from, request.to, request.costs, kElementSize).value();
    benchmark::DoNotOptimize(plan);
  }
  report_plan(state, *plan);
}

}  // namespace

int main(int argc, char** argv) {
  for (const Case& c : kRankCases) {
    benchmark::RegisterBenchmark(("BM_PlanColdRanks/" + case_name(c)).c_str(), BM_PlanCold, c)
        ->Unit(benchmark::kMicrosecond);
  }
  static PlanCache caches[std::size(kCases)];
  for (std::size_t i = 0; i < std::size(kCases); ++i) {
    const Case& c = kCases[i];
    const std::string name = case_name(c);
    benchmark::RegisterBenchmark(("BM_PlanCold/" + name).c_str(), BM_PlanCold, c)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_PlanFresh/" + name).c_str(), BM_PlanFresh, c)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_PlanCached/" + name).c_str(), BM_PlanCached, c, std::ref(caches[i]))
        ->Unit(benchmark::kNanosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
