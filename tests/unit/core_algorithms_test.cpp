// The standard-library stand-ins of the core (core/sorting.hpp, core/hash_map.hpp), which keep <algorithm> and
// <unordered_map> out of the umbrella header: each against the std algorithm or container it replaces, on random
// inputs chosen to hit their edge cases (empty, one element, all equal, sorted, reversed, many duplicates; runs past
// the insertion-sort threshold and past the heap-sort depth limit; a map through several rehashes and chunks).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/sorting.hpp"

namespace shardplan {
namespace {

using testing_support::Random;

/// A random vector in one of six shapes (see the file comment).
std::vector<int> random_values(Random& random, std::size_t n) {
  std::vector<int> values(n);
  const Index shape = random.uniform(0, 5);
  for (std::size_t i = 0; i < n; ++i) {
    switch (shape) {
      case 0: values[i] = static_cast<int>(random.uniform(-1000000, 1000000)); break;
      case 1: values[i] = static_cast<int>(random.uniform(0, 3)); break;  // many duplicates
      case 2: values[i] = 7; break;                                        // all equal
      case 3: values[i] = static_cast<int>(i); break;                      // sorted
      case 4: values[i] = static_cast<int>(n - i); break;                  // reversed
      default: values[i] = static_cast<int>(i % 2 == 0 ? i : n - i); break;  // organ pipe: a quicksort's bad case
    }
  }
  return values;
}

TEST(SortRange, SortsLikeStdSortOnThousandsOfRandomInputs) {
  Random random(20261207);
  for (int trial = 0; trial < 3000; ++trial) {
    const std::size_t n = trial < 40 ? static_cast<std::size_t>(trial) : static_cast<std::size_t>(random.uniform(0, 3000));
    std::vector<int> ours = random_values(random, n);
    std::vector<int> expected = ours;
    std::sort(expected.begin(), expected.end());
    detail::sort_range(ours);
    ASSERT_EQ(ours, expected) << "trial " << trial << ", n " << n;
  }
}

TEST(SortRange, DescendingComparatorAndPairsByKey) {
  Random random(7);
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < 5000; ++i) pairs.emplace_back(static_cast<int>(random.uniform(0, 50)), i);
  std::vector<std::pair<int, int>> expected = pairs;
  const auto by_key_descending = [](const auto& a, const auto& b) { return a.first > b.first; };
  detail::sort_range(pairs, by_key_descending);
  ASSERT_TRUE(std::is_sorted(pairs.begin(), pairs.end(), by_key_descending));
  // The same multiset: nothing lost, nothing duplicated.
  std::sort(pairs.begin(), pairs.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(pairs, expected);
}

TEST(SortRange, HeapSortsPastTheDepthLimit) {
  // A depth limit of 0 sends the first run straight to the heap sort.
  Random random(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> ours = random_values(random, static_cast<std::size_t>(random.uniform(17, 500)));
    std::vector<int> expected = ours;
    std::sort(expected.begin(), expected.end());
    detail::Ascending less;
    detail::partition_runs(ours.data(), ours.data() + ours.size(), less, 0);
    ASSERT_EQ(ours, expected) << "trial " << trial;
  }
}

constexpr bool sorts_at_compile_time() {
  int values[40] = {};
  for (int i = 0; i < 40; ++i) values[i] = (i * 17) % 40;  // a permutation of 0..39
  detail::sort_range(values, values + 40, detail::Ascending{});
  for (int i = 0; i < 40; ++i) {
    if (values[i] != i) return false;
  }
  return true;
}
static_assert(sorts_at_compile_time());

TEST(SortingAlgorithms, AgreeWithStdOnRandomSortedRanges) {
  Random random(3);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<int> values = random_values(random, static_cast<std::size_t>(random.uniform(0, 60)));
    std::sort(values.begin(), values.end());
    const int probe = static_cast<int>(random.uniform(-2, 62));
    const auto b = values.begin();
    const auto e = values.end();
    ASSERT_EQ(detail::lower_bound(b, e, probe), std::lower_bound(b, e, probe));
    ASSERT_EQ(detail::upper_bound(b, e, probe), std::upper_bound(b, e, probe));
    const auto below = [probe](int v) { return v < probe; };
    ASSERT_EQ(detail::partition_point(b, e, below), std::partition_point(b, e, below));
    ASSERT_EQ(detail::find(b, e, probe), std::find(b, e, probe));
    ASSERT_EQ(detail::find_if(b, e, below), std::find_if(b, e, below));
    ASSERT_EQ(detail::count(b, e, probe), std::count(b, e, probe));
    ASSERT_EQ(detail::adjacent_find(b, e), std::adjacent_find(b, e));
    ASSERT_EQ(detail::is_sorted(b, e, detail::Ascending{}), std::is_sorted(b, e));
    std::vector<int> other = random_values(random, static_cast<std::size_t>(random.uniform(0, 60)));
    ASSERT_EQ(detail::lexicographical_compare(b, e, other.begin(), other.end()),
              std::lexicographical_compare(b, e, other.begin(), other.end()));
    ASSERT_EQ(detail::lexicographical_compare(other.begin(), other.end(), b, e),
              std::lexicographical_compare(other.begin(), other.end(), b, e));
    std::vector<int> ours = values;
    std::vector<int> theirs = values;
    ours.erase(detail::unique(ours.begin(), ours.end()), ours.end());
    theirs.erase(std::unique(theirs.begin(), theirs.end()), theirs.end());
    ASSERT_EQ(ours, theirs);
    ASSERT_EQ(detail::min(probe, 3), std::min(probe, 3));
    ASSERT_EQ(detail::max(probe, 3), std::max(probe, 3));
  }
}

struct IntHash {
  std::size_t operator()(int key) const { return static_cast<std::size_t>(key); }  // HashMap mixes it
};

TEST(HashMap, AgreesWithUnorderedMapAndEntriesNeverMove) {
  Random random(5);
  detail::HashMap<int, std::string, IntHash> ours;
  std::unordered_map<int, std::string> theirs;
  std::vector<std::pair<int, const std::string*>> addresses;  // every entry added, with where it was put
  for (int i = 0; i < 20000; ++i) {
    const int key = static_cast<int>(random.uniform(-5000, 5000)) * 64;  // multiples of 64: low bits all zero
    const std::string value = std::to_string(i);
    const auto [entry, added] = ours.emplace(key, value);
    const bool expected_added = theirs.emplace(key, value).second;
    ASSERT_EQ(added, expected_added) << "key " << key;
    ASSERT_EQ(entry->first, key);
    ASSERT_EQ(entry->second, theirs.at(key));
    if (added) addresses.emplace_back(key, &entry->second);
    ASSERT_EQ(ours.size(), theirs.size());
  }
  for (const auto& [key, address] : addresses) {
    const auto* found = ours.find(key);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(&found->second, address) << "entry of " << key << " moved";
    EXPECT_EQ(found->second, theirs.at(key));
  }
  for (int key = -100; key < 100; ++key) EXPECT_EQ(ours.contains(key), theirs.count(key) == 1) << key;

  // Copies are deep, moves take everything, clear() empties.
  detail::HashMap<int, std::string, IntHash> copy = ours;
  ASSERT_EQ(copy.size(), ours.size());
  for (const auto& [key, value] : theirs) {
    ASSERT_NE(copy.find(key), nullptr);
    EXPECT_EQ(copy.find(key)->second, value);
    EXPECT_NE(&copy.find(key)->second, &ours.find(key)->second);
  }
  detail::HashMap<int, std::string, IntHash> moved = std::move(copy);
  EXPECT_EQ(moved.size(), theirs.size());
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from map is empty, by contract
  EXPECT_EQ(copy.find(addresses.front().first), nullptr);
  moved.clear();
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(moved.find(addresses.front().first), nullptr);
  EXPECT_TRUE(moved.emplace(1, "again").second);
  EXPECT_EQ(moved.find(1)->second, "again");
}

}  // namespace
}  // namespace shardplan
