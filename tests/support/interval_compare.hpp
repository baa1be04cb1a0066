#pragma once
// Tests compare a set's intervals (a span into its storage) with a literal list of intervals.
#include <span>
#include <vector>

#include "shardplan/core/interval_set.hpp"

namespace shardplan {

inline bool operator==(std::span<const Interval> a, const std::vector<Interval>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

}  // namespace shardplan
