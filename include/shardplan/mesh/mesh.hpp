#pragma once
// Mesh: an N-d grid of ranks. A rank's coordinate is its row-major cell (last axis fastest), unless the mesh
// carries a device order, in which case the rank at each cell is given by that order.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "shardplan/core/static_vector.hpp"
#include "shardplan/mesh/axis_subset.hpp"
#include "shardplan/mesh/device_order.hpp"

namespace shardplan {

using AxisName = FixedString<24>;
using AxisNames = StaticVector<AxisName, kMaxMeshAxes>;

class Mesh {
 public:
  constexpr Mesh() = default;

  /// Validates the sizes (each >= 1, product fits in int64), the names (none, or one per axis, non-empty,
  /// unique) and the device order (see DeviceOrder::create).
  [[nodiscard]] static constexpr Result<Mesh> create(const AxisSizes& shape, const AxisNames& names = {},
                                                     const std::optional<DeviceOrder>& devices = std::nullopt) {
    if (shape.empty()) return make_error(ErrorCode::invalid_argument, "mesh") << "has no axes";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 1) {
        return make_error(ErrorCode::invalid_argument, indexed_field("mesh", static_cast<Index>(i)))
               << "axis size must be >= 1, got " << shape[i];
      }
    }
    SHARDPLAN_TRY(const Index world, checked_product(shape, "mesh"));
    if (!names.empty()) {
      if (names.size() != shape.size()) {
        return make_error(ErrorCode::invalid_argument, "mesh.names")
               << static_cast<Index>(names.size()) << " names for " << static_cast<Index>(shape.size()) << " axes";
      }
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].empty()) {
          return make_error(ErrorCode::invalid_argument, indexed_field("mesh.names", static_cast<Index>(i)))
                 << "axis name is empty";
        }
        for (std::size_t j = 0; j < i; ++j) {
          if (names[j] == names[i]) {
            return make_error(ErrorCode::invalid_argument, indexed_field("mesh.names", static_cast<Index>(i)))
                   << "axis name '" << names[i] << "' repeats axis " << static_cast<Index>(j);
          }
        }
      }
    }
    Mesh mesh;
    mesh.shape_ = shape;
    mesh.names_ = names;
    mesh.world_size_ = world;
    if (devices) {
      SHARDPLAN_TRY(mesh.devices_, DeviceOrder::create(devices->reshape(), devices->transpose(), world));
      mesh.has_devices_ = true;
    }
    return mesh;
  }

  [[nodiscard]] constexpr std::size_t ndim() const { return shape_.size(); }
  [[nodiscard]] constexpr const AxisSizes& shape() const { return shape_; }
  [[nodiscard]] constexpr Index size(std::size_t axis) const { return shape_[axis]; }
  [[nodiscard]] constexpr Index world_size() const { return world_size_; }
  [[nodiscard]] constexpr bool has_names() const { return !names_.empty(); }
  [[nodiscard]] constexpr const AxisNames& names() const { return names_; }
  [[nodiscard]] constexpr std::optional<DeviceOrder> devices() const {
    return has_devices_ ? std::optional<DeviceOrder>(devices_) : std::nullopt;
  }

  /// The index of the axis called `name`.
  [[nodiscard]] constexpr Result<std::size_t> axis_index(std::string_view name) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return i;
    }
    auto error = make_error(ErrorCode::invalid_argument, "axis") << "no mesh axis is named '" << name.substr(0, 24)
                                                                 << "'";
    if (names_.empty()) return error << " (the mesh has no axis names)";
    error << " (axes:";
    for (const AxisName& known : names_) error << " " << known;
    return error << ")";
  }

  [[nodiscard]] constexpr Status check_rank(Index rank, std::string_view field = "rank") const {
    if (rank < 0 || rank >= world_size_) {
      return make_error(ErrorCode::out_of_range, field)
             << "rank " << rank << " is outside a mesh of " << world_size_ << " ranks (valid: 0.." << world_size_ - 1
             << ")";
    }
    return Ok{};
  }

  /// Coordinate of a rank. Precondition: 0 <= rank < world_size().
  [[nodiscard]] constexpr Coord coordinate_unchecked(Index rank) const {
    Index cell = has_devices_ ? devices_.cell_of_rank(rank) : rank;
    Coord coord(shape_.size(), 0);
    for (std::size_t axis = shape_.size(); axis-- > 0;) {
      const DivMod qr = divmod(cell, shape_[axis]);
      coord[axis] = qr.remainder;
      cell = qr.quotient;
    }
    return coord;
  }

  [[nodiscard]] constexpr Result<Coord> coordinate(Index rank) const {
    SHARDPLAN_CHECK(check_rank(rank));
    return coordinate_unchecked(rank);
  }

  /// Rank at a coordinate. Precondition: the coordinate is inside the mesh.
  [[nodiscard]] constexpr Index rank_unchecked(const Coord& coord) const {
    Index cell = 0;
    for (std::size_t axis = 0; axis < shape_.size(); ++axis) cell = cell * shape_[axis] + coord[axis];
    return has_devices_ ? devices_.rank_at_cell(cell) : cell;
  }

  [[nodiscard]] constexpr Result<Index> rank(const Coord& coord) const {
    if (coord.size() != shape_.size()) {
      return make_error(ErrorCode::invalid_argument, "coord")
             << "has " << static_cast<Index>(coord.size()) << " entries for a " << static_cast<Index>(ndim())
             << "-axis mesh";
    }
    for (std::size_t axis = 0; axis < coord.size(); ++axis) {
      if (coord[axis] < 0 || coord[axis] >= shape_[axis]) {
        return make_error(ErrorCode::out_of_range, indexed_field("coord", static_cast<Index>(axis)))
               << "coordinate " << coord[axis] << " is outside axis " << static_cast<Index>(axis) << " of size "
               << shape_[axis];
      }
    }
    return rank_unchecked(coord);
  }

  /// The ranks that share every coordinate of `rank` except those on `axes`, ordered row-major over `axes` in the
  /// order given (the first axis listed varies slowest). A collective on those (flattened) axes runs in this group.
  [[nodiscard]] constexpr Result<std::vector<Index>> group(Index rank, const AxisList& axes) const {
    SHARDPLAN_CHECK(check_rank(rank));
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (axes[i] >= ndim()) {
        return make_error(ErrorCode::out_of_range, indexed_field("axes", static_cast<Index>(i)))
               << "axis " << static_cast<Index>(axes[i]) << " is outside a " << static_cast<Index>(ndim())
               << "-axis mesh";
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (axes[j] == axes[i]) {
          return make_error(ErrorCode::invalid_argument, indexed_field("axes", static_cast<Index>(i)))
                 << "axis " << static_cast<Index>(axes[i]) << " is listed twice";
        }
      }
    }
    const AxisSubset subset(shape_, axes);
    std::vector<Index> ranks;
    ranks.reserve(static_cast<std::size_t>(subset.size()));
    subset.for_each(coordinate_unchecked(rank),
                    [&](Index, const Coord& member) { ranks.push_back(rank_unchecked(member)); });
    return ranks;
  }

  [[nodiscard]] constexpr Result<std::vector<Index>> group(Index rank, std::size_t axis) const {
    return group(rank, AxisList{axis});
  }

  /// `(4,2,3)`, `(dp=4,tp=2)`, followed by ` <=[2,4]T(1,0)` when there is a device order.
  [[nodiscard]] constexpr FixedString<256> to_string() const {
    FixedString<256> out("(");
    for (std::size_t axis = 0; axis < ndim(); ++axis) {
      if (axis > 0) out << ",";
      if (has_names()) out << names_[axis] << "=";
      out << shape_[axis];
    }
    out << ")";
    if (has_devices_) out << " <=" << devices_.to_string();
    return out;
  }

  friend constexpr bool operator==(const Mesh& a, const Mesh& b) {
    return a.shape_ == b.shape_ && a.names_ == b.names_ && a.devices() == b.devices();
  }

 private:
  AxisSizes shape_;
  AxisNames names_;
  Index world_size_ = 1;
  DeviceOrder devices_;
  bool has_devices_ = false;
};

}  // namespace shardplan
