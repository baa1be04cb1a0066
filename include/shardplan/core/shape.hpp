#pragma once
// Shape: the sizes of a tensor's dims, with inline storage (a tensor has at most kMaxTensorRank dims).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/static_vector.hpp"

namespace shardplan {

inline constexpr std::size_t kMaxTensorRank = 8;

using Shape = StaticVector<Index, kMaxTensorRank>;

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

/// Number of elements of a tensor of this shape (1 for a scalar). Unchecked: check_shape refuses a shape whose
/// product overflows, and every shape a layout hands out is inside a checked one.
[[nodiscard]] constexpr Index numel(const Shape& shape) {
  Index product = 1;
  for (Index size : shape) product *= size;
  return product;
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

}  // namespace shardplan
