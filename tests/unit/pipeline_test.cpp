// Pipeline layer split: vLLM's rule on the spec's examples and edge cases, explicit lists, the errors, and a
// property test against a literal port of vLLM's get_pp_indices.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/llm/pipeline_split.hpp"

namespace shardplan {

[[maybe_unused]] static void PrintTo(const PipelineStage& stage, std::ostream* os) {
  *os << "stage " << stage.stage << ": layers [" << stage.first_layer << "," << stage.end_layer() << ")";
}

namespace {

using testing_support::List;
using testing_support::Random;

List sizes(Index layers, Index stages) { return PipelineSplit::create(layers, stages).value().sizes(); }

List first_layers(const PipelineSplit& split) {
  List out;
  for (Index s = 0; s < split.num_stages(); ++s) out.push_back(split.stage_unchecked(s).first_layer);
  return out;
}

// Compile time.
static_assert(PipelineSplit::create(61, 4)->stage_unchecked(2) == PipelineStage{2, 30, 16});
static_assert(PipelineSplit::create(61, 4)->stage_of_layer(46).value() == 3);
static_assert(vllm_pipeline_stage(94, 4, 1) == Piece{23, 24});
static_assert(PipelineSplit::from_sizes(4, 2, std::array<Index, 2>{3, 1})->stage_unchecked(1) ==
              PipelineStage{1, 3, 1});
static_assert(PipelineSplit::create(3, 4).error().code == ErrorCode::invalid_argument);

TEST(PipelineVllm, SpecExamples) {
  EXPECT_EQ(sizes(61, 4), (List{15, 15, 16, 15}));
  EXPECT_EQ(sizes(61, 8), (List{7, 7, 8, 8, 8, 8, 8, 7}));
  EXPECT_EQ(sizes(94, 4), (List{23, 24, 24, 23}));
  EXPECT_EQ(first_layers(PipelineSplit::create(61, 4).value()), (List{0, 15, 30, 46}));
  EXPECT_EQ(first_layers(PipelineSplit::create(61, 8).value()), (List{0, 7, 14, 22, 30, 38, 46, 54}));
  EXPECT_EQ(first_layers(PipelineSplit::create(94, 4).value()), (List{0, 23, 47, 71}));
  const PipelineStage last = PipelineSplit::create(61, 4)->stage(3).value();
  EXPECT_EQ(last, (PipelineStage{3, 46, 15}));
  EXPECT_EQ(last.end_layer(), 61);
}

TEST(PipelineVllm, EdgeCases) {
  EXPECT_EQ(sizes(1, 1), (List{1}));
  EXPECT_EQ(sizes(61, 1), (List{61}));         // pp = 1: no remainder, one stage
  EXPECT_EQ(sizes(4, 4), (List{1, 1, 1, 1}));  // one layer each
  EXPECT_EQ(sizes(7, 4), (List{2, 2, 2, 1}));  // L % pp = pp - 1: every stage but the last gets one
  EXPECT_EQ(sizes(5, 2), (List{3, 2}));        // the stage before the last is stage 0
  EXPECT_EQ(sizes(64, 8), (List{8, 8, 8, 8, 8, 8, 8, 8}));
  EXPECT_EQ(sizes(80, 3), (List{27, 27, 26}));
  EXPECT_FALSE(PipelineSplit::create(61, 4)->is_explicit());
}

TEST(PipelineVllm, StageOfLayer) {
  const PipelineSplit split = PipelineSplit::create(61, 4).value();
  EXPECT_EQ(split.stage_of_layer(0).value(), 0);
  EXPECT_EQ(split.stage_of_layer(14).value(), 0);
  EXPECT_EQ(split.stage_of_layer(15).value(), 1);
  EXPECT_EQ(split.stage_of_layer(30).value(), 2);
  EXPECT_EQ(split.stage_of_layer(45).value(), 2);
  EXPECT_EQ(split.stage_of_layer(46).value(), 3);
  EXPECT_EQ(split.stage_of_layer(60).value(), 3);
  EXPECT_EQ(split.stage_of_layer(61).error().what(), "layer: layer 61 is outside a model of 61 layers (valid: 0..60)");
  EXPECT_EQ(split.stage_of_layer(-1).error().code, ErrorCode::out_of_range);
  EXPECT_EQ(split.stage(4).error().what(), "stage: stage 4 is outside 4 pipeline stages (valid: 0..3)");
}

TEST(PipelineVllm, HugeCountsDoNotOverflowOrAllocate) {
  constexpr Index kMax = std::numeric_limits<Index>::max();
  const Index stages = 1'000'000'007;
  const PipelineSplit split = PipelineSplit::create(kMax, stages).value();
  const Index base = kMax / stages;
  const Index extra = kMax % stages;
  EXPECT_EQ(split.stage_unchecked(0), (PipelineStage{0, 0, base}));
  EXPECT_EQ(split.stage_unchecked(stages - 1), (PipelineStage{stages - 1, kMax - base, base}));
  EXPECT_EQ(split.stage_unchecked(stages - 2).num_layers, base + (extra > 0 ? 1 : 0));
  EXPECT_EQ(split.stage_of_layer(kMax - 1).value(), stages - 1);
  EXPECT_EQ(split.stage_of_layer(0).value(), 0);
}

TEST(PipelineExplicit, UsesTheListAsGiven) {
  const List given = {15, 16, 15, 15};
  const PipelineSplit split = PipelineSplit::from_sizes(61, 4, given).value();
  EXPECT_TRUE(split.is_explicit());
  EXPECT_EQ(split.sizes(), given);
  EXPECT_EQ(first_layers(split), (List{0, 15, 31, 46}));
  EXPECT_EQ(split.stage_of_layer(30).value(), 1);
  EXPECT_EQ(split.stage_of_layer(31).value(), 2);
  // Equality compares the stages, whichever way they were given.
  EXPECT_EQ(PipelineSplit::from_sizes(61, 4, List{15, 15, 16, 15}).value(), PipelineSplit::create(61, 4).value());
  EXPECT_NE(split, PipelineSplit::create(61, 4).value());
}

std::string explicit_error(Index layers, Index stages, const List& given) {
  const auto result = PipelineSplit::from_sizes(layers, stages, given);
  return result.ok() ? "ok" : result.error().what();
}

TEST(PipelineExplicit, Errors) {
  EXPECT_EQ(explicit_error(61, 4, {15, 16, 30}), "split: 3 entries for 4 pipeline stages (one per stage)");
  EXPECT_EQ(explicit_error(61, 4, {15, 16, 15, 14}), "split: entries sum to 60 layers, not the 61 of the model");
  EXPECT_EQ(explicit_error(61, 4, {15, 16, 0, 30}), "split[2]: stage 2 gets 0 layers; every stage needs at least one");
  EXPECT_EQ(explicit_error(61, 4, {-1, 31, 16, 15}),
            "split[0]: stage 0 gets -1 layers; every stage needs at least one");
  EXPECT_EQ(explicit_error(61, 4, {std::numeric_limits<Index>::max(), 1, 1, 1}).substr(0, 7), "split: ");
  EXPECT_EQ(PipelineSplit::from_sizes(61, 4, List{std::numeric_limits<Index>::max(), 1, 1, 1}).error().code,
            ErrorCode::overflow);
  // The counts are checked before the list.
  EXPECT_EQ(explicit_error(3, 4, {1, 1, 1, 0}),
            "pp: 4 pipeline stages for 3 layers: every stage needs at least one layer");
}

TEST(PipelineErrors, Counts) {
  EXPECT_EQ(PipelineSplit::create(0, 1).error().what(), "layers: must be >= 1, got 0");
  EXPECT_EQ(PipelineSplit::create(-4, 1).error().what(), "layers: must be >= 1, got -4");
  EXPECT_EQ(PipelineSplit::create(61, 0).error().what(), "pp: must be >= 1, got 0");
  EXPECT_EQ(PipelineSplit::create(4, 5).error().what(),
            "pp: 5 pipeline stages for 4 layers: every stage needs at least one layer");
}

/// vLLM's get_pp_indices, line by line, for every stage.
List vllm_reference(Index layers, Index stages) {
  List partitions(static_cast<std::size_t>(stages), layers / stages);
  const Index remaining = layers % stages;
  for (Index i = 2; i < remaining + 2; ++i) ++partitions[static_cast<std::size_t>(stages - i)];  // partitions[-i]
  return partitions;
}

TEST(PipelineProperty, MatchesVllmAndTheBackwardsRule) {
  Random random(4242);
  for (int trial = 0; trial < 5000; ++trial) {
    const Index layers = random.uniform(1, 500);
    const Index stages = random.percent(10) ? layers : random.uniform(1, std::min<Index>(layers, 64));
    SCOPED_TRACE(::testing::Message() << "L " << layers << " pp " << stages);
    const PipelineSplit split = PipelineSplit::create(layers, stages).value();
    const List got = split.sizes();
    ASSERT_EQ(got, vllm_reference(layers, stages));

    // The rule in words: every stage gets L / pp, plus one exactly on the L % pp stages just before the last.
    const Index base = layers / stages;
    const Index extra = layers % stages;
    Index sum = 0;
    Index next_first = 0;
    for (Index s = 0; s < stages; ++s) {
      const PipelineStage stage = split.stage_unchecked(s);
      const bool gets_extra = s < stages - 1 && s >= stages - 1 - extra;
      EXPECT_EQ(stage.num_layers, base + (gets_extra ? 1 : 0)) << "stage " << s;
      EXPECT_GE(stage.num_layers, 1);
      EXPECT_EQ(stage.first_layer, next_first) << "stage " << s;  // contiguous, in stage order
      next_first = stage.end_layer();
      sum += stage.num_layers;
    }
    EXPECT_EQ(sum, layers);
    EXPECT_EQ(split.stage_unchecked(stages - 1).num_layers, base);  // the last stage never gets an extra layer

    // stage_of_layer against a walk over the stages, and the explicit form of the same sizes.
    const PipelineSplit same = PipelineSplit::from_sizes(layers, stages, got).value();
    Index stage = 0;
    for (Index layer = 0; layer < layers; ++layer) {
      while (layer >= split.stage_unchecked(stage).end_layer()) ++stage;
      ASSERT_EQ(split.stage_of_layer(layer).value(), stage) << "layer " << layer;
      ASSERT_EQ(same.stage_of_layer(layer).value(), stage) << "layer " << layer;
    }
    EXPECT_EQ(same, split);
  }
}

TEST(PipelineProperty, ExplicitListsRoundTrip) {
  Random random(99);
  for (int trial = 0; trial < 2000; ++trial) {
    const Index stages = random.uniform(1, 30);
    List given;
    Index layers = 0;
    for (Index s = 0; s < stages; ++s) {
      given.push_back(random.uniform(1, 20));
      layers += given.back();
    }
    const PipelineSplit split = PipelineSplit::from_sizes(layers, stages, given).value();
    ASSERT_EQ(split.sizes(), given);
    Index first = 0;
    for (Index s = 0; s < stages; ++s) {
      EXPECT_EQ(split.stage_unchecked(s).first_layer, first);
      EXPECT_EQ(split.stage_of_layer(first).value(), s);
      EXPECT_EQ(split.stage_of_layer(first + given[static_cast<std::size_t>(s)] - 1).value(), s);
      first += given[static_cast<std::size_t>(s)];
    }
    // Breaking the sum or the length is refused.
    given.back() += 1;
    EXPECT_FALSE(PipelineSplit::from_sizes(layers, stages, given).ok());
    given.push_back(1);
    EXPECT_FALSE(PipelineSplit::from_sizes(layers + 1, stages, given).ok());
  }
}

}  // namespace
}  // namespace shardplan
