// Per-rank shard math: local shape + offset (the DTensor hot path) and full interval sets.
// Run: build/benchmarks/shardplan_bench   (Release build; figures in docs/performance.md)
// `allocs/call` counts operator new calls per iteration: it must be 0 for Shard/Replicate local boxes.
#include <benchmark/benchmark.h>


#include "../tests/support/allocation_counter.hpp"
#include "shardplan/shardplan.hpp"


namespace {

using namespace shardplan;

struct Case {
  Shape shape;
  const char* mesh;
  const char* placements;
};

// Indexed by the benchmark argument.
const Case kCases[] = {
    {Shape{4096, 14336}, "8", "S(0)"},                                   // 0: 1-d mesh, 2-d tensor
    {Shape{4096, 14336}, "dp=4,tp=8", "S(0),S(1)"},                      // 1: 2-d mesh, 2-d tensor (the target)
    {Shape{4096, 14336}, "dp=4,tp=8", "R,S(1)"},                         // 2: 2-d mesh with replicate
    {Shape{8, 4096, 14336}, "pp=2,dp=4,tp=8", "S(0),S(1),S(2)"},         // 3: 3-d mesh
    {Shape{8, 4096, 14336}, "a=2,b=4,c=4,d=8", "S(0),S(1),S(1),S(2)"},   // 4: 4-d mesh
    {Shape{4096, 14336}, "dp=4,tp=8", "_S(0,8),S(0)"},                   // 5: FSDP2 + TP (strided)
    {Shape{8, 4096, 14336}, "a=2,b=4,c=4,d=8", "S(0),_S(1,4),S(1),S(2)"},  // 6: 4-d mesh, strided
    {Shape{39, 2}, "4,2,3", "S(0),_S(0,2),S(0)"},                        // 7: the spec's uneven strided case
};

Layout make(const Case& c) {
  return Layout::create(c.shape, parse_mesh(c.mesh).value(), parse_placements(c.placements).value()).value();
}

void report(benchmark::State& state, long allocations, const Case& c) {
  state.counters["allocs/call"] =
      benchmark::Counter(static_cast<double>(allocations) / static_cast<double>(state.iterations()));
  state.SetLabel(std::string(c.mesh) + " " + c.placements);
}

/// Calls `query(layout, rank)` for rank after rank of case `state.range(0)`, counting allocations.
template <class Query>
void run_per_rank(benchmark::State& state, Query query) {
  const Case& c = kCases[state.range(0)];
  const Layout layout = make(c);
  const Index world = layout.mesh().world_size();
  Index rank = 0;
  const long before = testing_support::g_allocations.load();
  for (auto _ : state) {
    auto result = query(layout, rank);
    benchmark::DoNotOptimize(result);
    rank = rank + 1 == world ? 0 : rank + 1;
  }
  report(state, testing_support::g_allocations.load() - before, c);
}

void BM_LocalBox(benchmark::State& state) {
  run_per_rank(state, [](const Layout& layout, Index rank) { return layout.local_box(rank); });
}
BENCHMARK(BM_LocalBox)->DenseRange(0, 7);

void BM_IndexSets(benchmark::State& state) {
  run_per_rank(state, [](const Layout& layout, Index rank) { return layout.index_sets(rank); });
}
BENCHMARK(BM_IndexSets)->DenseRange(0, 7);

// Every rank of a 512-rank mesh: what a framework does once per parameter at load time.
void BM_AllRanksLocalBox(benchmark::State& state) {
  const Layout layout = make({Shape{128256, 16384}, "pp=4,dp=16,tp=8", "R,S(0),S(1)"});
  for (auto _ : state) {
    Index total = 0;
    for (Index rank = 0; rank < 512; ++rank) total += layout.local_box(rank)->local_shape[0];
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * 512);
}
BENCHMARK(BM_AllRanksLocalBox);

}  // namespace

BENCHMARK_MAIN();
