// Result and Error: the text forms, assignment between values and errors, and the abort (with the error's text) on
// reading the value of an error.
#include "shardplan/core/result.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace shardplan {
namespace {

Result<std::vector<int>> failing() {
  return make_error(ErrorCode::out_of_range, "rank") << "rank " << 24 << " is outside a mesh of 24 ranks";
}

TEST(Error, TextIsFieldColonMessageAndNulTerminated) {
  const Error error = make_error(ErrorCode::invalid_argument, "shape[0]") << "size must be >= 0, got " << -3;
  EXPECT_EQ(error.text().view(), "shape[0]: size must be >= 0, got -3");
  EXPECT_EQ(std::strlen(error.text().c_str()), error.text().size());
  EXPECT_STREQ(error.text().c_str(), "shape[0]: size must be >= 0, got -3");
  EXPECT_EQ(error.what(), std::string("shape[0]: size must be >= 0, got -3"));

  char line[Error::kTextCapacity + 1];
  std::snprintf(line, sizeof line, "%s", error.text().c_str());
  EXPECT_STREQ(line, "shape[0]: size must be >= 0, got -3");
}

TEST(Error, TextWithoutFieldIsTheMessage) {
  const Error error = make_error(ErrorCode::parse_error, "") << "unexpected end";
  EXPECT_STREQ(error.text().c_str(), "unexpected end");
}

TEST(Error, LongestFieldAndMessageFitInText) {
  Error error = make_error(ErrorCode::overflow, std::string(100, 'f'));
  error.message.append(std::string(300, 'm'));
  ASSERT_EQ(error.field.size(), 48u);
  ASSERT_EQ(error.message.size(), 200u);
  EXPECT_EQ(error.text().size(), 250u);
  EXPECT_EQ(error.text().view(), std::string(45, 'f') + "...: " + std::string(197, 'm') + "...");
}

TEST(Error, TextInConstantEvaluation) {
  constexpr Error error = make_error(ErrorCode::not_divisible, "placements[0]") << "13 % 4 != 0";
  static_assert(error.text() == std::string_view("placements[0]: 13 % 4 != 0"));
  EXPECT_STREQ(error.text().c_str(), "placements[0]: 13 % 4 != 0");
}

TEST(ErrorCode, Names) {
  EXPECT_EQ(to_string(ErrorCode::internal_error), "internal_error");
  EXPECT_EQ(to_string(ErrorCode::capacity_exceeded), "capacity_exceeded");
  EXPECT_EQ(to_string(ErrorCode::invalid_argument), "invalid_argument");
}

TEST(Result, AssignsBetweenValuesAndErrors) {
  Result<std::vector<int>> result = std::vector<int>{1, 2, 3};
  result = failing();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::out_of_range);
  EXPECT_STREQ(result.error().text().c_str(), "rank: rank 24 is outside a mesh of 24 ranks");
  result = std::vector<int>{4, 5};
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (std::vector<int>{4, 5}));
  const Result<std::vector<int>> copy = result;
  result = std::vector<int>{6};
  EXPECT_EQ(copy.value(), (std::vector<int>{4, 5}));
  EXPECT_EQ(result->size(), 1u);
  result = make_error(ErrorCode::overflow, "a") << "first";
  result = make_error(ErrorCode::parse_error, "b") << "second";
  EXPECT_STREQ(result.error().text().c_str(), "b: second");
}

TEST(Result, CopiesAndAssignsInConstantEvaluation) {
  constexpr int sum = [] {
    Result<int> a = 4;
    Result<int> b = a;
    b = 5;
    Result<int> e = make_error(ErrorCode::overflow, "x") << "y";
    Result<int> f = e;
    e = f;
    return *a + *b + (f.ok() ? 100 : 0) + (e.error().code == ErrorCode::overflow ? 1 : 0);
  }();
  EXPECT_EQ(sum, 10);
}

using ResultDeathTest = ::testing::Test;

TEST_F(ResultDeathTest, ValueOfAnErrorAbortsWithItsText) {
  EXPECT_DEATH((void)failing().value(),
               "^shardplan: Result::value\\(\\) on an error: rank: rank 24 is outside a mesh of 24 ranks\n$");
  const auto result = failing();
  EXPECT_DEATH((void)result.value(), "Result::value\\(\\) on an error: rank: rank 24 is outside a mesh of 24 ranks");
}

TEST_F(ResultDeathTest, DereferenceOfAnErrorAbortsWithItsText) {
  auto result = failing();
  EXPECT_DEATH((void)*result, "^shardplan: Result::operator\\* on an error: rank: rank 24 is outside a mesh of 24 ranks");
  const auto& same = result;
  EXPECT_DEATH((void)*same, "Result::operator\\* on an error: rank: rank 24 is outside");
}

TEST_F(ResultDeathTest, ArrowOfAnErrorAbortsWithItsText) {
  auto result = failing();
  EXPECT_DEATH((void)result->size(), "^shardplan: Result::operator-> on an error: rank: rank 24 is outside a mesh");
  const auto& same = result;
  EXPECT_DEATH((void)same->size(), "Result::operator-> on an error: rank: rank 24 is outside a mesh");
}

TEST_F(ResultDeathTest, ErrorOfAValueAborts) {
  const Result<int> result = 3;
  EXPECT_DEATH((void)result.error(), "^shardplan: Result::error\\(\\) on a value\n$");
}

}  // namespace
}  // namespace shardplan
