#pragma once
// Layout: global shape + mesh + placements + split policy. Answers, for any rank, which part of the tensor it holds.
//
// Index sets follow the composition algorithm: start with [0, n_d) on every dim and walk the mesh axes left to
// right; S(d) keeps piece coord[i] of a split of dim d's current set (split on positions, so sharding applies to
// whatever the earlier axes left); _S(d, sf) cuts the current set into sf chunks, splits each chunk over the axis
// and keeps piece coord[i] of every chunk, in order.
#include <cstddef>
#include <vector>

#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/split_policy.hpp"
#include "shardplan/layout/placement.hpp"
#include "shardplan/mesh/mesh.hpp"

namespace shardplan {

inline constexpr std::size_t kMaxTensorRank = 8;

using Shape = StaticVector<Index, kMaxTensorRank>;

/// What PyTorch's compute_local_shape_and_global_offset returns. The offset of a dim whose set is empty is the dim
/// size (an empty shard sits at the end; DCP relies on it). For a non-contiguous set the offset is only where the set
/// starts: use Layout::index_sets for the full picture.
struct LocalBox {
  Shape local_shape;
  Shape global_offset;
  friend constexpr bool operator==(const LocalBox&, const LocalBox&) = default;
};

/// One index set per tensor dim.
using IndexSets = std::vector<IntervalSet>;

/// Every size >= 0 and their product fits in int64 (zero-size dims are valid, as in PyTorch).
[[nodiscard]] constexpr Status check_shape(const Shape& shape) {
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      return make_error(ErrorCode::invalid_argument, indexed_field("shape", static_cast<Index>(d)))
             << "size must be >= 0, got " << shape[d];
    }
  }
  SHARDPLAN_CHECK(checked_product(shape, "shape"));
  return Ok{};
}

/// "[2, 3]"; "[]" for a scalar. For messages.
[[nodiscard]] constexpr FixedString<96> shape_text(const Shape& shape) {
  FixedString<96> out("[");
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d > 0) out.append(", ");
    out.append(shape[d]);
  }
  return out.append("]");
}

class Layout {
 public:
  constexpr Layout() = default;

  /// Validates everything a user can get wrong and normalises negative placement dims. Under the `even` policy
  /// every split must be exact (including the sf cut of _S); with exact splits all ranks see the same sizes at every
  /// step, so following rank 0 checks them all.
  [[nodiscard]] static constexpr Result<Layout> create(const Shape& shape, const Mesh& mesh,
                                                       const Placements& placements,
                                                       SplitPolicy policy = SplitPolicy::chunk) {
    SHARDPLAN_CHECK(check_shape(shape));
    if (mesh.ndim() == 0) return make_error(ErrorCode::invalid_argument, "mesh") << "has no axes";
    if (placements.size() != mesh.ndim()) {
      return make_error(ErrorCode::invalid_argument, "placements")
             << static_cast<Index>(placements.size()) << " placements for a " << static_cast<Index>(mesh.ndim())
             << "-axis mesh (one per axis)";
    }
    Layout layout;
    layout.shape_ = shape;
    layout.mesh_ = mesh;
    layout.policy_ = policy;
    const auto rank = static_cast<Index>(shape.size());
    for (std::size_t axis = 0; axis < placements.size(); ++axis) {
      Placement placement = placements[axis];
      const auto field = indexed_field("placements", static_cast<Index>(axis));
      if (placement.is_shard()) {
        SHARDPLAN_TRY(placement.dim, normalize_dim(placement.dim, rank, field.view()));
        if (placement.is_strided()) {
          if (placement.split_factor < 1) {
            return make_error(ErrorCode::invalid_argument, field.view())
                   << "_S split factor must be >= 1, got " << placement.split_factor;
          }
          layout.contiguous_ = false;
        }
      }
      layout.placements_.push_back(placement);
    }
    if (policy == SplitPolicy::even) SHARDPLAN_CHECK(layout.check_even_splits());
    return layout;
  }

  [[nodiscard]] constexpr const Shape& shape() const { return shape_; }
  [[nodiscard]] constexpr const Mesh& mesh() const { return mesh_; }
  [[nodiscard]] constexpr const Placements& placements() const { return placements_; }
  [[nodiscard]] constexpr SplitPolicy policy() const { return policy_; }
  [[nodiscard]] constexpr std::size_t tensor_rank() const { return shape_.size(); }
  /// True when no placement is _S: every rank's index sets are single intervals.
  [[nodiscard]] constexpr bool is_contiguous() const { return contiguous_; }

  /// Local shape and global offset of a rank. Shard/Replicate/Partial-only layouts take an allocation-free path.
  [[nodiscard]] constexpr Result<LocalBox> local_box(Index rank) const {
    SHARDPLAN_CHECK(mesh_.check_rank(rank));
    return local_box_at(mesh_.coordinate_unchecked(rank));
  }

  [[nodiscard]] constexpr Result<Shape> local_shape(Index rank) const {
    SHARDPLAN_TRY(const LocalBox box, local_box(rank));
    return box.local_shape;
  }

  [[nodiscard]] constexpr Result<Shape> global_offset(Index rank) const {
    SHARDPLAN_TRY(const LocalBox box, local_box(rank));
    return box.global_offset;
  }

  /// Per-dim index sets of a rank: the full truth, including non-contiguous sets from _S.
  [[nodiscard]] constexpr Result<IndexSets> index_sets(Index rank) const {
    SHARDPLAN_CHECK(mesh_.check_rank(rank));
    return index_sets_at(mesh_.coordinate_unchecked(rank));
  }

  /// Local box at a mesh coordinate. Precondition: the coordinate is inside the mesh.
  [[nodiscard]] constexpr LocalBox local_box_at(const Coord& coord) const {
    LocalBox box;
    if (contiguous_) {
      // Every set stays one interval: track [global_offset, global_offset + local_shape) per dim.
      box.local_shape = shape_;
      box.global_offset.resize(shape_.size());
      for (std::size_t axis = 0; axis < placements_.size(); ++axis) {
        const Placement& placement = placements_[axis];
        if (!placement.is_shard()) continue;
        const auto d = static_cast<std::size_t>(placement.dim);
        const Piece piece = split_piece(box.local_shape[d], mesh_.size(axis), coord[axis], policy_);
        box.global_offset[d] += piece.start;
        box.local_shape[d] = piece.size;
      }
      for (std::size_t d = 0; d < shape_.size(); ++d) {
        if (box.local_shape[d] == 0) box.global_offset[d] = shape_[d];
      }
      return box;
    }
    const IndexSets sets = index_sets_at(coord);
    for (std::size_t d = 0; d < shape_.size(); ++d) {
      box.local_shape.push_back(sets[d].size());
      box.global_offset.push_back(sets[d].empty() ? shape_[d] : sets[d].front());
    }
    return box;
  }

  /// Index sets at a mesh coordinate. Precondition: the coordinate is inside the mesh.
  [[nodiscard]] constexpr IndexSets index_sets_at(const Coord& coord) const {
    IndexSets sets;
    sets.reserve(shape_.size());
    for (Index size : shape_) sets.push_back(IntervalSet::range(0, size));
    for (std::size_t axis = 0; axis < placements_.size(); ++axis) {
      const Placement& placement = placements_[axis];
      if (!placement.is_shard()) continue;
      IntervalSet& set = sets[static_cast<std::size_t>(placement.dim)];
      set = shard_of(set, placement, mesh_.size(axis), coord[axis], policy_);
    }
    return sets;
  }

  /// The part of `set` that member `member` of a group of `group_size` keeps under a Shard or _S placement.
  [[nodiscard]] static constexpr IntervalSet shard_of(const IntervalSet& set, const Placement& placement,
                                                      Index group_size, Index member, SplitPolicy policy) {
    if (!placement.is_strided()) {
      const Piece piece = split_piece(set.size(), group_size, member, policy);
      return set.slice(piece.start, piece.end());
    }
    // Positions kept from each of the sf chunks. Chunks past the end of the set are empty, so a split factor larger
    // than the set costs nothing extra.
    std::vector<Interval> positions;
    for (Index chunk = 0; chunk < placement.split_factor; ++chunk) {
      const Piece outer = split_piece(set.size(), placement.split_factor, chunk, SplitPolicy::chunk);
      if (outer.size == 0) break;
      const Piece inner = split_piece(outer.size, group_size, member, policy);
      if (inner.size > 0) positions.push_back(Interval{outer.start + inner.start, outer.start + inner.end()});
    }
    return set.select(positions);
  }

  friend constexpr bool operator==(const Layout& a, const Layout& b) {
    return a.shape_ == b.shape_ && a.mesh_ == b.mesh_ && a.placements_ == b.placements_ && a.policy_ == b.policy_;
  }

 private:
  /// Follows rank 0 through the composition, checking every split is exact (see create()).
  [[nodiscard]] constexpr Status check_even_splits() const {
    Shape sizes = shape_;
    for (std::size_t axis = 0; axis < placements_.size(); ++axis) {
      const Placement& placement = placements_[axis];
      if (!placement.is_shard()) continue;
      const auto d = static_cast<std::size_t>(placement.dim);
      const auto field = indexed_field("placements", static_cast<Index>(axis));
      const Index k = mesh_.size(axis);
      const Index pieces = placement.is_strided() ? placement.split_factor : 1;
      if (sizes[d] % pieces != 0) {
        return make_error(ErrorCode::not_divisible, field)
               << "even policy: dim " << placement.dim << " has " << sizes[d]
               << " indices here, not divisible by split factor " << pieces;
      }
      if ((sizes[d] / pieces) % k != 0) {
        return make_error(ErrorCode::not_divisible, field)
               << "even policy: dim " << placement.dim << " has " << sizes[d] / pieces << " indices"
               << (pieces > 1 ? " per piece" : "") << " here, not divisible by mesh axis " << static_cast<Index>(axis)
               << " of size " << k;
      }
      sizes[d] /= k;
    }
    return Ok{};
  }

  Shape shape_;
  Mesh mesh_;
  Placements placements_;
  SplitPolicy policy_ = SplitPolicy::chunk;
  bool contiguous_ = true;
};

}  // namespace shardplan
