// Shard-on-read from a safetensors file: every rank reads only the bytes of its own shards.
//
//   safetensors_shard_read PATH [--ranks N]
//     Reads the safetensors file at PATH (it is never written): parses the header (never the data in full), splits
//     every tensor with at least one dim over N ranks (default 2) along dim 0 as torch.chunk does (a column-wise
//     plan's split), turns each rank's region into coalesced byte ranges with row_major_reads, reads exactly those,
//     and checks them against the same tensor read whole. Prints per rank the tensors, reads and bytes.
//   safetensors_shard_read
//     A self-test: writes a small file of its own in the system's temp directory (tensors of several dtypes and
//     ranks, a scalar, a fused gate_up weight, patterned bytes), loads it on two meshes with strided, uneven and
//     fused layouts, checks every byte against the pattern, and removes the file.
// Exit status 0 when every byte matches, 1 when one differs, 2 for bad input (a path that is not a readable
// safetensors file, a bad flag).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>  // getpid, for a unique temporary file name

#include "shardplan/resharding/safetensors_file.hpp"
#include "shardplan/shardplan.hpp"

using namespace shardplan;

namespace {

struct TensorSpec {
  std::string name;
  std::string dtype;
  Shape shape;
  std::string placements;  // on the mesh being loaded
  std::string segments;    // fused dim, "" when none (e.g. "0=4,4": gate rows then up rows)
};

/// The byte at position i of tensor t: a pattern in which every byte differs from its neighbours.
std::byte pattern(std::size_t t, Index i) { return static_cast<std::byte>((i * 131 + static_cast<Index>(t) * 29 + 7) % 251); }

/// The bytes of `region` of a row-major tensor held whole in `whole`, in the region's row-major order.
std::vector<std::byte> slice_of(const std::vector<std::byte>& whole, const Shape& shape, const Box& region,
                                Index element_size) {
  std::vector<std::byte> out;
  std::vector<std::vector<Index>> lists;
  for (const IntervalSet& set : region) {
    std::vector<Index> list;
    for (const Interval& interval : set.intervals()) {
      for (Index i = interval.begin; i < interval.end; ++i) list.push_back(i);
    }
    if (list.empty()) return out;
    lists.push_back(std::move(list));
  }
  std::vector<std::size_t> at(shape.size(), 0);
  while (true) {
    Index linear = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) linear = linear * shape[d] + lists[d][at[d]];
    const auto begin = whole.begin() + static_cast<std::ptrdiff_t>(linear * element_size);
    out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(element_size));
    std::size_t d = shape.size();
    while (d > 0 && ++at[d - 1] == lists[d - 1].size()) at[--d] = 0;
    if (d == 0) break;
  }
  return out;
}

/// Reads `plan` from `file` into a local buffer; false when the file is shorter than the header says.
bool read_plan(std::ifstream& file, const ReadPlan& plan, std::vector<std::byte>& local) {
  local.assign(static_cast<std::size_t>(plan.bytes_needed), std::byte{0});
  std::vector<std::byte> buffer;
  for (const FileRead& read : plan.reads) {
    buffer.resize(static_cast<std::size_t>(read.length));
    file.seekg(read.file_offset);
    file.read(reinterpret_cast<char*>(buffer.data()), read.length);
    if (!file) return false;
    for (std::size_t s = read.first_segment; s < read.first_segment + read.segment_count; ++s) {
      const ByteSegment& segment = plan.segments[s];
      std::copy_n(buffer.begin() + (segment.file_offset - read.file_offset), segment.length,
                  local.begin() + segment.dst_offset);
    }
  }
  return true;
}

bool write_file(const std::filesystem::path& path, const std::vector<TensorSpec>& specs) {
  std::vector<SafetensorsEntry> entries;
  for (const TensorSpec& spec : specs) entries.push_back({spec.name, spec.dtype, spec.shape});
  const std::vector<std::pair<std::string, std::string>> metadata = {{"format", "pt"}};
  const auto header = encode_safetensors_header(entries, metadata);
  if (!header.ok()) {
    std::fprintf(stderr, "encode: %s\n", header.error().what().c_str());
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header->bytes.data()), static_cast<std::streamsize>(header->bytes.size()));
  for (std::size_t t = 0; t < specs.size(); ++t) {
    const auto [begin, end] = header->data_offsets[t];
    for (Index i = 0; i < end - begin; ++i) out.put(static_cast<char>(pattern(t, i)));
  }
  return static_cast<bool>(out);
}

/// Loads every tensor's shard for one rank with the computed reads; returns false on any mismatch.
bool load_rank(const std::filesystem::path& path, const SafetensorsHeader& header, const Mesh& mesh,
               const std::vector<TensorSpec>& specs, Index rank, Index max_gap) {
  std::ifstream file(path, std::ios::binary);
  Index reads = 0;
  Index bytes_read = 0;
  Index bytes_needed = 0;
  for (std::size_t t = 0; t < specs.size(); ++t) {
    const TensorSpec& spec = specs[t];
    const SafetensorsTensor* tensor = header.find(spec.name);
    if (tensor == nullptr) return false;
    const auto layout = Layout::create(tensor->shape, mesh, parse_placements(spec.placements).value());
    if (!layout.ok()) {
      std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), layout.error().what().c_str());
      return false;
    }
    Box sets = layout->index_sets(rank).value();
    if (!spec.segments.empty()) {
      const auto fused = SegmentedLayout::create(*layout, {parse_segmented_dim(spec.segments).value()});
      sets = fused.value().index_sets(rank).value();
    }
    const auto plan = row_major_reads(tensor->shape, sets, tensor->element_size, tensor->file_offset, max_gap);
    if (!plan.ok()) {
      std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), plan.error().what().c_str());
      return false;
    }
    // The runtime's part (read_plan): one read per FileRead, then scatter its segments into the local buffer.
    std::vector<std::byte> local;
    if (!read_plan(file, *plan, local)) return false;
    // What the rank should hold, from the pattern the file was written with (independently of the byte ranges).
    std::vector<std::byte> whole(static_cast<std::size_t>(tensor->data_end - tensor->data_begin));
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = pattern(t, static_cast<Index>(i));
    if (local != slice_of(whole, tensor->shape, sets, tensor->element_size)) {
      std::fprintf(stderr, "rank %lld: %s: bytes differ\n", static_cast<long long>(rank), spec.name.c_str());
      return false;
    }
    reads += static_cast<Index>(plan->reads.size());
    bytes_read += plan->bytes_read;
    bytes_needed += plan->bytes_needed;
  }
  std::printf("  rank %lld: %zu tensors, %lld reads, %lld bytes needed, %lld read\n", static_cast<long long>(rank),
              specs.size(), static_cast<long long>(reads), static_cast<long long>(bytes_needed),
              static_cast<long long>(bytes_read));
  return true;
}

/// The existing file at `path`, split over `ranks` ranks along dim 0: exit status as main's.
int read_existing(const std::filesystem::path& path, Index ranks) {
  const auto header = read_safetensors_header(path);
  if (!header.ok()) {
    std::fprintf(stderr, "safetensors_shard_read: %s\n", header.error().what().c_str());
    return 2;
  }
  std::printf("%s: %zu tensors, header %lld bytes, data from byte %lld; %lld ranks, dim 0 split as torch.chunk\n",
              path.string().c_str(), header->tensors().size(), static_cast<long long>(header->header_size()),
              static_cast<long long>(header->data_start()), static_cast<long long>(ranks));
  const Mesh mesh = Mesh::create(AxisSizes{ranks}).value();
  std::ifstream file(path, std::ios::binary);
  bool ok = true;
  std::vector<Index> reads(static_cast<std::size_t>(ranks), 0);
  std::vector<Index> bytes(static_cast<std::size_t>(ranks), 0);
  std::vector<std::byte> whole;
  std::vector<std::byte> local;
  for (const SafetensorsTensor& tensor : header->tensors()) {
    const Placements placements = tensor.shape.empty() ? Placements{Placement{}} : Placements{Placement::shard(0)};
    const Layout layout = Layout::create(tensor.shape, mesh, placements, SplitPolicy::chunk).value();
    const ReadPlan all = row_major_reads(tensor.shape, Box::whole(tensor.shape), tensor.element_size,
                                         tensor.file_offset).value();
    if (!read_plan(file, all, whole)) {
      std::fprintf(stderr, "safetensors_shard_read: %s ends before tensor %s\n", path.string().c_str(),
                   tensor.name.c_str());
      return 2;
    }
    for (Index rank = 0; rank < ranks; ++rank) {
      const Box sets = layout.index_sets(rank).value();
      const ReadPlan plan = row_major_reads(tensor.shape, sets, tensor.element_size, tensor.file_offset).value();
      if (!read_plan(file, plan, local)) return 2;
      if (local != slice_of(whole, tensor.shape, sets, tensor.element_size)) {
        std::fprintf(stderr, "rank %lld: %s: bytes differ\n", static_cast<long long>(rank), tensor.name.c_str());
        ok = false;
      }
      reads[static_cast<std::size_t>(rank)] += static_cast<Index>(plan.reads.size());
      bytes[static_cast<std::size_t>(rank)] += plan.bytes_read;
    }
  }
  for (Index rank = 0; rank < ranks; ++rank) {
    std::printf("  rank %lld: %lld reads, %lld bytes\n", static_cast<long long>(rank),
                static_cast<long long>(reads[static_cast<std::size_t>(rank)]),
                static_cast<long long>(bytes[static_cast<std::size_t>(rank)]));
  }
  std::printf(ok ? "every byte matches\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: safetensors_shard_read [PATH [--ranks N]]\n"
      "With PATH: reads that safetensors file (never writes it), splits every tensor over N ranks (default 2) along\n"
      "dim 0, reads each rank's bytes with the computed byte ranges and checks them against the whole tensor.\n"
      "Without: a self-test on a file of its own in the temp directory, removed afterwards.\n";
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::fputs(usage.c_str(), stdout);
    return 0;
  }
  Index ranks = 2;
  if (args.size() == 3 && args[1] == "--ranks") {
    char* end = nullptr;
    const long long value = std::strtoll(args[2].c_str(), &end, 10);
    if (end == args[2].c_str() || *end != '\0' || value < 1 || value > 4096) {
      std::fprintf(stderr, "safetensors_shard_read: --ranks: expected 1..4096, got '%s'\n", args[2].c_str());
      return 2;
    }
    ranks = value;
    args.resize(1);
  }
  if (args.size() > 1 || (args.size() == 1 && args[0].starts_with("-"))) {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  if (args.size() == 1) {
    const std::filesystem::path given(args[0]);
    std::error_code status;
    if (std::filesystem::status(given, status).type() != std::filesystem::file_type::regular) {
      std::fprintf(stderr, "safetensors_shard_read: %s is not a regular file (give an existing safetensors file)\n",
                   args[0].c_str());
      return 2;
    }
    return read_existing(given, ranks);
  }
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("shardplan_example_" + std::to_string(::getpid()) + ".safetensors");
  std::error_code status;
  if (std::filesystem::symlink_status(path, status).type() != std::filesystem::file_type::not_found) {
    std::fprintf(stderr, "safetensors_shard_read: %s exists; not overwriting it\n", path.string().c_str());
    return 2;
  }

  // Two ways to load the same file: (dp=2, tp=2) with FSDP2-style strided shards, and an uneven TP=3.
  struct Plan {
    std::string mesh;
    std::vector<TensorSpec> specs;
  };
  const std::vector<Plan> plans = {
      {"2,2",
       {{"model.embed_tokens.weight", "BF16", {10, 6}, "R,S(0)", ""},
        {"model.layers.0.self_attn.q_proj.weight", "F32", {8, 5}, "_S(0,2),S(0)", ""},
        {"model.layers.0.self_attn.o_proj.weight", "F16", {5, 8}, "R,S(1)", ""},
        {"model.layers.0.mlp.gate_up_proj.weight", "BF16", {8, 3}, "R,S(0)", "0=4,4"},
        {"model.layers.0.mlp.experts.scale", "U8", {3, 4, 2}, "S(0),S(1)", ""},
        {"model.norm.weight", "F64", {6}, "R,R", ""},
        {"step", "I64", {}, "R,R", ""}}},
      {"3",
       {{"model.embed_tokens.weight", "BF16", {10, 6}, "S(0)", ""},
        {"model.layers.0.self_attn.q_proj.weight", "F32", {8, 5}, "S(1)", ""},
        {"model.layers.0.self_attn.o_proj.weight", "F16", {5, 8}, "_S(1,2)", ""},
        {"model.layers.0.mlp.gate_up_proj.weight", "BF16", {8, 3}, "S(0)", "0=4,4"},
        {"model.layers.0.mlp.experts.scale", "U8", {3, 4, 2}, "S(2)", ""},
        {"model.norm.weight", "F64", {6}, "S(0)", ""},
        {"step", "I64", {}, "R", ""}}},
  };

  if (!write_file(path, plans[0].specs)) return 1;
  const auto header = read_safetensors_header(path);
  if (!header.ok()) {
    std::fprintf(stderr, "%s\n", header.error().what().c_str());
    return 1;
  }
  std::printf("%s: %zu tensors, header %lld bytes, data from byte %lld\n", path.string().c_str(),
              header->tensors().size(), static_cast<long long>(header->header_size()),
              static_cast<long long>(header->data_start()));
  bool ok = true;
  for (const Plan& plan : plans) {
    const Mesh mesh = parse_mesh(plan.mesh).value();
    for (const Index max_gap : {Index{0}, Index{16}}) {
      std::printf("mesh (%s), max gap %lld bytes:\n", plan.mesh.c_str(), static_cast<long long>(max_gap));
      for (Index rank = 0; rank < mesh.world_size(); ++rank) {
        ok = load_rank(path, *header, mesh, plan.specs, rank, max_gap) && ok;
      }
    }
  }
  std::filesystem::remove(path);
  std::printf(ok ? "every byte matches\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
