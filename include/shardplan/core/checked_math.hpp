#pragma once
// Checked 64-bit integer arithmetic: a product of sizes that overflows is an error, never a wrapped number.
#include "shardplan/core/cxx20.hpp"

#include <cstdint>
#include <limits>
#include <string_view>

#include "shardplan/core/result.hpp"

namespace shardplan {

using Index = std::int64_t;

/// 128-bit intermediate for products of two Index values that are divided back into range (a GCC/Clang extension,
/// marked so that -Wpedantic accepts it).
__extension__ using WideIndex = __int128;

struct DivMod {
  Index quotient = 0;
  Index remainder = 0;
};

/// a / b and a % b for a >= 0, b > 0. Sizes, ranks and coordinates almost always fit in 32 bits, and a 32-bit
/// division is several times cheaper than a 64-bit one on many x86 cores: this is most of the per-rank cost.
[[nodiscard]] constexpr DivMod divmod(Index a, Index b) {
  const auto ua = static_cast<std::uint64_t>(a);
  const auto ub = static_cast<std::uint64_t>(b);
  if (((ua | ub) >> 32) == 0) {
    const auto a32 = static_cast<std::uint32_t>(ua);
    const auto b32 = static_cast<std::uint32_t>(ub);
    return {static_cast<Index>(a32 / b32), static_cast<Index>(a32 % b32)};
  }
  return {static_cast<Index>(ua / ub), static_cast<Index>(ua % ub)};
}

/// ceil(a / b) for a >= 0, b > 0.
[[nodiscard]] constexpr Index ceil_div(Index a, Index b) {
  const DivMod qr = divmod(a, b);
  return qr.quotient + (qr.remainder != 0 ? 1 : 0);
}

// The raw overflow tests. Every overflow check of the library goes through these (or the Result forms below), so
// that the one compiler extension used is in one place. Each stores the wrapped result in `out` and returns true
// when the exact result does not fit in int64, as the GCC/Clang builtins do.

[[nodiscard]] constexpr bool add_overflows(Index a, Index b, Index& out) { return __builtin_add_overflow(a, b, &out); }
[[nodiscard]] constexpr bool sub_overflows(Index a, Index b, Index& out) { return __builtin_sub_overflow(a, b, &out); }
[[nodiscard]] constexpr bool mul_overflows(Index a, Index b, Index& out) { return __builtin_mul_overflow(a, b, &out); }

/// value * 10 - digit: one more decimal digit for a parser that accumulates negatively (so that INT64_MIN, whose
/// magnitude has no positive int64, parses too). False, `value` unspecified, when the number leaves int64.
[[nodiscard]] constexpr bool push_digit_negative(Index& value, Index digit) {
  return !mul_overflows(value, Index{10}, value) && !sub_overflows(value, digit, value);
}

/// a * b for a, b >= 0, or `cap` when the product is larger (or overflows). For bounds on work that are compared
/// with a limit: past the limit the exact figure does not matter.
[[nodiscard]] constexpr Index saturating_mul(Index a, Index b, Index cap = std::numeric_limits<Index>::max()) {
  Index product = 0;
  return mul_overflows(a, b, product) || product > cap ? cap : product;
}

/// a + b for a, b >= 0, or `cap` when the sum is larger (or overflows).
[[nodiscard]] constexpr Index saturating_add(Index a, Index b, Index cap = std::numeric_limits<Index>::max()) {
  Index sum = 0;
  return add_overflows(a, b, sum) || sum > cap ? cap : sum;
}

[[nodiscard]] constexpr Result<Index> checked_add(Index a, Index b, std::string_view field = "sum") {
  Index sum = 0;
  if (add_overflows(a, b, sum)) {
    return make_error(ErrorCode::overflow, field) << a << " + " << b << " overflows int64";
  }
  return sum;
}

[[nodiscard]] constexpr Result<Index> checked_mul(Index a, Index b, std::string_view field = "product") {
  Index product = 0;
  if (mul_overflows(a, b, product)) {
    return make_error(ErrorCode::overflow, field) << a << " * " << b << " overflows int64";
  }
  return product;
}

/// Product of a range of sizes, or an overflow error naming the running product and the next factor.
template <class Range>
[[nodiscard]] constexpr Result<Index> checked_product(const Range& sizes, std::string_view field = "product") {
  Index product = 1;
  for (Index size : sizes) {
    SHARDPLAN_TRY(product, checked_mul(product, size, field));
  }
  return product;
}

/// Sum of a range of sizes, or an overflow error naming the running sum and the next term.
template <class Range>
[[nodiscard]] constexpr Result<Index> checked_sum(const Range& terms, std::string_view field = "sum") {
  Index sum = 0;
  for (Index term : terms) {
    SHARDPLAN_TRY(sum, checked_add(sum, term, field));
  }
  return sum;
}

}  // namespace shardplan
