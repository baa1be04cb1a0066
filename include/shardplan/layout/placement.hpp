#pragma once
// Placements, in PyTorch DTensor's vocabulary: what one mesh axis does to the tensor.
//   R          Replicate: every rank of the group holds the same data
//   S(d)       Shard: tensor dim d is split over the group
//   _S(d,sf)   StridedShard: dim d is first cut into sf pieces and each piece is split over the group
//   P(op)      Partial: each rank holds an addend; the value is the reduction over the group
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>

#include "shardplan/core/static_vector.hpp"
#include "shardplan/mesh/device_order.hpp"

namespace shardplan {

enum class ReduceOp { sum, avg, max, min, product };

[[nodiscard]] constexpr std::string_view to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::avg: return "avg";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
    case ReduceOp::product: return "product";
  }
  return "sum";
}

enum class PlacementKind { replicate, shard, strided_shard, partial };

struct Placement {
  PlacementKind kind = PlacementKind::replicate;
  Index dim = 0;           // shard / strided_shard: the tensor dim (may be negative until normalised)
  Index split_factor = 1;  // strided_shard only
  ReduceOp op = ReduceOp::sum;  // partial only

  [[nodiscard]] static constexpr Placement replicate() { return {}; }
  [[nodiscard]] static constexpr Placement shard(Index dim) { return {PlacementKind::shard, dim, 1, ReduceOp::sum}; }
  [[nodiscard]] static constexpr Placement strided_shard(Index dim, Index split_factor) {
    return {PlacementKind::strided_shard, dim, split_factor, ReduceOp::sum};
  }
  [[nodiscard]] static constexpr Placement partial(ReduceOp op = ReduceOp::sum) {
    return {PlacementKind::partial, 0, 1, op};
  }

  [[nodiscard]] constexpr bool is_replicate() const { return kind == PlacementKind::replicate; }
  [[nodiscard]] constexpr bool is_partial() const { return kind == PlacementKind::partial; }
  /// Shard or StridedShard: the axis splits a tensor dim.
  [[nodiscard]] constexpr bool is_shard() const {
    return kind == PlacementKind::shard || kind == PlacementKind::strided_shard;
  }
  [[nodiscard]] constexpr bool is_strided() const { return kind == PlacementKind::strided_shard; }

  /// Canonical text: `R`, `S(0)`, `_S(0,2)`, `P(sum)`.
  [[nodiscard]] constexpr FixedString<48> to_string() const {
    FixedString<48> out;
    switch (kind) {
      case PlacementKind::replicate: return out << "R";
      case PlacementKind::shard: return out << "S(" << dim << ")";
      case PlacementKind::strided_shard: return out << "_S(" << dim << "," << split_factor << ")";
      case PlacementKind::partial: return out << "P(" << shardplan::to_string(op) << ")";
    }
    return out;
  }

  /// Equality of values: the fields that matter for the kind.
  friend constexpr bool operator==(const Placement& a, const Placement& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case PlacementKind::replicate: return true;
      case PlacementKind::shard: return a.dim == b.dim;
      case PlacementKind::strided_shard: return a.dim == b.dim && a.split_factor == b.split_factor;
      case PlacementKind::partial: return a.op == b.op;
    }
    return false;
  }
};

/// One placement per mesh axis.
using Placements = StaticVector<Placement, kMaxMeshAxes>;

/// `S(0),_S(0,2),R`.
[[nodiscard]] constexpr FixedString<400> to_string(const Placements& placements) {
  FixedString<400> out;
  for (std::size_t i = 0; i < placements.size(); ++i) {
    if (i > 0) out << ",";
    out << placements[i].to_string();
  }
  return out;
}

/// Resolves a negative dim against the tensor rank (`-1` is the last dim) and checks the range.
[[nodiscard]] constexpr Result<Index> normalize_dim(Index dim, Index ndim, std::string_view field) {
  if (ndim == 0) {
    return make_error(ErrorCode::invalid_argument, field) << "dim " << dim << " cannot be sharded: the tensor is a scalar";
  }
  const Index resolved = dim < 0 ? dim + ndim : dim;
  if (resolved < 0 || resolved >= ndim) {
    return make_error(ErrorCode::invalid_argument, field)
           << "dim " << dim << " is outside a rank-" << ndim << " tensor (valid: " << -ndim << ".."
           << ndim - 1 << ")";
  }
  return resolved;
}

}  // namespace shardplan
