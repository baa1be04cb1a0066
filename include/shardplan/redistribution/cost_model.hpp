#pragma once
// The alpha-beta cost model: each mesh axis has a latency alpha (µs per message hop) and a bandwidth (GB/s). A
// collective on a group of k ranks costs hops x alpha + (bytes the busiest rank receives) / bandwidth, with the hops
// of ring algorithms: k-1 for all_gather, reduce_scatter and all_to_all, 2(k-1) for all_reduce, 1 for a permute.
// For even sizes this is exactly the textbook ring formulas ((k-1)/k * n / B for an all_gather producing n bytes).
// A collective on several axes at once (a flattened group) runs at the slowest axis's figures.
//
// Default topology, as PyTorch's DTensor models it: 8 devices per host; walking the axes from the innermost out, an
// axis whose cumulative device count stays within a host is intra-host (87.7 GB/s, 0.6 µs), any other axis crosses
// hosts (0.22 x 87.7 GB/s, 2.7 µs).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <limits>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/mesh/mesh.hpp"

namespace shardplan {

struct AxisCost {
  double alpha_us = 0.6;  // latency of one message hop, µs
  double gbps = 87.7;     // bandwidth, GB/s (1e9 bytes per second)
  friend constexpr bool operator==(const AxisCost&, const AxisCost&) = default;
};

inline constexpr Index kDefaultDevicesPerHost = 8;
inline constexpr AxisCost kIntraHostCost{0.6, 87.7};
inline constexpr AxisCost kInterHostCost{2.7, 0.22 * 87.7};

/// `2.7`, `-0.5`, `87.7`, `nan`, `inf`: a double for a message, with 3 decimals and trailing zeros dropped.
/// Magnitudes the 3 decimals cannot show (below 0.0005, past 10^15) are written with 4 significant digits and a
/// power of ten instead (`1e-320`, `1.5e-9`, `1e299`), so that a message never says 0 or inf for a number that is not.
[[nodiscard]] constexpr FixedString<40> decimal_text(double value) {
  FixedString<40> out;
  if (value != value) return out << "nan";
  if (value < 0) {
    out << "-";
    value = -value;
  }
  if (value > std::numeric_limits<double>::max()) return out << "inf";
  const bool scientific = value != 0 && (value < 0.0005 || value > 1e15);
  Index exponent = 0;
  if (scientific) {
    // Into [1, 10): repeated scaling is off by an ulp or two, far below the 4 digits shown.
    while (value >= 10) {
      value /= 10;
      ++exponent;
    }
    while (value < 1) {
      value *= 10;
      --exponent;
    }
  }
  auto thousandths = static_cast<Index>(value * 1000 + 0.5);
  if (scientific && thousandths >= 10000) {  // 9.9996 rounds up to 10.000
    thousandths /= 10;
    ++exponent;
  }
  out << thousandths / 1000;
  Index fraction = thousandths % 1000;
  if (fraction != 0) {
    out << ".";
    for (Index digit = 100; fraction != 0; digit /= 10) {
      out << fraction / digit;
      fraction %= digit;
    }
  }
  if (scientific) out << "e" << exponent;
  return out;
}

// The largest latency and the smallest bandwidth: with them, a time stays finite (and far from the double range)
// for any int64 count of hops and bytes, and so does a plan's sum of times: hops x 10^15 µs <= 9.3e33 µs, and
// bytes / (10^-9 GB/s) = bytes x 10^6 µs <= 9.3e24 µs. Anything outside them is a typo (31 years per hop, one byte
// per second), and a time of `inf` would make every plan cost the same.
inline constexpr double kMaxLatencyUs = 1e15;
inline constexpr double kMinBandwidthGbps = 1e-9;

/// A cost is usable when both figures are finite and strictly positive, the latency at most kMaxLatencyUs and the
/// bandwidth at least kMinBandwidthGbps.
[[nodiscard]] constexpr Status check_axis_cost(const AxisCost& cost, std::string_view field) {
  // `x > 0 && x <= max` also refuses infinity, and NaN, which compares false to everything.
  constexpr double kHuge = std::numeric_limits<double>::max();
  if (!(cost.alpha_us > 0 && cost.alpha_us <= kHuge)) {
    return make_error(ErrorCode::invalid_argument, field)
           << "latency must be a positive number of microseconds, got " << decimal_text(cost.alpha_us);
  }
  if (cost.alpha_us > kMaxLatencyUs) {
    return make_error(ErrorCode::invalid_argument, field)
           << "latency must be at most 1e15 microseconds (31 years) so that times stay finite, got "
           << decimal_text(cost.alpha_us);
  }
  if (!(cost.gbps > 0 && cost.gbps <= kHuge)) {
    return make_error(ErrorCode::invalid_argument, field)
           << "bandwidth must be a positive number of GB/s, got " << decimal_text(cost.gbps);
  }
  if (cost.gbps < kMinBandwidthGbps) {
    return make_error(ErrorCode::invalid_argument, field)
           << "bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay finite, got "
           << decimal_text(cost.gbps);
  }
  return Ok{};
}

class CostModel {
 public:
  constexpr CostModel() = default;

  /// The default topology for `mesh` with `devices_per_host` devices per host.
  [[nodiscard]] static constexpr Result<CostModel> create(const Mesh& mesh,
                                                          Index devices_per_host = kDefaultDevicesPerHost) {
    if (devices_per_host < 1) {
      return make_error(ErrorCode::invalid_argument, "devices_per_host") << "must be >= 1, got " << devices_per_host;
    }
    CostModel model;
    model.axes_.resize(mesh.ndim());
    Index cumulative = 1;
    bool crossed = false;
    for (std::size_t axis = mesh.ndim(); axis-- > 0;) {
      // Saturate: once past a host, every outer axis crosses hosts whatever its size.
      if (!crossed && mul_overflows(cumulative, mesh.size(axis), cumulative)) crossed = true;
      if (cumulative > devices_per_host) crossed = true;
      model.axes_[axis] = crossed ? kInterHostCost : kIntraHostCost;
    }
    return model;
  }

  /// Overrides one axis's figures.
  [[nodiscard]] constexpr Status set_axis(std::size_t axis, const AxisCost& cost) {
    const auto field = indexed_field("axis_cost", static_cast<Index>(axis));
    if (axis >= axes_.size()) {
      return make_error(ErrorCode::out_of_range, field.view())
             << "axis " << static_cast<Index>(axis) << " is outside a " << static_cast<Index>(axes_.size())
             << "-axis mesh";
    }
    SHARDPLAN_CHECK(check_axis_cost(cost, field.view()));
    axes_[axis] = cost;
    return Ok{};
  }

  /// A fixed cost added to every collective (a kernel launch, a host round trip); 0 by default, as in PyTorch's
  /// model. With it, one collective on a flattened group can beat two on its axes.
  [[nodiscard]] constexpr Status set_launch_us(double launch_us) {
    if (!(launch_us >= 0 && launch_us <= std::numeric_limits<double>::max())) {
      return make_error(ErrorCode::invalid_argument, "launch_us")
             << "must be a number of microseconds >= 0, got " << decimal_text(launch_us);
    }
    if (launch_us > kMaxLatencyUs) {
      return make_error(ErrorCode::invalid_argument, "launch_us")
             << "must be at most 1e15 microseconds (31 years) so that times stay finite, got "
             << decimal_text(launch_us);
    }
    launch_us_ = launch_us;
    return Ok{};
  }
  [[nodiscard]] constexpr double launch_us() const { return launch_us_; }

  [[nodiscard]] constexpr std::size_t ndim() const { return axes_.size(); }
  [[nodiscard]] constexpr const AxisCost& axis(std::size_t axis) const { return axes_[axis]; }

  /// The figures of a collective over `axes` at once: the largest latency and the smallest bandwidth.
  [[nodiscard]] constexpr AxisCost group(const AxisList& axes) const {
    AxisCost cost{0, 0};
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const AxisCost& a = axes_[axes[i]];
      if (i == 0 || a.alpha_us > cost.alpha_us) cost.alpha_us = a.alpha_us;
      if (i == 0 || a.gbps < cost.gbps) cost.gbps = a.gbps;
    }
    return cost;
  }

  /// hops x alpha + bytes / bandwidth, in µs (1 GB/s moves 1e3 bytes per µs).
  [[nodiscard]] static constexpr double time_us(const AxisCost& cost, Index hops, Index bytes) {
    return static_cast<double>(hops) * cost.alpha_us + static_cast<double>(bytes) / (cost.gbps * 1e3);
  }

  friend constexpr bool operator==(const CostModel&, const CostModel&) = default;

 private:
  StaticVector<AxisCost, kMaxMeshAxes> axes_;
  double launch_us_ = 0;
};

}  // namespace shardplan
