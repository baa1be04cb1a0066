#pragma once
// The flags that describe a layout (--shape, --mesh, --placements, --policy), shared by every command that takes
// one, and the one reader of a side of a two-layout command. Each reader blames the flag it reads; library errors
// about a layout go to the flag at fault through one table of field names (layout_error).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "shardplan/llm/segmented_dim.hpp"

namespace shardplan_cli {

inline constexpr FlagSpec kShapeFlag{"--shape", "SIZES", "global tensor shape, e.g. 39,2 ('' for a scalar)", true};
inline constexpr FlagSpec kMeshFlag{
    "--mesh", "MESH", "axis sizes, 4,2,3 or dp=4,tp=2,cp=3, optionally with an XLA device order: '4,2 <=[2,4]T(1,0)'",
    true};
inline constexpr FlagSpec kPlacementsFlag{
    "--placements", "LIST", "one placement per mesh axis: R, S(d), _S(d,sf), P(op); e.g. 'S(0),_S(0,2),S(0)'", true};
/// --policy, for every command that has one; `help` says what it splits and the command's default.
constexpr FlagSpec policy_flag(std::string_view help) { return FlagSpec{"--policy", "POLICY", help}; }
inline constexpr FlagSpec kPolicyFlag =
    policy_flag("how uneven sizes split (both layouts, where there are two): chunk (default), balanced, even");

inline shardplan::Shape parse_shape(std::string_view text, std::string_view flag) {
  const std::vector<Index> sizes = parse_index_list(text, flag, "shape");
  shardplan::Shape shape;
  for (Index size : sizes) {
    if (!shape.push_back(size)) {
      throw InputError(flag, std::to_string(sizes.size()) + " dims; shardplan handles tensors of at most " +
                                 std::to_string(shardplan::kMaxTensorRank) + " dims");
    }
  }
  return shape;
}

inline shardplan::Mesh parse_mesh(std::string_view text, std::string_view flag) {
  return unwrap(shardplan::parse_mesh(text), flag);
}

inline shardplan::Placements parse_placements(std::string_view text, std::string_view flag) {
  return unwrap(shardplan::parse_placements(text), flag);
}

inline shardplan::SplitPolicy parse_policy(std::string_view text, std::string_view flag) {
  return unwrap(shardplan::parse_split_policy(text), flag);
}

// ---------------------------------------------------------------------------------------------------------------
// Blaming the flag at fault

/// The flags a layout was read from. A command with two layouts names the side's flags, and `side` (its
/// placements flag) prefixes --policy errors so that they say which layout the policy could not split.
struct LayoutFlags {
  std::string_view shape = kShapeFlag.name;
  std::string_view mesh = kMeshFlag.name;
  std::string_view placements = kPlacementsFlag.name;
  std::string_view policy = kPolicyFlag.name;
  std::string_view side;
};

/// Which part of a layout a library error is about, by the field it names. Presentation only: the library's field
/// names, each read by one flag.
enum class LayoutPart { shape, mesh, placements, policy };
struct FieldPart {
  std::string_view prefix;
  LayoutPart part;
};
inline constexpr FieldPart kLayoutFields[] = {
    {"shape", LayoutPart::shape},
    {"mesh", LayoutPart::mesh},
    {"devices", LayoutPart::mesh},  // the device order is part of --mesh
    {"placements", LayoutPart::placements},
};

inline LayoutPart layout_part_of(const shardplan::Error& error) {
  // The only not_divisible error comes from the `even` policy: the sizes are fine, the policy refuses them.
  if (error.code == shardplan::ErrorCode::not_divisible) return LayoutPart::policy;
  for (const FieldPart& entry : kLayoutFields) {
    if (error.field.view().starts_with(entry.prefix)) return entry.part;
  }
  return LayoutPart::placements;
}

/// A library error about a layout (Layout::create, check_listing, ...) as an InputError on the flag at fault.
inline InputError layout_error(const shardplan::Error& error, const LayoutFlags& flags) {
  switch (layout_part_of(error)) {
    case LayoutPart::shape:
      return library_error(flags.shape, error);
    case LayoutPart::mesh:
      return library_error(flags.mesh, error);
    case LayoutPart::policy:
      if (!flags.side.empty()) return InputError(flags.policy, std::string(flags.side) + " " + error.what());
      return library_error(flags.policy, error);
    case LayoutPart::placements:
      break;
  }
  return library_error(flags.placements, error);
}

inline shardplan::SplitPolicy read_policy(const ParsedFlags& flags) {
  const auto text = flags.get(kPolicyFlag.name);
  return text ? parse_policy(*text, kPolicyFlag.name) : shardplan::SplitPolicy::chunk;
}

/// The layout described by --shape, --mesh, --placements and --policy (default chunk). A dim in `segmented` (from
/// --segments) has its `even` policy judged per segment by SegmentedLayout, not on the whole dim.
inline shardplan::Layout read_layout(const ParsedFlags& flags, const std::vector<shardplan::SegmentedDim>& segmented = {}) {
  const shardplan::Shape shape = parse_shape(flags.require(kShapeFlag.name), kShapeFlag.name);
  const shardplan::Mesh mesh = parse_mesh(flags.require(kMeshFlag.name), kMeshFlag.name);
  const shardplan::Placements placements = parse_placements(flags.require(kPlacementsFlag.name), kPlacementsFlag.name);
  const auto judged_elsewhere = shardplan::segmented_dim_mask(segmented, shape.size());
  if (!judged_elsewhere.ok()) throw library_error("--segments", judged_elsewhere.error());
  auto layout =
      shardplan::Layout::create_judging_even_elsewhere(shape, mesh, placements, read_policy(flags), *judged_elsewhere);
  if (!layout.ok()) throw layout_error(layout.error(), LayoutFlags{});
  return std::move(layout).value();
}

/// The flags of one side of a two-layout command.
inline LayoutFlags side_flags(std::string_view mesh_flag, const FlagSpec& placements_flag) {
  return LayoutFlags{kShapeFlag.name, mesh_flag, placements_flag.name, kPolicyFlag.name, placements_flag.name};
}

/// One layout of a two-layout command (reshard, redistribute): `mesh` (read from `mesh_flag`) with the placements
/// of `placements_flag`. Errors are blamed on that side's flags.
inline shardplan::Layout read_side(const shardplan::Shape& shape, const shardplan::Mesh& mesh,
                                   std::string_view mesh_flag, const FlagSpec& placements_flag,
                                   shardplan::SplitPolicy policy, const ParsedFlags& flags) {
  const shardplan::Placements placements =
      parse_placements(flags.require(placements_flag.name), placements_flag.name);
  auto layout = shardplan::Layout::create(shape, mesh, placements, policy);
  if (!layout.ok()) throw layout_error(layout.error(), side_flags(mesh_flag, placements_flag));
  return std::move(layout).value();
}

}  // namespace shardplan_cli
