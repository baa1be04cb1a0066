#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "../support/interval_compare.hpp"
#include "shardplan/core/interval_set.hpp"

namespace shardplan {
namespace {

using Intervals = std::vector<Interval>;

TEST(IntervalSet, NormalisesAnyInput) {
  const auto set = IntervalSet::from_intervals({{8, 10}, {0, 2}, {2, 3}, {9, 12}, {5, 5}});
  EXPECT_EQ(set.intervals(), (Intervals{{0, 3}, {8, 12}}));
  EXPECT_EQ(set.size(), 7);
  EXPECT_EQ(IntervalSet::from_indices({5, 1, 2, 2, 0}).intervals(), (Intervals{{0, 3}, {5, 6}}));
  EXPECT_TRUE(IntervalSet::range(4, 4).empty());
  EXPECT_TRUE(IntervalSet::range(4, 2).empty());
}

TEST(IntervalSet, AppendCoalescesAdjacentIntervals) {
  IntervalSet set;
  set.append(Interval{0, 2});
  set.append(Interval{2, 4});
  set.append(Interval{6, 7});
  set.append(Interval{7, 7});
  EXPECT_EQ(set.intervals(), (Intervals{{0, 4}, {6, 7}}));
  EXPECT_EQ(set.size(), 5);
  EXPECT_FALSE(set.is_contiguous());
}

TEST(IntervalSet, LocalAndGlobalPositions) {
  const auto set = IntervalSet::from_intervals({{2, 4}, {8, 10}});  // local order: 2 3 8 9
  EXPECT_EQ(set.global_to_local(2), 0);
  EXPECT_EQ(set.global_to_local(8), 2);
  EXPECT_EQ(set.global_to_local(9), 3);
  EXPECT_EQ(set.global_to_local(5), -1);
  EXPECT_EQ(set.global_to_local(10), -1);
  EXPECT_EQ(set.local_to_global(1), 3);
  EXPECT_EQ(set.local_to_global(2), 8);
  EXPECT_TRUE(set.contains(3));
  EXPECT_FALSE(set.contains(4));
  EXPECT_FALSE(set.contains(1));
}

TEST(IntervalSet, SliceIsOnPositions) {
  const auto set = IntervalSet::from_intervals({{0, 3}, {5, 8}});  // 0 1 2 5 6 7
  EXPECT_EQ(set.slice(2, 4).intervals(), (Intervals{{2, 3}, {5, 6}}));
  EXPECT_EQ(set.slice(0, 3).intervals(), (Intervals{{0, 3}}));
  EXPECT_TRUE(set.slice(3, 3).empty());
  EXPECT_EQ(set.slice(4, 6).intervals(), (Intervals{{6, 8}}));
}

TEST(IntervalSet, SetOperations) {
  const auto a = IntervalSet::from_intervals({{0, 4}, {6, 10}});
  const auto b = IntervalSet::from_intervals({{2, 7}, {9, 12}});
  EXPECT_EQ(intersect(a, b).intervals(), (Intervals{{2, 4}, {6, 7}, {9, 10}}));
  EXPECT_EQ(unite(a, b).intervals(), (Intervals{{0, 12}}));
  EXPECT_EQ(subtract(a, b).intervals(), (Intervals{{0, 2}, {7, 9}}));
  EXPECT_EQ(subtract(b, a).intervals(), (Intervals{{4, 6}, {10, 12}}));
  EXPECT_EQ(a.shifted(100).intervals(), (Intervals{{100, 104}, {106, 110}}));
  EXPECT_TRUE(intersect(a, IntervalSet{}).empty());
  EXPECT_EQ(unite(a, IntervalSet{}), a);
  EXPECT_EQ(intersection_size(a, b), 4);
  EXPECT_EQ(intersection_size(a, IntervalSet{}), 0);
}

// A view (what a dim table hands out) reads like its set: the same size, intervals, equality and intersections.
TEST(IntervalSet, Views) {
  const auto a = IntervalSet::from_intervals({{0, 4}, {6, 10}});
  const auto b = IntervalSet::from_intervals({{2, 7}, {9, 12}});
  const Intervals flat{{0, 4}, {6, 10}, {2, 7}, {9, 12}};  // two sets, one after the other
  const IntervalSetView first(std::span<const Interval>(flat).subspan(0, 2), 8);
  const IntervalSetView second(std::span<const Interval>(flat).subspan(2, 2), 8);
  EXPECT_EQ(first, a);
  EXPECT_EQ(second, b);
  EXPECT_FALSE(first == second);
  EXPECT_FALSE(IntervalSetView(IntervalSet::range(0, 4)) == IntervalSetView(IntervalSet::range(0, 5)));
  EXPECT_EQ(first.front(), 0);
  EXPECT_EQ(second.front(), 2);
  EXPECT_EQ(intersection_size(first, second), intersection_size(a, b));
  EXPECT_EQ(intersection_size(first, b), 4);
  EXPECT_TRUE(IntervalSetView().empty());
  EXPECT_EQ(IntervalSetView(), IntervalSet{});
}

}  // namespace
}  // namespace shardplan

namespace shardplan {
namespace {

TEST(IntervalSet, SelectManyPositionRanges) {
  const auto set = IntervalSet::from_intervals({{0, 3}, {5, 8}, {10, 11}});  // 0 1 2 5 6 7 10
  EXPECT_EQ(set.select(std::vector<Interval>{{1, 2}, {2, 4}, {6, 7}}).intervals(), (std::vector<Interval>{{1, 3}, {5, 6}, {10, 11}}));
  EXPECT_EQ(set.select(std::vector<Interval>{{0, 7}}), set);
  EXPECT_TRUE(set.select(std::vector<Interval>{}).empty());
}

}  // namespace
}  // namespace shardplan
