#pragma once
// Text form of a mesh: `4,2,3`, `dp=4,tp=2,cp=3`, optionally in brackets or parentheses, optionally followed by a
// device order `<=[2,4]T(1,0)`. Names are all present or all absent.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/mesh/mesh.hpp"

namespace shardplan {

[[nodiscard]] constexpr Result<Mesh> parse_mesh(std::string_view text) {
  TextScanner scan(text, "mesh");
  const char close = scan.open_list();
  AxisSizes shape;
  AxisNames names;
  do {
    const std::string_view name = scan.identifier();
    if (name.empty() && scan.peek() == '=') {
      return make_error(ErrorCode::invalid_argument, indexed_field("mesh.names", static_cast<Index>(shape.size())))
             << "axis name is empty";
    }
    if (!name.empty()) {
      SHARDPLAN_CHECK(scan.expect("="));
      if (name.size() > 23) {
        return make_error(ErrorCode::invalid_argument, indexed_field("mesh.names", static_cast<Index>(shape.size())))
               << "axis name '" << name.substr(0, 30) << "' is longer than 23 characters";
      }
    }
    if (!shape.empty() && name.empty() != names.empty()) {
      return make_error(ErrorCode::invalid_argument, "mesh")
             << "name every axis or none: axis " << static_cast<Index>(shape.size()) << " of '" << text.substr(0, 60)
             << "' differs from axis 0";
    }
    SHARDPLAN_TRY(const Index size, scan.integer());
    if (shape.full()) {
      return make_error(ErrorCode::capacity_exceeded, "mesh")
             << "more than " << static_cast<Index>(kMaxMeshAxes) << " axes";
    }
    shape.push_back(size);
    if (!name.empty()) names.push_back(AxisName(name));
  } while (scan.accept(","));
  SHARDPLAN_CHECK(scan.close_list(close));
  std::optional<DeviceOrder> devices;
  if (scan.accept("<=")) {
    Index world = 1;
    for (Index size : shape) {
      if (size < 1 || mul_overflows(world, size, world)) break;
    }
    SHARDPLAN_TRY(devices, parse_device_order(scan.rest(), world));
  } else if (!scan.at_end()) {
    return scan.error() << "unexpected text '" << scan.rest().substr(0, 40) << "' after the mesh shape";
  }
  return Mesh::create(shape, names, devices);
}

}  // namespace shardplan
