// Expert placement: the framework examples as exact values, redundant slots, the errors, and a property test
// against references written the way vLLM's determine_expert_map and HF's router compute them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/llm/expert_placement.hpp"

namespace shardplan {

[[maybe_unused]] static void PrintTo(const ExpertLocation& location, std::ostream* os) {
  *os << "(rank " << location.rank << ", local " << location.local << ")";
}

namespace {

using testing_support::List;
using testing_support::Random;

ExpertPartition make(ExpertSpec spec) { return ExpertPartition::create(std::move(spec)).value(); }

List range(Index begin, Index end) {
  List out;
  for (Index i = begin; i < end; ++i) out.push_back(i);
  return out;
}

// Compile time: the HF router example as a constant expression.
static_assert(ExpertPartition::create({.experts = 128, .ep = 8, .policy = SplitPolicy::even})->locate(52).value() ==
              ExpertLocation{3, 4});
static_assert(
    ExpertPartition::create({.experts = 16, .ep = 4, .strategy = ExpertStrategy::round_robin})->shard(1)->experts ==
    std::vector<Index>{1, 5, 9, 13});
static_assert(ExpertPartition::create({.experts = 250, .ep = 8, .policy = SplitPolicy::even}).error().code ==
              ErrorCode::not_divisible);

// ---------------------------------------------------------------------------------------------------------------
// linear

// vLLM's uneven expert parallelism: 256 experts over EP=6.
TEST(ExpertsLinear, VllmBalanced256Over6) {
  const ExpertPartition p = make({.experts = 256, .ep = 6});
  EXPECT_EQ(p.policy(), SplitPolicy::balanced);
  const List counts = {43, 43, 43, 43, 42, 42};
  const List starts = {0, 43, 86, 129, 172, 214};
  for (Index r = 0; r < 6; ++r) {
    const ExpertShard shard = p.shard(r).value();
    const auto i = static_cast<std::size_t>(r);
    EXPECT_EQ(shard.num_local(), counts[i]) << r;
    EXPECT_EQ(p.num_local(r), counts[i]) << r;
    EXPECT_EQ(shard.slots, IntervalSet::range(starts[i], starts[i] + counts[i])) << r;
    EXPECT_EQ(shard.experts, range(starts[i], starts[i] + counts[i])) << r;
  }
  EXPECT_EQ(p.locate(0).value(), (ExpertLocation{0, 0}));
  EXPECT_EQ(p.locate(42).value(), (ExpertLocation{0, 42}));
  EXPECT_EQ(p.locate(43).value(), (ExpertLocation{1, 0}));
  EXPECT_EQ(p.locate(171).value(), (ExpertLocation{3, 42}));
  EXPECT_EQ(p.locate(172).value(), (ExpertLocation{4, 0}));
  EXPECT_EQ(p.locate(255).value(), (ExpertLocation{5, 41}));
}

// HF transformers' router: 128 experts, EP=8, 16 local; global 52 is rank 3 local 4, global 119 rank 7 local 7.
TEST(ExpertsLinear, HfRouter128Over8) {
  const ExpertPartition p = make({.experts = 128, .ep = 8, .policy = SplitPolicy::even});
  for (Index r = 0; r < 8; ++r) EXPECT_EQ(p.shard(r)->experts, range(16 * r, 16 * r + 16)) << r;
  EXPECT_EQ(p.locate(52).value(), (ExpertLocation{3, 4}));
  EXPECT_EQ(p.locate(119).value(), (ExpertLocation{7, 7}));
  const List map = p.expert_map(3).value();
  ASSERT_EQ(map.size(), 128u);
  EXPECT_EQ(map[52], 4);
  EXPECT_EQ(map[48], 0);
  EXPECT_EQ(map[63], 15);
  EXPECT_EQ(map[47], -1);
  EXPECT_EQ(map[64], -1);
  EXPECT_EQ(p.shard(7)->local_of(119), 7);
  EXPECT_EQ(p.shard(6)->local_of(119), -1);
}

TEST(ExpertsLinear, EvenRefusesARemainder) {
  const auto result = ExpertPartition::create({.experts = 250, .ep = 8, .policy = SplitPolicy::even});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::not_divisible);
  EXPECT_EQ(result.error().what(), "policy: even policy: 250 experts do not split evenly over ep 8 (remainder 2)");
}

TEST(ExpertsLinear, ChunkAndMoreRanksThanExperts) {
  // DTensor Shard(0) on the expert dim: ceil(10/4) = 3 each, the remainder on the last rank.
  const ExpertPartition chunk = make({.experts = 10, .ep = 4, .policy = SplitPolicy::chunk});
  EXPECT_EQ(chunk.shard(3)->experts, (List{9}));
  EXPECT_EQ(chunk.locate(9).value(), (ExpertLocation{3, 0}));
  EXPECT_EQ(chunk.locate(5).value(), (ExpertLocation{1, 2}));
  // 3 experts over 5 ranks, balanced: the last two ranks hold none.
  const ExpertPartition few = make({.experts = 3, .ep = 5});
  EXPECT_EQ(few.shard(2)->experts, (List{2}));
  EXPECT_TRUE(few.shard(3)->experts.empty());
  EXPECT_TRUE(few.shard(4)->slots.empty());
  EXPECT_EQ(few.locate(2).value(), (ExpertLocation{2, 0}));
  EXPECT_EQ(few.expert_map(4).value(), (List{-1, -1, -1}));
  // Chunk with empty middle-to-end ranks: 5 over 4 -> 2,2,1,0.
  const ExpertPartition sparse = make({.experts = 5, .ep = 4, .policy = SplitPolicy::chunk});
  EXPECT_EQ(sparse.locate(4).value(), (ExpertLocation{2, 0}));
  EXPECT_TRUE(sparse.shard(3)->experts.empty());
}

// ---------------------------------------------------------------------------------------------------------------
// round robin

TEST(ExpertsRoundRobin, RankHoldsEveryEpthExpert) {
  const ExpertPartition p = make({.experts = 16, .ep = 4, .strategy = ExpertStrategy::round_robin});
  EXPECT_EQ(p.shard(0)->experts, (List{0, 4, 8, 12}));
  EXPECT_EQ(p.shard(1)->experts, (List{1, 5, 9, 13}));
  EXPECT_EQ(p.shard(3)->experts, (List{3, 7, 11, 15}));
  EXPECT_EQ(p.shard(1)->slots, IntervalSet::from_indices({1, 5, 9, 13}));
  EXPECT_EQ(p.shard(1)->slots.intervals().size(), 4u);
  EXPECT_EQ(p.locate(13).value(), (ExpertLocation{1, 3}));
  EXPECT_EQ(p.expert_map(1).value(), (List{-1, 0, -1, -1, -1, 1, -1, -1, -1, 2, -1, -1, -1, 3, -1, -1}));
}

TEST(ExpertsRoundRobin, UnevenCountsAreTheBalancedOnes) {
  // vLLM: local_num_experts = E // ep + (rank < E % ep); rank r holds arange(r, E, ep).
  const ExpertPartition p = make({.experts = 10, .ep = 4, .strategy = ExpertStrategy::round_robin});
  EXPECT_EQ(p.shard(0)->experts, (List{0, 4, 8}));
  EXPECT_EQ(p.shard(1)->experts, (List{1, 5, 9}));
  EXPECT_EQ(p.shard(2)->experts, (List{2, 6}));
  EXPECT_EQ(p.shard(3)->experts, (List{3, 7}));
  EXPECT_EQ(p.locate(9).value(), (ExpertLocation{1, 2}));
  // One rank: a single interval.
  EXPECT_EQ(make({.experts = 10, .ep = 1, .strategy = ExpertStrategy::round_robin}).shard(0)->slots,
            IntervalSet::range(0, 10));
  // even still requires E % ep == 0.
  EXPECT_EQ(ExpertPartition::create(
                {.experts = 10, .ep = 4, .strategy = ExpertStrategy::round_robin, .policy = SplitPolicy::even})
                .error()
                .code,
            ErrorCode::not_divisible);
}

TEST(ExpertsRoundRobin, RefusesChunk) {
  const auto result = ExpertPartition::create(
      {.experts = 16, .ep = 4, .strategy = ExpertStrategy::round_robin, .policy = SplitPolicy::chunk});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().what(),
            "policy: round_robin deals experts one at a time, so its counts are the balanced ones; use balanced or "
            "even");
}

// ---------------------------------------------------------------------------------------------------------------
// Redundant experts

TEST(ExpertsRedundant, VllmInitialArrangement) {
  // 8 experts + 4 redundant slots holding experts 0..3, placed linearly over 4 ranks: 3 slots each.
  const ExpertPartition p = make({.experts = 8, .ep = 4, .redundant = 4});
  EXPECT_EQ(p.num_slots(), 12);
  EXPECT_EQ(p.num_redundant(), 4);
  EXPECT_EQ(p.shard(0)->experts, (List{0, 1, 2}));
  EXPECT_EQ(p.shard(2)->slots, IntervalSet::range(6, 9));
  EXPECT_EQ(p.shard(2)->experts, (List{6, 7, 0}));
  EXPECT_EQ(p.shard(3)->experts, (List{1, 2, 3}));
  EXPECT_EQ(p.holders(0).value(), (std::vector<ExpertLocation>{{0, 0}, {2, 2}}));
  EXPECT_EQ(p.holders(5).value(), (std::vector<ExpertLocation>{{1, 2}}));
  EXPECT_EQ(p.locate(0).value(), (ExpertLocation{0, 0}));  // the expert's own slot
  EXPECT_EQ(p.expert_map(2).value(), (List{2, -1, -1, -1, -1, -1, 0, 1}));
  EXPECT_EQ(p.expert_map(3).value(), (List{-1, 0, 1, 2, -1, -1, -1, -1}));
}

TEST(ExpertsRedundant, DeepSeekLike256Plus32Over32) {
  const ExpertPartition p = make({.experts = 256, .ep = 32, .policy = SplitPolicy::even, .redundant = 32});
  EXPECT_EQ(p.num_slots(), 288);
  EXPECT_EQ(p.shard(28)->slots, IntervalSet::range(252, 261));
  EXPECT_EQ(p.shard(28)->experts, (List{252, 253, 254, 255, 0, 1, 2, 3, 4}));
  EXPECT_EQ(p.shard(31)->experts, (List{23, 24, 25, 26, 27, 28, 29, 30, 31}));
  EXPECT_EQ(p.holders(31).value(), (std::vector<ExpertLocation>{{3, 4}, {31, 8}}));
}

TEST(ExpertsRedundant, ExplicitHotReplicas) {
  // Expert 3 is hot: two replica slots hold it.
  const ExpertPartition p = make({.experts = 8, .ep = 2, .replicas = {3, 3}});
  EXPECT_EQ(p.num_slots(), 10);
  EXPECT_EQ(p.replicas(), (List{3, 3}));
  EXPECT_EQ(p.shard(0)->experts, (List{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.shard(1)->experts, (List{5, 6, 7, 3, 3}));
  EXPECT_EQ(p.holders(3).value(), (std::vector<ExpertLocation>{{0, 3}, {1, 3}, {1, 4}}));
  EXPECT_EQ(p.shard(1)->local_of(3), 3);  // the first copy
  EXPECT_EQ(p.expert_map(1).value()[3], 3);
  EXPECT_EQ(p.expert_of_slot(9), 3);
  // Round robin places the slots like experts: rank 1 holds slots 1, 3, 5, 7, 9.
  const ExpertPartition rr = make({.experts = 8, .ep = 2, .strategy = ExpertStrategy::round_robin, .replicas = {3, 3}});
  EXPECT_EQ(rr.shard(1)->experts, (List{1, 3, 5, 7, 3}));
  EXPECT_EQ(rr.shard(1)->local_of(3), 1);
}

TEST(ExpertsRedundant, EvenCountsTheSlots) {
  EXPECT_EQ(
      ExpertPartition::create({.experts = 256, .ep = 8, .policy = SplitPolicy::even, .redundant = 4}).error().what(),
      "policy: even policy: 260 physical slots (256 experts + 4 redundant) do not split evenly over ep 8 "
      "(remainder 4)");
}

// ---------------------------------------------------------------------------------------------------------------
// Input errors

std::string error_of(ExpertSpec spec) {
  const auto result = ExpertPartition::create(std::move(spec));
  return result.ok() ? "ok" : result.error().what();
}

TEST(ExpertsErrors, NameTheFieldAndTheNumbers) {
  EXPECT_EQ(error_of({.experts = 0, .ep = 2}), "experts: must be >= 1, got 0");
  EXPECT_EQ(error_of({.experts = 8, .ep = 0}), "ep: must be >= 1, got 0");
  EXPECT_EQ(error_of({.experts = 8, .ep = -3}), "ep: must be >= 1, got -3");
  EXPECT_EQ(error_of({.experts = 8, .ep = 2, .redundant = -1}), "redundant: must be >= 0, got -1");
  EXPECT_EQ(error_of({.experts = 8, .ep = 2, .redundant = 2, .replicas = {1}}),
            "redundant: give a count of redundant experts (2) or a list of replicas (1 entries), not both");
  EXPECT_EQ(error_of({.experts = 8, .ep = 2, .replicas = {1, 8}}),
            "replicas[1]: expert 8 is outside the 8 experts (valid: 0..7)");
  EXPECT_EQ(error_of({.experts = 8, .ep = 2, .replicas = {-1}}),
            "replicas[0]: expert -1 is outside the 8 experts (valid: 0..7)");
  const auto overflow =
      ExpertPartition::create({.experts = std::numeric_limits<Index>::max(), .ep = 2, .redundant = 1});
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().code, ErrorCode::overflow);
}

TEST(ExpertsErrors, QueriesOutOfRange) {
  const ExpertPartition p = make({.experts = 8, .ep = 2});
  EXPECT_EQ(p.shard(2).error().what(), "rank: rank 2 is outside ep 2 (valid: 0..1)");
  EXPECT_EQ(p.expert_map(-1).error().code, ErrorCode::out_of_range);
  EXPECT_EQ(p.locate(8).error().what(), "expert: expert 8 is outside the 8 experts (valid: 0..7)");
  EXPECT_EQ(p.holders(-1).error().code, ErrorCode::out_of_range);
}

TEST(ExpertStrategyText, ParseAndPrint) {
  for (ExpertStrategy strategy : {ExpertStrategy::linear, ExpertStrategy::round_robin}) {
    EXPECT_EQ(parse_expert_strategy(to_string(strategy)).value(), strategy);
  }
  EXPECT_EQ(parse_expert_strategy("contiguous").value(), ExpertStrategy::linear);
  EXPECT_EQ(parse_expert_strategy("striped").error().what(),
            "placement: unknown expert placement 'striped' (known: linear, contiguous, round_robin)");
}

// ---------------------------------------------------------------------------------------------------------------
// Property test

/// vLLM's determine_expert_map (linear and round_robin), HF's contiguous blocks (even) and torch.chunk, written out
/// on explicit lists: the physical slots each rank holds, in local order. Empty when the configuration is refused.
std::vector<List> reference_slots(Index slots, Index ep, ExpertStrategy strategy, SplitPolicy policy) {
  if (policy == SplitPolicy::even && slots % ep != 0) return {};
  if (strategy == ExpertStrategy::round_robin && policy == SplitPolicy::chunk) return {};
  std::vector<List> ranks(static_cast<std::size_t>(ep));
  for (Index r = 0; r < ep; ++r) {
    List& held = ranks[static_cast<std::size_t>(r)];
    const Index base = slots / ep;
    const Index remainder = slots % ep;
    const Index local_num = r < remainder ? base + 1 : base;
    if (strategy == ExpertStrategy::round_robin) {
      for (Index s = r; s < slots; s += ep) held.push_back(s);
      EXPECT_EQ(static_cast<Index>(held.size()), local_num);  // what vLLM allocates for the rank
    } else if (policy == SplitPolicy::chunk) {
      const Index c = (slots + ep - 1) / ep;
      for (Index s = r * c; s < std::min(slots, (r + 1) * c); ++s) held.push_back(s);
    } else {
      const Index start = r * base + std::min(r, remainder);
      for (Index s = start; s < start + local_num; ++s) held.push_back(s);
    }
  }
  return ranks;
}

TEST(ExpertsProperty, MatchesReferencesAndMapsAreConsistent) {
  Random random(777);
  int accepted = 0;
  int refused = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    ExpertSpec spec;
    spec.experts = random.percent(15) ? random.uniform(1, 8) : random.uniform(1, 300);
    spec.ep = random.uniform(1, 40);
    spec.strategy = random.percent(50) ? ExpertStrategy::linear : ExpertStrategy::round_robin;
    spec.policy = static_cast<SplitPolicy>(random.uniform(0, 2));
    const int redundancy = static_cast<int>(random.uniform(0, 2));  // none, a count, a list
    if (redundancy == 1) spec.redundant = random.uniform(0, 40);
    if (redundancy == 2) {
      for (Index i = random.uniform(0, 20); i > 0; --i) spec.replicas.push_back(random.uniform(0, spec.experts - 1));
    }
    const Index num_redundant = redundancy == 2 ? static_cast<Index>(spec.replicas.size()) : spec.redundant;
    const Index slots = spec.experts + num_redundant;
    SCOPED_TRACE(::testing::Message() << "E " << spec.experts << " ep " << spec.ep << " " << to_string(spec.strategy)
                                      << " " << to_string(spec.policy) << " redundant " << num_redundant
                                      << (redundancy == 2 ? " (list)" : ""));

    const std::vector<List> expected = reference_slots(slots, spec.ep, spec.strategy, spec.policy);
    const List replicas = spec.replicas;
    const auto result = ExpertPartition::create(std::move(spec));
    ASSERT_EQ(result.ok(), !expected.empty()) << (result.ok() ? "accepted" : result.error().what());
    if (!result.ok()) {
      ++refused;
      continue;
    }
    ++accepted;
    const ExpertPartition& p = *result;
    ASSERT_EQ(p.num_slots(), slots);
    // The expert each slot holds: itself, then the listed replicas or vLLM's i % E.
    const auto expert_of = [&](Index slot) {
      if (slot < p.num_experts()) return slot;
      const Index i = slot - p.num_experts();
      return replicas.empty() ? i % p.num_experts() : replicas[static_cast<std::size_t>(i)];
    };
    std::vector<int> slot_holders(static_cast<std::size_t>(slots), 0);
    std::vector<int> expert_copies(static_cast<std::size_t>(p.num_experts()), 0);
    for (Index r = 0; r < p.ep(); ++r) {
      const ExpertShard shard = p.shard(r).value();
      const List& held = expected[static_cast<std::size_t>(r)];
      ASSERT_EQ(testing_support::to_list(shard.slots), held) << "rank " << r;
      ASSERT_EQ(shard.experts.size(), held.size()) << "rank " << r;
      EXPECT_EQ(p.num_local(r), static_cast<Index>(held.size())) << "rank " << r;
      const List map = p.expert_map(r).value();
      ASSERT_EQ(static_cast<Index>(map.size()), p.num_experts());
      for (std::size_t i = 0; i < held.size(); ++i) {
        const Index slot = held[i];
        const Index expert = expert_of(slot);
        EXPECT_EQ(shard.experts[i], expert) << "rank " << r << " local " << i;
        EXPECT_EQ(p.slot_location(slot), (ExpertLocation{r, static_cast<Index>(i)})) << "slot " << slot;
        ++slot_holders[static_cast<std::size_t>(slot)];
        ++expert_copies[static_cast<std::size_t>(expert)];
        // The map points at the first local copy of the expert.
        const Index local = map[static_cast<std::size_t>(expert)];
        ASSERT_GE(local, 0) << "rank " << r << " expert " << expert;
        EXPECT_LE(local, static_cast<Index>(i));
        EXPECT_EQ(shard.experts[static_cast<std::size_t>(local)], expert);
      }
      // ... and is -1 exactly for the experts the rank does not hold.
      for (Index e = 0; e < p.num_experts(); ++e) {
        const bool held_here = shard.local_of(e) >= 0;
        EXPECT_EQ(map[static_cast<std::size_t>(e)] >= 0, held_here) << "rank " << r << " expert " << e;
        EXPECT_EQ(map[static_cast<std::size_t>(e)], shard.local_of(e)) << "rank " << r << " expert " << e;
      }
    }
    for (Index s = 0; s < slots; ++s) ASSERT_EQ(slot_holders[static_cast<std::size_t>(s)], 1) << "slot " << s;
    for (Index e = 0; e < p.num_experts(); ++e) {
      const auto copies = expert_copies[static_cast<std::size_t>(e)];
      if (num_redundant == 0) {
        ASSERT_EQ(copies, 1) << "expert " << e;  // without redundancy: exactly one holder
      }
      const std::vector<ExpertLocation> holders = p.holders(e).value();
      ASSERT_EQ(static_cast<int>(holders.size()), copies) << "expert " << e;
      EXPECT_EQ(holders.front(), p.locate(e).value());
      for (const ExpertLocation& where : holders) {
        EXPECT_EQ(p.shard(where.rank)->experts[static_cast<std::size_t>(where.local)], e) << "expert " << e;
      }
    }
  }
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(refused, 300);
}

}  // namespace
}  // namespace shardplan
