#pragma once
// The flags that describe a layout (--shape, --mesh, --placements, --policy), shared by every command that takes
// one. Each reader blames the flag it reads; read_layout also routes Layout::create's errors to the flag at fault.
#include <algorithm>
#include <string>
#include <string_view>

#include "args.hpp"

namespace shardplan_cli {

inline constexpr FlagSpec kShapeFlag{"--shape", "SIZES", "global tensor shape, e.g. 39,2 ('' for a scalar)", true};
inline constexpr FlagSpec kMeshFlag{
    "--mesh", "MESH", "axis sizes, 4,2,3 or dp=4,tp=2,cp=3, optionally with an XLA device order: '4,2 <=[2,4]T(1,0)'",
    true};
inline constexpr FlagSpec kPlacementsFlag{
    "--placements", "LIST", "one placement per mesh axis: R, S(d), _S(d,sf), P(op); e.g. 'S(0),_S(0,2),S(0)'", true};
inline constexpr FlagSpec kPolicyFlag{"--policy", "POLICY", "how uneven sizes split: chunk (default), balanced, even"};

/// An upper bound on the intervals of one rank's index sets, summed over dims (+1): the work of computing them.
/// Only _S splits a dim into several intervals, at most its split factors' product (and never more than the size).
inline Index intervals_bound(const shardplan::Layout& layout) {
  Index bound = 1;
  for (std::size_t d = 0; d < layout.tensor_rank(); ++d) {
    Index pieces = 1;
    for (const shardplan::Placement& placement : layout.placements()) {
      if (!placement.is_strided() || placement.dim != static_cast<Index>(d)) continue;
      if (__builtin_mul_overflow(pieces, placement.split_factor, &pieces)) pieces = layout.shape()[d];
      pieces = std::min(pieces, std::max<Index>(layout.shape()[d], 1));
    }
    bound += pieces;
  }
  return bound;
}

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

/// Which of the layout flags a Layout::create error is about, judged by the field it names.
inline std::string_view flag_for_layout_error(const shardplan::Error& error) {
  // The only not_divisible error comes from the `even` policy: the sizes are fine, the policy refuses them.
  if (error.code == shardplan::ErrorCode::not_divisible) return kPolicyFlag.name;
  const std::string_view field = error.field.view();
  if (field.starts_with("shape")) return kShapeFlag.name;
  if (field.starts_with("mesh") || field.starts_with("devices")) return kMeshFlag.name;
  return kPlacementsFlag.name;
}

/// The layout described by --shape, --mesh, --placements and --policy (default chunk).
inline shardplan::Layout read_layout(const ParsedFlags& flags) {
  const shardplan::Shape shape = parse_shape(flags.require(kShapeFlag.name), kShapeFlag.name);
  const shardplan::Mesh mesh = parse_mesh(flags.require(kMeshFlag.name), kMeshFlag.name);
  const shardplan::Placements placements = parse_placements(flags.require(kPlacementsFlag.name), kPlacementsFlag.name);
  const auto policy_text = flags.get(kPolicyFlag.name);
  const shardplan::SplitPolicy policy =
      policy_text ? parse_policy(*policy_text, kPolicyFlag.name) : shardplan::SplitPolicy::chunk;
  auto layout = shardplan::Layout::create(shape, mesh, placements, policy);
  if (!layout.ok()) throw library_error(flag_for_layout_error(layout.error()), layout.error());
  return std::move(layout).value();
}

}  // namespace shardplan_cli
