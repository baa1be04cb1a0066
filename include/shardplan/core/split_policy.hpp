#pragma once
// How n items go to k shards. Three policies exist in the wild and they disagree on uneven sizes:
//   chunk    c = ceil(n/k), shard i gets clamp(n - i*c, 0, c)   torch.chunk, DTensor Shard, XLA tiles
//   balanced n/k + (i < n%k)                                   vLLM expert placement, OneFlow
//   even     n/k, and n % k must be 0                          Megatron `divide`, JAX, vLLM linear layers
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

enum class SplitPolicy { chunk, balanced, even };

[[nodiscard]] constexpr std::string_view to_string(SplitPolicy policy) {
  switch (policy) {
    case SplitPolicy::chunk: return "chunk";
    case SplitPolicy::balanced: return "balanced";
    case SplitPolicy::even: return "even";
  }
  return "chunk";
}

[[nodiscard]] constexpr Result<SplitPolicy> parse_split_policy(std::string_view text) {
  if (text == "chunk") return SplitPolicy::chunk;
  if (text == "balanced") return SplitPolicy::balanced;
  if (text == "even") return SplitPolicy::even;
  return make_error(ErrorCode::parse_error, "policy")
         << "unknown split policy '" << text.substr(0, 40) << "' (known: chunk, balanced, even)";
}

/// One shard's share of a split: positions [start, start + size).
struct Piece {
  Index start = 0;
  Index size = 0;
  [[nodiscard]] constexpr Index end() const { return start + size; }
  friend constexpr bool operator==(const Piece&, const Piece&) = default;
};

/// Whether `policy` can split n items over k shards; only `even` can refuse.
[[nodiscard]] constexpr Status check_split(Index n, Index k, SplitPolicy policy, std::string_view field = "split") {
  if (n < 0) return make_error(ErrorCode::invalid_argument, field) << "cannot split " << n << " items";
  if (k <= 0) return make_error(ErrorCode::invalid_argument, field) << "cannot split into " << k << " shards";
  if (policy == SplitPolicy::even && n % k != 0) {
    return make_error(ErrorCode::not_divisible, field)
           << "even split of " << n << " over " << k << " shards leaves remainder " << n % k;
  }
  return Ok{};
}

/// Shard i of n items over k shards. Preconditions: n >= 0, k > 0, 0 <= i < k, and check_split(n, k, policy) holds.
/// Integer arithmetic only; never overflows for any n, k in range.
[[nodiscard]] constexpr Piece split_piece(Index n, Index k, Index i, SplitPolicy policy) {
  switch (policy) {
    case SplitPolicy::chunk: {
      const Index c = ceil_div(n, k);
      // i * c may exceed int64 for huge n and k; such a shard starts at (and is clamped to) n.
      Index start = 0;
      if (mul_overflows(i, c, start) || start > n) start = n;
      return {start, (n - start < c ? n - start : c)};
    }
    case SplitPolicy::balanced: {
      const auto [q, r] = divmod(n, k);
      return {i * q + (r < i ? r : i), q + (i < r ? 1 : 0)};
    }
    case SplitPolicy::even: return {i * (n / k), n / k};
  }
  return {};
}

}  // namespace shardplan
