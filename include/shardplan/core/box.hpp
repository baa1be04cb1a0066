#pragma once
// Box: the part of a tensor one rank (or one chunk, or one block) holds, as one IntervalSet per tensor dim. The
// region is the Cartesian product of the sets; a rank's local tensor lists each dim's indices in increasing order.
// Everything that asks "how many elements", "is this inside that", "what do these two share" or "in which
// rectangular blocks" reads it from here, so each of those rules is written once.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <initializer_list>

#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/shape.hpp"

namespace shardplan {

/// What PyTorch's compute_local_shape_and_global_offset returns. The offset of a dim whose set is empty is the dim
/// size (an empty shard sits at the end; DCP relies on it). For a non-contiguous set the offset is only where the set
/// starts: the Box has the full picture.
struct LocalBox {
  Shape local_shape;
  Shape global_offset;
  friend constexpr bool operator==(const LocalBox&, const LocalBox&) = default;
};

/// One rectangular block: one interval per dim (global indices).
using Block = StaticVector<Interval, kMaxTensorRank>;

/// PyTorch's offset convention for one dim: where the held indices start, or the dim size when none are held.
[[nodiscard]] constexpr Index pytorch_offset(Index held, Index first, Index dim_size) {
  return held == 0 ? dim_size : first;
}

class Box {
 public:
  constexpr Box() = default;
  /// One set per dim, in dim order. Precondition: at most kMaxTensorRank sets.
  constexpr Box(std::initializer_list<IntervalSet> sets) {
    for (const IntervalSet& set : sets) push_back(set);
  }

  /// [0, n) on every dim: the whole tensor.
  [[nodiscard]] static constexpr Box whole(const Shape& shape) {
    Box box;
    for (Index size : shape) box.push_back(IntervalSet::range(0, size));
    return box;
  }

  /// Adds the next dim. Precondition: ndim() < kMaxTensorRank.
  constexpr void push_back(IntervalSet set) { sets_.push_back(static_cast<IntervalSet&&>(set)); }

  [[nodiscard]] constexpr std::size_t ndim() const { return sets_.size(); }
  constexpr IntervalSet& operator[](std::size_t d) { return sets_[d]; }
  constexpr const IntervalSet& operator[](std::size_t d) const { return sets_[d]; }
  constexpr IntervalSet* begin() { return sets_.begin(); }
  constexpr IntervalSet* end() { return sets_.end(); }
  constexpr const IntervalSet* begin() const { return sets_.begin(); }
  constexpr const IntervalSet* end() const { return sets_.end(); }

  /// Elements held: the product of the set sizes. Fits in int64 whenever the box lies inside a validated shape.
  [[nodiscard]] constexpr Index numel() const {
    Index product = 1;
    for (const IntervalSet& set : sets_) product *= set.size();
    return product;
  }
  [[nodiscard]] constexpr bool empty() const { return numel() == 0; }

  /// The local tensor's shape: the set sizes.
  [[nodiscard]] constexpr Shape local_shape() const {
    Shape shape;
    for (const IntervalSet& set : sets_) shape.push_back(set.size());
    return shape;
  }

  /// Where each dim's set starts, in PyTorch's convention (see LocalBox) for a tensor of shape `global`.
  [[nodiscard]] constexpr Shape global_offset(const Shape& global) const {
    Shape offset;
    for (std::size_t d = 0; d < sets_.size(); ++d) {
      const IntervalSet& set = sets_[d];
      offset.push_back(pytorch_offset(set.size(), set.empty() ? 0 : set.front(), global[d]));
    }
    return offset;
  }

  [[nodiscard]] constexpr LocalBox local_box(const Shape& global) const {
    return LocalBox{local_shape(), global_offset(global)};
  }

  /// Every element of `inner` is in this box. Precondition: same ndim.
  [[nodiscard]] constexpr bool contains(const Box& inner) const {
    for (std::size_t d = 0; d < sets_.size(); ++d) {
      if (intersection_size(sets_[d], inner[d]) != inner[d].size()) return false;
    }
    return true;
  }

  /// The elements both boxes hold. Precondition: same ndim.
  [[nodiscard]] friend constexpr Box intersect(const Box& a, const Box& b) {
    Box out;
    for (std::size_t d = 0; d < a.ndim(); ++d) out.push_back(intersect(a[d], b[d]));
    return out;
  }

  /// |a ∩ b| without building it. Precondition: same ndim.
  [[nodiscard]] friend constexpr Index intersection_numel(const Box& a, const Box& b) {
    Index product = 1;
    for (std::size_t d = 0; d < a.ndim() && product != 0; ++d) product *= intersection_size(a[d], b[d]);
    return product;
  }

  /// Calls visit(const Block&) for each rectangular block of the box, one interval per dim, in row-major order of
  /// the blocks (last dim fastest). No blocks when any dim is empty; one empty block for a 0-d box.
  template <class Visit>
  constexpr void for_each_block(Visit&& visit) const {
    for (const IntervalSet& set : sets_) {
      if (set.empty()) return;
    }
    StaticVector<std::size_t, kMaxTensorRank> pick(sets_.size(), 0);
    Block block;
    for (const IntervalSet& set : sets_) block.push_back(set.intervals()[0]);
    while (true) {
      visit(static_cast<const Block&>(block));
      std::size_t d = sets_.size();
      while (d > 0 && ++pick[d - 1] == sets_[d - 1].intervals().size()) {
        pick[d - 1] = 0;
        block[d - 1] = sets_[d - 1].intervals()[0];
        --d;
      }
      if (d == 0) return;
      block[d - 1] = sets_[d - 1].intervals()[pick[d - 1]];
    }
  }

  friend constexpr bool operator==(const Box& a, const Box& b) { return a.sets_ == b.sets_; }

 private:
  StaticVector<IntervalSet, kMaxTensorRank> sets_;
};

}  // namespace shardplan
