#include <gtest/gtest.h>

#include <limits>
#include <string_view>
#include <vector>

#include "shardplan/core/checked_math.hpp"

namespace shardplan {
namespace {

constexpr Index kMax = std::numeric_limits<Index>::max();
constexpr Index kMin = std::numeric_limits<Index>::min();

TEST(CheckedMath, CeilDiv) {
  EXPECT_EQ(ceil_div(0, 4), 0);
  EXPECT_EQ(ceil_div(7, 2), 4);
  EXPECT_EQ(ceil_div(8, 2), 4);
  EXPECT_EQ(ceil_div(kMax, 1), kMax);
  EXPECT_EQ(ceil_div(kMax, 2), kMax / 2 + 1);
}

TEST(CheckedMath, AddAndMultiplyInRange) {
  EXPECT_EQ(checked_add(kMax - 1, 1).value(), kMax);
  EXPECT_EQ(checked_mul(3037000499, 3037000499).value(), 9223372030926249001);
  EXPECT_EQ(checked_mul(-1, kMax).value(), -kMax);
}

TEST(CheckedMath, OverflowIsAnErrorNamingTheNumbers) {
  auto sum = checked_add(kMax, 1, "shape");
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.error().code, ErrorCode::overflow);
  EXPECT_EQ(sum.error().what(), "shape: 9223372036854775807 + 1 overflows int64");

  auto product = checked_mul(4294967296, 4294967296, "mesh");
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(product.error().what(), "mesh: 4294967296 * 4294967296 overflows int64");
  EXPECT_FALSE(checked_mul(kMin, -1).ok());
}

TEST(CheckedMath, Sum) {
  EXPECT_EQ(checked_sum(std::vector<Index>{}).value(), 0);
  EXPECT_EQ(checked_sum(std::vector<Index>{3, 4, kMax - 7}).value(), kMax);
  const auto sum = checked_sum(std::vector<Index>{kMax - 1, 1, 1}, "total");
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.error().what(), "total: 9223372036854775807 + 1 overflows int64");
}

TEST(CheckedMath, Product) {
  EXPECT_EQ(checked_product(std::vector<Index>{}).value(), 1);
  EXPECT_EQ(checked_product(std::vector<Index>{4, 2, 3}).value(), 24);
  auto overflow = checked_product(std::vector<Index>{65536, 65536, 65536, 65536}, "shape");
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().what(), "shape: 281474976710656 * 65536 overflows int64");
}

TEST(CheckedMath, RawOverflowTests) {
  Index out = 0;
  EXPECT_FALSE(add_overflows(kMax - 1, 1, out));
  EXPECT_EQ(out, kMax);
  EXPECT_TRUE(add_overflows(kMax, 1, out));
  EXPECT_FALSE(sub_overflows(kMin + 1, 1, out));
  EXPECT_EQ(out, kMin);
  EXPECT_TRUE(sub_overflows(kMin, 1, out));
  EXPECT_FALSE(mul_overflows(3037000499, 3037000499, out));
  EXPECT_EQ(out, 9223372030926249001);
  EXPECT_TRUE(mul_overflows(3037000500, 3037000500, out));
  EXPECT_TRUE(mul_overflows(kMin, -1, out));
}

TEST(CheckedMath, PushDigitNegativeReachesInt64MinAndNoFurther) {
  // -9223372036854775808 digit by digit, as the parsers accumulate it.
  Index value = 0;
  for (const char c : std::string_view("9223372036854775808")) ASSERT_TRUE(push_digit_negative(value, c - '0'));
  EXPECT_EQ(value, kMin);
  value = 0;
  for (const char c : std::string_view("922337203685477580")) ASSERT_TRUE(push_digit_negative(value, c - '0'));
  EXPECT_FALSE(push_digit_negative(value, 9));  // -9223372036854775809
  value = kMin / 10;
  EXPECT_FALSE(push_digit_negative(value, 9));
  value = kMin / 10 - 1;
  EXPECT_FALSE(push_digit_negative(value, 0));  // the multiplication alone overflows
}

TEST(CheckedMath, Saturating) {
  EXPECT_EQ(saturating_mul(3, 4), 12);
  EXPECT_EQ(saturating_mul(3, 4, 11), 11);
  EXPECT_EQ(saturating_mul(3, 4, 12), 12);
  EXPECT_EQ(saturating_mul(Index{1} << 62, 4), kMax);
  EXPECT_EQ(saturating_mul(0, kMax), 0);
  EXPECT_EQ(saturating_add(kMax, 1), kMax);
  EXPECT_EQ(saturating_add(5, 6, 10), 10);
  EXPECT_EQ(saturating_add(5, 5, 10), 10);
  EXPECT_EQ(saturating_add(4, 5, 10), 9);
  static_assert(saturating_mul(Index{1} << 32, Index{1} << 32) == kMax);
}

TEST(FixedString, FormatsIntegersIncludingTheExtremes) {
  FixedString<64> text;
  text << kMin << " " << kMax << " " << 0;
  EXPECT_EQ(text.view(), "-9223372036854775808 9223372036854775807 0");
}

TEST(FixedString, TruncatesWithAnEllipsis) {
  FixedString<8> text("abcdefghijkl");
  EXPECT_EQ(text.view(), "abcde...");
}

}  // namespace
}  // namespace shardplan
