// Rank groups of Megatron-LM (RankGenerator, initialize_model_parallel) and torchtitan (ParallelDims): the worked
// examples exactly, every validation rule passing and failing, and a property test of a few thousand random
// configurations against two references written independently of the library: a port of Megatron's
// generate_masked_orthogonal_rank_groups, and brute force over the materialised rank array.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

using testing_support::Random;
using Lists = std::vector<std::vector<Index>>;
using Ranks = std::vector<Index>;

MegatronGroups megatron(const MegatronSizes& sizes, std::string_view order = kMegatronDefaultOrder) {
  auto groups = MegatronGroups::create(sizes, order);
  EXPECT_TRUE(groups.ok()) << (groups.ok() ? "" : groups.error().what());
  return groups.ok() ? *groups : MegatronGroups{};
}

std::string megatron_error(const MegatronSizes& sizes, std::string_view order = kMegatronDefaultOrder) {
  auto groups = MegatronGroups::create(sizes, order);
  EXPECT_FALSE(groups.ok()) << order;
  return groups.ok() ? "" : groups.error().what();
}

TorchtitanDims torchtitan(const TorchtitanSizes& sizes) {
  auto dims = TorchtitanDims::create(sizes);
  EXPECT_TRUE(dims.ok()) << (dims.ok() ? "" : dims.error().what());
  return dims.ok() ? *dims : TorchtitanDims{};
}

std::string torchtitan_error(const TorchtitanSizes& sizes) {
  auto dims = TorchtitanDims::create(sizes);
  EXPECT_FALSE(dims.ok());
  return dims.ok() ? "" : dims.error().what();
}

template <class Source>
Lists lists(const Source& source, std::string_view token) {
  auto groups = source.groups(token);
  EXPECT_TRUE(groups.ok()) << token << ": " << (groups.ok() ? "" : groups.error().what());
  return groups.ok() ? groups->to_lists() : Lists{};
}

template <class Source>
std::string token_error(const Source& source, std::string_view token) {
  auto groups = source.groups(token);
  EXPECT_FALSE(groups.ok()) << token;
  return groups.ok() ? "" : groups.error().what();
}

/// {{0}, {1}, ..., {world-1}}: the groups of a dim of size 1.
Lists singletons(Index world) {
  Lists out;
  for (Index r = 0; r < world; ++r) out.push_back({r});
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Megatron: the worked examples

TEST(MegatronGroups, SpecExampleWorld16Tp2Pp2) {
  // World 16, tp=2, pp=2, order tp-cp-ep-dp-pp: rank = tp + 2·dp + 8·pp, dp = 4.
  const MegatronGroups g = megatron({.world = 16, .tp = 2, .pp = 2});
  EXPECT_EQ(g.sizes().dp, 4);
  EXPECT_EQ(g.sizes().etp, 2);
  EXPECT_EQ(g.expert_dp(), 4);
  EXPECT_EQ(to_string(g.order()).view(), "tp-cp-ep-dp-pp");
  EXPECT_EQ(lists(g, "tp"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15}}));
  EXPECT_EQ(lists(g, "dp"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}, {8, 10, 12, 14}, {9, 11, 13, 15}}));
  EXPECT_EQ(lists(g, "pp"), (Lists{{0, 8}, {1, 9}, {2, 10}, {3, 11}, {4, 12}, {5, 13}, {6, 14}, {7, 15}}));
  EXPECT_EQ(lists(g, "cp"), singletons(16));
  EXPECT_EQ(lists(g, "ep"), singletons(16));
  // Combined groups Megatron builds: model parallel (tp-pp), dp with cp, tp-dp.
  EXPECT_EQ(lists(g, "tp-pp"), (Lists{{0, 1, 8, 9}, {2, 3, 10, 11}, {4, 5, 12, 13}, {6, 7, 14, 15}}));
  EXPECT_EQ(lists(g, "dp-cp"), lists(g, "dp"));
  EXPECT_EQ(lists(g, "tp-dp"), (Lists{{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14, 15}}));
  EXPECT_EQ(lists(g, "pp-tp"), lists(g, "tp-pp"));  // the order of the names does not matter
  // The expert layout with etp = tp and ep = 1 has the same tp and dp groups.
  EXPECT_EQ(lists(g, "etp"), lists(g, "tp"));
  EXPECT_EQ(lists(g, "edp"), lists(g, "dp"));
  // The layout as a mesh: the order reversed.
  EXPECT_EQ(g.mesh().to_string().view(), "(pp=2,dp=4,ep=1,cp=1,tp=2)");
  EXPECT_EQ(g.expert_mesh().to_string().view(), "(pp=2,dp=4,ep=1,cp=1,tp=2)");
  EXPECT_EQ(g.mesh().group(5, g.mesh().axis_index("dp").value()).value(), (Ranks{1, 3, 5, 7}));
  EXPECT_EQ(g.group(5, "pp").value(), (Ranks{5, 13}));
  EXPECT_EQ(g.axes("pp")->group_index(5).value(), 5);
  EXPECT_EQ(g.axes("dp")->group_index(13).value(), 3);
}

TEST(MegatronGroups, DocstringExamplesOfGenerateMaskedOrthogonalRankGroups) {
  // parallel_size = [tp, dp, pp] = [2, 3, 4], order tp-dp-pp, mask dp:
  //   dp_group[0] = [0, 2, 4], dp_group[1] = [1, 3, 5], ..., dp_group[7] = [19, 21, 23].
  const RankGenerator a = RankGenerator::create(2, 1, 3, 4, 1, "tp-dp-pp").value();
  const RankGroups dp = a.get_ranks("dp").value();
  ASSERT_EQ(dp.count(), 8);
  EXPECT_EQ(dp.to_lists()[0], (Ranks{0, 2, 4}));
  EXPECT_EQ(dp.to_lists()[1], (Ranks{1, 3, 5}));
  EXPECT_EQ(dp.to_lists()[7], (Ranks{19, 21, 23}));
  // 8 GPUs, order tp-pp-dp, sizes 2-2-2: dp_group = [[0, 4], [1, 5], [2, 6], [3, 7]].
  const RankGenerator b = RankGenerator::create(2, 1, 2, 2, 1, "tp-pp-dp").value();
  EXPECT_EQ(b.get_ranks("dp")->to_lists(), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(b.get_ranks("pp")->to_lists(), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  // Left-out dims of size 1 are appended in Megatron's dict order: tp, pp, dp, ep, cp.
  EXPECT_EQ(to_string(b.order()).view(), "tp-pp-dp-ep-cp");
  EXPECT_EQ(b.mesh().to_string().view(), "(cp=1,ep=1,dp=2,pp=2,tp=2)");
  EXPECT_EQ(b.stride(MegatronDim::pp), 2);
  EXPECT_EQ(b.stride(MegatronDim::dp), 4);
}

TEST(MegatronGroups, ContextParallel) {
  // World 16, tp=2, cp=2, pp=2 -> dp=2; rank = tp + 2·cp + 4·dp + 8·pp.
  const MegatronGroups g = megatron({.world = 16, .tp = 2, .cp = 2, .pp = 2});
  EXPECT_EQ(g.sizes().dp, 2);
  EXPECT_EQ(lists(g, "cp"), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15}}));
  EXPECT_EQ(lists(g, "dp"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}}));
  EXPECT_EQ(lists(g, "dp-cp"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}, {8, 10, 12, 14}, {9, 11, 13, 15}}));
  EXPECT_EQ(lists(g, "tp-cp"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}));
  EXPECT_EQ(lists(g, "tp-dp-cp"), (Lists{{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14, 15}}));
  EXPECT_EQ(lists(g, "pp"), (Lists{{0, 8}, {1, 9}, {2, 10}, {3, 11}, {4, 12}, {5, 13}, {6, 14}, {7, 15}}));
  // The expert layout folds cp into edp: edp = 16 / (2·1·2) = 4, rank = etp + 2·edp + 8·pp.
  EXPECT_EQ(g.expert_dp(), 4);
  EXPECT_EQ(lists(g, "edp"), lists(g, "dp-cp"));
}

TEST(MegatronGroups, ExpertParallelWithEtpEqualTp) {
  // World 8, tp=2, ep=2: dense dp = 4; expert etp=2, ep=2, edp = 8/(2·2) = 2: rank = etp + 2·ep + 4·edp.
  const MegatronGroups g = megatron({.world = 8, .tp = 2, .ep = 2});
  EXPECT_EQ(g.sizes().dp, 4);
  EXPECT_EQ(g.expert_dp(), 2);
  EXPECT_EQ(lists(g, "ep"), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(lists(g, "edp"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(lists(g, "etp"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(lists(g, "etp-ep"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(lists(g, "etp-ep-pp"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(lists(g, "dp"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(g.expert_mesh().to_string().view(), "(pp=1,dp=2,ep=2,cp=1,tp=2)");
  EXPECT_EQ(g.group(6, "ep").value(), (Ranks{4, 6}));
}

TEST(MegatronGroups, ExpertParallelWithEtp1) {
  // etp = 1: expert sizes (1, 1, ep=2, edp=4, 1): rank = ep + 2·edp.
  const MegatronGroups g = megatron({.world = 8, .tp = 2, .ep = 2, .etp = 1});
  EXPECT_EQ(g.expert_dp(), 4);
  EXPECT_EQ(lists(g, "ep"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(lists(g, "edp"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(lists(g, "etp"), singletons(8));
  EXPECT_EQ(lists(g, "tp"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
}

TEST(MegatronGroups, ExpertAndContextParallelWithPipeline) {
  // World 16, tp=2, cp=2, ep=2, pp=2: dense dp = 2, edp = 16/(2·2·2) = 2. Expert rank = etp + 2·ep + 4·edp + 8·pp.
  const MegatronGroups g = megatron({.world = 16, .tp = 2, .cp = 2, .ep = 2, .pp = 2});
  EXPECT_EQ(g.sizes().dp, 2);
  EXPECT_EQ(g.expert_dp(), 2);
  EXPECT_EQ(lists(g, "ep"), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15}}));
  EXPECT_EQ(lists(g, "edp"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}}));
  EXPECT_EQ(lists(g, "ep-pp"), lists(g, "cp-pp"));
  EXPECT_EQ(g.expert().get_ranks("pp")->to_lists(), g.dense().get_ranks("pp")->to_lists());
}

TEST(MegatronGroups, TpPpDpMapping) {
  // Megatron's --use-tp-pp-dp-mapping order. With edp == dp the order need not end in pp.
  const MegatronGroups g = megatron({.world = 8, .tp = 2, .pp = 2}, "tp-cp-ep-pp-dp");
  EXPECT_EQ(lists(g, "pp"), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(lists(g, "dp"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(g.mesh().to_string().view(), "(dp=2,pp=2,ep=1,cp=1,tp=2)");
  // Orders may leave out dims of size 1.
  EXPECT_EQ(to_string(megatron({.world = 8, .tp = 2, .pp = 2}, "tp-pp-dp").order()).view(), "tp-pp-dp-ep-cp");
}

// ---------------------------------------------------------------------------------------------------------------
// Megatron: validation

TEST(MegatronGroups, SizeErrors) {
  EXPECT_EQ(megatron_error({.world = 12, .tp = 2, .dp = 4, .pp = 2}),
            "world: tp·cp·dp·pp = 2·1·4·2 = 16 but world is 12");
  EXPECT_EQ(megatron_error({.world = 12, .tp = 8}),
            "world: tp·cp·pp = 8·1·1 = 8 does not divide world 12, so dp cannot be inferred");
  EXPECT_EQ(megatron_error({.world = 16, .tp = 0}), "tp: must be >= 1, got 0");
  EXPECT_EQ(megatron_error({.world = 16, .pp = -2}), "pp: must be >= 1, got -2");
  EXPECT_EQ(megatron_error({.world = 16, .dp = 0}), "dp: must be >= 1 (or -1 to infer it from the world size), got 0");
  EXPECT_EQ(megatron_error({.world = 16, .etp = 0}), "etp: must be >= 1, got 0");
  EXPECT_EQ(megatron_error({.world = 0}), "world: must be >= 1, got 0");
  EXPECT_EQ(megatron_error({.world = 16, .tp = Index{1} << 32, .pp = Index{1} << 32}),
            "pp: tp·cp·pp = 4294967296·1·4294967296 overflows int64");
  EXPECT_EQ(MegatronGroups::create({.world = 16, .tp = Index{1} << 32, .pp = Index{1} << 32}).error().code,
            ErrorCode::overflow);
  EXPECT_EQ(megatron_error({.world = 16, .tp = 2, .ep = 3}),
            "ep: etp·ep·pp = 2·3·1 = 6 does not divide world 16, so edp (the expert data-parallel size) cannot be "
            "inferred");
  EXPECT_EQ(megatron_error({.world = 16, .tp = 2, .etp = 3}),
            "etp: etp·ep·pp = 3·1·1 = 3 does not divide world 16, so edp (the expert data-parallel size) cannot be "
            "inferred");
  // An explicit dp is checked, not inferred.
  EXPECT_EQ(megatron({.world = 16, .tp = 2, .dp = 4, .pp = 2}).sizes().dp, 4);
}

TEST(MegatronGroups, OrderErrors) {
  const MegatronSizes sizes{.world = 16, .tp = 2, .pp = 2};
  EXPECT_EQ(megatron_error(sizes, "tp-xp-dp-pp"),
            "order: unknown name 'xp' in 'tp-xp-dp-pp' (known: tp, cp, ep, dp, pp; lower-case, as Megatron-LM requires)");
  // Megatron-LM looks the names up as given, so upper case fails there too.
  EXPECT_EQ(megatron_error(sizes, "TP-PP-DP"),
            "order: unknown name 'TP' in 'TP-PP-DP' (known: tp, cp, ep, dp, pp; lower-case, as Megatron-LM requires)");
  EXPECT_EQ(megatron_error(sizes, "tp-dp-tp-pp"), "order: 'tp' appears twice in 'tp-dp-tp-pp'");
  EXPECT_EQ(megatron_error(sizes, "tp--dp-pp"), "order: empty name in 'tp--dp-pp'");
  EXPECT_EQ(megatron_error(sizes, ""), "order: empty name in ''");
  EXPECT_EQ(megatron_error(sizes, "tp-dp"),
            "order: 'tp-dp' leaves out pp, whose size is 2 (only dims of size 1 may be left out)");
  EXPECT_EQ(megatron_error({.world = 16, .cp = 2}, "tp-dp-pp"),
            "order: 'tp-dp-pp' leaves out cp, whose size is 2 (only dims of size 1 may be left out)");
  // ep is 1 in the dense layout but 2 in the expert one.
  EXPECT_EQ(megatron_error({.world = 16, .ep = 2}, "tp-cp-dp-pp"),
            "order: 'tp-cp-dp-pp' leaves out ep, whose size is 2 in the expert generator (only dims of size 1 may be "
            "left out)");
  // dp is 1 in the dense layout, edp is 2 in the expert one.
  EXPECT_EQ(megatron_error({.world = 2, .tp = 2, .etp = 1}, "tp-cp-ep-pp"),
            "order: 'tp-cp-ep-pp' leaves out dp, whose size is 2 in the expert generator (only dims of size 1 may be "
            "left out)");
  EXPECT_EQ(MegatronGroups::create(sizes, "tp-xp").error().code, ErrorCode::parse_error);
}

TEST(MegatronGroups, ConsistencyBetweenDenseAndExpertLayouts) {
  // pp not last: Megatron asserts edp == dp.
  EXPECT_EQ(megatron_error({.world = 16, .ep = 2, .pp = 2}, "tp-cp-ep-pp-dp"),
            "order: 'tp-cp-ep-pp-dp' does not end in pp, so with pp = 2 Megatron needs edp (4) to equal dp (8)");
  // edp == dp, but pp steps over 2 ranks in the dense layout (tp) and 1 in the expert one (etp = 1).
  EXPECT_EQ(megatron_error({.world = 16, .tp = 2, .cp = 2, .ep = 4, .pp = 2, .etp = 1}, "tp-pp-cp-ep-dp"),
            "order: with 'tp-pp-cp-ep-dp' the pipeline groups differ between the dense layout (pp stride 2) and the "
            "expert layout (pp stride 1); Megatron requires them equal");
  // The same sizes with pp last are fine, and both layouts have the same pp groups.
  const MegatronGroups g = megatron({.world = 16, .tp = 2, .cp = 2, .ep = 4, .pp = 2, .etp = 1});
  EXPECT_EQ(g.dense().get_ranks("pp").value(), g.expert().get_ranks("pp").value());
  // pp = 1: anything goes.
  EXPECT_EQ(megatron({.world = 16, .ep = 2}, "tp-cp-ep-pp-dp").expert_dp(), 8);
}

TEST(MegatronGroups, RankGeneratorRefusesEpAndCpTogether) {
  EXPECT_EQ(RankGenerator::create(1, 2, 1, 1, 2).error().what(),
            "cp: ep = 2 and cp = 2 in one RankGenerator; Megatron puts cp in the dense generator and ep in the expert "
            "one");
  EXPECT_EQ(RankGenerator::create(1, 1, 0, 1, 1).error().what(), "dp: must be >= 1, got 0");
  EXPECT_EQ(RankGenerator::create(2, 1, 2, 1, 1).value().get_ranks("dp-xx").error().what(),
            "token: unknown name 'xx' in 'dp-xx' (known: pp, dp, ep, cp, tp)");
}

TEST(MegatronGroups, TokenErrors) {
  const MegatronGroups g = megatron({.world = 16, .tp = 2, .pp = 2});
  EXPECT_EQ(token_error(g, "xx"), "token: unknown name 'xx' (known: tp, cp, ep, dp, pp, etp, edp)");
  EXPECT_EQ(token_error(g, "tp-xx"), "token: unknown name 'xx' in 'tp-xx' (known: tp, cp, ep, dp, pp, etp, edp)");
  EXPECT_EQ(token_error(g, "tp-pp-tp"), "token: 'tp' appears twice in 'tp-pp-tp'");
  EXPECT_EQ(token_error(g, "tp-"), "token: empty name in 'tp-'");
  EXPECT_EQ(
      token_error(g, "tp-ep"),
      "token: 'tp-ep' mixes a dense dim (tp) with an expert dim (ep); expert groups are made of etp, ep, edp and pp");
  EXPECT_EQ(token_error(g, "TP"), "token: unknown name 'TP' (known: tp, cp, ep, dp, pp, etp, edp)");
  EXPECT_EQ(g.group(16, "tp").error().what(), "rank: rank 16 is outside a mesh of 16 ranks (valid: 0..15)");
  EXPECT_EQ(g.axes("dp-cp")->group_size(), 4);
  EXPECT_EQ(g.axes("edp-pp")->group_size(), 8);
}

// ---------------------------------------------------------------------------------------------------------------
// torchtitan

TEST(TorchtitanDims, InfersDpShard) {
  const TorchtitanDims dims = torchtitan({.world = 16, .tp = 2, .pp = 2});
  EXPECT_EQ(dims.sizes().dp_shard, 4);
  EXPECT_EQ(dims.mesh().to_string().view(), "(pp=2,dp_shard=4,tp=2)");
  EXPECT_FALSE(dims.ep_enabled());
  EXPECT_FALSE(dims.ep_mesh().has_value());
  EXPECT_EQ(dims.world_mesh(), dims.mesh());
  EXPECT_EQ(lists(dims, "tp"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15}}));
  EXPECT_EQ(lists(dims, "dp_shard"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}, {8, 10, 12, 14}, {9, 11, 13, 15}}));
  EXPECT_EQ(lists(dims, "pp"), (Lists{{0, 8}, {1, 9}, {2, 10}, {3, 11}, {4, 12}, {5, 13}, {6, 14}, {7, 15}}));
  EXPECT_EQ(lists(dims, "dp"), lists(dims, "dp_shard"));
  EXPECT_EQ(lists(dims, "dp_cp"), lists(dims, "dp_shard"));
  EXPECT_EQ(lists(dims, "cp"), singletons(16));  // dropped from the mesh: every rank alone
  EXPECT_EQ(lists(dims, "ep"), singletons(16));
  EXPECT_EQ(lists(dims, "pp-tp"), (Lists{{0, 1, 8, 9}, {2, 3, 10, 11}, {4, 5, 12, 13}, {6, 7, 14, 15}}));
}

TEST(TorchtitanDims, HsdpWithContextParallel) {
  // (dp_replicate=2, dp_shard=2, cp=2, tp=1): rank = cp + 2·dp_shard + 4·dp_replicate.
  const TorchtitanDims dims = torchtitan({.world = 8, .dp_replicate = 2, .cp = 2});
  EXPECT_EQ(dims.mesh().to_string().view(), "(dp_replicate=2,dp_shard=2,cp=2)");
  EXPECT_EQ(lists(dims, "dp_replicate"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(lists(dims, "dp"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(lists(dims, "dp_shard_cp"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(lists(dims, "dp_cp"), (Lists{{0, 1, 2, 3, 4, 5, 6, 7}}));
  EXPECT_EQ(dims.seq_len_divisor().value(), 4);
}

TEST(TorchtitanDims, ExpertParallelBorrowsDpShardWithEtpEqualTp) {
  // dp_shard=4, tp=2, ep=2, etp=tp: dp_shard_in_ep = 2, dp_shard_mod_ep = 2.
  const TorchtitanDims dims = torchtitan({.world = 8, .tp = 2, .ep = 2, .etp = 2});
  EXPECT_EQ(dims.dp_shard_mod_ep(), 2);
  EXPECT_EQ(dims.dp_shard_in_ep(), 2);
  EXPECT_EQ(dims.mesh().to_string().view(), "(dp_shard=4,tp=2)");
  EXPECT_EQ(dims.ep_mesh()->to_string().view(), "(dp_shard_mod_ep=2,dp_shard_in_ep=2,tp=2)");
  EXPECT_EQ(dims.world_mesh(), *dims.ep_mesh());
  EXPECT_EQ(lists(dims, "ep"), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(lists(dims, "dp_shard_mod_ep"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(lists(dims, "dp_shard_in_ep"), lists(dims, "ep"));
  // dp_shard on the EP mesh is both halves together: the same groups as on the plain mesh.
  EXPECT_EQ(lists(dims, "dp_shard"), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(lists(dims, "tp"), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
}

TEST(TorchtitanDims, ExpertParallelBorrowsTpWithEtp1) {
  // dp_shard=4, tp=2, ep=4, etp=1: ep = dp_shard_in_ep·tp, dp_shard_in_ep = 4/2 = 2, dp_shard_mod_ep = 8/4 = 2.
  const TorchtitanDims dims = torchtitan({.world = 8, .tp = 2, .ep = 4});
  EXPECT_EQ(dims.ep_mesh()->to_string().view(), "(dp_shard_mod_ep=2,dp_shard_in_ep=2,tp=2)");
  EXPECT_EQ(lists(dims, "ep"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(lists(dims, "dp_shard_mod_ep"), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  // EP takes all of dp_shard: dp_shard_mod_ep stays in the mesh at size 1.
  const TorchtitanDims all = torchtitan({.world = 4, .ep = 4});
  EXPECT_EQ(all.ep_mesh()->to_string().view(), "(dp_shard_mod_ep=1,dp_shard_in_ep=4)");
  EXPECT_EQ(lists(all, "ep"), (Lists{{0, 1, 2, 3}}));
  EXPECT_EQ(lists(all, "dp_shard_mod_ep"), singletons(4));
  // With cp: ep = dp_shard_in_ep·cp.
  const TorchtitanDims with_cp = torchtitan({.world = 8, .cp = 2, .ep = 4, .etp = 1});
  EXPECT_EQ(with_cp.ep_mesh()->to_string().view(), "(dp_shard_mod_ep=2,dp_shard_in_ep=2,cp=2)");
  EXPECT_EQ(lists(with_cp, "ep"), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
}

TEST(TorchtitanDims, Errors) {
  EXPECT_EQ(torchtitan_error({.world = 12, .tp = 8}),
            "world: dp_replicate·cp·tp·pp = 1·1·8·1 = 8 does not divide world 12, so dp_shard cannot be inferred");
  EXPECT_EQ(torchtitan_error({.world = 16, .dp_shard = 4, .tp = 2}),
            "world: dp_replicate·dp_shard·cp·tp·pp = 1·4·1·2·1 = 8 but world is 16");
  EXPECT_EQ(torchtitan_error({.world = 16, .dp_shard = 0}),
            "dp_shard: must be >= 1 (or -1 to infer it from the world size), got 0");
  EXPECT_EQ(torchtitan_error({.world = 16, .dp_shard = -2}),
            "dp_shard: must be >= 1 (or -1 to infer it from the world size), got -2");
  EXPECT_EQ(torchtitan_error({.world = 16, .dp_replicate = 0}), "dp_replicate: must be >= 1, got 0");
  EXPECT_EQ(torchtitan_error({.world = 16, .ep = 0}), "ep: must be >= 1, got 0");
  EXPECT_EQ(torchtitan_error({.world = -1}), "world: must be >= 1, got -1");
  EXPECT_EQ(torchtitan_error({.world = 16, .tp = Index{1} << 40, .pp = Index{1} << 40}),
            "pp: dp_replicate·cp·tp·pp = 1·1·1099511627776·1099511627776 overflows int64");
  EXPECT_EQ(torchtitan_error({.world = 8, .tp = 2, .etp = 3}),
            "etp: must be 1 or tp (2), got 3; torchtitan supports only these two");
  // etp = tp: ep must take all of cp and divide dp_shard·cp.
  EXPECT_EQ(torchtitan_error({.world = 8, .cp = 4, .ep = 2}),
            "ep: 2 is not a multiple of cp = 4: with etp = tp, EP borrows all of cp and part of dp_shard");
  EXPECT_EQ(torchtitan_error({.world = 8, .tp = 2, .ep = 3, .etp = 2}),
            "ep: 3 does not divide dp_shard·cp = 4·1 = 4, the ranks EP borrows from");
  EXPECT_EQ(torchtitan_error({.world = 16, .cp = 2, .ep = 32}),
            "ep: 32 does not divide dp_shard·cp = 8·2 = 16, the ranks EP borrows from");
  // etp = 1: ep must take all of cp·tp and divide dp_shard·cp·tp.
  EXPECT_EQ(torchtitan_error({.world = 8, .tp = 4, .ep = 2}),
            "ep: 2 is not a multiple of cp·tp = 1·4 = 4: with etp = 1, EP borrows all of cp and tp and part of "
            "dp_shard");
  EXPECT_EQ(torchtitan_error({.world = 8, .tp = 2, .ep = 6}),
            "ep: 6 does not divide dp_shard·cp·tp = 4·1·2 = 8, the ranks EP borrows from");
  // The passing side of the same rules.
  EXPECT_TRUE(TorchtitanDims::create({.world = 8, .tp = 4, .ep = 4}).ok());
  EXPECT_TRUE(TorchtitanDims::create({.world = 8, .tp = 2, .ep = 8}).ok());
  EXPECT_TRUE(TorchtitanDims::create({.world = 8, .cp = 2, .ep = 2, .etp = 1}).ok());
  EXPECT_TRUE(TorchtitanDims::create({.world = 16, .cp = 2, .ep = 16}).ok());
}

TEST(TorchtitanDims, NameErrors) {
  const TorchtitanDims dims = torchtitan({.world = 8, .tp = 2});
  EXPECT_EQ(token_error(dims, "dp_shard_mod_ep"),
            "token: 'dp_shard_mod_ep' exists only with ep > 1 (torchtitan splits dp_shard for EP)");
  EXPECT_EQ(token_error(dims, "fsdp"),
            "token: unknown name 'fsdp' (known: pp, dp_replicate, dp_shard, cp, tp, dp, dp_shard_cp, dp_cp, ep, "
            "dp_shard_mod_ep, dp_shard_in_ep)");
  EXPECT_EQ(token_error(dims, "dp-dp_shard"), "token: 'dp_shard' overlaps an earlier name in 'dp-dp_shard'");
  EXPECT_EQ(token_error(dims, "-tp"), "token: empty name in '-tp'");
}

TEST(TorchtitanDims, EveryDimOfSize1KeepsOneAxis) {
  const TorchtitanDims dims = torchtitan({.world = 1});
  EXPECT_EQ(dims.mesh().to_string().view(), "(dp_shard=1)");
  EXPECT_EQ(lists(dims, "dp"), (Lists{{0}}));
}

// ---------------------------------------------------------------------------------------------------------------
// Sequence length

TEST(SequenceLength, DivisorAndCheck) {
  EXPECT_EQ(sequence_length_divisor(2, 2).value(), 8);  // tp·cp·2
  EXPECT_EQ(sequence_length_divisor(2, 1).value(), 2);  // sequence parallel alone: tp
  EXPECT_EQ(sequence_length_divisor(1, 4).value(), 8);  // context parallel alone: 2·cp
  EXPECT_EQ(sequence_length_divisor(4, 2, false).value(), 4);
  EXPECT_EQ(sequence_length_divisor(0, 2).error().what(), "tp: must be >= 1, got 0");
  EXPECT_TRUE(check_sequence_length(4096, 8, 4).ok());
  EXPECT_EQ(check_sequence_length(4098, 2, 2).error().what(),
            "seq_len: 4098 is not a multiple of tp·cp·2 = 2·2·2 = 8 (sequence parallel splits it over tp, "
            "load-balanced context parallel into 2·cp chunks)");
  EXPECT_EQ(check_sequence_length(4098, 1, 4).error().what(),
            "seq_len: 4098 is not a multiple of cp·2 = 4·2 = 8 (load-balanced context parallel cuts it into 2·cp "
            "chunks)");
  EXPECT_EQ(check_sequence_length(4097, 2, 1).error().what(),
            "seq_len: 4097 is not a multiple of tp = 2 (sequence parallel splits it over tp)");
  EXPECT_EQ(check_sequence_length(0, 1, 1).error().what(), "seq_len: must be >= 1, got 0");
  EXPECT_EQ(check_sequence_length(4097, 2, 1).error().code, ErrorCode::not_divisible);
}

// ---------------------------------------------------------------------------------------------------------------
// Compile time: the validation and the layouts are constexpr.

constexpr MegatronGroups kSpec = MegatronGroups::create({.world = 16, .tp = 2, .pp = 2}).value();
static_assert(kSpec.sizes().dp == 4);
static_assert(kSpec.mesh().rank(Coord{1, 2, 0, 0, 1}).value() == 13);
static_assert(kSpec.dense().stride(MegatronDim::pp) == 8);
static_assert(MegatronGroups::create({.world = 12, .tp = 2, .dp = 4, .pp = 2}).error().field ==
              std::string_view("world"));
static_assert(MegatronGroups::create({.world = 16}, "tp-tp").error().code == ErrorCode::parse_error);
static_assert(TorchtitanDims::create({.world = 8, .tp = 2, .ep = 4}).value().dp_shard_in_ep() == 2);
static_assert(TorchtitanDims::create({.world = 8, .tp = 2, .ep = 3}).error().code == ErrorCode::not_divisible);
static_assert(check_sequence_length(8192, 4, 2).ok());

// ---------------------------------------------------------------------------------------------------------------
// Property test against two references

/// Megatron's generate_masked_orthogonal_rank_groups, line by line (parallel_size fastest first).
Lists megatron_reference(Index world, const Ranks& parallel_size, const std::vector<bool>& mask) {
  const auto prefix_product = [](const Ranks& a) {
    Ranks r{1};
    Index init = 1;
    for (const Index v : a) r.push_back(init *= v);
    return r;
  };
  const auto inner_product = [](const Ranks& a, const Ranks& b) {
    Index sum = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) sum += a[i] * b[i];
    return sum;
  };
  const auto decompose = [&](Index index, const Ranks& shape) {
    const Ranks stride = prefix_product(shape);
    Ranks idx;
    for (std::size_t i = 0; i < shape.size(); ++i) idx.push_back((index / stride[i]) % shape[i]);
    return idx;
  };
  Ranks masked_shape, unmasked_shape, masked_stride, unmasked_stride;
  const Ranks global_stride = prefix_product(parallel_size);
  for (std::size_t i = 0; i < parallel_size.size(); ++i) {
    (mask[i] ? masked_shape : unmasked_shape).push_back(parallel_size[i]);
    (mask[i] ? masked_stride : unmasked_stride).push_back(global_stride[i]);
  }
  const Index group_size = prefix_product(masked_shape).back();
  const Index num_of_group = world / group_size;
  Lists ranks;
  for (Index group_index = 0; group_index < num_of_group; ++group_index) {
    const Ranks decomposed_group_idx = decompose(group_index, unmasked_shape);
    Ranks rank;
    for (Index rank_in_group = 0; rank_in_group < group_size; ++rank_in_group) {
      const Ranks decomposed_rank_idx = decompose(rank_in_group, masked_shape);
      rank.push_back(inner_product(decomposed_rank_idx, masked_stride) +
                     inner_product(decomposed_group_idx, unmasked_stride));
    }
    ranks.push_back(rank);
  }
  return ranks;
}

/// Brute force: materialise the rank array (shape `sizes`, slowest first, filled like numpy's arange(world).reshape)
/// and collect, for every cell, the rank under the key "coordinates off the group dims". Groups come out sorted by
/// their first rank, each group increasing.
Lists brute_force_groups(const Ranks& sizes, const std::vector<bool>& in_group) {
  Index world = 1;
  for (const Index size : sizes) world *= size;
  std::vector<Index> array(static_cast<std::size_t>(world));
  for (Index i = 0; i < world; ++i) array[static_cast<std::size_t>(i)] = i;
  std::map<Ranks, Ranks> by_key;
  for (Index cell = 0; cell < world; ++cell) {
    Ranks coord(sizes.size());
    Index rest = cell;
    for (std::size_t d = sizes.size(); d-- > 0;) {
      coord[d] = rest % sizes[d];
      rest /= sizes[d];
    }
    Ranks key;
    for (std::size_t d = 0; d < sizes.size(); ++d) key.push_back(in_group[d] ? -1 : coord[d]);
    by_key[key].push_back(array[static_cast<std::size_t>(cell)]);
  }
  Lists groups;
  for (auto& [key, ranks] : by_key) {
    std::sort(ranks.begin(), ranks.end());
    groups.push_back(ranks);
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

/// Every rank in exactly one group, all groups of `size` ranks, each increasing, groups ordered by first rank.
void expect_partition(const Lists& groups, Index world, Index size, const std::string& what) {
  std::vector<int> seen(static_cast<std::size_t>(world), 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ASSERT_EQ(static_cast<Index>(groups[g].size()), size) << what;
    EXPECT_TRUE(std::is_sorted(groups[g].begin(), groups[g].end())) << what;
    if (g > 0) {
      EXPECT_LT(groups[g - 1].front(), groups[g].front()) << what;
    }
    for (const Index rank : groups[g]) {
      ASSERT_TRUE(rank >= 0 && rank < world) << what;
      ++seen[static_cast<std::size_t>(rank)];
    }
  }
  EXPECT_EQ(static_cast<Index>(groups.size()) * size, world) << what;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), world) << what;
}

/// A size from {1, 2, 3, 4}, mostly 1 and 2.
Index small_size(Random& random) {
  constexpr Index kSizes[] = {1, 1, 1, 2, 2, 2, 3, 4};
  return kSizes[random.index(std::size(kSizes))];
}

TEST(RankGroupsProperty, MegatronMatchesReferences) {
  Random random(20240611);
  int valid_configs = 0;
  int checked = 0;
  int errors_checked = 0;
  for (int iteration = 0; iteration < 8000; ++iteration) {
    MegatronSizes sizes{
        .tp = small_size(random), .cp = small_size(random), .ep = small_size(random), .pp = small_size(random)};
    sizes.dp = small_size(random);
    sizes.world = sizes.tp * sizes.cp * sizes.dp * sizes.pp;
    sizes.etp = random.percent(80) ? kInferSize : small_size(random);
    if (random.percent(50)) sizes.dp = kInferSize;
    // A random order of all five names, then drop some of those of size 1.
    std::vector<MegatronDim> order{MegatronDim::tp, MegatronDim::cp, MegatronDim::ep, MegatronDim::dp, MegatronDim::pp};
    random.shuffle(order);
    std::string order_text;
    std::vector<MegatronDim> given;
    for (const MegatronDim dim : order) {
      if (random.percent(10)) continue;
      if (!order_text.empty()) order_text += '-';
      order_text += to_string(dim);
      given.push_back(dim);
    }
    if (given.empty()) {
      order_text = "tp";
      given.push_back(MegatronDim::tp);
    }
    const auto created = MegatronGroups::create(sizes, order_text);

    // Whether it should be valid, judged from the rules directly.
    const Index dp = sizes.world / (sizes.tp * sizes.cp * sizes.pp);
    const Index etp = sizes.etp == kInferSize ? sizes.tp : sizes.etp;
    const bool expert_divides = sizes.world % (etp * sizes.ep * sizes.pp) == 0;
    const Index edp = expert_divides ? sizes.world / (etp * sizes.ep * sizes.pp) : 0;
    const Index dense_size[] = {sizes.tp, sizes.cp, 1, dp, sizes.pp};
    const Index expert_size[] = {etp, 1, sizes.ep, edp, sizes.pp};
    bool names_ok = true;
    std::vector<MegatronDim> full = given;
    for (const MegatronDim dim :
         {MegatronDim::tp, MegatronDim::pp, MegatronDim::dp, MegatronDim::ep, MegatronDim::cp}) {
      if (std::find(given.begin(), given.end(), dim) != given.end()) continue;
      full.push_back(dim);
      const auto d = static_cast<std::size_t>(dim);
      if (dense_size[d] != 1 || (expert_divides && expert_size[d] != 1)) names_ok = false;
    }
    const auto stride = [&](const Index* size_of, MegatronDim dim) {
      Index s = 1;
      for (const MegatronDim faster : full) {
        if (faster == dim) break;
        s *= size_of[static_cast<std::size_t>(faster)];
      }
      return s;
    };
    const bool pp_ok = sizes.pp == 1 || ((given.back() == MegatronDim::pp || edp == dp) &&
                                         stride(dense_size, MegatronDim::pp) == stride(expert_size, MegatronDim::pp));
    const bool valid = expert_divides && names_ok && pp_ok;
    ASSERT_EQ(created.ok(), valid) << order_text << " tp=" << sizes.tp << " cp=" << sizes.cp << " ep=" << sizes.ep
                                   << " pp=" << sizes.pp << " etp=" << etp << " world=" << sizes.world << ": "
                                   << (created.ok() ? "" : created.error().what());
    if (!valid) {
      ++errors_checked;
      continue;
    }
    ++valid_configs;
    const MegatronGroups& groups = *created;
    ASSERT_EQ(groups.sizes().dp, dp);
    ASSERT_EQ(groups.expert_dp(), edp);
    ASSERT_EQ(groups.order().size(), 5U);

    // A random token of each layout.
    for (const bool expert : {false, true}) {
      const Index* size_of = expert ? expert_size : dense_size;
      std::vector<bool> mask(5);
      std::string token;
      bool names_expert_dim = false;
      for (std::size_t i = 0; i < 5; ++i) {
        const MegatronDim dim = full[i];
        if ((expert ? dim == MegatronDim::cp : dim == MegatronDim::ep) || !random.percent(40)) continue;
        mask[i] = true;
        if (!token.empty()) token += '-';
        if (expert && dim == MegatronDim::tp) {
          token += "etp";
        } else if (expert && dim == MegatronDim::dp) {
          token += "edp";
        } else {
          token += to_string(dim);
        }
        names_expert_dim = names_expert_dim || (expert && dim != MegatronDim::pp);
      }
      // "pp" alone resolves to the dense layout; both layouts have the same pp groups (checked when valid).
      if (token.empty() || (expert && !names_expert_dim && token != "pp")) continue;
      Ranks parallel_size;
      for (const MegatronDim dim : full) parallel_size.push_back(size_of[static_cast<std::size_t>(dim)]);
      const std::string what = order_text + " " + (expert ? "expert " : "dense ") + token;
      const auto result = groups.groups(token);
      ASSERT_TRUE(result.ok()) << what << ": " << result.error().what();
      const Lists actual = result->to_lists();
      EXPECT_EQ(actual, megatron_reference(sizes.world, parallel_size, mask)) << what;
      // Brute force over the array of shape (sizes reversed: slowest first).
      const Ranks reversed(parallel_size.rbegin(), parallel_size.rend());
      const std::vector<bool> reversed_mask(mask.rbegin(), mask.rend());
      EXPECT_EQ(actual, brute_force_groups(reversed, reversed_mask)) << what;
      Index group_size = 1;
      for (std::size_t i = 0; i < 5; ++i) group_size *= mask[i] ? parallel_size[i] : 1;
      expect_partition(actual, sizes.world, group_size, what);
      // One rank's group, its index, and Mesh::group agree with the full list.
      const Index rank = random.uniform(0, sizes.world - 1);
      const GroupAxes axes = groups.axes(token).value();
      const Index index = axes.group_index(rank).value();
      ASSERT_LT(index, static_cast<Index>(actual.size())) << what;
      EXPECT_EQ(groups.group(rank, token).value(), actual[static_cast<std::size_t>(index)]) << what;
      EXPECT_EQ(axes.mesh.group(rank, axes.axes).value(), actual[static_cast<std::size_t>(index)]) << what;
      ++checked;
    }
  }
  // The generator must produce plenty of both outcomes for the test to mean anything (2742 / 4774 / 5258 now).
  EXPECT_GT(valid_configs, 2500);
  EXPECT_GT(checked, 4000);
  EXPECT_GT(errors_checked, 4000);
}

TEST(RankGroupsProperty, TorchtitanMatchesBruteForce) {
  Random random(77);
  int checked = 0;
  int errors_checked = 0;
  const std::vector<std::string> names{
      "pp", "dp_replicate",    "dp_shard",      "cp", "tp", "dp", "dp_shard_cp", "dp_cp",
      "ep", "dp_shard_mod_ep", "dp_shard_in_ep"};
  for (int iteration = 0; iteration < 6000; ++iteration) {
    TorchtitanSizes sizes{.dp_replicate = small_size(random),
                          .dp_shard = small_size(random),
                          .cp = small_size(random),
                          .tp = small_size(random),
                          .pp = small_size(random)};
    sizes.world = sizes.dp_replicate * sizes.dp_shard * sizes.cp * sizes.tp * sizes.pp;
    constexpr Index kEp[] = {1, 1, 2, 2, 3, 4, 6, 8};
    sizes.ep = kEp[random.index(std::size(kEp))];
    sizes.etp = random.percent(50) ? 1 : sizes.tp;
    const Index dp_shard = sizes.dp_shard;
    if (random.percent(50)) sizes.dp_shard = kInferSize;
    const auto created = TorchtitanDims::create(sizes);
    const Index whole = sizes.cp * (sizes.etp == 1 ? sizes.tp : 1);
    const bool valid = sizes.ep == 1 || (sizes.ep % whole == 0 && (dp_shard * whole) % sizes.ep == 0);
    ASSERT_EQ(created.ok(), valid) << "ep=" << sizes.ep << " etp=" << sizes.etp << " tp=" << sizes.tp
                                   << " cp=" << sizes.cp << " dp_shard=" << dp_shard << ": "
                                   << (created.ok() ? "" : created.error().what());
    if (!valid) {
      ++errors_checked;
      continue;
    }
    const TorchtitanDims& dims = *created;
    ASSERT_EQ(dims.sizes().dp_shard, dp_shard);
    const bool ep = sizes.ep > 1;
    const Index in_ep = ep ? sizes.ep / whole : 1;
    // Logical coordinates of every rank (pp, dp_replicate, dp_shard_mod_ep, dp_shard_in_ep, cp, tp), row-major.
    const Ranks shape{sizes.pp, sizes.dp_replicate, dp_shard / in_ep, in_ep, sizes.cp, sizes.tp};
    enum { kPp, kDpr, kMod, kIn, kCp, kTp };
    std::map<std::string, std::vector<int>> dims_of{
        {"pp", {kPp}},
        {"dp_replicate", {kDpr}},
        {"dp_shard", {kMod, kIn}},
        {"cp", {kCp}},
        {"tp", {kTp}},
        {"dp", {kDpr, kMod, kIn}},
        {"dp_shard_cp", {kMod, kIn, kCp}},
        {"dp_cp", {kDpr, kMod, kIn, kCp}},
        {"ep",
         ep ? (sizes.etp == 1 ? std::vector<int>{kIn, kCp, kTp} : std::vector<int>{kIn, kCp}) : std::vector<int>{}},
        {"dp_shard_mod_ep", {kMod}},
        {"dp_shard_in_ep", {kIn}},
    };
    const std::string& name = names[random.index(ep ? names.size() : names.size() - 2)];
    std::vector<bool> in_group(6);
    Index group_size = 1;
    for (const int d : dims_of[name]) {
      in_group[static_cast<std::size_t>(d)] = true;
      group_size *= shape[static_cast<std::size_t>(d)];
    }
    const auto result = dims.groups(name);
    ASSERT_TRUE(result.ok()) << name << ": " << result.error().what();
    const Lists actual = result->to_lists();
    EXPECT_EQ(actual, brute_force_groups(shape, in_group)) << name;
    expect_partition(actual, sizes.world, group_size, name);
    // The meshes: named axes of size > 1 in torchtitan's order (dp_shard_mod_ep kept on the EP mesh).
    std::string expected_mesh = "(";
    const auto add_axis = [&](std::string_view axis, Index size, bool keep) {
      if (size == 1 && !keep) return;
      if (expected_mesh.size() > 1) expected_mesh += ',';
      expected_mesh += axis;
      expected_mesh += '=';
      expected_mesh += std::to_string(size);
    };
    add_axis("pp", sizes.pp, false);
    add_axis("dp_replicate", sizes.dp_replicate, false);
    add_axis("dp_shard", dp_shard, false);
    add_axis("cp", sizes.cp, false);
    add_axis("tp", sizes.tp, false);
    if (expected_mesh == "(") expected_mesh += "dp_shard=1";
    EXPECT_EQ(dims.mesh().to_string().str(), expected_mesh + ")");
    EXPECT_EQ(dims.ep_mesh().has_value(), ep);
    ++checked;
  }
  EXPECT_GT(checked, 2500);  // 2842 valid and 3158 refused configurations now
  EXPECT_GT(errors_checked, 2500);
}

}  // namespace
}  // namespace shardplan
