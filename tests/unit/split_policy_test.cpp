#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "shardplan/core/split_policy.hpp"

namespace shardplan {
namespace {

std::vector<Index> sizes(Index n, Index k, SplitPolicy policy) {
  std::vector<Index> out;
  for (Index i = 0; i < k; ++i) out.push_back(split_piece(n, k, i, policy).size);
  return out;
}

std::vector<Index> starts(Index n, Index k, SplitPolicy policy) {
  std::vector<Index> out;
  for (Index i = 0; i < k; ++i) out.push_back(split_piece(n, k, i, policy).start);
  return out;
}

using V = std::vector<Index>;

// The chunk examples of the spec, checked against torch.chunk.
TEST(SplitPolicy, ChunkExamples) {
  EXPECT_EQ(sizes(6, 4, SplitPolicy::chunk), (V{2, 2, 2, 0}));
  EXPECT_EQ(sizes(5, 4, SplitPolicy::chunk), (V{2, 2, 1, 0}));
  EXPECT_EQ(sizes(7, 4, SplitPolicy::chunk), (V{2, 2, 2, 1}));
  EXPECT_EQ(sizes(2, 8, SplitPolicy::chunk), (V{1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(sizes(16, 3, SplitPolicy::chunk), (V{6, 6, 4}));
  EXPECT_EQ(sizes(16, 14, SplitPolicy::chunk), (V{2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0}));
  // Empty shards start at n.
  EXPECT_EQ(starts(6, 4, SplitPolicy::chunk), (V{0, 2, 4, 6}));
  EXPECT_EQ(starts(2, 8, SplitPolicy::chunk), (V{0, 1, 2, 2, 2, 2, 2, 2}));
}

TEST(SplitPolicy, BalancedExamples) {
  EXPECT_EQ(sizes(16, 3, SplitPolicy::balanced), (V{6, 5, 5}));
  EXPECT_EQ(starts(16, 3, SplitPolicy::balanced), (V{0, 6, 11}));
  // vLLM's uneven expert placement: 256 experts over EP=6.
  EXPECT_EQ(sizes(256, 6, SplitPolicy::balanced), (V{43, 43, 43, 43, 42, 42}));
  EXPECT_EQ(starts(256, 6, SplitPolicy::balanced), (V{0, 43, 86, 129, 172, 214}));
}

TEST(SplitPolicy, Even) {
  EXPECT_EQ(sizes(16, 4, SplitPolicy::even), (V{4, 4, 4, 4}));
  EXPECT_EQ(starts(16, 4, SplitPolicy::even), (V{0, 4, 8, 12}));
  EXPECT_TRUE(check_split(16, 4, SplitPolicy::even).ok());
  auto refused = check_split(13, 4, SplitPolicy::even, "placements[0]");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::not_divisible);
  EXPECT_EQ(refused.error().what(), "placements[0]: even split of 13 over 4 shards leaves remainder 1");
}

TEST(SplitPolicy, CheckRejectsBadCounts) {
  EXPECT_FALSE(check_split(-1, 4, SplitPolicy::chunk).ok());
  EXPECT_FALSE(check_split(4, 0, SplitPolicy::chunk).ok());
  EXPECT_TRUE(check_split(13, 4, SplitPolicy::chunk).ok());
  EXPECT_TRUE(check_split(13, 4, SplitPolicy::balanced).ok());
}

TEST(SplitPolicy, ChunkDoesNotOverflowNearInt64Max) {
  constexpr Index n = std::numeric_limits<Index>::max();
  const Index k = 3;
  Index total = 0;
  Index expected_start = 0;
  for (Index i = 0; i < k; ++i) {
    const Piece piece = split_piece(n, k, i, SplitPolicy::chunk);
    EXPECT_EQ(piece.start, expected_start);
    expected_start += piece.size;
    total += piece.size;
  }
  EXPECT_EQ(total, n);
  // A huge shard count: every shard but the first few is empty and sits at n.
  EXPECT_EQ(split_piece(10, n, n - 1, SplitPolicy::chunk), (Piece{10, 0}));
}

TEST(SplitPolicy, ParseAndPrint) {
  for (SplitPolicy policy : {SplitPolicy::chunk, SplitPolicy::balanced, SplitPolicy::even}) {
    EXPECT_EQ(parse_split_policy(to_string(policy)).value(), policy);
  }
  auto unknown = parse_split_policy("uneven");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().what(), "policy: unknown split policy 'uneven' (known: chunk, balanced, even)");
}

}  // namespace
}  // namespace shardplan
