// Redistribution planning: the time to plan one layout change on 2-d, 3-d and 4-d meshes, cold (a full A* search)
// and cached (a PlanCache hit). bf16 tensors (element size 2), the default topology (8 devices per host).
// Run: build/benchmarks/shardplan_bench_redistribution (Release build; figures in docs/performance.md)
#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include "shardplan/redistribution/plan_cache.hpp"
#include "shardplan/shardplan.hpp"

namespace {

using namespace shardplan;

constexpr Index kElementSize = 2;  // bf16

struct Case {
  AxisSizes mesh;
  Shape shape;
  const char* from;
  const char* to;
};

// Targets (docs/performance.md): a cold plan under 1 ms for a 3-d mesh and a 3-d tensor, a cached one under 1 µs.
const Case kCases[] = {
    // 2-d mesh (8, 8), [8192, 8192]
    {{8, 8}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{8, 8}, {8192, 8192}, "P,S(0)", "R,R"},
    // 3-d mesh (2, 2, 2), [1024, 1024, 1024]
    {{2, 2, 2}, {1024, 1024, 1024}, "S(0),S(0),S(0)", "S(1),S(1),S(1)"},
    {{2, 2, 2}, {1024, 1024, 1024}, "_S(0,2),S(0),R", "S(0),S(0),P"},
    {{2, 2, 2}, {1024, 1024, 1024}, "P,S(0),S(1)", "S(1),S(2),R"},
    // 3-d mesh (4, 4, 4), [4096, 4096, 64]
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(0),S(0)", "S(1),S(1),S(1)"},
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(1),R", "S(1),S(0),R"},
    {{4, 4, 4}, {4096, 4096, 64}, "P,S(0),S(1)", "S(0),S(1),R"},
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(0),S(1)", "R,S(1),S(0)"},
    // 4-d meshes
    {{2, 2, 2, 2}, {1024, 1024, 1024}, "S(0),S(0),S(0),S(0)", "S(1),S(1),S(1),S(1)"},
    {{2, 2, 2, 2}, {1024, 1024, 1024}, "P,S(0),S(1),S(2)", "S(0),S(1),S(2),R"},
    {{4, 2, 4, 2}, {4096, 4096, 64}, "S(0),S(1),S(0),S(1)", "S(1),S(0),S(1),S(0)"},
    {{4, 2, 4, 2}, {4096, 4096, 64}, "P,S(0),S(1),R", "S(0),S(0),R,S(1)"},
};

struct Request {
  Layout from;
  Layout to;
  CostModel costs;
};

Request request_of(const Case& c) {
  const Mesh mesh = Mesh::create(c.mesh).value();
  return {Layout::create(c.shape, mesh, parse_placements(c.from).value()).value(),
          Layout::create(c.shape, mesh, parse_placements(c.to).value()).value(), CostModel::create(mesh).value()};
}

/// `2x2x2 S(0),S(0),S(0)->S(1),S(1),S(1)`.
std::string case_name(const Case& c) {
  std::string name;
  for (std::size_t axis = 0; axis < c.mesh.size(); ++axis) {
    if (axis > 0) name += 'x';
    name += std::to_string(c.mesh[axis]);
  }
  name += ' ';
  name += c.from;
  name += "->";
  name += c.to;
  return name;
}

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

// Growth with the rank count: the same transpose on square meshes of 64 to 65,536 ranks, where every axis splits
// the tensor (issue 12 asks for at most 2x from 64 to 1,048,576 ranks); and a tp gather on 131,072 ranks whose
// 16-rank dp_replicate axis splits nothing (the planner walks the 8,192 combinations of the other two).
const Case kRankCases[] = {
    {{8, 8}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{32, 32}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{128, 128}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{256, 256}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{16, 1024, 8}, {8192, 8192}, "R,S(0),S(1)", "R,S(0),R"},
};

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
