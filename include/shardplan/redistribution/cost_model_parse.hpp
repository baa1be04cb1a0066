#pragma once
// Text form of per-axis cost overrides: `AXIS=ALPHA_US:GBPS[,AXIS=ALPHA_US:GBPS...]`, e.g. `0=2.7:19.3`,
// `dp=5:12.5,tp=0.6:87.7`. AXIS is a mesh axis index or, on a named mesh, an axis name; ALPHA_US (latency of one
// message hop, µs) and GBPS (bandwidth, GB/s) are decimal numbers (`87.7`, `.5`, `2`, `1e3`), both finite and
// strictly positive, the latency at most 1e15 µs and the bandwidth at least 1e-9 GB/s (check_axis_cost: so that
// every modelled time is finite). Each axis appears at most once. Entries are named `axis_cost[i]` in errors, i counting the
// entries of the text from 0 (not the mesh axis, which the message names).
//
// The decimal parser is strict (no locale, no `nan`/`inf`/hex, no surrounding text) and constexpr; it is exact
// (correctly rounded) for the usual forms, up to 15 significant digits and a power of ten up to 22.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shardplan/redistribution/cost_model.hpp"

namespace shardplan {

namespace cost_parse_detail {

[[nodiscard]] constexpr std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[nodiscard]] constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// 10^exponent for 0 <= exponent; past 10^308 the result is infinity.
[[nodiscard]] constexpr double power_of_ten(int exponent) {
  double result = 1;
  double base = 10;
  while (exponent > 0) {
    if ((exponent & 1) != 0) result *= base;
    base *= base;
    exponent >>= 1;
  }
  return result;
}

}  // namespace cost_parse_detail

/// A decimal number: an optional sign, digits with an optional `.` fraction (at least one digit in all), and an
/// optional exponent `e[+-]digits`. Nothing else, not even spaces. Values past the double range become infinity
/// (or 0), which callers that need finite numbers refuse.
[[nodiscard]] constexpr Result<double> parse_decimal(std::string_view text, std::string_view field) {
  using cost_parse_detail::is_digit;
  auto refuse = [&]() -> Result<double> {
    return make_error(ErrorCode::parse_error, field)
           << "'" << text.substr(0, 40) << (text.size() > 40 ? "...'" : "'")
           << " is not a decimal number (expected e.g. 0.6, 87.7 or 1e3)";
  };
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative = text[pos++] == '-';
  // Up to 19 significant digits go into the mantissa; the rest only move the decimal point.
  std::uint64_t mantissa = 0;
  int significant = 0;
  std::int64_t exponent = 0;  // value = mantissa x 10^exponent
  bool any_digit = false;
  for (; pos < text.size() && is_digit(text[pos]); ++pos) {
    any_digit = true;
    if (significant < 19) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(text[pos] - '0');
      if (mantissa != 0) ++significant;
    } else {
      ++exponent;  // a digit past the 19th cannot change a double (53 bits < 19 digits) beyond rounding
    }
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      any_digit = true;
      if (significant < 19) {
        mantissa = mantissa * 10 + static_cast<std::uint64_t>(text[pos] - '0');
        if (mantissa != 0) ++significant;
        --exponent;
      }
    }
  }
  if (!any_digit) return refuse();
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exponent_negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) exponent_negative = text[pos++] == '-';
    if (pos == text.size() || !is_digit(text[pos])) return refuse();
    std::int64_t written = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      if (written < 100000) written = written * 10 + (text[pos] - '0');  // saturates far past any double
    }
    exponent += exponent_negative ? -written : written;
  }
  if (pos != text.size()) return refuse();

  double value = 0;
  if (mantissa != 0) {
    // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are both exact doubles, so one
    // multiplication or division rounds correctly. Otherwise scale in two steps (within an ulp or two).
    const double m = static_cast<double>(mantissa);
    if (exponent >= 0) {
      value = exponent > 400 ? m * cost_parse_detail::power_of_ten(400)
                             : m * cost_parse_detail::power_of_ten(static_cast<int>(exponent));
    } else if (exponent >= -22) {
      value = m / cost_parse_detail::power_of_ten(static_cast<int>(-exponent));
    } else if (exponent < -400) {
      value = 0;
    } else {
      // Two divisions keep intermediate values away from the subnormal range for as long as possible.
      const auto first = static_cast<int>(-exponent / 2);
      value = m / cost_parse_detail::power_of_ten(first) /
              cost_parse_detail::power_of_ten(static_cast<int>(-exponent) - first);
    }
  }
  return negative ? -value : value;
}

/// One override: mesh axis `axis` gets `cost`.
struct AxisCostEntry {
  std::size_t axis = 0;
  AxisCost cost;
  friend constexpr bool operator==(const AxisCostEntry&, const AxisCostEntry&) = default;
};
using AxisCostEntries = StaticVector<AxisCostEntry, kMaxMeshAxes>;

namespace cost_parse_detail {

/// The mesh axis an entry's key names: a plain index, or an axis name.
[[nodiscard]] constexpr Result<std::size_t> resolve_axis(std::string_view key, const Mesh& mesh,
                                                         std::string_view field) {
  const std::string_view digits = key.starts_with('-') ? key.substr(1) : key;
  bool numeric = !digits.empty();
  for (const char c : digits) numeric = numeric && is_digit(c);
  if (numeric) {
    Index axis = 0;
    for (const char c : digits) {
      if (axis <= static_cast<Index>(kMaxMeshAxes)) axis = axis * 10 + (c - '0');  // saturates past any mesh
    }
    if (digits.size() != key.size() || axis >= static_cast<Index>(mesh.ndim())) {
      return make_error(ErrorCode::out_of_range, field)
             << "axis " << key.substr(0, 24) << (key.size() > 24 ? "..." : "") << " is outside a "
             << static_cast<Index>(mesh.ndim()) << "-axis mesh (valid: 0.." << static_cast<Index>(mesh.ndim()) - 1
             << ")";
    }
    return static_cast<std::size_t>(axis);
  }
  auto named = mesh.axis_index(key);
  if (!named.ok()) {
    Error error = named.error();
    error.field = FixedString<48>(field);
    return error;
  }
  return named.value();
}

}  // namespace cost_parse_detail

/// Parses `AXIS=ALPHA_US:GBPS,...` against `mesh`. Every value is checked as CostModel::set_axis checks it
/// (check_axis_cost), so the entries apply without error to a model of this mesh.
[[nodiscard]] constexpr Result<AxisCostEntries> parse_axis_costs(std::string_view text, const Mesh& mesh) {
  using cost_parse_detail::trim;
  constexpr std::string_view kForm = "AXIS=ALPHA_US:GBPS";
  if (trim(text).empty()) {
    return make_error(ErrorCode::parse_error, "axis_cost")
           << "no entries; expected " << kForm << "[,...], e.g. 0=2.7:19.3";
  }
  AxisCostEntries entries;
  StaticVector<Index, kMaxMeshAxes> entry_of_axis(mesh.ndim(), Index{-1});
  std::string_view rest = text;
  for (Index i = 0;; ++i) {
    const std::size_t comma = rest.find(',');
    const std::string_view entry = trim(rest.substr(0, comma));
    const auto field = indexed_field("axis_cost", i);
    const std::string_view shown = entry.substr(0, 60);
    const std::string_view dots = entry.size() > 60 ? "..." : "";
    if (entry.empty()) {
      return make_error(ErrorCode::parse_error, field)
             << "empty entry in '" << text.substr(0, 60) << (text.size() > 60 ? "..." : "") << "'; expected "
             << kForm;
    }
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return make_error(ErrorCode::parse_error, field)
             << "'" << shown << dots << "' has no '='; expected " << kForm << ", e.g. 0=2.7:19.3";
    }
    const std::string_view key = trim(entry.substr(0, equals));
    const std::string_view value = trim(entry.substr(equals + 1));
    if (key.empty()) {
      return make_error(ErrorCode::parse_error, field)
             << "'" << shown << dots << "' names no axis before '='; expected " << kForm;
    }
    SHARDPLAN_TRY(const std::size_t axis, cost_parse_detail::resolve_axis(key, mesh, field.view()));
    if (entry_of_axis[axis] >= 0) {
      return make_error(ErrorCode::invalid_argument, field)
             << "mesh axis " << static_cast<Index>(axis)
             << (mesh.has_names() ? FixedString<32>(" ('") << mesh.names()[axis] << "')" : FixedString<32>())
             << " is already set by axis_cost[" << entry_of_axis[axis] << "]";
    }
    entry_of_axis[axis] = i;
    const std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
      return make_error(ErrorCode::parse_error, field)
             << "'" << shown << dots << "' has no ':' between latency and bandwidth; expected " << kForm;
    }
    AxisCost cost;
    const std::string_view alpha_text = trim(value.substr(0, colon));
    const std::string_view gbps_text = trim(value.substr(colon + 1));
    auto alpha = parse_decimal(alpha_text, field.view());
    if (!alpha.ok()) {
      Error error = alpha.error();
      error.message = FixedString<200>("latency ALPHA_US: ");
      error.message << alpha.error().message.view();
      return error;
    }
    auto gbps = parse_decimal(gbps_text, field.view());
    if (!gbps.ok()) {
      Error error = gbps.error();
      error.message = FixedString<200>("bandwidth GBPS: ");
      error.message << gbps.error().message.view();
      return error;
    }
    cost.alpha_us = alpha.value();
    cost.gbps = gbps.value();
    if (const Status status = check_axis_cost(cost, field.view()); !status.ok()) {
      Error error = status.error();
      error.message = FixedString<200>("mesh axis ");
      error.message << static_cast<Index>(axis) << ": " << status.error().message.view();
      return error;
    }
    entries.push_back(AxisCostEntry{axis, cost});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return entries;
}

/// Parses `text` against `mesh` and applies it to `model` (a model of that mesh); `model` is unchanged on error.
[[nodiscard]] constexpr Status apply_axis_costs(std::string_view text, const Mesh& mesh, CostModel& model) {
  SHARDPLAN_TRY(const AxisCostEntries entries, parse_axis_costs(text, mesh));
  CostModel updated = model;
  for (const AxisCostEntry& entry : entries) SHARDPLAN_CHECK(updated.set_axis(entry.axis, entry.cost));
  model = updated;
  return Ok{};
}

}  // namespace shardplan
