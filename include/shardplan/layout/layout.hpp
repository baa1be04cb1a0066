#pragma once
// Layout: global shape + mesh + placements + split policy. Answers, for any rank, which part of the tensor it holds.
//
// Index sets follow the composition algorithm: start with [0, n_d) on every dim and walk the mesh axes left to
// right; S(d) keeps piece coord[i] of a split of dim d's current set (split on positions, so sharding applies to
// whatever the earlier axes left); _S(d, sf) cuts the current set into sf chunks, splits each chunk over the axis
// and keeps piece coord[i] of every chunk, in order. The walk is written once (compose), and every cut it makes is
// one StridedCut (S is the one-chunk case): index_sets lists the positions a cut keeps, on a Box; local_box only
// counts them and maps the first back, so it costs O(mesh axes) whatever the split factors.
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
          layout.strided_dims_ |= DimMask{1} << placement.dim;
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
  /// Local shape and global offset of a rank: integer arithmetic over the mesh axes, never an allocation, for
  /// every layout (an _S part is counted, not listed).
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

  /// Per-dim index sets of a rank: the full truth, including non-contiguous sets from _S. Refuses _S layouts past
  /// check_intervals_per_rank().
  [[nodiscard]] constexpr Result<Box> index_sets(Index rank) const {
    SHARDPLAN_CHECK(mesh_.check_rank(rank));
    if (!contiguous_) SHARDPLAN_CHECK(check_intervals_per_rank());
    return index_sets_at(mesh_.coordinate_unchecked(rank));
  }

  /// Local box at a mesh coordinate. Precondition: the coordinate is inside the mesh. Never lists intervals, so it
  /// answers in O(mesh axes) for every layout, _S with any split factor included.
  [[nodiscard]] constexpr LocalBox local_box_at(const Coord& coord) const {
    LocalBox box;
    box.local_shape = shape_;
    box.global_offset.resize(shape_.size());
    // A dim no _S cuts stays one interval, [global_offset, global_offset + local_shape): every cut is a shift. An
    // _S cut is not, so on a dim that has one the first index is found backwards, from position 0 of the final
    // part through every cut's parent_position in reverse; sizes come forwards, from the cuts alone.
    StaticVector<StridedCut, kMaxMeshAxes> cuts;
    compose(coord, [&](std::size_t d, const Placement& placement, Index group_size, Index member) {
      if (((strided_dims_ >> d) & 1U) == 0) {
        const Piece piece = split_piece(box.local_shape[d], group_size, member, policy_);
        box.global_offset[d] += piece.start;
        box.local_shape[d] = piece.size;
        return;
      }
      cuts.push_back(StridedCut::of(box.local_shape[d], placement, group_size, member, policy_));
      cuts.back().dim = d;
      box.local_shape[d] = cuts.back().size();
    });
    for (std::size_t i = cuts.size(); i-- > 0;) {
      const StridedCut& cut = cuts[i];
      if (box.local_shape[cut.dim] != 0) box.global_offset[cut.dim] = cut.parent_position(box.global_offset[cut.dim]);
    }
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

  /// One cut of the composition walk, as positions in the dim's current part of n indices: the part is cut into
  /// chunks of `chunk` positions (one chunk for S; ceil(n / sf) positions each for _S(d, sf), so only the last can
  /// be shorter, and chunks past the end do not exist), and the member keeps `full` of each of the `full_chunks`
  /// leading chunks and `last` of the last one. shard_of lists the kept positions; local_box_at only counts them
  /// and maps one back, so a split factor of 10^12 costs what 2 does.
  struct StridedCut {
    // No default member initialisers: local_box_at keeps one per mesh axis in a StaticVector, which leaves its
    // unused slots uninitialised at run time only for trivially constructible types (zeroing eight cuts cost more
    // than the cuts). of() value-initialises.
    std::size_t dim;
    Index chunk;
    Index full_chunks;
    Index full_start;  // the member's piece of each full chunk
    Index full_size;
    Index last_start;  // ... and of the last chunk
    Index last_size;

    [[nodiscard]] static constexpr StridedCut of(Index n, const Placement& placement, Index group_size, Index member,
                                                 SplitPolicy policy) {
      StridedCut cut{};
      if (!placement.is_strided()) {
        cut.chunk = n;
        cut.set_last(split_piece(n, group_size, member, policy));
        return cut;
      }
      // Divisions are most of the cost, so the usual case (sf divides n: sf equal chunks) takes one, and the
      // member's piece of a full chunk, the same for every full chunk, is computed once.
      const Index sf = placement.split_factor;
      if (n == 0) return cut;  // an empty part stays empty
      const DivMod per_chunk = divmod(n, sf);
      const bool equal_chunks = per_chunk.remainder == 0;
      cut.chunk = per_chunk.quotient + (equal_chunks ? 0 : 1);
      const Piece full = split_piece(cut.chunk, group_size, member, policy);
      cut.full_start = full.start;
      cut.full_size = full.size;
      if (equal_chunks) {
        cut.full_chunks = sf - 1;
        cut.set_last(full);
        return cut;
      }
      cut.full_chunks = divmod(n - 1, cut.chunk).quotient;  // ceil(n / chunk) - 1
      const Index rest = n - cut.full_chunks * cut.chunk;  // in (0, chunk]: no overflow
      cut.set_last(rest == cut.chunk ? full : split_piece(rest, group_size, member, policy));
      return cut;
    }

    /// Positions the member keeps.
    [[nodiscard]] constexpr Index size() const { return full_chunks * full_size + last_size; }

    /// The position in the part before the cut of kept position `position` (< size()): kept positions run through
    /// the chunks in order.
    [[nodiscard]] constexpr Index parent_position(Index position) const {
      // In the first chunk, no division. (With no full chunk before the last, the last is full: the part is one
      // chunk. For S, full_size is 0 and the whole part is the last chunk.)
      if (position < full_size) return full_start + position;
      const Index in_full_chunks = full_chunks * full_size;
      if (position < in_full_chunks) {
        const DivMod at = divmod(position, full_size);
        return at.quotient * chunk + full_start + at.remainder;
      }
      return full_chunks * chunk + last_start + (position - in_full_chunks);
    }

   private:
    constexpr void set_last(Piece piece) {
      last_start = piece.start;
      last_size = piece.size;
    }
  };

  /// The part of `set` that member `member` of a group of `group_size` keeps under a Shard or _S placement.
  [[nodiscard]] static constexpr IntervalSet shard_of(const IntervalSet& set, const Placement& placement,
                                                      Index group_size, Index member, SplitPolicy policy) {
    const StridedCut cut = StridedCut::of(set.size(), placement, group_size, member, policy);
    if (!placement.is_strided()) return set.slice(cut.last_start, cut.last_start + cut.last_size);
    if (set.empty()) return {};
    // A contiguous set (the usual case: _S on a dim nothing split before) maps positions to indices by one shift.
    // Adjacent position ranges coalesce, which selects the same elements.
    const Index shift = set.is_contiguous() ? set.front() : 0;
    IntervalSet positions;
    for (Index c = 0; c < cut.full_chunks; ++c) {
      const Index start = shift + c * cut.chunk + cut.full_start;  // < n: no overflow
      positions.append(Interval{start, start + cut.full_size});
    }
    const Index start = shift + cut.full_chunks * cut.chunk + cut.last_start;
    positions.append(Interval{start, start + cut.last_size});
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
  DimMask strided_dims_ = 0;  // bit d: some _S placement cuts dim d
  Index intervals_per_rank_ = 1;  // intervals_per_rank_bound()
};

}  // namespace shardplan
