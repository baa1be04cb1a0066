#pragma once
// Shared by the test files: deterministic random numbers, index-list conversions and how gtest prints library
// values when an assertion fails.
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "interval_compare.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {

// Found by argument-dependent lookup when gtest prints a failing value.
inline void PrintTo(const IntervalSet& set, std::ostream* os) {
  *os << "{";
  for (std::size_t i = 0; i < set.intervals().size(); ++i) {
    *os << (i > 0 ? " " : "") << "[" << set.intervals()[i].begin << "," << set.intervals()[i].end << ")";
  }
  *os << "}";
}
inline void PrintTo(const Placement& placement, std::ostream* os) { *os << placement.to_string().view(); }
inline void PrintTo(const ShardOrder& order, std::ostream* os) {
  *os << "{";
  for (std::size_t d = 0; d < order.dims.size(); ++d) {
    *os << (d > 0 ? " " : "") << d << ":[";
    for (std::size_t p = 0; p < order.dims[d].size(); ++p) *os << (p > 0 ? "," : "") << order.dims[d][p];
    *os << "]";
  }
  *os << "}";
}

namespace testing_support {

using List = std::vector<Index>;

/// Deterministic and portable: own uniform sampling on std::mt19937_64, so the cases do not depend on the standard
/// library's distributions. The modulo bias is irrelevant here.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [lo, hi] (inclusive).
  Index uniform(Index lo, Index hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<Index>(engine_() % span);
  }
  std::size_t index(std::size_t count) { return static_cast<std::size_t>(uniform(0, static_cast<Index>(count) - 1)); }
  bool percent(Index p) { return uniform(0, 99) < p; }
  template <class T>
  void shuffle(std::vector<T>& values) {
    for (std::size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[index(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

/// `(1,2,3)`.
inline std::string to_text(const List& values) {
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);  // appended piecewise: GCC 12's -Wrestrict misfires on `"," + string` at -O2
  }
  return out + ")";
}

/// The indices of a set, materialised.
inline List to_list(const IntervalSet& set) {
  List out;
  for (const Interval& interval : set.intervals()) {
    for (Index i = interval.begin; i < interval.end; ++i) out.push_back(i);
  }
  return out;
}

/// A plan's steps, one per line: "\n  all_gather on 1 -> R,S(0)". For failure messages.
inline std::string describe(const RedistributionPlan& plan) {
  std::string text;
  for (const PlanStep& step : plan.steps) {
    text += "\n  ";
    text += to_string(step.op);
    text += " on";
    for (std::size_t axis : step.mesh_dims) {
      text += ' ';
      text += std::to_string(axis);
    }
    text += " -> ";
    text += to_string(step.after.placements()).view();
  }
  return text;
}

}  // namespace testing_support
}  // namespace shardplan
