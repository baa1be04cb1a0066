#pragma once
// The order helpers the library needs, without <algorithm> (it adds ~90 ms and 11k lines to every TU that includes
// the core; frameworks include these headers in many TUs).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <utility>

namespace shardplan::detail {

/// Swaps by moves. Not std::swap: a qualified std::swap in a template sees only the overloads declared before it,
/// so sorting std::array would depend on whether <array> came first in the including TU.
template <class T>
constexpr void swap_values(T& a, T& b) {
  T kept = std::move(a);
  a = std::move(b);
  b = std::move(kept);
}

/// Sorts [first, first + count) in place by `less`: heap sort, O(n log n) in the worst case, no allocation,
/// usable in constant expressions. Not stable (callers sort keys whose order among equals does not matter).
template <class T, class Less>
constexpr void heap_sort(T* first, std::size_t count, Less less) {
  auto sift_down = [&](std::size_t root, std::size_t end) {
    while (2 * root + 1 < end) {
      std::size_t child = 2 * root + 1;
      if (child + 1 < end && less(first[child], first[child + 1])) ++child;
      if (!less(first[root], first[child])) return;
      swap_values(first[root], first[child]);
      root = child;
    }
  };
  for (std::size_t start = count / 2; start-- > 0;) sift_down(start, count);
  for (std::size_t end = count; end > 1; --end) {
    swap_values(first[0], first[end - 1]);
    sift_down(0, end - 1);
  }
}

/// `a < b`: the default order of sort_range.
struct Ascending {
  template <class A, class B>
  constexpr bool operator()(const A& a, const B& b) const {
    return a < b;
  }
};

/// The partition loop of sort_range: quicksort until no unsorted run is longer than 16 elements, heap sort of a run
/// once `levels` reaches 0. The smaller-index side is done by the loop, the other by recursion.
template <class T, class Less>
constexpr void partition_runs(T* lo, T* hi, Less& less, int levels) {
  while (hi - lo > 16) {
    if (levels-- == 0) {
      heap_sort(lo, static_cast<std::size_t>(hi - lo), less);
      return;
    }
    // The median of lo[1], the middle and hi[-1] moves to *lo as the pivot; the other two stay in the run and stop
    // both scans below, which therefore need no bounds checks.
    T* a = lo + 1;
    T* b = lo + (hi - lo) / 2;
    T* c = hi - 1;
    T* median = less(*a, *b) ? (less(*b, *c) ? b : less(*a, *c) ? c : a) : (less(*a, *c) ? a : less(*b, *c) ? c : b);
    swap_values(*lo, *median);
    T* left = lo + 1;
    T* right = hi;
    while (true) {
      while (less(*left, *lo)) ++left;
      --right;
      while (less(*lo, *right)) --right;
      if (!(left < right)) break;
      swap_values(*left, *right);
      ++left;
    }
    partition_runs(left, hi, less, levels);
    hi = left;
  }
}

/// Sorts [first, last) by `less`, not stably: std::sort's introsort (quicksort on a median of three, heap sort past
/// 2 log2(n) levels, then one insertion sort), O(n log n) in the worst case, usable in constant expressions.
/// Why not std::sort: each of its instantiations (one per element type and comparator; ~15 function templates)
/// cost ~18 ms of compile time in every TU that includes the umbrella header, and the headers had 17; this is three.
template <class T, class Less>
constexpr void sort_range(T* first, T* last, Less less) {
  int levels = 0;
  for (std::ptrdiff_t n = last - first; n > 1; n /= 2) levels += 2;
  partition_runs(first, last, less, levels);
  // Every element is now within 16 places of where it belongs.
  for (T* i = first + (first != last ? 1 : 0); i < last; ++i) {
    T value = std::move(*i);
    T* j = i;
    for (; j != first && less(value, *(j - 1)); --j) *j = std::move(*(j - 1));
    *j = std::move(value);
  }
}

/// sort_range over a whole contiguous container (std::vector, StaticVector).
template <class Range, class Less = Ascending>
constexpr void sort_range(Range& range, Less less = {}) {
  sort_range(range.data(), range.data() + range.size(), less);
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

// The <algorithm> functions the headers use, with std's contracts, so that no header in the umbrella includes
// <algorithm>: with its parallel overloads and ranges algorithms it added ~11,000 preprocessed lines to every TU that
// includes the umbrella header (9 MB of the memory g++ -ftime-report counts for that TU, of 321). Called as
// detail::max(a, b) etc.

template <class T>
[[nodiscard]] constexpr const T& min(const T& a, const T& b) {
  return b < a ? b : a;
}
template <class T>
[[nodiscard]] constexpr const T& max(const T& a, const T& b) {
  return a < b ? b : a;
}

/// The first position in [first, last) where pred is false; [first, last) is partitioned by pred.
template <class It, class Pred>
[[nodiscard]] constexpr It partition_point(It first, It last, Pred pred) {
  auto count = last - first;
  while (count > 0) {
    const auto half = count / 2;
    It mid = first + half;
    if (pred(*mid)) {
      first = mid + 1;
      count -= half + 1;
    } else {
      count = half;
    }
  }
  return first;
}
/// The first element not less than `value`, the first greater than `value`; [first, last) is sorted.
template <class It, class T>
[[nodiscard]] constexpr It lower_bound(It first, It last, const T& value) {
  return detail::partition_point(first, last, [&value](const auto& e) { return e < value; });
}
template <class It, class T>
[[nodiscard]] constexpr It upper_bound(It first, It last, const T& value) {
  return detail::partition_point(first, last, [&value](const auto& e) { return !(value < e); });
}

template <class It, class Pred>
[[nodiscard]] constexpr It find_if(It first, It last, Pred pred) {
  for (; first != last; ++first) {
    if (pred(*first)) return first;
  }
  return last;
}
template <class It, class T>
[[nodiscard]] constexpr It find(It first, It last, const T& value) {
  return detail::find_if(first, last, [&value](const auto& e) { return e == value; });
}
template <class It, class T>
[[nodiscard]] constexpr std::ptrdiff_t count(It first, It last, const T& value) {
  std::ptrdiff_t n = 0;
  for (; first != last; ++first) n += *first == value ? 1 : 0;
  return n;
}
/// The first element equal to the next one, or last.
template <class It>
[[nodiscard]] constexpr It adjacent_find(It first, It last) {
  if (first == last) return last;
  for (It next = first + 1; next != last; ++first, ++next) {
    if (*first == *next) return first;
  }
  return last;
}
/// Keeps the first of each run of equal elements; returns the new end (the tail is left moved-from).
template <class It>
[[nodiscard]] constexpr It unique(It first, It last) {
  if (first == last) return last;
  It out = first;
  for (It it = first + 1; it != last; ++it) {
    if (!(*out == *it)) *++out = std::move(*it);
  }
  return out + 1;
}
template <class It, class Less>
[[nodiscard]] constexpr bool is_sorted(It first, It last, Less less) {
  if (first == last) return true;
  for (It next = first + 1; next != last; ++first, ++next) {
    if (less(*next, *first)) return false;
  }
  return true;
}
template <class It1, class It2, class Less = Ascending>
[[nodiscard]] constexpr bool lexicographical_compare(It1 first1, It1 last1, It2 first2, It2 last2, Less less = {}) {
  for (; first1 != last1 && first2 != last2; ++first1, ++first2) {
    if (less(*first1, *first2)) return true;
    if (less(*first2, *first1)) return false;
  }
  return first1 == last1 && first2 != last2;
}

}  // namespace shardplan::detail
