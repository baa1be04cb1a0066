// Vocabulary padding: the framework examples as exact values, the errors, and a property test of the row map
// against references that lay out every local row the way each framework's code does.
#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/llm/vocab_padding.hpp"

namespace shardplan {
namespace {

using testing_support::List;
using testing_support::Random;

constexpr VocabPartition make(VocabSpec spec) { return VocabPartition::create(spec).value(); }

IntervalSet set(std::vector<Interval> intervals) { return IntervalSet::from_intervals(std::move(intervals)); }

// ---------------------------------------------------------------------------------------------------------------
// Compile time: the examples are constant expressions.

constexpr VocabPartition kVllmExample = make({.vocab = 1010, .added = 16, .tp = 2, .pad = VocabPadding::vllm});
static_assert(kVllmExample.padded_vocab() == 1088);
static_assert(kVllmExample.rows_per_rank() == 544);
static_assert(kVllmExample.shard(0)->padding() == 16);
static_assert(kVllmExample.shard(1)->padding() == 46);
static_assert(kVllmExample.shard(0)->token_at(512) == 1010);
static_assert(make({.vocab = 128256, .tp = 8, .pad = VocabPadding::megatron}).padded_vocab() == 129024);
static_assert(VocabPartition::create({.vocab = 151552, .tp = 6, .pad = VocabPadding::vllm}).error().code ==
              ErrorCode::not_divisible);

// ---------------------------------------------------------------------------------------------------------------
// vLLM

// The layout of vLLM's VocabParallelEmbedding docstring: 1010 original + 16 added tokens, padding 64, TP=2.
TEST(VocabVllm, DocstringExampleTp2) {
  const VocabPartition& p = kVllmExample;
  EXPECT_EQ(p.real_vocab(), 1026);
  EXPECT_EQ(p.padded_original(), 1024);
  EXPECT_EQ(p.padded_added(), 64);
  EXPECT_EQ(p.padded_vocab(), 1088);
  EXPECT_EQ(p.rows_per_rank(), 544);
  EXPECT_EQ(p.padding_rows(), 62);
  EXPECT_EQ(p.pad_to(), 64);

  const VocabShard r0 = p.shard(0).value();
  EXPECT_EQ(r0.rows, 544);
  EXPECT_EQ(r0.tokens, set({{0, 512}, {1010, 1026}}));
  EXPECT_EQ(r0.padding_rows, set({{528, 544}}));
  EXPECT_EQ(r0.padding(), 16);
  // Local rows: 0..511 are tokens 0..511, 512..527 the added tokens 1010..1025, 528..543 padding.
  EXPECT_EQ(r0.token_at(0), 0);
  EXPECT_EQ(r0.token_at(511), 511);
  EXPECT_EQ(r0.token_at(512), 1010);
  EXPECT_EQ(r0.token_at(527), 1025);
  EXPECT_EQ(r0.token_at(528), -1);
  EXPECT_EQ(r0.token_at(543), -1);
  EXPECT_EQ(r0.token_at(544), -1);
  EXPECT_EQ(r0.token_at(-1), -1);
  EXPECT_EQ(r0.row_of(1025), 527);
  EXPECT_EQ(r0.row_of(1010), 512);
  EXPECT_EQ(r0.row_of(512), -1);

  const VocabShard r1 = p.shard(1).value();
  EXPECT_EQ(r1.tokens, set({{512, 1010}}));
  // 14 rows of original-vocab padding, then the 32 rows of the (all padding) added slice.
  EXPECT_EQ(r1.padding_rows, set({{498, 544}}));
  EXPECT_EQ(r1.padding(), 46);
  EXPECT_EQ(r1.token_at(497), 1009);
  EXPECT_EQ(r1.token_at(498), -1);
  EXPECT_EQ(r1.row_of(512), 0);
  EXPECT_EQ(r1.row_of(1009), 497);
  EXPECT_EQ(r1.row_of(1010), -1);
}

// TP=1 of the same docstring: base padding sits between the original and the added tokens.
TEST(VocabVllm, DocstringExampleTp1) {
  const VocabShard r0 = make({.vocab = 1010, .added = 16, .tp = 1, .pad = VocabPadding::vllm}).shard(0).value();
  EXPECT_EQ(r0.rows, 1088);
  EXPECT_EQ(r0.tokens, set({{0, 1026}}));  // ids 0..1009 and 1010..1025 coalesce; the rows do not
  EXPECT_EQ(r0.padding_rows, set({{1010, 1024}, {1040, 1088}}));
  EXPECT_EQ(r0.token_at(1009), 1009);
  EXPECT_EQ(r0.token_at(1010), -1);
  EXPECT_EQ(r0.token_at(1024), 1010);
  EXPECT_EQ(r0.token_at(1039), 1025);
  EXPECT_EQ(r0.token_at(1040), -1);
  EXPECT_EQ(r0.row_of(1010), 1024);
  EXPECT_EQ(r0.row_of(1025), 1039);
}

TEST(VocabVllm, NoAddedTokens) {
  const VocabPartition p = make({.vocab = 151552, .tp = 8, .pad = VocabPadding::vllm});  // already a multiple of 64
  EXPECT_EQ(p.padded_vocab(), 151552);
  EXPECT_EQ(p.padded_added(), 0);
  EXPECT_EQ(p.rows_per_rank(), 18944);
  EXPECT_EQ(p.shard(7)->tokens, set({{132608, 151552}}));
  EXPECT_EQ(p.shard(7)->padding(), 0);

  const VocabPartition q = make({.vocab = 32001, .tp = 4, .pad = VocabPadding::vllm});
  EXPECT_EQ(q.padded_vocab(), 32064);
  EXPECT_EQ(q.shard(3)->tokens, set({{24048, 32001}}));
  EXPECT_EQ(q.shard(3)->padding_rows, set({{7953, 8016}}));
}

TEST(VocabVllm, CustomPadTo) {
  const VocabPartition p = make({.vocab = 1010, .added = 16, .tp = 2, .pad = VocabPadding::vllm, .pad_to = 128});
  EXPECT_EQ(p.pad_to(), 128);
  EXPECT_EQ(p.padded_original(), 1024);
  EXPECT_EQ(p.padded_added(), 128);
  EXPECT_EQ(p.rows_per_rank(), 576);
  EXPECT_EQ(p.shard(0)->padding_rows, set({{528, 576}}));
  EXPECT_EQ(p.shard(1)->padding_rows, set({{498, 576}}));
}

// The error vLLM reports at TP=6 for a 151552-token vocabulary ("151552 is not divisible by 6").
TEST(VocabVllm, Tp6Failure) {
  const auto result = VocabPartition::create({.vocab = 151552, .tp = 6, .pad = VocabPadding::vllm});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::not_divisible);
  EXPECT_EQ(result.error().what(),
            "pad: vllm padding: 151552 is not divisible by 6 (the vocab of 151552 padded to a multiple of 64 must "
            "split evenly over tp 6)");
}

TEST(VocabVllm, AddedPartMustDivideToo) {
  // 192 = 3 * 64 divides by 3; the 16 added tokens padded to 64 do not.
  const auto result = VocabPartition::create({.vocab = 192, .added = 16, .tp = 3, .pad = VocabPadding::vllm});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().what(),
            "pad: vllm padding: 64 is not divisible by 3 (the 16 added tokens padded to a multiple of 64 must split "
            "evenly over tp 3)");
}

// ---------------------------------------------------------------------------------------------------------------
// Megatron-LM

TEST(VocabMegatron, PaddedSizesAtTp8) {
  EXPECT_EQ(make({.vocab = 128256, .tp = 8, .pad = VocabPadding::megatron}).padded_vocab(), 129024);
  EXPECT_EQ(make({.vocab = 151936, .tp = 8, .pad = VocabPadding::megatron}).padded_vocab(), 152576);
  EXPECT_EQ(make({.vocab = 32000, .tp = 8, .pad = VocabPadding::megatron}).padded_vocab(), 32768);
  EXPECT_EQ(make({.vocab = 32000, .tp = 8, .pad = VocabPadding::megatron}).pad_to(), 128);
}

TEST(VocabMegatron, PaddingSitsAtTheEnd) {
  const VocabPartition p = make({.vocab = 128256, .tp = 8, .pad = VocabPadding::megatron});
  EXPECT_EQ(p.rows_per_rank(), 16128);
  EXPECT_EQ(p.padding_rows(), 768);
  for (Index r = 0; r < 7; ++r) {
    EXPECT_EQ(p.shard(r)->tokens, IntervalSet::range(r * 16128, (r + 1) * 16128)) << r;
    EXPECT_EQ(p.shard(r)->padding(), 0) << r;
  }
  EXPECT_EQ(p.shard(7)->tokens, set({{112896, 128256}}));
  EXPECT_EQ(p.shard(7)->padding_rows, set({{15360, 16128}}));

  const VocabPartition q = make({.vocab = 32000, .tp = 8, .pad = VocabPadding::megatron});
  EXPECT_EQ(q.shard(7)->tokens, set({{28672, 32000}}));
  EXPECT_EQ(q.shard(7)->padding_rows, set({{3328, 4096}}));
}

TEST(VocabMegatron, PaddingCanFillTheLastRanks) {
  // 100 tokens padded to 128 * 4 = 512: rank 0 holds every token, ranks 1..3 only padding.
  const VocabPartition p = make({.vocab = 100, .tp = 4, .pad = VocabPadding::megatron});
  EXPECT_EQ(p.padded_vocab(), 512);
  EXPECT_EQ(p.shard(0)->tokens, set({{0, 100}}));
  EXPECT_EQ(p.shard(0)->padding_rows, set({{100, 128}}));
  for (Index r = 1; r < 4; ++r) {
    EXPECT_TRUE(p.shard(r)->tokens.empty()) << r;
    EXPECT_EQ(p.shard(r)->padding_rows, set({{0, 128}})) << r;
    EXPECT_EQ(p.shard(r)->token_at(0), -1) << r;
  }
}

TEST(VocabMegatron, PadToAndAddedTokens) {
  // make_vocab_size_divisible_by 64 at TP=8: a multiple of 512.
  EXPECT_EQ(make({.vocab = 128256, .tp = 8, .pad = VocabPadding::megatron, .pad_to = 64}).padded_vocab(), 128512);
  // Megatron has no separate added vocabulary: added tokens simply extend it.
  const VocabPartition p = make({.vocab = 32000, .added = 5, .tp = 2, .pad = VocabPadding::megatron});
  EXPECT_EQ(p.padded_vocab(), 32256);
  EXPECT_EQ(p.padded_added(), 0);
  EXPECT_EQ(p.shard(1)->tokens, set({{16128, 32005}}));
  EXPECT_EQ(p.shard(1)->padding(), 251);
}

// ---------------------------------------------------------------------------------------------------------------
// none

TEST(VocabNone, SplitsExactly) {
  const VocabPartition p = make({.vocab = 1010, .added = 14, .tp = 4, .pad = VocabPadding::none});
  EXPECT_EQ(p.padded_vocab(), 1024);
  EXPECT_EQ(p.rows_per_rank(), 256);
  EXPECT_EQ(p.padding_rows(), 0);
  EXPECT_EQ(p.pad_to(), 1);
  EXPECT_EQ(p.shard(3)->tokens, set({{768, 1024}}));
  EXPECT_TRUE(p.shard(3)->padding_rows.empty());
}

TEST(VocabNone, RefusesARemainder) {
  const auto with_added = VocabPartition::create({.vocab = 1010, .added = 16, .tp = 4});
  ASSERT_FALSE(with_added.ok());
  EXPECT_EQ(with_added.error().code, ErrorCode::not_divisible);
  EXPECT_EQ(with_added.error().what(),
            "pad: none padding: 1026 is not divisible by 4 (the vocab of 1010 + 16 added tokens must split evenly "
            "over tp 4)");
  EXPECT_EQ(VocabPartition::create({.vocab = 151552, .tp = 6}).error().what(),
            "pad: none padding: 151552 is not divisible by 6 (the vocab of 151552 must split evenly over tp 6)");
}

// ---------------------------------------------------------------------------------------------------------------
// Input errors

std::string error_of(const VocabSpec& spec) {
  const auto result = VocabPartition::create(spec);
  return result.ok() ? "ok" : result.error().what();
}

TEST(VocabErrors, NameTheFieldAndTheNumbers) {
  EXPECT_EQ(error_of({.vocab = 0, .tp = 2, .pad = VocabPadding::vllm}), "vocab: must be >= 1, got 0");
  EXPECT_EQ(error_of({.vocab = -5, .tp = 2, .pad = VocabPadding::vllm}), "vocab: must be >= 1, got -5");
  EXPECT_EQ(error_of({.vocab = 10, .tp = 0, .pad = VocabPadding::vllm}), "tp: must be >= 1, got 0");
  EXPECT_EQ(error_of({.vocab = 10, .tp = -2, .pad = VocabPadding::megatron}), "tp: must be >= 1, got -2");
  EXPECT_EQ(error_of({.vocab = 10, .added = -1, .tp = 2, .pad = VocabPadding::vllm}), "added: must be >= 0, got -1");
  EXPECT_EQ(error_of({.vocab = 10, .tp = 2, .pad = VocabPadding::vllm, .pad_to = 0}), "pad_to: must be >= 1, got 0");
  EXPECT_EQ(error_of({.vocab = 10, .tp = 2, .pad = VocabPadding::none, .pad_to = 64}),
            "pad_to: the none rule does not pad (pad_to applies to vllm and megatron)");
}

TEST(VocabErrors, Overflow) {
  constexpr Index kMax = std::numeric_limits<Index>::max();
  const auto padded = VocabPartition::create({.vocab = kMax - 3, .tp = 1, .pad = VocabPadding::vllm});
  ASSERT_FALSE(padded.ok());
  EXPECT_EQ(padded.error().code, ErrorCode::overflow);
  EXPECT_EQ(padded.error().field, std::string_view("vocab"));
  EXPECT_EQ(VocabPartition::create({.vocab = kMax, .added = 1, .tp = 1}).error().code, ErrorCode::overflow);
  EXPECT_EQ(VocabPartition::create({.vocab = 10, .tp = kMax / 64, .pad = VocabPadding::megatron}).error().code,
            ErrorCode::overflow);
  // Huge but representable: fine, and nothing is materialised.
  const VocabPartition big = make({.vocab = kMax / 2, .tp = 1, .pad = VocabPadding::megatron});
  EXPECT_EQ(big.padded_vocab() % 128, 0);
  EXPECT_EQ(big.shard(0)->tokens, set({{0, kMax / 2}}));
}

TEST(VocabErrors, RankOutOfRange) {
  EXPECT_EQ(kVllmExample.shard(2).error().what(), "rank: rank 2 is outside tp 2 (valid: 0..1)");
  EXPECT_EQ(kVllmExample.shard(-1).error().code, ErrorCode::out_of_range);
}

TEST(VocabPaddingRule, ParseAndPrint) {
  for (VocabPadding pad : {VocabPadding::none, VocabPadding::vllm, VocabPadding::megatron}) {
    EXPECT_EQ(parse_vocab_padding(to_string(pad)).value(), pad);
  }
  EXPECT_EQ(parse_vocab_padding("vLLM").error().what(),
            "pad: unknown padding rule 'vLLM' (known: none, vllm, megatron)");
  EXPECT_EQ(default_pad_to(VocabPadding::vllm), 64);
  EXPECT_EQ(default_pad_to(VocabPadding::megatron), 128);
}

// ---------------------------------------------------------------------------------------------------------------
// Property test: the row map of every rank against references that lay out each framework's rows literally.

Index round_up(Index n, Index m) { return (n + m - 1) / m * m; }

/// Local rows of every rank (token id or -1), or empty when the framework refuses the configuration.
std::vector<List> reference_rows(Index vocab, Index added, Index tp, VocabPadding pad, Index pad_to) {
  const Index real = vocab + added;
  std::vector<List> ranks(static_cast<std::size_t>(tp));
  switch (pad) {
    case VocabPadding::none: {
      if (real % tp != 0) return {};
      for (Index id = 0; id < real; ++id) ranks[static_cast<std::size_t>(id / (real / tp))].push_back(id);
      return ranks;
    }
    case VocabPadding::megatron: {
      // _vocab_size_with_padding, then VocabUtility.vocab_range_from_global_vocab_size on the padded size.
      const Index padded = round_up(real, pad_to * tp);
      const Index per = padded / tp;
      for (Index row = 0; row < padded; ++row)
        ranks[static_cast<std::size_t>(row / per)].push_back(row < real ? row : -1);
      return ranks;
    }
    case VocabPadding::vllm: {
      // VocabParallelEmbedding.__init__ and _get_indices, step by step.
      const Index org_padded = round_up(vocab, pad_to);
      const Index num_padded = round_up(org_padded + added, pad_to);
      const Index added_padded = num_padded - org_padded;
      if (org_padded % tp != 0 || added_padded % tp != 0 || num_padded % tp != 0) return {};
      for (Index r = 0; r < tp; ++r) {
        List& rows = ranks[static_cast<std::size_t>(r)];
        const Index org_per = org_padded / tp;
        for (Index id = r * org_per; id < (r + 1) * org_per; ++id) rows.push_back(id < vocab ? id : -1);
        const Index added_per = added_padded / tp;
        for (Index i = r * added_per; i < (r + 1) * added_per; ++i) rows.push_back(vocab + i < real ? vocab + i : -1);
      }
      return ranks;
    }
  }
  return {};
}

TEST(VocabProperty, RowMapsMatchTheFrameworkReferences) {
  Random random(20240611);
  int accepted = 0;
  int refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const Index vocab = random.percent(20) ? random.uniform(1, 40) : random.uniform(1, 3000);
    const Index added = random.percent(50) ? 0 : random.uniform(0, 200);
    const Index tp = random.uniform(1, 12);
    const auto pad = static_cast<VocabPadding>(random.uniform(0, 2));
    std::optional<Index> pad_to;
    if (pad != VocabPadding::none && random.percent(40)) pad_to = random.uniform(1, 100);
    const Index effective_pad_to = pad_to.value_or(default_pad_to(pad));
    SCOPED_TRACE(::testing::Message() << "vocab " << vocab << " added " << added << " tp " << tp << " pad "
                                      << to_string(pad) << " pad_to " << effective_pad_to);

    const std::vector<List> expected = reference_rows(vocab, added, tp, pad, effective_pad_to);
    const auto result =
        VocabPartition::create({.vocab = vocab, .added = added, .tp = tp, .pad = pad, .pad_to = pad_to});
    ASSERT_EQ(result.ok(), !expected.empty()) << (result.ok() ? "accepted" : result.error().what());
    if (!result.ok()) {
      EXPECT_EQ(result.error().code, ErrorCode::not_divisible);
      ++refused;
      continue;
    }
    ++accepted;
    const VocabPartition& p = *result;
    EXPECT_EQ(p.real_vocab(), vocab + added);
    EXPECT_EQ(p.padded_vocab(), p.rows_per_rank() * tp);
    std::vector<int> seen(static_cast<std::size_t>(vocab + added), 0);
    Index padding_total = 0;
    for (Index r = 0; r < tp; ++r) {
      const VocabShard shard = p.shard(r).value();
      const List& rows = expected[static_cast<std::size_t>(r)];
      ASSERT_EQ(shard.rows, static_cast<Index>(rows.size())) << "rank " << r;
      EXPECT_EQ(shard.rows, p.rows_per_rank());
      EXPECT_EQ(shard.tokens.size() + shard.padding(), shard.rows) << "rank " << r;
      padding_total += shard.padding();
      for (Index row = 0; row < shard.rows; ++row) {
        const Index token = rows[static_cast<std::size_t>(row)];
        ASSERT_EQ(shard.token_at(row), token) << "rank " << r << " row " << row;
        EXPECT_EQ(shard.padding_rows.contains(row), token < 0) << "rank " << r << " row " << row;
        if (token >= 0) {
          EXPECT_EQ(shard.row_of(token), row) << "rank " << r << " token " << token;
          ++seen[static_cast<std::size_t>(token)];
        }
      }
      for (const Index token : testing_support::to_list(shard.tokens)) {
        EXPECT_GE(shard.row_of(token), 0) << "rank " << r << " token " << token;
      }
    }
    for (std::size_t id = 0; id < seen.size(); ++id) ASSERT_EQ(seen[id], 1) << "token " << id;
    EXPECT_EQ(padding_total, p.padded_vocab() - p.real_vocab());
    EXPECT_EQ(padding_total, p.padding_rows());
  }
  // Both outcomes are exercised.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace shardplan
