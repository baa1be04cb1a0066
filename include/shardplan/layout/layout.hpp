#pragma once
// Layout: global shape + mesh + placements + split policy. Answers, for any rank, which part of the tensor it holds.
//
// Index sets follow the composition algorithm: start with [0, n_d) on every dim and walk the mesh axes left to
// right; S(d) keeps piece coord[i] of a split of dim d's current set (split on positions, so sharding applies to
// whatever the earlier axes left); _S(d, sf) cuts the current set into sf chunks, splits each chunk over the axis
// and keeps piece coord[i] of every chunk, in order. The walk is written once (compose); layouts without _S run it
// on one Interval per dim, which is all an S/R/P layout ever needs, and the rest on a Box.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>

#include "shardplan/core/box.hpp"
#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/shape.hpp"
#include "shardplan/core/split_policy.hpp"
#include "shardplan/layout/placement.hpp"
#include "shardplan/mesh/mesh.hpp"

namespace shardplan {

/// The most intervals the library lists at once: one rank's index sets (Layout::local_box and index_sets on _S
/// layouts) or a listing of many ranks (check_listing). 2^26 intervals take about a second and 1 GiB.
inline constexpr Index kMaxListedIntervals = Index{1} << 26;

class Layout {
 public:
  constexpr Layout() = default;

  /// Tensor dims as bits (bit d: dim d; kMaxTensorRank is 8).
  using DimMask = std::uint32_t;

  /// Validates everything a user can get wrong and normalises negative placement dims. Under the `even` policy
  /// every split must be exact (including the sf cut of _S); with exact splits all ranks see the same sizes at every
  /// step, so following rank 0 checks them all.
  [[nodiscard]] static constexpr Result<Layout> create(const Shape& shape, const Mesh& mesh,
                                                       const Placements& placements,
                                                       SplitPolicy policy = SplitPolicy::chunk) {
    return create_judging_even_elsewhere(shape, mesh, placements, policy, DimMask{});
  }

  /// As create(), except that the `even` policy is not checked on the dims in `judged_elsewhere`: a segmented dim
  /// (llm/segmented_dim.hpp) is split segment by segment, so evenness is judged per segment, not on the whole dim.
  [[nodiscard]] static constexpr Result<Layout> create_judging_even_elsewhere(const Shape& shape, const Mesh& mesh,
                                                                              const Placements& placements,
                                                                              SplitPolicy policy,
                                                                              DimMask judged_elsewhere) {
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
    if (policy == SplitPolicy::even) SHARDPLAN_CHECK(layout.check_even_splits(judged_elsewhere));
    for (std::size_t d = 0; d < shape.size(); ++d) {
      layout.intervals_per_rank_ = saturating_add(layout.intervals_per_rank_, layout.dim_intervals_bound(d));
    }
    return layout;
  }

  [[nodiscard]] constexpr const Shape& shape() const { return shape_; }
  [[nodiscard]] constexpr const Mesh& mesh() const { return mesh_; }
  [[nodiscard]] constexpr const Placements& placements() const { return placements_; }
  [[nodiscard]] constexpr SplitPolicy policy() const { return policy_; }
  [[nodiscard]] constexpr std::size_t ndim() const { return shape_.size(); }
  /// True when no placement is _S: every rank's index sets are single intervals.
  [[nodiscard]] constexpr bool is_contiguous() const { return contiguous_; }

  /// An upper bound on the intervals of dim `d` in any one rank's index set: the product of the split factors of
  /// the _S placements on d, never more than the dim size (each interval holds an index), at least 1.
  [[nodiscard]] constexpr Index dim_intervals_bound(std::size_t d) const {
    const Index most = shape_[d] < 1 ? 1 : shape_[d];
    Index pieces = 1;
    for (const Placement& placement : placements_) {
      if (placement.is_strided() && placement.dim == static_cast<Index>(d)) {
        pieces = saturating_mul(pieces, placement.split_factor, most);
      }
    }
    return pieces;
  }

  /// An upper bound on the work of one rank's index sets: 1 (the rank itself) plus every dim's intervals bound,
  /// saturating at INT64_MAX. Computed once, by create().
  [[nodiscard]] constexpr Index intervals_per_rank_bound() const { return intervals_per_rank_; }

  /// Refuses (capacity_exceeded, field "placements") a layout one rank of which could hold more than
  /// `max_intervals` intervals: _S split factors that cut a dim finer than any listing can hold. local_box and
  /// index_sets honour it with kMaxListedIntervals, so that no input makes them run for hours or out of memory.
  [[nodiscard]] constexpr Status check_intervals_per_rank(Index max_intervals = kMaxListedIntervals) const {
    if (intervals_per_rank_ <= max_intervals) return Ok{};
    std::size_t worst = 0;
    for (std::size_t d = 1; d < ndim(); ++d) {
      if (dim_intervals_bound(d) > dim_intervals_bound(worst)) worst = d;
    }
    return make_error(ErrorCode::capacity_exceeded, "placements")
           << "_S split factors cut dim " << static_cast<Index>(worst) << " (size " << shape_[worst] << ") into up to "
           << dim_intervals_bound(worst) << " intervals per rank, past the limit of " << max_intervals
           << " intervals";
  }

 private:
  /// The composition walk: each shard placement, in mesh-axis order, cuts its dim's current part, by
  /// cut(dim, placement, group_size, member). The fast path cuts an (offset, length) per dim, the general path a
  /// Box; the order and the pieces come from here alone. Defined before its callers: clang 14 refuses to evaluate a
  /// member template at compile time when its definition comes after the constexpr function that calls it.
  template <class Cut>
  constexpr void compose(const Coord& coord, Cut&& cut) const {
    for (std::size_t axis = 0; axis < placements_.size(); ++axis) {
      const Placement& placement = placements_[axis];
      if (placement.is_shard()) cut(static_cast<std::size_t>(placement.dim), placement, mesh_.size(axis), coord[axis]);
    }
  }

 public:
  /// Local shape and global offset of a rank. Never allocates for layouts whose sets keep at most
  /// IntervalSet::kInlineIntervals intervals (every S/R/P layout, and _S(d, k) with small k). Refuses _S layouts
  /// past check_intervals_per_rank().
  [[nodiscard]] constexpr Result<LocalBox> local_box(Index rank) const {
    SHARDPLAN_CHECK(mesh_.check_rank(rank));
    if (!contiguous_) SHARDPLAN_CHECK(check_intervals_per_rank());
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

  /// Per-dim index sets of a rank: the full truth, including non-contiguous sets from _S. Refuses _S layouts past
  /// check_intervals_per_rank().
  [[nodiscard]] constexpr Result<Box> index_sets(Index rank) const {
    SHARDPLAN_CHECK(mesh_.check_rank(rank));
    if (!contiguous_) SHARDPLAN_CHECK(check_intervals_per_rank());
    return index_sets_at(mesh_.coordinate_unchecked(rank));
  }

  /// Local box at a mesh coordinate. Preconditions: the coordinate is inside the mesh, and the layout passes
  /// check_intervals_per_rank() (else this may run for hours).
  [[nodiscard]] constexpr LocalBox local_box_at(const Coord& coord) const {
    if (!contiguous_) return index_sets_at(coord).local_box(shape_);
    // Without _S every part stays one interval: [global_offset, global_offset + local_shape) per dim.
    LocalBox box;
    box.local_shape = shape_;
    box.global_offset.resize(shape_.size());
    compose(coord, [&](std::size_t d, const Placement&, Index group_size, Index member) {
      const Piece piece = split_piece(box.local_shape[d], group_size, member, policy_);
      box.global_offset[d] += piece.start;
      box.local_shape[d] = piece.size;
    });
    for (std::size_t d = 0; d < shape_.size(); ++d) {
      box.global_offset[d] = pytorch_offset(box.local_shape[d], box.global_offset[d], shape_[d]);
    }
    return box;
  }

  /// Index sets at a mesh coordinate. Preconditions as for local_box_at.
  [[nodiscard]] constexpr Box index_sets_at(const Coord& coord) const {
    Box box = Box::whole(shape_);
    compose(coord, [&](std::size_t d, const Placement& placement, Index group_size, Index member) {
      box[d] = shard_of(box[d], placement, group_size, member, policy_);
    });
    return box;
  }

  /// The part of `set` that member `member` of a group of `group_size` keeps under a Shard or _S placement.
  [[nodiscard]] static constexpr IntervalSet shard_of(const IntervalSet& set, const Placement& placement,
                                                      Index group_size, Index member, SplitPolicy policy) {
    if (!placement.is_strided()) {
      const Piece piece = split_piece(set.size(), group_size, member, policy);
      return set.slice(piece.start, piece.end());
    }
    // Positions kept from each of the sf chunks (split_piece(n, sf, c, chunk): every chunk is ceil(n / sf) long but
    // the last, and chunks past the end are empty, so a split factor larger than the set costs nothing extra). The
    // member's piece of a full chunk is the same for every full chunk: computed once, since the divisions are most
    // of the cost. Adjacent position ranges coalesce, which selects the same elements.
    const Index n = set.size();
    const Index chunk = ceil_div(n, placement.split_factor);
    if (chunk == 0) return {};
    const Piece full = split_piece(chunk, group_size, member, policy);
    const Index chunks = ceil_div(n, chunk);
    // A contiguous set (the usual case: _S on a dim nothing split before) maps positions to indices by one shift.
    const Index shift = set.is_contiguous() ? set.front() : 0;
    IntervalSet positions;
    for (Index c = 0; c < chunks; ++c) {
      const Index start = c * chunk;  // < n: no overflow
      const Piece inner = n - start >= chunk ? full : split_piece(n - start, group_size, member, policy);
      positions.append(Interval{shift + start + inner.start, shift + start + inner.end()});
    }
    if (set.is_contiguous()) return positions;
    return set.select(positions.intervals());
  }

  friend constexpr bool operator==(const Layout& a, const Layout& b) {
    return a.shape_ == b.shape_ && a.mesh_ == b.mesh_ && a.placements_ == b.placements_ && a.policy_ == b.policy_;
  }

 private:
  /// Follows rank 0 through the composition, checking every split is exact (see create()).
  [[nodiscard]] constexpr Status check_even_splits(DimMask judged_elsewhere) const {
    Shape sizes = shape_;
    for (std::size_t axis = 0; axis < placements_.size(); ++axis) {
      const Placement& placement = placements_[axis];
      if (!placement.is_shard() || ((judged_elsewhere >> placement.dim) & 1U) != 0) continue;
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
  Index intervals_per_rank_ = 1;  // intervals_per_rank_bound()
};

}  // namespace shardplan
