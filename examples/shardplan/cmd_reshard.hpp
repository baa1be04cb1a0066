#pragma once
// `shardplan reshard`: how a tensor moves from one layout to another (a checkpoint saved at TP=8 loaded at
// TP=4 x DP=2, training resumed on a different mesh). For every destination rank (or only --rank R): the pieces it
// needs from the source ranks (the library's transfer map), and the byte ranges it would read from a row-major copy
// of the whole tensor in a file (shard-on-read). Readable text, or JSON.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "layout_flags.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace reshard {

inline constexpr FlagSpec kFromMeshFlag{"--from-mesh", "MESH", "the source mesh, same syntax as --mesh elsewhere",
                                        true};
inline constexpr FlagSpec kFromFlag{"--from", "LIST", "the source placements, one per --from-mesh axis", true};
inline constexpr FlagSpec kToMeshFlag{"--to-mesh", "MESH", "the destination mesh", true};
inline constexpr FlagSpec kToFlag{"--to", "LIST", "the destination placements, one per --to-mesh axis", true};
inline constexpr FlagSpec kDtypeFlag{"--dtype", "D", "element type, for byte counts: bf16 (default), f32, fp8, ..."};
inline constexpr FlagSpec kReshardPolicyFlag{
    "--policy", "POLICY", "how uneven sizes split, on both sides: chunk (default), balanced, even"};
inline constexpr FlagSpec kRankFlag{"--rank", "R", "show only destination rank R"};
inline constexpr FlagSpec kFileOffsetFlag{"--file-offset", "BYTES",
                                          "where the row-major tensor starts in its file (default 0)"};
inline constexpr FlagSpec kMaxGapFlag{
    "--max-gap", "BYTES", "merge reads whose gap is at most this many bytes (default 0: one read per byte range)"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the listing"};
inline constexpr FlagSpec kFlags[] = {kShapeFlag,  kFromMeshFlag,       kFromFlag, kToMeshFlag,     kToFlag,
                                      kDtypeFlag,  kReshardPolicyFlag,  kRankFlag, kFileOffsetFlag, kMaxGapFlag,
                                      kJsonFlag};

inline constexpr std::string_view kDefaultDtype = "bf16";

// The transfer map covers every rank of both meshes, whatever --rank says, and is held in memory; these bound it so
// that a typo is refused up front instead of running for minutes. Each piece and each byte range is one output line.
inline constexpr Index kMaxTotalWork = Index{1} << 26;  // per layout: ranks x intervals per rank, as `shards`
inline constexpr Index kMaxPieces = kMaxListed;        // pieces of the whole map
inline constexpr Index kMaxSegments = Index{1} << 22;  // byte ranges of the listed ranks
inline constexpr std::size_t kMaxPiecesShown = 32;     // readable output, per rank

struct Request {
  shardplan::Layout source;
  shardplan::Layout destination;
  std::string dtype;
  Index element_size = 0;
  Index file_offset = 0;
  Index max_gap = 0;
};

/// A byte count flag: an integer >= 0.
inline Index read_bytes(const ParsedFlags& flags, const FlagSpec& spec) {
  const auto text = flags.get(spec.name);
  if (!text) return 0;
  const Index value = parse_index(*text, spec.name);
  if (value < 0) throw InputError(spec.name, "must be >= 0, got " + std::to_string(value));
  return value;
}

/// One side's layout; Layout::create's errors go to that side's flags (--policy errors say which side).
inline shardplan::Layout read_side(const shardplan::Shape& shape, const FlagSpec& mesh_flag,
                                   const FlagSpec& placements_flag, shardplan::SplitPolicy policy,
                                   const ParsedFlags& flags) {
  const shardplan::Mesh mesh = parse_mesh(flags.require(mesh_flag.name), mesh_flag.name);
  const shardplan::Placements placements =
      parse_placements(flags.require(placements_flag.name), placements_flag.name);
  auto layout = shardplan::Layout::create(shape, mesh, placements, policy);
  if (!layout.ok()) {
    const shardplan::Error& error = layout.error();
    const std::string_view flag = flag_for_layout_error(error);
    if (flag == kPolicyFlag.name) {
      throw InputError(kReshardPolicyFlag.name, std::string(placements_flag.name) + " " + error.what());
    }
    if (flag == kShapeFlag.name) throw library_error(kShapeFlag.name, error);
    throw library_error(flag == kMeshFlag.name ? mesh_flag.name : placements_flag.name, error);
  }
  if (const auto partial = shardplan::check_no_partial(*layout); !partial.ok()) {
    throw library_error(placements_flag.name, partial.error());
  }
  return std::move(layout).value();
}

inline Request read_request(const ParsedFlags& flags) {
  const shardplan::Shape shape = parse_shape(flags.require(kShapeFlag.name), kShapeFlag.name);
  const auto policy_text = flags.get(kReshardPolicyFlag.name);
  const shardplan::SplitPolicy policy =
      policy_text ? parse_policy(*policy_text, kReshardPolicyFlag.name) : shardplan::SplitPolicy::chunk;
  shardplan::Layout source = read_side(shape, kFromMeshFlag, kFromFlag, policy, flags);
  shardplan::Layout destination = read_side(shape, kToMeshFlag, kToFlag, policy, flags);
  const std::string dtype(flags.get(kDtypeFlag.name).value_or(kDefaultDtype));
  const Index element_size = unwrap(shardplan::dtype_size(dtype), kDtypeFlag.name);
  const Index file_offset = read_bytes(flags, kFileOffsetFlag);
  const Index max_gap = read_bytes(flags, kMaxGapFlag);
  return Request{std::move(source), std::move(destination), dtype, element_size, file_offset, max_gap};
}

// ---------------------------------------------------------------------------------------------------------------
// Limits

inline Index saturating_mul(Index a, Index b, Index cap) {
  Index product = 0;
  if (__builtin_mul_overflow(a, b, &product) || product > cap) return cap;
  return product;
}

inline void check_world(const shardplan::Layout& layout, const FlagSpec& mesh_flag) {
  const Index world = layout.mesh().world_size();
  if (world > kMaxListed) {
    throw InputError(mesh_flag.name, std::to_string(world) + " ranks are too many for a transfer map (at most " +
                                         std::to_string(kMaxListed) + ")");
  }
  // As `shards`: every rank's index sets are computed, each with up to this many intervals per dim.
  const Index work_per_rank = intervals_bound(layout);
  if (saturating_mul(world, work_per_rank, kMaxTotalWork + 1) > kMaxTotalWork) {
    throw InputError(mesh_flag.name, std::to_string(world) +
                                         " ranks with these _S split factors are too much work for a transfer map");
  }
}

/// An upper bound on the pieces of the map (at most cap + 1): per destination entry and dim, its intervals cut at
/// every boundary of any source interval on that dim. Every piece is a union of whole cells, so pieces <= cells.
inline Index piece_bound(const shardplan::ShardList& source, const shardplan::ShardList& destination, Index cap) {
  const std::size_t rank = source.shape.size();
  std::vector<std::vector<Index>> cuts(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    for (std::size_t i = 0; i < source.shards.size(); ++i) {
      const shardplan::IntervalSet& set = source.shards[i].sets[d];
      // Neighbours often share a dim's set (the last mesh axis varies fastest); one copy of its cuts is enough.
      if (i > 0 && set == source.shards[i - 1].sets[d]) continue;
      for (const shardplan::Interval& interval : set.intervals()) {
        cuts[d].push_back(interval.begin);
        cuts[d].push_back(interval.end);
      }
    }
    std::sort(cuts[d].begin(), cuts[d].end());
    cuts[d].erase(std::unique(cuts[d].begin(), cuts[d].end()), cuts[d].end());
  }
  Index total = 0;
  for (const shardplan::Shard& shard : destination.shards) {
    Index cells = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      Index count = 0;
      for (const shardplan::Interval& interval : shard.sets[d].intervals()) {
        const auto first = std::upper_bound(cuts[d].begin(), cuts[d].end(), interval.begin);
        const auto last = std::lower_bound(first, cuts[d].end(), interval.end);
        count += 1 + static_cast<Index>(last - first);
      }
      cells = saturating_mul(cells, count, cap + 1);
    }
    total = std::min(cap + 1, total + cells);
  }
  return total;
}

/// An upper bound on the byte ranges of a region (what row_major_reads coalesces them from): one per index of the
/// dims before the last partially held dim, times that dim's intervals.
inline Index segment_bound(const shardplan::Shape& shape, const shardplan::Box& sets, Index cap) {
  std::size_t partial = shape.size();
  while (partial > 0 && sets[partial - 1].size() == shape[partial - 1]) --partial;
  for (const shardplan::IntervalSet& set : sets) {
    if (set.empty()) return 0;
  }
  if (partial == 0) return 1;
  Index bound = static_cast<Index>(sets[partial - 1].intervals().size());
  for (std::size_t d = 0; d + 1 < partial; ++d) bound = saturating_mul(bound, sets[d].size(), cap + 1);
  return bound;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan

struct Plan {
  Request request;
  shardplan::ShardList source;
  shardplan::ShardList destination;
  shardplan::TransferMap map;
  RankSpan ranks;
  Index pieces = 0;  // in the whole map
};

/// Validates everything that can fail before anything is written: the flags, the limits, the byte arithmetic.
inline Plan make_plan(const ParsedFlags& flags) {
  Request request = read_request(flags);
  const shardplan::Mesh& to_mesh = request.destination.mesh();
  const RankSpan ranks = read_rank_span(flags.get(kRankFlag.name), kRankFlag.name, to_mesh.world_size(),
                                        kToMeshFlag.name, [&to_mesh](Index rank) { return to_mesh.check_rank(rank); });
  check_world(request.source, kFromMeshFlag);
  check_world(request.destination, kToMeshFlag);
  const shardplan::Shape& shape = request.source.shape();

  // Byte counts: the tensor in its file, and every element the destination ranks hold (bounds the map's totals).
  Index numel = 1;
  for (const Index size : shape) numel *= size;  // Layout::create checked the product
  Index tensor_bytes = 0;
  if (__builtin_mul_overflow(numel, request.element_size, &tensor_bytes)) {
    throw InputError(kShapeFlag.name, std::to_string(numel) + " elements of " + std::to_string(request.element_size) +
                                          " bytes overflow int64");
  }
  Index file_end = 0;
  if (__builtin_add_overflow(request.file_offset, tensor_bytes, &file_end)) {
    throw InputError(kFileOffsetFlag.name, std::to_string(request.file_offset) + " + " +
                                               std::to_string(tensor_bytes) + " tensor bytes overflows int64");
  }
  Index all_read = 0;  // each listed rank reads at most the whole tensor
  if (__builtin_mul_overflow(ranks.count(), tensor_bytes, &all_read)) {
    throw InputError(kShapeFlag.name, "reading a " + std::to_string(tensor_bytes) + "-byte tensor for " +
                                          std::to_string(ranks.count()) + " ranks overflows int64; pick one with " +
                                          std::string(kRankFlag.name));
  }

  shardplan::ShardList source = shardplan::shards_of(request.source);
  shardplan::ShardList destination = shardplan::shards_of(request.destination);
  // The map's element counts (moved, served) are at most what the destination ranks hold in all.
  Index held = 0;
  Index held_bytes = 0;
  for (const shardplan::Shard& shard : destination.shards) {
    if (__builtin_add_overflow(held, shard.numel(), &held) ||
        __builtin_mul_overflow(held, request.element_size, &held_bytes)) {
      throw InputError(kToMeshFlag.name, "the destination ranks hold more bytes in all than int64 can count");
    }
  }
  if (const Index bound = piece_bound(source, destination, kMaxPieces); bound > kMaxPieces) {
    throw InputError(kToFlag.name, "these layouts cut the tensor into more than " + std::to_string(kMaxPieces) +
                                       " transfer pieces, too many to list");
  }
  Index segments = 0;
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const Index bound = segment_bound(shape, destination.shards[static_cast<std::size_t>(rank)].sets, kMaxSegments);
    segments = std::min(kMaxSegments + 1, segments + bound);
  }
  if (segments > kMaxSegments) {
    std::string message = ranks.count() == 1 ? "rank " + std::to_string(ranks.first) + " reads" : "the ranks read";
    message += " more than " + std::to_string(kMaxSegments) + " byte ranges of the file, too many to list";
    if (ranks.count() > 1) message += "; pick one with " + std::string(kRankFlag.name);
    throw InputError(kToFlag.name, message);
  }

  auto map = shardplan::transfer_map(source, destination);
  // Layouts of one shape always tile it: a failure here is a library bug, not an input error.
  if (!map.ok()) throw std::logic_error(std::string("transfer map: ") + map.error().what());
  Plan plan{std::move(request), std::move(source), std::move(destination), std::move(map).value(), ranks, 0};
  for (const shardplan::RankPieces& rank : plan.map.ranks) plan.pieces += static_cast<Index>(rank.pieces.size());
  return plan;
}

inline shardplan::ReadPlan reads_of(const Plan& plan, Index rank) {
  auto reads = shardplan::row_major_reads(plan.request.source.shape(),
                                          plan.destination.shards[static_cast<std::size_t>(rank)].sets,
                                          plan.request.element_size, plan.request.file_offset, plan.request.max_gap);
  if (!reads.ok()) throw std::logic_error(std::string("row-major reads: ") + reads.error().what());
  return std::move(reads).value();
}

struct Busiest {
  Index rank = -1;
  Index elements = 0;
};

inline Busiest busiest_source(const Plan& plan) {
  const Index position = plan.map.busiest_source();
  if (position < 0) return {};
  const auto i = static_cast<std::size_t>(position);
  return {plan.source.shards[i].rank, plan.map.served[i]};
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

/// The shortest text that reads back as `value` ("1", "1.75").
inline std::string decimal_text(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

/// JsonWriter writes integers only: appends the member `,"name":value` by hand. Call it right after another member
/// of the same object, which keeps the writer's comma bookkeeping right.
inline void append_decimal_member(std::string& out, std::string_view name, double value) {
  out += ",\"";
  JsonWriter::escape(name, out);
  out += "\":";
  out += decimal_text(value);
}

template <class Range>
void write_numbers(JsonWriter& json, const Range& values) {
  json.begin_array();
  for (const Index value : values) json.number(value);
  json.end_array();
}

inline void write_side(JsonWriter& json, const shardplan::Layout& layout, std::string_view mesh_key,
                       std::string_view placements_key) {
  const shardplan::Mesh& mesh = layout.mesh();
  json.key(mesh_key);
  write_numbers(json, mesh.shape());
  if (mesh.has_names()) {
    json.key(std::string(mesh_key) + "_names").begin_array();
    for (const shardplan::AxisName& name : mesh.names()) json.string(name.view());
    json.end_array();
  }
  if (const auto devices = mesh.devices()) {
    json.key(std::string(mesh_key) + "_device_order").string(devices->to_string().view());
  }
  json.key(placements_key).begin_array();
  for (const shardplan::Placement& placement : layout.placements()) json.string(placement.to_string().view());
  json.end_array();
}

inline void write_read(JsonWriter& json, const shardplan::ReadPlan& reads, const shardplan::FileRead& read) {
  json.begin_object();
  json.key("file_offset").number(read.file_offset);
  json.key("length").number(read.length);
  json.key("dst_offset").number(reads.segments[read.first_segment].dst_offset);
  if (read.segment_count > 1) {
    json.key("segments").begin_array();
    for (std::size_t s = read.first_segment; s < read.first_segment + read.segment_count; ++s) {
      const shardplan::ByteSegment& segment = reads.segments[s];
      json.begin_object();
      json.key("file_offset").number(segment.file_offset);
      json.key("length").number(segment.length);
      json.key("dst_offset").number(segment.dst_offset);
      json.end_object();
    }
    json.end_array();
  }
  json.end_object();
}

inline void write_json(const Plan& plan, Output& out) {
  const Request& request = plan.request;
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("shape");
  write_numbers(json, request.source.shape());
  json.key("dtype").string(request.dtype);
  json.key("dtype_bytes").number(request.element_size);
  json.key("policy").string(shardplan::to_string(request.source.policy()));
  write_side(json, request.source, "from_mesh", "from");
  write_side(json, request.destination, "to_mesh", "to");
  json.key("file_offset").number(request.file_offset);
  json.key("max_gap").number(request.max_gap);
  json.key("elements_moved").number(plan.map.elements);
  json.key("piece_count").number(plan.pieces);
  const Busiest busiest = busiest_source(plan);
  json.key("busiest_source").begin_object();
  json.key("rank").number(busiest.rank);
  json.key("elements").number(busiest.elements);
  json.key("bytes").number(busiest.elements * request.element_size);
  json.end_object();

  Index bytes_needed = 0;
  Index bytes_read = 0;
  json.key("ranks").begin_array();
  for (Index rank = plan.ranks.first; rank < plan.ranks.last; ++rank) {
    const shardplan::Shard& shard = plan.destination.shards[static_cast<std::size_t>(rank)];
    const shardplan::ReadPlan reads = reads_of(plan, rank);
    bytes_needed += reads.bytes_needed;
    bytes_read += reads.bytes_read;
    json.begin_object();
    json.key("rank").number(rank);
    json.key("coord");
    write_numbers(json, request.destination.mesh().coordinate_unchecked(rank));
    json.key("local_shape");
    write_numbers(json, shard.local_shape());
    json.key("bytes_needed").number(reads.bytes_needed);
    json.key("bytes_read").number(reads.bytes_read);
    json.key("pieces").begin_array();
    for (const shardplan::TransferPiece& piece : plan.map.ranks[static_cast<std::size_t>(rank)].pieces) {
      json.begin_object();
      json.key("src_rank").number(piece.src_rank);
      json.key("src_offset");
      write_numbers(json, piece.src_offset);
      json.key("dst_offset");
      write_numbers(json, piece.dst_offset);
      json.key("lengths");
      write_numbers(json, piece.lengths);
      json.key("count").number(piece.count());
      json.end_object();
    }
    json.end_array();
    json.key("reads").begin_array();
    for (const shardplan::FileRead& read : reads.reads) {
      write_read(json, reads, read);
      out.maybe_flush();
    }
    json.end_array();
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.key("bytes_needed").number(bytes_needed);
  json.key("bytes_read").number(bytes_read);
  append_decimal_member(out.buffer(), "read_amplification", shardplan::read_amplification(bytes_needed, bytes_read));
  json.end_object();
  out.write("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Readable output

/// `[0:512, 2048:4096]`: per dim, begin:end in local coordinates.
inline std::string format_box(const shardplan::Shape& offset, const shardplan::Shape& lengths) {
  std::string text = "[";
  for (std::size_t d = 0; d < offset.size(); ++d) {
    if (d > 0) text += ", ";
    text += std::to_string(offset[d]);
    text += ':';
    text += std::to_string(offset[d] + lengths[d]);
  }
  return text + "]";
}

inline std::string plural(Index count, std::string_view one, std::string_view many) {
  return std::to_string(count) + " " + std::string(count == 1 ? one : many);
}

inline std::string format_amplification(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

inline std::string describe_side(std::string_view label, const shardplan::Layout& layout) {
  return std::string(label) + " mesh " + layout.mesh().to_string().str() + "  placements " +
         shardplan::to_string(layout.placements()).str() + "\n";
}

inline void write_text(const Plan& plan, Output& out) {
  const Request& request = plan.request;
  std::string& text = out.buffer();
  text += "reshard shape " + format_tuple(request.source.shape()) + "  dtype " + request.dtype + " (" +
          plural(request.element_size, "byte", "bytes") + ")  policy " +
          std::string(shardplan::to_string(request.source.policy())) + "\n";
  text += describe_side("from", request.source);
  text += describe_side("to  ", request.destination);
  const Busiest busiest = busiest_source(plan);
  text += plural(plan.map.elements, "element", "elements") + " moved in " + plural(plan.pieces, "piece", "pieces");
  if (busiest.rank >= 0) {
    text += "; busiest source: rank " + std::to_string(busiest.rank) + " sends " +
            plural(busiest.elements, "element", "elements") + " (" +
            plural(busiest.elements * request.element_size, "byte", "bytes") + ")";
  }
  text += "\nreads from a row-major file at offset " + std::to_string(request.file_offset) + ", max gap " +
          plural(request.max_gap, "byte", "bytes") + "\n";

  Index bytes_needed = 0;
  Index bytes_read = 0;
  Index read_count = 0;
  for (Index rank = plan.ranks.first; rank < plan.ranks.last; ++rank) {
    const shardplan::Shard& shard = plan.destination.shards[static_cast<std::size_t>(rank)];
    const shardplan::PieceList& pieces = plan.map.ranks[static_cast<std::size_t>(rank)].pieces;
    const shardplan::ReadPlan reads = reads_of(plan, rank);
    bytes_needed += reads.bytes_needed;
    bytes_read += reads.bytes_read;
    read_count += static_cast<Index>(reads.reads.size());
    text += "\nrank " + std::to_string(rank) + " " +
            format_tuple(request.destination.mesh().coordinate_unchecked(rank)) + ": local shape " +
            format_tuple(shard.local_shape()) + ", " + plural(reads.bytes_needed, "byte", "bytes") + ", " +
            plural(static_cast<Index>(pieces.size()), "piece", "pieces") + "\n";
    for (std::size_t i = 0; i < pieces.size() && i < kMaxPiecesShown; ++i) {
      const shardplan::TransferPiece piece = pieces[i];
      text += "  from rank " + std::to_string(piece.src_rank) + ": src " +
              format_box(piece.src_offset, piece.lengths) + " -> dst " + format_box(piece.dst_offset, piece.lengths) +
              ", " + plural(piece.count(), "element", "elements") + (piece.src_rank == rank ? " (local copy)" : "") +
              "\n";
    }
    if (pieces.size() > kMaxPiecesShown) {
      text += "  ... and " + std::to_string(pieces.size() - kMaxPiecesShown) + " more pieces (see --json)\n";
    }
    text += "  reads: " + plural(static_cast<Index>(reads.reads.size()), "read", "reads") + " of " +
            plural(static_cast<Index>(reads.segments.size()), "byte range", "byte ranges") + ", " +
            plural(reads.bytes_read, "byte", "bytes") + " read, amplification " +
            format_amplification(reads.read_amplification()) + "\n";
    out.maybe_flush();
  }
  text += "\ntotal reads: " + plural(read_count, "read", "reads") + ", " + std::to_string(bytes_read) +
          " bytes read for " + plural(bytes_needed, "byte", "bytes") + " needed, amplification " +
          format_amplification(shardplan::read_amplification(bytes_needed, bytes_read)) + "\n";
}

inline int run(const ParsedFlags& flags, Output& out) {
  const Plan plan = make_plan(flags);
  if (flags.has(kJsonFlag.name)) {
    write_json(plan, out);
  } else {
    write_text(plan, out);
  }
  return 0;
}

}  // namespace reshard

inline constexpr Command kReshardCommand{
    "reshard",
    "which pieces each rank needs when a tensor moves to another layout, and its reads from a file",
    "Moves a tensor of --shape from the source layout (--from-mesh, --from) to the destination layout (--to-mesh,\n"
    "--to); the meshes may differ in shape and world size. For every destination rank (or only --rank R) prints the\n"
    "pieces it needs: N-d boxes from one source rank each, with offsets in each side's local tensor. Ranks of the two\n"
    "meshes are taken to be the same processes: a destination rank that already holds a region copies it locally,\n"
    "and replicated sources otherwise share the load. Also prints the byte ranges the rank would read from a\n"
    "row-major (C order) copy of the whole tensor stored at --file-offset in a file (shard-on-read); --max-gap merges\n"
    "reads across small gaps. --dtype (default bf16) sets the bytes per element. --json prints one object instead:\n"
    "  {\"shape\":[..],\"dtype\":..,\"from_mesh\":[..],\"from\":[..],\"to_mesh\":[..],\"to\":[..],\"elements_moved\":..,\n"
    "   \"busiest_source\":{\"rank\":..,\"bytes\":..},\n"
    "   \"ranks\":[{\"rank\":0,\"local_shape\":[..],\"bytes_needed\":..,\"bytes_read\":..,\n"
    "     \"pieces\":[{\"src_rank\":..,\"src_offset\":[..],\"dst_offset\":[..],\"lengths\":[..],\"count\":..},..],\n"
    "     \"reads\":[{\"file_offset\":..,\"length\":..,\"dst_offset\":..},..]},..],\n"
    "   \"bytes_needed\":..,\"bytes_read\":..,\"read_amplification\":..}\n"
    "A read that merges several byte ranges lists them in \"segments\". Partial (P) placements are refused.",
    reshard::kFlags,
    reshard::run,
};

}  // namespace shardplan_cli
