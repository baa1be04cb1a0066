// Shard-on-read from a safetensors file: every rank reads only the bytes of its own shards.
//
// The program writes a small safetensors file (tensors of several dtypes and ranks, a scalar, a fused gate_up
// weight), then, for every rank of two meshes, parses the header (never the data), computes each tensor's local
// region from a layout, turns it into coalesced byte ranges with row_major_reads, reads exactly those ranges from
// the file and checks every byte against the tensor it wrote. Exit status 0 when every byte matches.
//
//   safetensors_shard_read [new-path]    (default: a file in the system's temp directory, removed afterwards)
// The file is the example's own: a path that exists is refused, never overwritten.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
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

/// Expected local buffer, built element by element from the index sets (independently of the byte-range code).
std::vector<std::byte> expected_local(std::size_t t, const Shape& shape, const Box& sets, Index element_size) {
  std::vector<std::byte> out;
  std::vector<std::vector<Index>> lists;
  for (const IntervalSet& set : sets) {
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
    for (Index b = 0; b < element_size; ++b) out.push_back(pattern(t, linear * element_size + b));
    std::size_t d = shape.size();
    while (d > 0 && ++at[d - 1] == lists[d - 1].size()) at[--d] = 0;
    if (d == 0) break;
  }
  return out;
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
    // The runtime's part: one read per FileRead, then scatter its segments into the local buffer.
    std::vector<std::byte> local(static_cast<std::size_t>(plan->bytes_needed));
    std::vector<std::byte> buffer;
    for (const FileRead& read : plan->reads) {
      buffer.resize(static_cast<std::size_t>(read.length));
      file.seekg(read.file_offset);
      file.read(reinterpret_cast<char*>(buffer.data()), read.length);
      if (!file) return false;
      for (std::size_t s = read.first_segment; s < read.first_segment + read.segment_count; ++s) {
        const ByteSegment& segment = plan->segments[s];
        std::copy_n(buffer.begin() + (segment.file_offset - read.file_offset), segment.length,
                    local.begin() + segment.dst_offset);
      }
    }
    if (local != expected_local(t, tensor->shape, sets, tensor->element_size)) {
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

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: safetensors_shard_read [new-path]\n"
      "Writes a small safetensors file (at new-path, which must not exist; default: a temporary file), reads every\n"
      "rank's shards of it with the computed byte ranges, and checks every byte.\n";
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    const bool help = argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help");
    std::fputs(usage.c_str(), help ? stdout : stderr);
    return help ? 0 : 2;
  }
  const bool temporary = argc < 2;
  const std::filesystem::path path =
      temporary ? std::filesystem::temp_directory_path() / ("shardplan_example_" + std::to_string(::getpid()) + ".safetensors")
                : std::filesystem::path(argv[1]);
  std::error_code status;
  if (!temporary && std::filesystem::symlink_status(path, status).type() != std::filesystem::file_type::not_found) {
    std::fprintf(stderr, "safetensors_shard_read: %s exists; the example writes its own file, give a new path\n",
                 path.string().c_str());
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
  if (temporary) std::filesystem::remove(path);
  std::printf(ok ? "every byte matches\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
