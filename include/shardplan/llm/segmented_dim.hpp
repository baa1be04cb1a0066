#pragma once
// Segmented (fused) dimensions: a dim that stores several logical tensors back to back, e.g. gate_up_proj =
// [gate (F); up (F)] or a fused QKV = [q (H·hd); k (K·hd); v (K·hd)].
//
// Splitting such a dim contiguously would give a rank the tail of one segment and the head of the next. The rule
// every framework uses instead: split each segment independently and give the rank its piece of every segment,
// concatenated in segment order. Segments are counted in units (head_dim for attention heads, 1 otherwise) so a
// head is never cut. k equal segments of unit 1 are exactly `_S(d, k)`; unequal segments are beyond what `_S` (and
// PyTorch) can express.
//
// A segment with fewer units than shards (GQA with more TP ranks than KV heads) needs an explicit policy:
//   forbid     (Megatron-LM, HF native TP): an error naming the segment, its unit count and the shard count;
//   replicate  (vLLM): shards % units must be 0; member c of the group holds unit c / (shards / units), so the
//              segment's sets overlap across the group (replication inside a shard axis).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

#include "shardplan/layout/layout.hpp"
#include "shardplan/llm/kv_heads.hpp"

namespace shardplan {

enum class ShortSegmentPolicy { forbid, replicate };

[[nodiscard]] constexpr std::string_view to_string(ShortSegmentPolicy policy) {
  return policy == ShortSegmentPolicy::forbid ? "forbid" : "replicate";
}

[[nodiscard]] constexpr Result<ShortSegmentPolicy> parse_short_segment_policy(std::string_view text) {
  if (text == "forbid") return ShortSegmentPolicy::forbid;
  if (text == "replicate") return ShortSegmentPolicy::replicate;
  return make_error(ErrorCode::parse_error, "segment_policy")
         << "unknown segment policy '" << text.substr(0, 40) << "' (known: forbid, replicate)";
}

/// A segmented dim: `sizes` are element counts of the segments in storage order; none may be cut below `unit`.
struct SegmentedDim {
  Index dim = 0;
  std::vector<Index> sizes;
  Index unit = 1;
  friend constexpr bool operator==(const SegmentedDim&, const SegmentedDim&) = default;
};

/// Parses `DIM=S1,S2,…[/UNIT]`, e.g. `0=8192,1024,1024/128`. The dim may be negative (normalised by
/// SegmentedLayout::create).
[[nodiscard]] constexpr Result<SegmentedDim> parse_segmented_dim(std::string_view text) {
  TextScanner scan(text, "segments");
  SegmentedDim segmented;
  SHARDPLAN_TRY(segmented.dim, scan.integer());
  SHARDPLAN_CHECK(scan.expect("="));
  do {
    SHARDPLAN_TRY(const Index size, scan.integer());
    segmented.sizes.push_back(size);
  } while (scan.accept(","));
  if (scan.accept("/")) {
    SHARDPLAN_TRY(segmented.unit, scan.integer());
  }
  if (!scan.at_end()) {
    return scan.error() << "unexpected text '" << scan.rest().substr(0, 40) << "' (expected DIM=S1,S2,...[/UNIT])";
  }
  return segmented;
}

/// Whether the replicate policy may repeat the units of segment `j` across shards: KV heads only. In a dim of
/// several segments the first holds the query heads of a [q; k; v] (or the gate of a [gate; up]), which vLLM
/// divides and never repeats (`divide(num_heads, tp)`: fewer query heads than ranks is an error there); a dim of one
/// segment is a k or v projection of its own.
[[nodiscard]] constexpr bool may_replicate(const SegmentedDim& segmented, std::size_t j) {
  return j > 0 || segmented.sizes.size() == 1;
}

/// One mesh axis's split of a segment's units `held` (unit indices, `unit` elements each): member `member` of
/// `shards` gets its piece under `policy` (the `even` policy judged on this segment: its units divide by an _S's split
/// factor and then by the shards, Layout::create's rule applied to the segment instead of the whole dim). A segment
/// with fewer units than shards (GQA with more ranks than KV heads) follows the short-segment policy: forbid is an
/// error; replicate, where `replicable` (see may_replicate), gives consecutive members a copy of the same unit, and
/// needs the shards to be a multiple of the units. The one rule SegmentedLayout and the per-member sizing path
/// (model/sharded_parameter.hpp) both apply. Errors name `field` and mesh axis `axis`.
[[nodiscard]] constexpr Result<IntervalSet> split_segment_units(const IntervalSet& held, Index unit,
                                                                const Placement& placement, Index shards, Index member,
                                                                SplitPolicy policy, ShortSegmentPolicy short_policy,
                                                                bool replicable, std::size_t axis,
                                                                const FixedString<48>& field) {
  const Index units = held.size();
  const auto axis_index = static_cast<Index>(axis);
  if (units < shards) {
    const bool replicate = short_policy == ShortSegmentPolicy::replicate && units > 0;
    if (replicate && !replicable) {
      return make_error(ErrorCode::invalid_argument, field)
             << units << " units of " << unit << " for " << shards << " shards on mesh axis " << axis_index
             << ": the first segment (the query heads of [q; k; v]) is never replicated, only KV heads are;"
             << " use a shard count that divides " << units;
    }
    if (!replicate) {
      return make_error(ErrorCode::invalid_argument, field)
             << units << " units of " << unit << " for " << shards << " shards on mesh axis " << axis_index
             << ": a unit is never split"
             << (units == 0 || !replicable ? "" : " (segment policy replicate would repeat units instead)");
    }
    if (kv_head_split(units, shards) != KvHeadSplit::replicated) {
      return make_error(ErrorCode::not_divisible, field)
             << "replicate policy needs the " << shards << " shards of mesh axis " << axis_index
             << " to be a multiple of its " << units << " units";
    }
    const Index position = kv_head_of_rank(units, shards, member);
    return held.slice(position, position + 1);
  }
  if (policy == SplitPolicy::even) {
    const Index pieces = placement.is_strided() ? placement.split_factor : 1;
    if (units % pieces != 0 || (units / pieces) % shards != 0) {
      auto error = make_error(ErrorCode::not_divisible, field)
                   << "even policy: " << units << " units at mesh axis " << axis_index << " do not divide by ";
      if (pieces > 1) error << "split factor " << pieces << " times ";
      return error << shards;
    }
  }
  return Layout::shard_of(held, placement, shards, member, policy);
}

/// The segmented dims as a Layout::DimMask, normalised against a tensor of `ndim` dims: the dims whose `even`
/// policy is judged per segment rather than on the whole dim (pass it to Layout::create_judging_even_elsewhere).
[[nodiscard]] constexpr Result<Layout::DimMask> segmented_dim_mask(const std::vector<SegmentedDim>& segmented_dims,
                                                                   std::size_t ndim) {
  Layout::DimMask mask = 0;
  for (const SegmentedDim& segmented : segmented_dims) {
    SHARDPLAN_TRY(const Index dim, normalize_dim(segmented.dim, static_cast<Index>(ndim), "segments.dim"));
    mask |= Layout::DimMask{1} << dim;
  }
  return mask;
}

/// A layout whose some dims are segmented. Every other dim follows the layout's composition unchanged.
class SegmentedLayout {
 public:
  /// The layout of `shape` on `mesh` with its segmented dims: under the `even` policy a segmented dim must split
  /// evenly segment by segment (48 query heads and two KV heads of 128 rows, 6656 rows in all, split over 6 ranks
  /// although 6656 does not divide by 6); the other dims as a whole, as Layout::create checks them.
  [[nodiscard]] static constexpr Result<SegmentedLayout> create(const Shape& shape, const Mesh& mesh,
                                                                const Placements& placements, SplitPolicy policy,
                                                                std::vector<SegmentedDim> segmented_dims,
                                                                ShortSegmentPolicy short_policy) {
    SHARDPLAN_TRY(const Layout::DimMask segmented, segmented_dim_mask(segmented_dims, shape.size()));
    SHARDPLAN_TRY(const Layout layout,
                  Layout::create_judging_even_elsewhere(shape, mesh, placements, policy, segmented));
    return create(layout, std::move(segmented_dims), short_policy);
  }

  /// Validates the segments (dim in range and not repeated, sizes >= 1 adding up to the dim, unit >= 1 dividing every
  /// segment) and the short-segment policy at every mesh coordinate that matters.
  [[nodiscard]] static constexpr Result<SegmentedLayout> create(const Layout& layout,
                                                                std::vector<SegmentedDim> segmented_dims,
                                                                ShortSegmentPolicy policy = ShortSegmentPolicy::forbid) {
    SegmentedLayout out;
    out.layout_ = layout;
    out.policy_ = policy;
    const auto rank = static_cast<Index>(layout.ndim());
    for (std::size_t s = 0; s < segmented_dims.size(); ++s) {
      SegmentedDim& segmented = segmented_dims[s];
      SHARDPLAN_TRY(segmented.dim, normalize_dim(segmented.dim, rank, "segments.dim"));
      for (std::size_t t = 0; t < s; ++t) {
        if (segmented_dims[t].dim == segmented.dim) {
          return make_error(ErrorCode::invalid_argument, "segments.dim")
                 << "dim " << segmented.dim << " is segmented twice";
        }
      }
      SHARDPLAN_CHECK(check_sizes(segmented, layout.shape()[static_cast<std::size_t>(segmented.dim)]));
    }
    out.segmented_ = std::move(segmented_dims);
    SHARDPLAN_CHECK(out.check_every_coordinate());
    return out;
  }

  [[nodiscard]] constexpr const Layout& layout() const { return layout_; }
  [[nodiscard]] constexpr const std::vector<SegmentedDim>& segmented_dims() const { return segmented_; }
  [[nodiscard]] constexpr ShortSegmentPolicy policy() const { return policy_; }

  /// Per-dim index sets of a rank; a segmented dim's set is the union of its pieces of every segment.
  [[nodiscard]] constexpr Result<Box> index_sets(Index rank) const {
    SHARDPLAN_CHECK(layout_.mesh().check_rank(rank));
    return index_sets_at(layout_.mesh().coordinate_unchecked(rank));
  }

  /// Local shape and global offset (the first index, or the dim size when empty), as Layout::local_box.
  [[nodiscard]] constexpr Result<LocalBox> local_box(Index rank) const {
    SHARDPLAN_TRY(const Box box, index_sets(rank));
    return box.local_box(layout_.shape());
  }

  /// The rows a rank holds of each segment of segmented dim `which`, in the segment's own indices (0-based).
  [[nodiscard]] constexpr Result<std::vector<IntervalSet>> segment_sets(Index rank, std::size_t which = 0) const {
    SHARDPLAN_CHECK(layout_.mesh().check_rank(rank));
    if (which >= segmented_.size()) {
      return make_error(ErrorCode::out_of_range, "segments")
             << "segmented dim " << static_cast<Index>(which) << " of " << static_cast<Index>(segmented_.size());
    }
    return pieces_of(segmented_[which], layout_.mesh().coordinate_unchecked(rank));
  }

  /// Precondition: the coordinate is inside the mesh (create() validated every coordinate, so this cannot fail).
  [[nodiscard]] constexpr Box index_sets_at(const Coord& coord) const {
    Box sets = layout_.index_sets_at(coord);
    for (const SegmentedDim& segmented : segmented_) {
      IntervalSet joined;
      Index offset = 0;
      const Result<std::vector<IntervalSet>> pieces = pieces_of(segmented, coord);
      for (std::size_t j = 0; j < segmented.sizes.size(); ++j) {
        joined.append(pieces->at(j).shifted(offset));
        offset += segmented.sizes[j];
      }
      sets[static_cast<std::size_t>(segmented.dim)] = joined;
    }
    return sets;
  }

 private:
  [[nodiscard]] static constexpr Status check_sizes(const SegmentedDim& segmented, Index dim_size) {
    if (segmented.sizes.empty()) return make_error(ErrorCode::invalid_argument, "segments") << "no segment sizes";
    if (segmented.unit < 1) {
      return make_error(ErrorCode::invalid_argument, "segments.unit") << "must be >= 1, got " << segmented.unit;
    }
    Index total = 0;
    for (std::size_t j = 0; j < segmented.sizes.size(); ++j) {
      const Index size = segmented.sizes[j];
      const auto field = indexed_field("segments", static_cast<Index>(j));
      if (size < 1) return make_error(ErrorCode::invalid_argument, field) << "size must be >= 1, got " << size;
      if (size % segmented.unit != 0) {
        return make_error(ErrorCode::not_divisible, field)
               << "size " << size << " is not a multiple of the unit " << segmented.unit;
      }
      SHARDPLAN_TRY(total, checked_add(total, size, "segments"));
    }
    if (total != dim_size) {
      return make_error(ErrorCode::invalid_argument, "segments")
             << "sizes add up to " << total << " but dim " << segmented.dim << " has size " << dim_size;
    }
    return Ok{};
  }

  /// Each segment's piece (in element indices within the segment) at a coordinate: the composition of the layout,
  /// applied to every segment's units separately, with the short-segment policy where a segment runs out of units.
  [[nodiscard]] constexpr Result<std::vector<IntervalSet>> pieces_of(const SegmentedDim& segmented,
                                                                     const Coord& coord) const {
    const Mesh& mesh = layout_.mesh();
    std::vector<IntervalSet> pieces;
    for (std::size_t j = 0; j < segmented.sizes.size(); ++j) {
      const Index units = segmented.sizes[j] / segmented.unit;
      IntervalSet set = IntervalSet::range(0, units);
      for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
        const Placement& placement = layout_.placements()[axis];
        if (!placement.is_shard() || placement.dim != segmented.dim) continue;
        const Index shards = mesh.size(axis);
        SHARDPLAN_TRY(set, split_segment_units(set, segmented.unit, placement, shards, coord[axis], layout_.policy(),
                                               policy_, may_replicate(segmented, j), axis,
                                               indexed_field("segments", static_cast<Index>(j))));
      }
      IntervalSet elements;
      for (const Interval& units_held : set.intervals()) {
        elements.append(Interval{units_held.begin * segmented.unit, units_held.end * segmented.unit});
      }
      pieces.push_back(elements);
    }
    return pieces;
  }

  /// Walks every combination of coordinates on the axes that shard a segmented dim (the others do not matter).
  [[nodiscard]] constexpr Status check_every_coordinate() const {
    const Mesh& mesh = layout_.mesh();
    AxisList axes;
    for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
      const Placement& placement = layout_.placements()[axis];
      for (const SegmentedDim& segmented : segmented_) {
        if (placement.is_shard() && placement.dim == segmented.dim) {
          axes.push_back(axis);
          break;
        }
      }
    }
    Coord coord(mesh.ndim(), 0);
    while (true) {
      for (const SegmentedDim& segmented : segmented_) SHARDPLAN_CHECK(pieces_of(segmented, coord));
      std::size_t i = axes.size();
      while (i > 0 && ++coord[axes[i - 1]] == mesh.size(axes[i - 1])) coord[axes[--i]] = 0;
      if (i == 0) return Ok{};
    }
  }

  Layout layout_;
  std::vector<SegmentedDim> segmented_;
  ShortSegmentPolicy policy_ = ShortSegmentPolicy::forbid;
};

}  // namespace shardplan
