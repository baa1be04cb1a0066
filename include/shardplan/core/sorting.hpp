#pragma once
// The two order helpers the core needs, without <algorithm> (it adds ~90 ms and 11k lines to every TU that includes
// the core; frameworks include these headers in many TUs).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <utility>

namespace shardplan::detail {

/// Sorts [first, first + count) in place by `less`: heap sort, O(n log n) in the worst case, no allocation,
/// usable in constant expressions. Not stable (callers sort keys whose order among equals does not matter).
template <class T, class Less>
constexpr void heap_sort(T* first, std::size_t count, Less less) {
  auto sift_down = [&](std::size_t root, std::size_t end) {
    while (2 * root + 1 < end) {
      std::size_t child = 2 * root + 1;
      if (child + 1 < end && less(first[child], first[child + 1])) ++child;
      if (!less(first[root], first[child])) return;
      std::swap(first[root], first[child]);
      root = child;
    }
  };
  for (std::size_t start = count / 2; start-- > 0;) sift_down(start, count);
  for (std::size_t end = count; end > 1; --end) {
    std::swap(first[0], first[end - 1]);
    sift_down(0, end - 1);
  }
}

/// The index of the first element e of [first, first + count) with before(value, e) true (std::upper_bound's
/// contract; the range is partitioned by it), in O(log n).
template <class T, class Value, class Before>
[[nodiscard]] constexpr std::size_t upper_bound_index(const T* first, std::size_t count, const Value& value,
                                                      Before before) {
  std::size_t lo = 0;
  std::size_t hi = count;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (before(value, first[mid])) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

}  // namespace shardplan::detail
