#pragma once
// Rank groups: the sets of ranks that run one collective together. Megatron-LM and torchtitan both lay the ranks of a
// job out as a row-major grid of parallel dims (a Mesh without device order), and the group of some dims is the set
// of ranks that differ only in those dims. This header has what both frameworks share: the flat container for all
// groups of one kind, enumerating them on a mesh, resolving "tp-dp" to mesh axes, and the size checks with messages
// that show the whole product ("tp·cp·dp·pp = 2·1·4·2 = 16 but world is 12").
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/mesh/mesh.hpp"

namespace shardplan {

/// A size passed for a dim that should be computed from the world size instead (torchtitan's dp_shard = -1).
inline constexpr Index kInferSize = -1;

/// Every group of one kind, stored flat (one allocation): group g is ranks[g·group_size, (g+1)·group_size).
/// Each group lists its ranks in increasing coordinate order; on the meshes of Megatron and torchtitan (no device
/// order) that is increasing rank, and the groups come ordered by their first rank.
struct RankGroups {
  Index group_size = 1;
  std::vector<Index> ranks;

  [[nodiscard]] constexpr Index count() const {
    return group_size > 0 ? static_cast<Index>(ranks.size()) / group_size : 0;
  }
  /// Precondition: 0 <= g < count().
  [[nodiscard]] constexpr std::span<const Index> operator[](Index g) const {
    // (pointer, size): std::span's range constructor costs ~10 ms of compile time per element type.
    return std::span<const Index>(ranks.data() + g * group_size, static_cast<std::size_t>(group_size));
  }
  /// One vector per group, for callers that want the nested form.
  [[nodiscard]] constexpr std::vector<std::vector<Index>> to_lists() const {
    std::vector<std::vector<Index>> lists;
    lists.reserve(static_cast<std::size_t>(count()));
    for (Index g = 0; g < count(); ++g) lists.emplace_back((*this)[g].begin(), (*this)[g].end());
    return lists;
  }
  friend constexpr bool operator==(const RankGroups&, const RankGroups&) = default;
};

/// A parallel dim's name and size, as the size checks print them.
struct NamedSize {
  std::string_view name;
  Index size = 1;
};

namespace detail {
/// `tp·cp·dp·pp = 2·1·4·2`: the names, then the sizes, of a product.
constexpr void append_product(ErrorBuilder& error, std::span<const NamedSize> dims) {
  for (std::size_t i = 0; i < dims.size(); ++i) error << (i > 0 ? "·" : "") << dims[i].name;
  error << " = ";
  for (std::size_t i = 0; i < dims.size(); ++i) error << (i > 0 ? "·" : "") << dims[i].size;
}
}  // namespace detail

/// A parallel size must be >= 1; `inferable` sizes may also be kInferSize.
[[nodiscard]] constexpr Status check_parallel_size(std::string_view name, Index size, bool inferable = false) {
  if (size >= 1 || (inferable && size == kInferSize)) return Ok{};
  auto error = make_error(ErrorCode::invalid_argument, name) << "must be >= 1";
  if (inferable) error << " (or " << kInferSize << " to infer it from the world size)";
  return error << ", got " << size;
}

/// The product of the sizes. On overflow the error names the dim whose factor overflowed and shows the whole product,
/// so that the command line can blame the flag that made it too big.
[[nodiscard]] constexpr Result<Index> checked_parallel_product(std::span<const NamedSize> dims) {
  Index product = 1;
  for (const NamedSize& dim : dims) {
    const Result<Index> next = checked_mul(product, dim.size, dim.name);
    if (!next.ok()) {
      auto error = make_error(ErrorCode::overflow, dim.name);
      detail::append_product(error, dims);
      return error << " overflows int64";
    }
    product = *next;
  }
  return product;
}

/// The product of the sizes must be the world size: "tp·cp·dp·pp = 2·1·4·2 = 16 but world is 12" (field "world").
[[nodiscard]] constexpr Status check_world_product(std::span<const NamedSize> dims, Index world) {
  SHARDPLAN_TRY(const Index product, checked_parallel_product(dims));
  if (product == world) return Ok{};
  auto error = make_error(ErrorCode::invalid_argument, "world");
  detail::append_product(error, dims);
  return error << " = " << product << " but world is " << world;
}

/// world / product of the sizes, which must divide it: the size of the one dim left out of `dims` (Megatron's dp,
/// torchtitan's dp_shard). `inferred` names that dim in the message; `field` is the field blamed when it does not
/// divide.
[[nodiscard]] constexpr Result<Index> infer_parallel_size(std::span<const NamedSize> dims, Index world,
                                                          std::string_view inferred, std::string_view field = "world") {
  SHARDPLAN_TRY(const Index product, checked_parallel_product(dims));
  if (world % product == 0) return world / product;
  auto error = make_error(ErrorCode::not_divisible, field);
  detail::append_product(error, dims);
  return error << " = " << product << " does not divide world " << world << ", so " << inferred
               << " cannot be inferred";
}

/// The names of a token, "tp-dp" -> {"tp", "dp"}.
using NameList = StaticVector<std::string_view, kMaxMeshAxes>;

/// Splits a token at '-'. Errors (field `field`): an empty name, more than kMaxMeshAxes names.
[[nodiscard]] constexpr Result<NameList> split_names(std::string_view token, std::string_view field,
                                                     ErrorCode code = ErrorCode::invalid_argument) {
  NameList names;
  std::string_view rest = token;
  for (;;) {
    const std::size_t dash = rest.find('-');
    const std::string_view name = rest.substr(0, dash);
    if (name.empty()) return make_error(code, field) << "empty name in '" << token.substr(0, 60) << "'";
    if (!names.push_back(name)) {
      return make_error(ErrorCode::capacity_exceeded, field)
             << "more than " << static_cast<Index>(kMaxMeshAxes) << " names in '" << token.substr(0, 60) << "'";
    }
    if (dash == std::string_view::npos) return names;
    rest.remove_prefix(dash + 1);
  }
}

/// "unknown name 'xp' in 'tp-xp'" (just "unknown name 'xp'" when that is the whole token); the caller appends the
/// known names.
[[nodiscard]] constexpr ErrorBuilder unknown_name_error(std::string_view field, std::string_view name,
                                                        std::string_view token,
                                                        ErrorCode code = ErrorCode::invalid_argument) {
  auto error = make_error(code, field) << "unknown name '" << name.substr(0, 24) << "'";
  if (name.size() != token.size()) error << " in '" << token.substr(0, 48) << "'";
  return error;
}

/// "'tp' appears twice in 'tp-dp-tp'".
[[nodiscard]] constexpr ErrorBuilder repeated_name_error(std::string_view field, std::string_view name,
                                                         std::string_view token,
                                                         ErrorCode code = ErrorCode::invalid_argument) {
  return make_error(code, field) << "'" << name.substr(0, 24) << "' appears twice in '" << token.substr(0, 60) << "'";
}

/// The axes of `mesh` named by `token`, names joined by '-' ("tp-dp"), sorted by mesh axis so that groups list their
/// ranks in increasing coordinate order; the order of the names in the token does not matter (as in Megatron's
/// get_ranks). Errors (field `field`): empty names, names the mesh does not have (the message lists those it has),
/// a name given twice.
[[nodiscard]] constexpr Result<AxisList> token_axes(const Mesh& mesh, std::string_view token,
                                                    std::string_view field = "token") {
  SHARDPLAN_TRY(const NameList names, split_names(token, field));
  AxisList axes;
  for (const std::string_view name : names) {
    std::size_t axis = mesh.ndim();
    for (std::size_t i = 0; i < mesh.names().size(); ++i) {
      if (mesh.names()[i] == name) axis = i;
    }
    if (axis == mesh.ndim()) {
      auto error = unknown_name_error(field, name, token) << " (known: ";
      for (std::size_t i = 0; i < mesh.names().size(); ++i) error << (i > 0 ? ", " : "") << mesh.names()[i];
      return error << ")";
    }
    for (const std::size_t seen : axes) {
      if (seen == axis) return repeated_name_error(field, name, token);
    }
    axes.push_back(axis);  // distinct mesh axes: never more than the capacity
  }
  detail::sort_range(axes);
  return axes;
}

/// Every group of `mesh` over `axes`: the ranks that share all coordinates off `axes`. Groups are enumerated row-major
/// over the other axes (on a mesh without device order: by their first rank), each group's ranks row-major over
/// `axes` in the order given, as Mesh::group lists them. No axes: every rank alone. Allocates world_size indices.
[[nodiscard]] constexpr Result<RankGroups> mesh_groups(const Mesh& mesh, const AxisList& axes) {
  bool in_group[kMaxMeshAxes]{};
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] >= mesh.ndim() || in_group[axes[i]]) {
      return make_error(ErrorCode::invalid_argument, indexed_field("axes", static_cast<Index>(i)))
             << "axis " << static_cast<Index>(axes[i]) << " is outside a " << static_cast<Index>(mesh.ndim())
             << "-axis mesh or listed twice";
    }
    in_group[axes[i]] = true;
  }
  AxisList others;
  for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
    if (!in_group[axis]) others.push_back(axis);
  }
  RankGroups groups;
  for (const std::size_t axis : axes) groups.group_size *= mesh.size(axis);
  const Index count = mesh.world_size() / groups.group_size;
  groups.ranks.reserve(static_cast<std::size_t>(mesh.world_size()));
  Coord coord(mesh.ndim(), 0);
  // Mixed-radix decoding, last axis fastest: `index` -> coordinates on `list`.
  const auto decode = [&](Index index, const AxisList& list) {
    for (std::size_t i = list.size(); i-- > 0;) {
      const DivMod qr = divmod(index, mesh.size(list[i]));
      coord[list[i]] = qr.remainder;
      index = qr.quotient;
    }
  };
  for (Index g = 0; g < count; ++g) {
    decode(g, others);
    for (Index member = 0; member < groups.group_size; ++member) {
      decode(member, axes);
      groups.ranks.push_back(mesh.rank_unchecked(coord));
    }
  }
  return groups;
}

/// Some axes of a mesh: what a group name ("tp", "dp-cp") stands for. Holds a copy of the mesh, so it outlives
/// whatever produced it.
struct GroupAxes {
  Mesh mesh;
  AxisList axes;  // in mesh order

  /// The ranks in one group: the product of the axes' sizes (a divisor of the world size, so it fits).
  [[nodiscard]] constexpr Index group_size() const {
    Index size = 1;
    for (const std::size_t axis : axes) size *= mesh.size(axis);
    return size;
  }
  [[nodiscard]] constexpr Index group_count() const { return mesh.world_size() / group_size(); }
  /// Every group (see mesh_groups). Allocates world_size indices.
  [[nodiscard]] constexpr Result<RankGroups> groups() const { return mesh_groups(mesh, axes); }
  /// The group that holds `rank`, its ranks increasing.
  [[nodiscard]] constexpr Result<std::vector<Index>> group(Index rank) const { return mesh.group(rank, axes); }
  /// The position of `rank`'s group in groups(): its coordinates off the axes, read row-major. No allocation.
  [[nodiscard]] constexpr Result<Index> group_index(Index rank) const {
    SHARDPLAN_TRY(const Coord coord, mesh.coordinate(rank));
    Index index = 0;
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
      if (detail::find(axes.begin(), axes.end(), axis) == axes.end()) index = index * mesh.size(axis) + coord[axis];
    }
    return index;
  }
};

/// groups(token) and group(rank, token) for a class whose `axes(token)` names the mesh axes of a group (RankGenerator,
/// MegatronGroups, TorchtitanDims): written once here, on top of each class's own name rules.
template <class Derived>
class GroupsByToken {
 public:
  /// All groups of `token` (see Derived::axes), listed by their first rank, each group's ranks increasing.
  [[nodiscard]] constexpr Result<RankGroups> groups(std::string_view token) const {
    SHARDPLAN_TRY(const GroupAxes selected, self().axes(token));
    return selected.groups();
  }

  /// The group of `token` that holds `rank`.
  [[nodiscard]] constexpr Result<std::vector<Index>> group(Index rank, std::string_view token) const {
    SHARDPLAN_TRY(const GroupAxes selected, self().axes(token));
    return selected.group(rank);
  }

 private:
  [[nodiscard]] constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }
};

/// The axes of `mesh` named by `token` (see token_axes).
[[nodiscard]] constexpr Result<GroupAxes> mesh_group_axes(const Mesh& mesh, std::string_view token,
                                                          std::string_view field = "token") {
  SHARDPLAN_TRY(AxisList axes, token_axes(mesh, token, field));
  return GroupAxes{mesh, axes};
}

}  // namespace shardplan
