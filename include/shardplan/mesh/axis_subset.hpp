#pragma once
// An ordered subset of a mesh's axes, and the mixed-radix numbering of the coordinates on them: the one place that
// turns "the ranks that differ only on these axes" into indices and back. A collective's group, a dim's table of
// index sets and a Partial group are all numbered this way: row-major over the listed axes, first axis slowest.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/static_vector.hpp"
#include "shardplan/mesh/device_order.hpp"

namespace shardplan {

/// A rank's position on every mesh axis.
using Coord = StaticVector<Index, kMaxMeshAxes>;
/// Mesh axes by number.
using AxisList = StaticVector<std::size_t, kMaxMeshAxes>;

/// The most subsets AxisSubset::for_each_projected follows at once.
inline constexpr std::size_t kMaxProjections = 32;

class AxisSubset {
 public:
  constexpr AxisSubset() = default;

  /// `axes` of a mesh whose axis sizes are `mesh_shape`, in the order given. Precondition: valid, distinct axes
  /// (Mesh::group checks user input before it gets here).
  constexpr AxisSubset(const AxisSizes& mesh_shape, const AxisList& axes) {
    for (std::size_t axis : axes) push_back(axis, mesh_shape[axis]);
  }

  /// The axes `axis` of `mesh_shape` for which `keep(axis)` holds, in mesh order.
  template <class Keep>
  [[nodiscard]] static constexpr AxisSubset where(const AxisSizes& mesh_shape, Keep&& keep) {
    AxisSubset subset;
    for (std::size_t axis = 0; axis < mesh_shape.size(); ++axis) {
      if (keep(axis)) subset.push_back(axis, mesh_shape[axis]);
    }
    return subset;
  }

  /// Adds an axis of `size` after the others (it varies fastest).
  constexpr void push_back(std::size_t axis, Index size) {
    axes_.push_back(axis);
    sizes_.push_back(size);
    size_ *= size;  // a product of mesh axis sizes: at most the world size, which fits in Index
    mask_ |= 1U << axis;
  }

  [[nodiscard]] constexpr const AxisList& axes() const { return axes_; }
  [[nodiscard]] constexpr bool empty() const { return axes_.empty(); }
  /// Number of coordinate combinations on these axes (the group size); 1 for no axes.
  [[nodiscard]] constexpr Index size() const { return size_; }
  /// One bit per axis.
  [[nodiscard]] constexpr unsigned mask() const { return mask_; }
  [[nodiscard]] constexpr bool contains(std::size_t axis) const { return (mask_ & (1U << axis)) != 0; }

  /// The position of `coord` in the numbering, from its coordinates on these axes only.
  [[nodiscard]] constexpr Index index_of(const Coord& coord) const {
    Index index = 0;
    for (std::size_t i = 0; i < axes_.size(); ++i) index = index * sizes_[i] + coord[axes_[i]];
    return index;
  }

  /// `base` with its coordinates on these axes replaced by those of combination `index` (0 <= index < size()).
  [[nodiscard]] constexpr Coord coord_at(Index index, Coord base) const {
    for (std::size_t i = axes_.size(); i-- > 0;) {
      base[axes_[i]] = index % sizes_[i];
      index /= sizes_[i];
    }
    return base;
  }

  /// Calls visit(index, coord) for every combination in order, `coord` being `base` with these axes' coordinates
  /// replaced. Counts like an odometer: no division per combination.
  template <class Visit>
  constexpr void for_each(Coord base, Visit&& visit) const {
    for (std::size_t axis : axes_) base[axis] = 0;
    for (Index index = 0; index < size_; ++index) {
      visit(index, static_cast<const Coord&>(base));
      for (std::size_t i = axes_.size(); i-- > 0;) {
        if (++base[axes_[i]] < sizes_[i]) break;
        base[axes_[i]] = 0;
      }
    }
  }

  /// The weight of `axis` in index_of (index_of(coord) is the sum of coord[axis] x stride(axis)); 0 for an axis
  /// not in the subset.
  [[nodiscard]] constexpr Index stride(std::size_t axis) const {
    Index stride = 1;
    for (std::size_t i = axes_.size(); i-- > 0;) {
      if (axes_[i] == axis) return stride;
      stride *= sizes_[i];
    }
    return 0;
  }

  /// Calls visit(indices) for every combination of these axes in order, where indices[j] is the index in
  /// *parts[j] of the combination's coordinates (each part's axes among these; at most kMaxProjections parts).
  /// What a walk over the ranks needs when its values depend on a few subsets' indices: it visits one
  /// combination per class of ranks, and an odometer with per-axis strides keeps every index up to date with a
  /// few additions, no index_of per combination.
  template <class Visit>
  constexpr void for_each_projected(const AxisSubset* const* parts, std::size_t count, Visit&& visit) const {
    // Only the first axes_.size() x count strides, count indices and axes_.size() digits are set and read: the
    // arrays are sized for the largest mesh, and zeroing all of them cost more than a small walk.
    Index strides[kMaxMeshAxes][kMaxProjections];
    Index indices[kMaxProjections];
    Index digits[kMaxMeshAxes];
    for (std::size_t i = 0; i < axes_.size(); ++i) {
      for (std::size_t j = 0; j < count; ++j) strides[i][j] = parts[j]->stride(axes_[i]);
      digits[i] = 0;
    }
    for (std::size_t j = 0; j < count; ++j) indices[j] = 0;
    for (Index combination = 0; combination < size_; ++combination) {
      visit(static_cast<const Index*>(indices));
      for (std::size_t i = axes_.size(); i-- > 0;) {
        if (++digits[i] < sizes_[i]) {
          for (std::size_t j = 0; j < count; ++j) indices[j] += strides[i][j];
          break;
        }
        digits[i] = 0;
        for (std::size_t j = 0; j < count; ++j) indices[j] -= (sizes_[i] - 1) * strides[i][j];
      }
    }
  }

  friend constexpr bool operator==(const AxisSubset& a, const AxisSubset& b) {
    return a.axes_ == b.axes_ && a.sizes_ == b.sizes_;
  }

 private:
  AxisList axes_;
  AxisSizes sizes_;
  Index size_ = 1;
  unsigned mask_ = 0;
};

}  // namespace shardplan
