#pragma once
// Device order in XLA's "iota with transpose" form: arange(N).reshape(R).transpose(P).reshape(mesh_shape).
// The value at a mesh cell is the rank placed there. XLA prints it as `[4,2]<=[2,4]T(1,0)`; we print and parse
// the part after `<=`: `[2,4]T(1,0)` (the transpose may be omitted when it is the identity).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>

#include "shardplan/core/static_vector.hpp"
#include "shardplan/core/text_scanner.hpp"

namespace shardplan {

inline constexpr std::size_t kMaxMeshAxes = 16;

using AxisSizes = StaticVector<Index, kMaxMeshAxes>;

class DeviceOrder {
 public:
  constexpr DeviceOrder() = default;

  /// Validates: every reshape dim >= 1, `transpose` a permutation of 0..R-1, product of `reshape` == world size.
  [[nodiscard]] static constexpr Result<DeviceOrder> create(const AxisSizes& reshape, const AxisSizes& transpose,
                                                            Index world_size) {
    if (reshape.empty()) return make_error(ErrorCode::invalid_argument, "devices") << "reshape dims are empty";
    if (transpose.size() != reshape.size()) {
      return make_error(ErrorCode::invalid_argument, "devices.transpose")
             << "has " << static_cast<Index>(transpose.size()) << " entries but the reshape has "
             << static_cast<Index>(reshape.size()) << " dims";
    }
    for (std::size_t i = 0; i < reshape.size(); ++i) {
      if (reshape[i] < 1) {
        return make_error(ErrorCode::invalid_argument, indexed_field("devices.reshape", static_cast<Index>(i)))
               << "must be >= 1, got " << reshape[i];
      }
    }
    bool seen[kMaxMeshAxes]{};
    for (std::size_t i = 0; i < transpose.size(); ++i) {
      const Index axis = transpose[i];
      if (axis < 0 || axis >= static_cast<Index>(reshape.size()) || seen[axis]) {
        return make_error(ErrorCode::invalid_argument, indexed_field("devices.transpose", static_cast<Index>(i)))
               << "value " << axis << " makes the transpose not a permutation of 0.."
               << static_cast<Index>(reshape.size()) - 1;
      }
      seen[axis] = true;
    }
    SHARDPLAN_TRY(const Index product, checked_product(reshape, "devices.reshape"));
    if (product != world_size) {
      return make_error(ErrorCode::invalid_argument, "devices.reshape")
             << "covers " << product << " devices but the mesh has " << world_size;
    }
    DeviceOrder order;
    order.reshape_ = reshape;
    order.transpose_ = transpose;
    return order;
  }

  [[nodiscard]] constexpr const AxisSizes& reshape() const { return reshape_; }
  [[nodiscard]] constexpr const AxisSizes& transpose() const { return transpose_; }

  /// The rank at row-major cell `cell` of the mesh. Precondition: 0 <= cell < world size.
  [[nodiscard]] constexpr Index rank_at_cell(Index cell) const {
    // Unravel `cell` over the transposed shape R[P[j]]; element j of that index is the index along R's dim P[j].
    const std::size_t n = reshape_.size();
    Index index_in_reshape[kMaxMeshAxes]{};
    for (std::size_t j = n; j-- > 0;) {
      const Index extent = reshape_[static_cast<std::size_t>(transpose_[j])];
      index_in_reshape[transpose_[j]] = cell % extent;
      cell /= extent;
    }
    Index rank = 0;
    for (std::size_t i = 0; i < n; ++i) rank = rank * reshape_[i] + index_in_reshape[i];
    return rank;
  }

  /// The row-major cell holding `rank`. Precondition: 0 <= rank < world size.
  [[nodiscard]] constexpr Index cell_of_rank(Index rank) const {
    const std::size_t n = reshape_.size();
    Index index_in_reshape[kMaxMeshAxes]{};
    for (std::size_t i = n; i-- > 0;) {
      index_in_reshape[i] = rank % reshape_[i];
      rank /= reshape_[i];
    }
    Index cell = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const auto axis = static_cast<std::size_t>(transpose_[j]);
      cell = cell * reshape_[axis] + index_in_reshape[axis];
    }
    return cell;
  }

  [[nodiscard]] constexpr bool is_identity() const {
    for (std::size_t i = 0; i < transpose_.size(); ++i) {
      if (transpose_[i] != static_cast<Index>(i)) return false;
    }
    return true;
  }

  /// `[2,4]T(1,0)`; the transpose is always printed so the form is canonical.
  [[nodiscard]] constexpr FixedString<96> to_string() const {
    FixedString<96> out("[");
    for (std::size_t i = 0; i < reshape_.size(); ++i) (i ? out << "," : out) << reshape_[i];
    out << "]T(";
    for (std::size_t i = 0; i < transpose_.size(); ++i) (i ? out << "," : out) << transpose_[i];
    return out << ")";
  }

  friend constexpr bool operator==(const DeviceOrder&, const DeviceOrder&) = default;

 private:
  AxisSizes reshape_;
  AxisSizes transpose_;
};

namespace detail {
/// `a,b,c` up to a closing bracket; used for the reshape dims and the transpose.
constexpr Result<AxisSizes> parse_int_list(TextScanner& scan, char close, std::string_view what) {
  AxisSizes values;
  if (scan.peek() == close) return values;
  do {
    SHARDPLAN_TRY(const Index value, scan.integer());
    if (!values.push_back(value)) {
      return make_error(ErrorCode::capacity_exceeded, what)
             << "more than " << static_cast<Index>(kMaxMeshAxes) << " entries";
    }
  } while (scan.accept(","));
  return values;
}
}  // namespace detail

/// Parses `[2,4]T(1,0)` or `[8]` (optionally preceded by `<=`) for a mesh of `world_size` devices.
[[nodiscard]] constexpr Result<DeviceOrder> parse_device_order(std::string_view text, Index world_size) {
  TextScanner scan(text, "devices");
  (void)scan.accept("<=");
  SHARDPLAN_CHECK(scan.expect("["));
  SHARDPLAN_TRY(const AxisSizes reshape, detail::parse_int_list(scan, ']', "devices.reshape"));
  SHARDPLAN_CHECK(scan.expect("]"));
  AxisSizes transpose;
  if (scan.accept("T")) {
    SHARDPLAN_CHECK(scan.expect("("));
    SHARDPLAN_TRY(transpose, detail::parse_int_list(scan, ')', "devices.transpose"));
    SHARDPLAN_CHECK(scan.expect(")"));
  } else {
    for (std::size_t i = 0; i < reshape.size(); ++i) transpose.push_back(static_cast<Index>(i));
  }
  if (!scan.at_end()) {
    return scan.error() << "unexpected text '" << scan.rest().substr(0, 40) << "' after the device order";
  }
  return DeviceOrder::create(reshape, transpose, world_size);
}

}  // namespace shardplan
