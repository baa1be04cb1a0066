#pragma once
// Shard order: for every tensor dim, the ordered list of mesh axes that split it, outermost first (the form of
// Shardy, JAX PartitionSpec and DTensor's `shard_order`). `_S` exists because FSDP2 shards after TP although the FSDP
// axis is to the left of TP; in order form `[_S(0,2), S(0)]` on (dp=2, tp=2) is simply "dim 0 split by (tp, dp)".
//
// Conversion to placements: the axis at position p of dim d's order gets split_factor = product of the sizes of the
// axes before it in that order whose mesh index is greater than its own; sf = 1 is a plain S(d).
// Conversion back inserts axes from the highest mesh index down, each at the first position whose prefix product
// equals its split factor (the first keeps size-1 axes in mesh order). Not every _S list has an order form.
//
// When every split along an order is exact, the order's nested splitting and the composition of its _S form give
// the same index sets; with uneven sizes they can differ (docs/layouts.md shows a case). Layout always uses the
// composition, as PyTorch does.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// dims[d] lists the mesh axes splitting tensor dim d, outermost first.
struct ShardOrder {
  StaticVector<AxisList, kMaxTensorRank> dims;
  friend constexpr bool operator==(const ShardOrder&, const ShardOrder&) = default;
};

/// The order form of a placement list, or a not_representable error. Dims may be negative (normalised here).
[[nodiscard]] constexpr Result<ShardOrder> to_shard_order(const Placements& placements, const Mesh& mesh,
                                                          Index ndim) {
  if (placements.size() != mesh.ndim()) {
    return make_error(ErrorCode::invalid_argument, "placements")
           << static_cast<Index>(placements.size()) << " placements for a " << static_cast<Index>(mesh.ndim())
           << "-axis mesh (one per axis)";
  }
  if (ndim < 0 || ndim > static_cast<Index>(kMaxTensorRank)) {
    return make_error(ErrorCode::capacity_exceeded, "shape")
           << "tensor rank " << ndim << " outside 0.." << static_cast<Index>(kMaxTensorRank);
  }
  ShardOrder order;
  for (Index d = 0; d < ndim; ++d) order.dims.push_back({});
  for (std::size_t axis = placements.size(); axis-- > 0;) {
    const Placement& placement = placements[axis];
    if (!placement.is_shard()) continue;
    const auto field = indexed_field("placements", static_cast<Index>(axis));
    SHARDPLAN_TRY(const Index dim, normalize_dim(placement.dim, ndim, field.view()));
    // A plain Shard's split_factor field means nothing (as in Placement::operator==); only _S carries one.
    const Index split_factor = placement.is_strided() ? placement.split_factor : 1;
    if (split_factor < 1) {
      return make_error(ErrorCode::invalid_argument, field.view()) << "_S split factor must be >= 1, got " << split_factor;
    }
    AxisList& axes = order.dims[static_cast<std::size_t>(dim)];
    // Every axis already placed has a higher mesh index, so the prefix product before a position is exactly the
    // split factor this axis would get there.
    Index prefix = 1;
    std::size_t position = 0;
    while (prefix != split_factor && position < axes.size()) {
      prefix *= mesh.size(axes[position]);
      ++position;
    }
    if (prefix != split_factor) {
      auto error = make_error(ErrorCode::not_representable, field.view())
                   << placement.to_string() << " has no shard order: split factor " << split_factor
                   << " is not a product of the leading sizes of the later axes sharding dim " << dim
                   << " (possible:";
      Index possible = 1;
      error << " 1";
      for (std::size_t axis_after : axes) error << " " << (possible *= mesh.size(axis_after));
      return error << ")";
    }
    AxisList inserted;
    for (std::size_t i = 0; i < position; ++i) inserted.push_back(axes[i]);
    inserted.push_back(axis);
    for (std::size_t i = position; i < axes.size(); ++i) inserted.push_back(axes[i]);
    axes = inserted;
  }
  return order;
}

/// The order form of a layout's placements (see to_shard_order).
[[nodiscard]] constexpr Result<ShardOrder> shard_order(const Layout& layout) {
  return to_shard_order(layout.placements(), layout.mesh(), static_cast<Index>(layout.ndim()));
}

/// The placements of an order form. Axes not in the order take `unsharded[axis]` (R or P; all R when empty).
[[nodiscard]] constexpr Result<Placements> to_placements(const ShardOrder& order, const Mesh& mesh,
                                                         const Placements& unsharded = {}) {
  Placements placements;
  if (unsharded.empty()) {
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) placements.push_back(Placement::replicate());
  } else if (unsharded.size() != mesh.ndim()) {
    return make_error(ErrorCode::invalid_argument, "placements")
           << static_cast<Index>(unsharded.size()) << " placements for a " << static_cast<Index>(mesh.ndim())
           << "-axis mesh (one per axis)";
  } else {
    placements = unsharded;
  }
  bool used[kMaxMeshAxes]{};
  for (std::size_t d = 0; d < order.dims.size(); ++d) {
    const AxisList& axes = order.dims[d];
    for (std::size_t p = 0; p < axes.size(); ++p) {
      const std::size_t axis = axes[p];
      const auto field = indexed_field("shard_order", static_cast<Index>(d));
      if (axis >= mesh.ndim()) {
        return make_error(ErrorCode::out_of_range, field.view())
               << "mesh axis " << static_cast<Index>(axis) << " is outside a " << static_cast<Index>(mesh.ndim())
               << "-axis mesh";
      }
      if (used[axis]) {
        return make_error(ErrorCode::invalid_argument, field.view())
               << "mesh axis " << static_cast<Index>(axis) << " splits more than one dim or appears twice";
      }
      used[axis] = true;
      if (placements[axis].is_partial()) {
        return make_error(ErrorCode::invalid_argument, indexed_field("placements", static_cast<Index>(axis)))
               << "is Partial but the shard order uses axis " << static_cast<Index>(axis) << " to split dim "
               << static_cast<Index>(d);
      }
      Index split_factor = 1;
      for (std::size_t q = 0; q < p; ++q) {
        if (axes[q] > axis) split_factor *= mesh.size(axes[q]);
      }
      placements[axis] = split_factor == 1 ? Placement::shard(static_cast<Index>(d))
                                           : Placement::strided_shard(static_cast<Index>(d), split_factor);
    }
  }
  for (std::size_t axis = 0; axis < placements.size(); ++axis) {
    if (!used[axis] && placements[axis].is_shard()) {
      return make_error(ErrorCode::invalid_argument, indexed_field("placements", static_cast<Index>(axis)))
             << placements[axis].to_string() << " shards but axis " << static_cast<Index>(axis)
             << " is not in the shard order";
    }
  }
  return placements;
}

/// `{0:[tp,dp],1:[ep]}` (axis indices when the mesh has no names); dims that no axis splits are omitted.
[[nodiscard]] constexpr FixedString<256> to_string(const ShardOrder& order, const Mesh& mesh) {
  FixedString<256> out("{");
  bool first_dim = true;
  for (std::size_t d = 0; d < order.dims.size(); ++d) {
    if (order.dims[d].empty()) continue;
    if (!first_dim) out << ",";
    first_dim = false;
    out << static_cast<Index>(d) << ":[";
    for (std::size_t p = 0; p < order.dims[d].size(); ++p) {
      if (p > 0) out << ",";
      const std::size_t axis = order.dims[d][p];
      if (mesh.has_names() && axis < mesh.ndim()) {
        out << mesh.names()[axis];
      } else {
        out << static_cast<Index>(axis);
      }
    }
    out << "]";
  }
  return out << "}";
}

}  // namespace shardplan
