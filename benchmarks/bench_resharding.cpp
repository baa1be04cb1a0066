// Resharding: transfer maps for a whole DeepSeek-V3-sized checkpoint moved between two 256-rank TP x EP layouts,
// the overlap sweep against DCP's all-pairs matching, DCP chunk lists as a source, and one rank's byte ranges.
// Run: build/benchmarks/shardplan_bench_resharding (Release build; figures in docs/performance.md)
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace {

using namespace shardplan;

// ---------------------------------------------------------------------------------------------------------------
// The checkpoint: every tensor of DeepSeek-V3's HF checkpoint (61 decoder layers, 256 routed experts stored one
// gate/up/down_proj each, one shared expert), plus one fp8 `weight_scale_inv` per quantized weight with a value per
// 128x128 block. ~90,000 tensors.

enum class Sharding { replicated, colwise, rowwise };  // over the tp axis: R, S(0), S(1); always R over ep

struct Tensor {
  std::string name;
  Shape shape;
  Sharding sharding = Sharding::replicated;
  Index expert = -1;      // >= 0: a routed expert's weight, held only by its EP group
  Index element_size = 2;  // bytes: bf16 2, fp8 1, scale_inv f32 4
};

constexpr Index kExperts = 256;

Sharding sharding_of(const ParameterGroup& group) {
  const std::string_view pattern = group.pattern.view();
  if (group.shape.size() < 2) return Sharding::replicated;                       // norms, biases
  if (pattern.ends_with("mlp.gate.weight")) return Sharding::replicated;         // the router
  if (pattern.find("embed_tokens") != std::string_view::npos || pattern.starts_with("lm_head")) {
    return Sharding::colwise;                                                    // vocab-parallel
  }
  if (pattern.find("o_proj") != std::string_view::npos || pattern.find("down_proj") != std::string_view::npos) {
    return Sharding::rowwise;
  }
  return Sharding::colwise;  // q_a/q_b/kv_a/kv_b, gate/up
}

/// `pattern` with its `*`s replaced by the layer and the expert.
std::string expand(std::string_view pattern, Index layer, Index expert) {
  std::string name;
  int stars = 0;
  for (char c : pattern) {
    if (c != '*') {
      name += c;
    } else {
      name += std::to_string(stars++ == 0 ? layer : expert);
    }
  }
  return name;
}

std::vector<Tensor> deepseek_v3_tensors() {
  const ModelConfig config = model_preset("deepseek-v3").value();
  const Inventory inventory = parameter_inventory(config).value();
  std::vector<Tensor> tensors;
  tensors.reserve(91000);
  for (const ParameterGroup& group : inventory) {
    const Sharding sharding = sharding_of(group);
    const bool scale_is_f32 = group.pattern.view().ends_with("e_score_correction_bias");
    const Index element_size = group.quantized ? 1 : scale_is_f32 ? 4 : 2;
    const auto add = [&](Index layer, Index expert) {
      Tensor weight{expand(group.pattern.view(), layer, expert), group.shape, sharding, expert, element_size};
      if (group.quantized) {
        Tensor scale = weight;
        scale.name.replace(scale.name.size() - std::string_view("weight").size(), std::string::npos,
                           "weight_scale_inv");
        scale.shape = Shape{(group.shape[0] + 127) / 128, (group.shape[1] + 127) / 128};
        scale.element_size = 4;
        tensors.push_back(std::move(weight));
        tensors.push_back(std::move(scale));
      } else {
        tensors.push_back(std::move(weight));
      }
    };
    if (!group.is_per_layer()) {
      add(-1, -1);
      continue;
    }
    for (const Interval& layers : group.layers.intervals()) {
      for (Index layer = layers.begin; layer < layers.end; ++layer) {
        if (group.experts == 0) {
          add(layer, -1);
        } else {
          for (Index expert = 0; expert < group.experts; ++expert) add(layer, expert);
        }
      }
    }
  }
  return tensors;
}

const std::vector<Tensor>& model_tensors() {
  static const std::vector<Tensor> tensors = deepseek_v3_tensors();
  return tensors;
}

/// One side of the move: mesh (ep, tp), global rank = ep_rank * tp + tp_rank; experts over ep in blocks.
struct Side {
  Index ep = 0;
  Index tp = 0;
  Mesh mesh;     // (ep, tp)
  Mesh tp_mesh;  // (tp): an expert's EP group

  static Side create(Index ep, Index tp) {
    const std::string text = "ep=" + std::to_string(ep) + ",tp=" + std::to_string(tp);
    return Side{ep, tp, parse_mesh(text).value(), parse_mesh("tp=" + std::to_string(tp)).value()};
  }
  [[nodiscard]] Index ep_rank_of_expert(Index expert) const { return expert / (kExperts / ep); }
};

const Side& source_side() {
  static const Side side = Side::create(32, 8);  // TP=8 x EP=32
  return side;
}
const Side& destination_side() {
  static const Side side = Side::create(64, 4);  // TP=4 x EP=64
  return side;
}

Placement tp_placement(Sharding sharding) {
  switch (sharding) {
    case Sharding::colwise: return Placement::shard(0);
    case Sharding::rowwise: return Placement::shard(1);
    case Sharding::replicated: break;
  }
  return Placement::replicate();
}

/// Dense tensors: the layout over the whole (ep, tp) mesh (replicated over ep). Experts: the layout over the tp
/// sub-mesh of the expert's EP group.
Layout layout_of(const Tensor& tensor, const Side& side) {
  const Placement tp = tp_placement(tensor.sharding);
  if (tensor.expert < 0) return Layout::create(tensor.shape, side.mesh, Placements{Placement::replicate(), tp}).value();
  return Layout::create(tensor.shape, side.tp_mesh, Placements{tp}).value();
}

/// Who holds the tensor, with global rank ids.
ShardList shard_list(const Tensor& tensor, const Side& side) {
  ShardList list = shards_of(layout_of(tensor, side));
  if (tensor.expert >= 0) {
    const Index base = side.ep_rank_of_expert(tensor.expert) * side.tp;
    for (Shard& shard : list.shards) shard.rank += base;
  }
  return list;
}

struct ListPair {
  ShardList source;
  ShardList destination;
};

const std::vector<ListPair>& model_shard_lists() {
  static const std::vector<ListPair> lists = [] {
    std::vector<ListPair> out;
    out.reserve(model_tensors().size());
    for (const Tensor& tensor : model_tensors()) {
      out.push_back({shard_list(tensor, source_side()), shard_list(tensor, destination_side())});
    }
    return out;
  }();
  return lists;
}

struct MapTotals {
  Index pieces = 0;
  Index elements = 0;
  void add(const TransferMap& map) {
    for (const RankPieces& rank : map.ranks) pieces += static_cast<Index>(rank.pieces.size());
    elements += map.elements;
  }
};

void report_totals(benchmark::State& state, std::size_t tensors, const MapTotals& totals) {
  state.counters["tensors"] = static_cast<double>(tensors);
  state.counters["pieces"] = static_cast<double>(totals.pieces);
  state.counters["elements"] = static_cast<double>(totals.elements);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The whole model, TP=8 x EP=32 -> TP=4 x EP=64 (256 -> 256 ranks).

// Shard lists built beforehand (what a loader holding both plans has); timed: every tensor's transfer map.
// One TransferPlanner for the whole model, as a checkpoint loader would use it: its working storage is reused.
void BM_WholeModelTransferMaps(benchmark::State& state) {
  const std::vector<ListPair>& lists = model_shard_lists();
  MapTotals totals;
  TransferPlanner planner;
  for (auto _ : state) {
    totals = {};
    for (const ListPair& pair : lists) totals.add(planner.map(pair.source, pair.destination).value());
    benchmark::DoNotOptimize(totals);
  }
  report_totals(state, lists.size(), totals);
}
BENCHMARK(BM_WholeModelTransferMaps)->Unit(benchmark::kMillisecond);

// The same through the free function transfer_map, which makes a fresh planner for every tensor.
void BM_WholeModelTransferMapsFreshPlanner(benchmark::State& state) {
  const std::vector<ListPair>& lists = model_shard_lists();
  MapTotals totals;
  for (auto _ : state) {
    totals = {};
    for (const ListPair& pair : lists) totals.add(transfer_map(pair.source, pair.destination).value());
    benchmark::DoNotOptimize(totals);
  }
  report_totals(state, lists.size(), totals);
}
BENCHMARK(BM_WholeModelTransferMapsFreshPlanner)->Unit(benchmark::kMillisecond);

// The same with both sides' shard lists built from layouts inside the timed loop.
void BM_WholeModelLayoutsAndTransferMaps(benchmark::State& state) {
  const std::vector<Tensor>& tensors = model_tensors();
  MapTotals totals;
  for (auto _ : state) {
    totals = {};
    for (const Tensor& tensor : tensors) {
      const ShardList source = shard_list(tensor, source_side());
      const ShardList destination = shard_list(tensor, destination_side());
      totals.add(transfer_map(source, destination).value());
    }
    benchmark::DoNotOptimize(totals);
  }
  report_totals(state, tensors.size(), totals);
}
BENCHMARK(BM_WholeModelLayoutsAndTransferMaps)->Unit(benchmark::kMillisecond);

// Only the shard lists (both sides), to split the figure above.
void BM_WholeModelShardListsOnly(benchmark::State& state) {
  const std::vector<Tensor>& tensors = model_tensors();
  Index entries = 0;
  for (auto _ : state) {
    entries = 0;
    for (const Tensor& tensor : tensors) {
      entries += static_cast<Index>(shard_list(tensor, source_side()).shards.size());
      entries += static_cast<Index>(shard_list(tensor, destination_side()).shards.size());
    }
    benchmark::DoNotOptimize(entries);
  }
  state.counters["tensors"] = static_cast<double>(tensors.size());
  state.counters["entries"] = static_cast<double>(entries);
}
BENCHMARK(BM_WholeModelShardListsOnly)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------------------------
// 2. One [8192, 8192] tensor, (S(0),S(1)) on mesh (k, k) -> (S(0),S(1)) on mesh (2k, k/2): k^2 ranks on each side,
// every destination meets 2 source regions. The sweep's work grows with the overlaps, all-pairs' with k^4.

ShardList grid_list(Index rows, Index cols) {
  const Mesh mesh = Mesh::create(AxisSizes{rows, cols}).value();
  return shards_of(
      Layout::create(Shape{8192, 8192}, mesh, Placements{Placement::shard(0), Placement::shard(1)}).value());
}

void run_grid(benchmark::State& state, OverlapSearch search) {
  const Index k = state.range(0);
  const ShardList source = grid_list(k, k);
  const ShardList destination = grid_list(2 * k, k / 2);
  const TransferOptions options{.search = search};
  MapTotals totals;
  for (auto _ : state) {
    totals = {};
    totals.add(transfer_map(source, destination, options).value());
    benchmark::DoNotOptimize(totals);
  }
  state.counters["ranks"] = static_cast<double>(k * k);
  state.counters["pieces"] = static_cast<double>(totals.pieces);
}

void BM_GridSweep(benchmark::State& state) { run_grid(state, OverlapSearch::sweep); }
BENCHMARK(BM_GridSweep)->RangeMultiplier(2)->Range(8, 64)->Unit(benchmark::kMicrosecond);

void BM_GridAllPairs(benchmark::State& state) { run_grid(state, OverlapSearch::all_pairs); }
BENCHMARK(BM_GridAllPairs)->RangeMultiplier(2)->Range(8, 32)->Unit(benchmark::kMicrosecond);
// 4096 x 4096 pairs take seconds: one iteration per repetition.
BENCHMARK(BM_GridAllPairs)->Arg(64)->Iterations(1)->Unit(benchmark::kMillisecond);

// DCP: a [8192, 8192] tensor saved as a g x g grid of chunks, loaded onto (S(0),S(1)) on mesh (8, 8). Validation
// (shards_from_chunks: inside the shape, pairwise disjoint, covering) alone, then with the transfer map.
std::vector<ChunkMetadata> chunk_grid(Index g) {
  std::vector<ChunkMetadata> chunks;
  const Index step = 8192 / g;
  for (Index i = 0; i < g; ++i) {
    for (Index j = 0; j < g; ++j) chunks.push_back({Shape{i * step, j * step}, Shape{step, step}});
  }
  return chunks;
}

void BM_DcpChunksValidate(benchmark::State& state) {
  const std::vector<ChunkMetadata> chunks = chunk_grid(state.range(0));
  for (auto _ : state) {
    auto list = shards_from_chunks(Shape{8192, 8192}, chunks);
    benchmark::DoNotOptimize(list);
  }
  state.counters["chunks"] = static_cast<double>(chunks.size());
}
BENCHMARK(BM_DcpChunksValidate)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_DcpChunksLoad(benchmark::State& state) {
  const std::vector<ChunkMetadata> chunks = chunk_grid(state.range(0));
  const ShardList destination = grid_list(8, 8);
  // Chunk ids are not ranks: no local copies.
  const TransferOptions options{.prefer_same_rank = false};
  MapTotals totals;
  for (auto _ : state) {
    totals = {};
    const ShardList source = shards_from_chunks(Shape{8192, 8192}, chunks).value();
    totals.add(transfer_map(source, destination, options).value());
    benchmark::DoNotOptimize(totals);
  }
  state.counters["chunks"] = static_cast<double>(chunks.size());
  state.counters["pieces"] = static_cast<double>(totals.pieces);
}
BENCHMARK(BM_DcpChunksLoad)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------------
// 3. Shard-on-read: the byte ranges of every tensor one TP=4 x EP=64 rank holds, all tensors laid out back to back
// in one safetensors-like file (row-major, each at its own offset).
// Allocator-sensitive: an S(1) shard is one segment per row (7168), so each plan's vectors are ~170 KiB. Run after the
// whole-model benchmarks (glibc's mmap/trim thresholds already raised) they come from the heap; run alone, glibc maps
// and trims fresh pages on every call and the figure is several times higher (docs/performance.md).

struct RankTensor {
  const Tensor* tensor = nullptr;
  Box region;
  Index file_offset = 0;
};

std::vector<RankTensor> rank_tensors(Index rank) {
  const Side& side = destination_side();
  std::vector<RankTensor> out;
  Index offset = 0;
  for (const Tensor& tensor : model_tensors()) {
    const Index file_offset = offset;
    Index numel = 1;
    for (Index size : tensor.shape) numel *= size;
    offset += numel * tensor.element_size;
    const Layout layout = layout_of(tensor, side);
    Box region;
    if (tensor.expert < 0) {
      region = layout.index_sets(rank).value();
    } else {
      if (rank / side.tp != side.ep_rank_of_expert(tensor.expert)) continue;
      region = layout.index_sets(rank % side.tp).value();
    }
    bool empty = false;
    for (const IntervalSet& set : region) empty = empty || set.empty();
    if (!empty) out.push_back({&tensor, std::move(region), file_offset});
  }
  return out;
}

void BM_RankByteRanges(benchmark::State& state) {
  const Index rank = state.range(0);
  const Index max_gap = state.range(1);
  const std::vector<RankTensor> held = rank_tensors(rank);
  Index reads = 0, segments = 0, bytes_read = 0, bytes_needed = 0;
  for (auto _ : state) {
    reads = segments = bytes_read = bytes_needed = 0;
    for (const RankTensor& item : held) {
      const ReadPlan plan =
          row_major_reads(item.tensor->shape, item.region, item.tensor->element_size, item.file_offset, max_gap)
              .value();
      reads += static_cast<Index>(plan.reads.size());
      segments += static_cast<Index>(plan.segments.size());
      bytes_read += plan.bytes_read;
      bytes_needed += plan.bytes_needed;
    }
    benchmark::DoNotOptimize(bytes_read);
  }
  state.counters["tensors"] = static_cast<double>(held.size());
  state.counters["reads"] = static_cast<double>(reads);
  state.counters["segments"] = static_cast<double>(segments);
  state.counters["bytes"] = static_cast<double>(bytes_read);
  state.counters["amplification"] = static_cast<double>(bytes_read) / static_cast<double>(bytes_needed);
}
BENCHMARK(BM_RankByteRanges)
    ->ArgNames({"rank", "max_gap"})
    ->Args({0, 0})
    ->Args({0, 4096})
    ->Args({130, 0})
    ->Args({130, 4096})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
