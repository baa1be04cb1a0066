// How fast is a safetensors header parsed, and with how much memory? Builds the header of a DeepSeek-V3-like shard
// (per-expert projections with their fp8 scales, names as the checkpoint writes them) holding N tensors, parses it
// a few times and prints tensors per second (CPU time) and the peak heap the parse holds, per tensor and as a multiple of the
// header's bytes. Not a Google Benchmark: one line of figures.
//   build/benchmarks/shardplan_safetensors_header_rate [tensors, default 700000]
#include <algorithm>
#include <ctime>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <malloc.h>

#include "shardplan/resharding/safetensors.hpp"

namespace {
std::size_t g_live = 0;
std::size_t g_peak = 0;
}  // namespace

// Live and peak heap bytes (single-threaded program).
[[gnu::noinline]] void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_live += malloc_usable_size(p);
  g_peak = std::max(g_peak, g_live);
  return p;
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  if (p != nullptr) g_live -= malloc_usable_size(p);
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
[[gnu::noinline]] void* operator new[](std::size_t size) { return ::operator new(size); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { ::operator delete(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }

int main(int argc, char** argv) {
  using namespace shardplan;
  const long count = argc > 1 ? std::atol(argv[1]) : 700000;
  std::vector<SafetensorsEntry> entries;
  entries.reserve(static_cast<std::size_t>(count));
  const char* projections[] = {"gate_proj", "up_proj", "down_proj"};
  for (long i = 0; static_cast<long>(entries.size()) < count; ++i) {
    const long layer = i / (256 * 3);
    const long expert = i / 3 % 256;
    const std::string name = "model.layers." + std::to_string(layer) + ".mlp.experts." + std::to_string(expert) +
                             "." + projections[i % 3];
    const bool down = i % 3 == 2;
    entries.push_back({name + ".weight", "F8_E4M3", down ? Shape{7, 2} : Shape{2, 7}});
    if (static_cast<long>(entries.size()) < count) {
      entries.push_back({name + ".weight_scale_inv", "F32", down ? Shape{1, 1} : Shape{1, 1}});
    }
  }
  const auto encoded = encode_safetensors_header(entries);
  if (!encoded.ok()) {
    std::fprintf(stderr, "%s\n", encoded.error().what().c_str());
    return 1;
  }
  const std::vector<std::byte>& bytes = encoded->bytes;
  const double header_bytes = static_cast<double>(bytes.size());
  double best = 1e30;
  std::size_t peak = 0;
  for (int repeat = 0; repeat < 3; ++repeat) {
    const std::size_t before = g_live;
    g_peak = g_live;
    // CPU time of this process, not wall time: the figure holds on a machine shared with other builds.
    const std::clock_t start = std::clock();
    const auto header = parse_safetensors_header(bytes, encoded->file_size());
    const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    if (!header.ok() || static_cast<long>(header->tensors().size()) != count) {
      std::fprintf(stderr, "parse failed\n");
      return 1;
    }
    best = std::min(best, seconds);
    peak = g_peak - before;
  }
  std::printf("%ld tensors, header %.1f MB (%.0f bytes/tensor): best of 3 %.3f s CPU = %.2f M tensors/s, %.3f us/tensor; "
              "peak heap %.1f MB = %.0f bytes/tensor = %.2f x the header\n",
              count, header_bytes / 1e6, header_bytes / static_cast<double>(count), best,
              static_cast<double>(count) / best / 1e6, best * 1e6 / static_cast<double>(count),
              static_cast<double>(peak) / 1e6, static_cast<double>(peak) / static_cast<double>(count),
              static_cast<double>(peak) / header_bytes);
  return 0;
}
