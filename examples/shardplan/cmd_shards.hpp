#pragma once
// `shardplan shards`: which indices of the tensor every rank (or one rank) holds, as a table with a drawing, or JSON.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "draw.hpp"
#include "format.hpp"
#include "json.hpp"
#include "layout_flags.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace shards {

inline constexpr FlagSpec kRankFlag{"--rank", "R", "show only rank R"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table and drawing"};
inline constexpr FlagSpec kSegmentsFlag{
    "--segments", "DIM=S1,S2,..[/UNIT]",
    "a fused dim: its segment sizes (and unit), each segment split on its own, e.g. 0=8192,1024,1024/128"};
inline constexpr FlagSpec kSegmentPolicyFlag{
    "--segment-policy", "POLICY", "a segment with fewer units than shards: forbid (default) or replicate (vLLM)"};
inline constexpr FlagSpec kFlags[] = {kShapeFlag,    kMeshFlag,          kPlacementsFlag, kPolicyFlag, kRankFlag,
                                      kSegmentsFlag, kSegmentPolicyFlag, kJsonFlag};

struct RankView {
  Index rank = 0;
  shardplan::Coord coord;
  shardplan::LocalBox box;
  shardplan::Box sets;
  std::vector<shardplan::IntervalSet> segments;  // with --segments: the piece of each segment, in its own indices
};

/// The layout is cheap to describe at any size, but listing it is not: the library bounds the work of the ranks
/// listed (check_listing: ranks x _S intervals per rank) and refuses past it rather than run for hours.
inline void check_limits(const shardplan::Layout& layout, RankSpan ranks) {
  if (const auto status = shardplan::check_listing(layout, ranks.count()); !status.ok()) {
    InputError error = layout_error(status.error(), LayoutFlags{});
    if (layout_part_of(status.error()) != LayoutPart::mesh) throw error;
    throw InputError(std::string(error.what()) + "; pick one with --rank");
  }
}

/// The segmented dim of --segments, if any.
inline std::vector<shardplan::SegmentedDim> read_segmented_dims(const ParsedFlags& flags) {
  std::vector<shardplan::SegmentedDim> segmented;
  if (const auto text = flags.get(kSegmentsFlag.name)) {
    segmented.push_back(unwrap(shardplan::parse_segmented_dim(*text), kSegmentsFlag.name));
  }
  return segmented;
}

/// The layout with its segmented dims (--segment-policy without --segments is an error: it would be ignored).
inline shardplan::SegmentedLayout read_segmented(const ParsedFlags& flags, const shardplan::Layout& layout,
                                                 std::vector<shardplan::SegmentedDim> segmented) {
  auto policy = shardplan::ShortSegmentPolicy::forbid;
  if (const auto text = flags.get(kSegmentPolicyFlag.name)) {
    if (segmented.empty()) throw InputError(kSegmentPolicyFlag.name, "needs --segments");
    policy = unwrap(shardplan::parse_short_segment_policy(*text), kSegmentPolicyFlag.name);
  }
  auto result = shardplan::SegmentedLayout::create(layout, std::move(segmented), policy);
  if (!result.ok()) throw library_error(kSegmentsFlag.name, result.error());
  return std::move(result).value();
}

/// Everything shown about one rank. Ranks were validated up front, so a failure here is a library bug.
inline RankView view_rank(const shardplan::SegmentedLayout& sharded, Index rank) {
  const shardplan::Layout& layout = sharded.layout();
  const bool fused = !sharded.segmented_dims().empty();
  auto coord = layout.mesh().coordinate(rank);
  auto box = fused ? sharded.local_box(rank) : layout.local_box(rank);
  auto sets = sharded.index_sets(rank);
  if (!coord.ok() || !box.ok() || !sets.ok()) throw std::logic_error("rank " + std::to_string(rank) + " not found");
  RankView view{rank, std::move(coord).value(), std::move(box).value(), std::move(sets).value(), {}};
  if (fused) view.segments = sharded.segment_sets(rank).value();
  // local_box has its own fast path for Shard-only layouts; printing both must never show two different answers.
  for (std::size_t d = 0; d < layout.ndim(); ++d) {
    const shardplan::IntervalSet& set = view.sets[d];
    const Index offset = set.empty() ? layout.shape()[d] : set.front();
    if (view.box.local_shape[d] != set.size() || view.box.global_offset[d] != offset) {
      throw std::logic_error("local_box and index_sets disagree for rank " + std::to_string(rank) + " on dim " +
                             std::to_string(d));
    }
  }
  return view;
}

/// The layout's shard order in text form, or nullopt with the reason when it has none.
inline std::optional<std::string> shard_order_text(const shardplan::Layout& layout, std::string* why_not = nullptr) {
  const auto order =
      shardplan::to_shard_order(layout.placements(), layout.mesh(), static_cast<Index>(layout.ndim()));
  if (!order.ok()) {
    if (why_not != nullptr) *why_not = order.error().what();
    return std::nullopt;
  }
  return shardplan::to_string(*order, layout.mesh()).str();
}

inline void write_json(const shardplan::SegmentedLayout& sharded, RankSpan ranks, Output& out) {
  const shardplan::Layout& layout = sharded.layout();
  const shardplan::Mesh& mesh = layout.mesh();
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("shape").begin_array();
  for (const Index size : layout.shape()) json.number(size);
  json.end_array();
  json.key("mesh").begin_array();
  for (const Index size : mesh.shape()) json.number(size);
  json.end_array();
  if (mesh.has_names()) {
    json.key("mesh_names").begin_array();
    for (const shardplan::AxisName& name : mesh.names()) json.string(name.view());
    json.end_array();
  }
  if (const auto devices = mesh.devices()) json.key("device_order").string(devices->to_string().view());
  json.key("placements").begin_array();
  for (const shardplan::Placement& placement : layout.placements()) json.string(placement.to_string().view());
  json.end_array();
  json.key("policy").string(shardplan::to_string(layout.policy()));
  json.key("world_size").number(mesh.world_size());
  json.key("shard_order");
  if (const auto order = shard_order_text(layout)) {
    json.string(*order);
  } else {
    json.null();
  }
  for (const shardplan::SegmentedDim& segmented : sharded.segmented_dims()) {
    json.key("segments").begin_object();
    json.key("dim").number(segmented.dim);
    json.key("sizes").begin_array();
    for (const Index size : segmented.sizes) json.number(size);
    json.end_array();
    json.key("unit").number(segmented.unit);
    json.key("policy").string(shardplan::to_string(sharded.policy()));
    json.end_object();
  }
  json.key("ranks").begin_array();
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const RankView view = view_rank(sharded, rank);
    json.begin_object();
    json.key("rank").number(rank);
    json.key("coord").begin_array();
    for (const Index c : view.coord) json.number(c);
    json.end_array();
    json.key("local_shape").begin_array();
    for (const Index size : view.box.local_shape) json.number(size);
    json.end_array();
    json.key("global_offset").begin_array();
    for (const Index offset : view.box.global_offset) json.number(offset);
    json.end_array();
    json.key("intervals").begin_array();
    for (const shardplan::IntervalSet& set : view.sets) write_interval_set(json, set);
    json.end_array();
    if (!view.segments.empty()) {
      json.key("segment_intervals").begin_array();
      for (const shardplan::IntervalSet& piece : view.segments) write_interval_set(json, piece);
      json.end_array();
    }
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.end_object();
  out.write("\n");
}

inline std::vector<std::string> table_row(const RankView& view) {
  std::vector<std::string> row{std::to_string(view.rank), format_tuple(view.coord), format_tuple(view.box.local_shape),
                               format_tuple(view.box.global_offset)};
  for (const shardplan::IntervalSet& set : view.sets) row.push_back(format_set(set));
  if (!view.segments.empty()) {
    std::string pieces;
    for (const shardplan::IntervalSet& piece : view.segments) {
      if (!pieces.empty()) pieces += " | ";
      pieces += format_set(piece);
    }
    row.push_back(pieces);
  }
  return row;
}

inline std::string describe_segments(const shardplan::SegmentedLayout& sharded) {
  std::string text;
  for (const shardplan::SegmentedDim& segmented : sharded.segmented_dims()) {
    text += "  segments ";
    text += std::to_string(segmented.dim);
    text += '=';
    for (std::size_t j = 0; j < segmented.sizes.size(); ++j) {
      if (j > 0) text += ',';
      text += std::to_string(segmented.sizes[j]);
    }
    text += '/';
    text += std::to_string(segmented.unit);
    text += " (";
    text += shardplan::to_string(sharded.policy());
    text += ')';
  }
  return text;
}

inline void write_text(const shardplan::SegmentedLayout& sharded, RankSpan ranks, bool one_rank, Output& out) {
  const shardplan::Layout& layout = sharded.layout();
  const shardplan::Mesh& mesh = layout.mesh();
  std::string& text = out.buffer();
  text += shardplan::to_string(layout).str() + describe_segments(sharded) + "\n";
  std::string why_not;
  const auto order = shard_order_text(layout, &why_not);
  text += std::to_string(mesh.world_size()) + (mesh.world_size() == 1 ? " rank" : " ranks") + ", shard order " +
          (order ? *order : "none (" + why_not + ")") + "\n\n";

  std::vector<std::string> header{"rank", "coord", "local_shape", "global_offset"};
  for (std::size_t d = 0; d < layout.ndim(); ++d) header.push_back("dim" + std::to_string(d));
  if (!sharded.segmented_dims().empty()) header.push_back("segment pieces");
  TableLayout table(header);
  std::optional<ShardingDrawing> drawing;
  if (ShardingDrawing::supports(layout.shape())) drawing.emplace(layout.shape());

  // Pass 1 sizes the columns and finds the drawing's cut points; pass 2 prints and fills in the drawing.
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const RankView view = view_rank(sharded, rank);
    table.measure(table_row(view));
    if (drawing) drawing->add_cuts(view.sets);
  }
  const bool collect_owners = drawing && drawing->begin_owners();
  table.append_header(text);
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const RankView view = view_rank(sharded, rank);
    table.append_row(table_row(view), text);
    if (collect_owners) drawing->add_owner(rank, view.sets);
    out.maybe_flush();
  }
  if (drawing) {
    std::string title =
        one_rank ? "blocks held by rank " + std::to_string(ranks.first) : std::string("owners of each block");
    title += layout.ndim() == 2 ? " (rows: dim 0, columns: dim 1)" : " (dim 0)";
    text += "\n";
    drawing->render(title, text);
  }
}

inline int run(const ParsedFlags& flags, Output& out) {
  std::vector<shardplan::SegmentedDim> segmented = read_segmented_dims(flags);
  const shardplan::Layout layout = read_layout(flags, segmented);
  const shardplan::Mesh& mesh = layout.mesh();
  const RankSpan ranks = read_rank_span(flags.get(kRankFlag.name), kRankFlag.name, mesh.world_size(), kMeshFlag.name,
                                        [&mesh](Index rank) { return mesh.check_rank(rank); });
  check_limits(layout, ranks);
  const shardplan::SegmentedLayout sharded = read_segmented(flags, layout, std::move(segmented));
  if (flags.has(kJsonFlag.name)) {
    write_json(sharded, ranks, out);
  } else {
    write_text(sharded, ranks, flags.has(kRankFlag.name), out);
  }
  return 0;
}

}  // namespace shards

inline constexpr Command kShardsCommand{
    "shards",
    "which indices of a tensor each rank holds",
    "Prints, for every rank (or only --rank R), its mesh coordinate, local shape, global offset and the index set\n"
    "it holds on every tensor dim, as sorted [begin,end) intervals. Index sets follow PyTorch DTensor's composition:\n"
    "mesh axes apply left to right, each splitting what the earlier axes left. The readable output ends with a\n"
    "drawing of which ranks hold which block (1-d and 2-d tensors); --json prints one object instead:\n"
    "  {\"shape\":[..],\"mesh\":[..],\"placements\":[..],\"policy\":..,\"world_size\":..,\"shard_order\":..,\n"
    "   "
    "\"ranks\":[{\"rank\":0,\"coord\":[..],\"local_shape\":[..],\"global_offset\":[..],\"intervals\":[[[b,e],..],..]},."
    ".]}\n"
    "The global offset of a dim a rank holds nothing of is the dim size.",
    shards::kFlags,
    shards::run,
};

}  // namespace shardplan_cli
