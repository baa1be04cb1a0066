// Whole-model planning: validate and size DeepSeek-V3 on a 256-rank layout, and list every parameter's local shape
// for every rank. Run: build/benchmarks/shardplan_bench_model (Release; figures in docs/performance.md).
#include <benchmark/benchmark.h>

#include "shardplan/shardplan.hpp"

namespace {

using namespace shardplan;

// 256 ranks: tp 8 x dp 8 x pp 4, experts over ep 8 (borrowed from dp).
constexpr ParallelConfig kLayout{.tp = 8, .ep = 8, .pp = 4, .dp = 8};

void BM_CheckRulesOnly(benchmark::State& state) {
  const ModelConfig config = model_preset("deepseek-v3").value();
  for (auto _ : state) {
    auto report = validate_model_plan(config, kLayout, nullptr, CheckDepth::rules);
    benchmark::DoNotOptimize(report);
  }
}
BENCHMARK(BM_CheckRulesOnly)->Unit(benchmark::kMicrosecond);

void BM_CheckWithValidSizes(benchmark::State& state) {
  const ModelConfig config = model_preset("deepseek-v3").value();
  for (auto _ : state) {
    auto report = validate_model_plan(config, kLayout);
    benchmark::DoNotOptimize(report);
  }
}
BENCHMARK(BM_CheckWithValidSizes)->Unit(benchmark::kMillisecond);

void BM_SizeEveryRank(benchmark::State& state) {
  const ModelConfig config = model_preset("deepseek-v3").value();
  for (auto _ : state) {
    auto report = size_plan(config, kLayout);
    benchmark::DoNotOptimize(report);
  }
}
BENCHMARK(BM_SizeEveryRank)->Unit(benchmark::kMillisecond);

// Every parameter (layers and experts expanded) of every one of the 256 ranks.
void BM_PlanEveryParameterOfEveryRank(benchmark::State& state) {
  const ModelConfig config = model_preset("deepseek-v3").value();
  Index listed = 0;
  for (auto _ : state) {
    listed = 0;
    for (Index rank = 0; rank < 256; ++rank) listed += static_cast<Index>(rank_parameters(config, kLayout, rank)->size());
    benchmark::DoNotOptimize(listed);
  }
  state.counters["params_listed"] = static_cast<double>(listed);
}
BENCHMARK(BM_PlanEveryParameterOfEveryRank)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
