// End-to-end tests of `shardplan groups`: exact JSON and text for small cases, the torchtitan style, --groups,
// --rank, --seq-len, and every input error (exit 2, one line naming the flag, nothing on stdout).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

using Lists = std::vector<std::vector<std::int64_t>>;

Lists lists(const Json& json) {
  Lists out;
  for (const Json& group : json.array) out.push_back(group.ints());
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Megatron (default style)

TEST_F(Cli, GroupsSpecExampleJsonIsExact) {
  EXPECT_EQ(run_ok({"groups", "--world", "16", "--tp", "2", "--pp", "2", "--json"}),
            R"j({"order":"tp-cp-ep-dp-pp","style":"megatron","world":16,)j"
            R"j("sizes":{"tp":2,"cp":1,"ep":1,"dp":4,"pp":2,"etp":2,"edp":4},)j"
            R"j("mesh":[2,4,1,1,2],"mesh_names":["pp","dp","ep","cp","tp"],)j"
            R"j("expert_mesh":[2,4,1,1,2],"expert_mesh_names":["pp","dp","ep","cp","tp"],)j"
            R"j("groups":{"tp":[[0,1],[2,3],[4,5],[6,7],[8,9],[10,11],[12,13],[14,15]],)j"
            R"j("dp":[[0,2,4,6],[1,3,5,7],[8,10,12,14],[9,11,13,15]],)j"
            R"j("pp":[[0,8],[1,9],[2,10],[3,11],[4,12],[5,13],[6,14],[7,15]]}})j"
            "\n");
  // An explicit --dp, --order and --etp that equal the defaults change nothing.
  EXPECT_EQ(
      run_ok({"groups", "--world=16", "--tp=2", "--pp=2", "--dp=4", "--order=tp-cp-ep-dp-pp", "--etp=2", "--json"}),
      run_ok({"groups", "--world", "16", "--tp", "2", "--pp", "2", "--json"}));
}

TEST_F(Cli, GroupsTextIsExact) {
  EXPECT_EQ(run_ok({"groups", "--world", "4", "--tp", "2"}),
            "megatron order tp-cp-ep-dp-pp, world 4\n"
            "sizes  tp=2 cp=1 ep=1 dp=2 pp=1  expert: etp=2 edp=2\n"
            "mesh (pp=1,dp=2,ep=1,cp=1,tp=2)  expert mesh (pp=1,dp=2,ep=1,cp=1,tp=2)\n"
            "\n"
            "tp: 2 groups of 2 ranks\n"
            "group  ranks\n"
            "    0  0 1\n"
            "    1  2 3\n"
            "\n"
            "dp: 2 groups of 2 ranks\n"
            "group  ranks\n"
            "    0  0 2\n"
            "    1  1 3\n");
  EXPECT_EQ(run_ok({"groups", "--world", "1"}),
            "megatron order tp-cp-ep-dp-pp, world 1\n"
            "sizes  tp=1 cp=1 ep=1 dp=1 pp=1  expert: etp=1 edp=1\n"
            "mesh (pp=1,dp=1,ep=1,cp=1,tp=1)  expert mesh (pp=1,dp=1,ep=1,cp=1,tp=1)\n"
            "\n"
            "every dim has size 1: each rank is its own group\n");
}

TEST_F(Cli, GroupsContextAndExpertParallel) {
  // World 16, tp=2, cp=2, ep=2, pp=2: dp = 2, edp = 2; ep comes from the expert layout, then etp and edp.
  const Json json = run_json({"groups", "--world", "16", "--tp", "2", "--cp", "2", "--ep", "2", "--pp", "2"});
  EXPECT_EQ(json["sizes"]["dp"].number, 2);
  EXPECT_EQ(json["sizes"]["edp"].number, 2);
  const Json& groups = json["groups"];
  EXPECT_EQ(groups.keys, (std::vector<std::string>{"tp", "cp", "ep", "dp", "pp", "etp", "edp"}));
  EXPECT_EQ(lists(groups["cp"]), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15}}));
  EXPECT_EQ(lists(groups["dp"]), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}}));
  EXPECT_EQ(lists(groups["ep"]), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15}}));
  EXPECT_EQ(lists(groups["edp"]), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}}));
  EXPECT_EQ(json["expert_mesh"].ints(), (std::vector<std::int64_t>{2, 2, 2, 1, 2}));
}

TEST_F(Cli, GroupsExpertWithEtp1AndCustomTokens) {
  const Json json = run_json(
      {"groups", "--world", "8", "--tp", "2", "--ep", "2", "--etp", "1", "--groups", "ep,edp,etp-ep,tp-dp,pp"});
  const Json& groups = json["groups"];
  EXPECT_EQ(groups.keys, (std::vector<std::string>{"ep", "edp", "etp-ep", "tp-dp", "pp"}));
  EXPECT_EQ(lists(groups["ep"]), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(lists(groups["edp"]), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(lists(groups["etp-ep"]), (Lists{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(lists(groups["tp-dp"]), (Lists{{0, 1, 2, 3, 4, 5, 6, 7}}));
  EXPECT_EQ(lists(groups["pp"]), (Lists{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}}));
}

TEST_F(Cli, GroupsCustomOrder) {
  const Json json = run_json({"groups", "--world", "8", "--tp", "2", "--pp", "2", "--order", "tp-pp-dp"});
  EXPECT_EQ(json["order"].string, "tp-pp-dp-ep-cp");
  EXPECT_EQ(json["mesh_names"][0].string, "cp");
  EXPECT_EQ(lists(json["groups"]["pp"]), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(lists(json["groups"]["dp"]), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(json["groups"].keys, (std::vector<std::string>{"tp", "pp", "dp"}));
}

TEST_F(Cli, GroupsRankShowsOneGroupOfEachKind) {
  EXPECT_EQ(
      run_ok({"groups", "--world", "16", "--tp", "2", "--pp", "2", "--rank", "5", "--groups", "tp,dp,tp-pp", "--json"}),
      R"j({"order":"tp-cp-ep-dp-pp","style":"megatron","world":16,)j"
      R"j("sizes":{"tp":2,"cp":1,"ep":1,"dp":4,"pp":2,"etp":2,"edp":4},)j"
      R"j("mesh":[2,4,1,1,2],"mesh_names":["pp","dp","ep","cp","tp"],)j"
      R"j("expert_mesh":[2,4,1,1,2],"expert_mesh_names":["pp","dp","ep","cp","tp"],)j"
      R"j("rank":5,"groups":{"tp":[[4,5]],"dp":[[1,3,5,7]],"tp-pp":[[4,5,12,13]]},)j"
      R"j("group_index":{"tp":2,"dp":1,"tp-pp":2}})j"
      "\n");
  const std::string text =
      run_ok({"groups", "--world", "16", "--tp", "2", "--pp", "2", "--rank", "13", "--groups", "dp"});
  EXPECT_NE(text.find("dp: 4 groups of 4 ranks, the one holding rank 13\ngroup  ranks\n    3  9 11 13 15\n"),
            std::string::npos)
      << text;
  // --rank lists one group even when the whole world is too large to list.
  const Json big = run_json(
      {"groups", "--world", "8589934592", "--tp", "8", "--pp", "16", "--rank", "123456789", "--groups", "tp,pp"});
  EXPECT_EQ(lists(big["groups"]["tp"]),
            (Lists{{123456784, 123456785, 123456786, 123456787, 123456788, 123456789, 123456790, 123456791}}));
  EXPECT_EQ(big["groups"]["pp"][0][1].number, 123456789 + 536870912);
  EXPECT_EQ(big["group_index"]["tp"].number, 123456789 / 8);
}

TEST_F(Cli, GroupsSeqLen) {
  const Json json = run_json({"groups", "--world", "8", "--tp", "2", "--cp", "2", "--seq-len", "4096"});
  EXPECT_EQ(json["seq_len"].number, 4096);
  EXPECT_EQ(json["seq_len_divisor"].number, 8);
  const std::string error =
      expect_input_error({"groups", "--world", "8", "--tp", "2", "--cp", "2", "--seq-len", "4100"}, "--seq-len");
  EXPECT_EQ(error,
            "shardplan: --seq-len: 4100 is not a multiple of tp·cp·2 = 2·2·2 = 8 (sequence parallel splits it over tp, "
            "load-balanced context parallel into 2·cp chunks)\n");
  expect_input_error({"groups", "--world", "8", "--seq-len", "0"}, "--seq-len");
}

// ---------------------------------------------------------------------------------------------------------------
// torchtitan

TEST_F(Cli, GroupsTorchtitanInfersDpShard) {
  const Json json = run_json({"groups", "--style", "torchtitan", "--world", "16", "--tp", "2", "--pp", "2"});
  EXPECT_EQ(json["style"].string, "torchtitan");
  EXPECT_FALSE(json.has("order"));
  EXPECT_FALSE(json.has("ep_mesh"));
  EXPECT_EQ(json["sizes"]["dp_shard"].number, 4);
  EXPECT_EQ(json["mesh"].ints(), (std::vector<std::int64_t>{2, 4, 2}));
  EXPECT_EQ(json["mesh_names"][1].string, "dp_shard");
  // dp, dp_shard_cp and dp_cp stand for the same axis as dp_shard here: listed once.
  EXPECT_EQ(json["groups"].keys, (std::vector<std::string>{"pp", "dp_shard", "tp"}));
  EXPECT_EQ(lists(json["groups"]["dp_shard"]), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}, {8, 10, 12, 14}, {9, 11, 13, 15}}));
}

TEST_F(Cli, GroupsTorchtitanExpertParallelJsonIsExact) {
  EXPECT_EQ(run_ok({"groups", "--style", "torchtitan", "--world", "8", "--tp", "2", "--ep", "4", "--json"}),
            R"j({"style":"torchtitan","world":8,)j"
            R"j("sizes":{"dp_replicate":1,"dp_shard":4,"cp":1,"tp":2,"pp":1,"ep":4,"etp":1,)j"
            R"j("dp_shard_mod_ep":2,"dp_shard_in_ep":2},)j"
            R"j("mesh":[4,2],"mesh_names":["dp_shard","tp"],)j"
            R"j("ep_mesh":[2,2,2],"ep_mesh_names":["dp_shard_mod_ep","dp_shard_in_ep","tp"],)j"
            R"j("groups":{"dp_shard":[[0,2,4,6],[1,3,5,7]],"tp":[[0,1],[2,3],[4,5],[6,7]],)j"
            R"j("ep":[[0,1,2,3],[4,5,6,7]],"dp_shard_mod_ep":[[0,4],[1,5],[2,6],[3,7]],)j"
            R"j("dp_shard_in_ep":[[0,2],[1,3],[4,6],[5,7]]}})j"
            "\n");
}

TEST_F(Cli, GroupsTorchtitanHsdpAndFlattenedNames) {
  const Json json = run_json({"groups", "--style", "torchtitan", "--world", "8", "--dp-replicate", "2", "--dp-shard",
                              "2", "--cp", "2", "--groups", "dp,dp_shard_cp,dp_cp,dp_replicate"});
  EXPECT_EQ(lists(json["groups"]["dp"]), (Lists{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(lists(json["groups"]["dp_shard_cp"]), (Lists{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(lists(json["groups"]["dp_cp"]), (Lists{{0, 1, 2, 3, 4, 5, 6, 7}}));
  EXPECT_EQ(lists(json["groups"]["dp_replicate"]), (Lists{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

TEST_F(Cli, GroupsProductMustEqualWorld) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "12", "--tp", "2", "--pp", "2", "--dp", "4"}, "--world"),
            "shardplan: --world: tp·cp·dp·pp = 2·1·4·2 = 16 but world is 12\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "12", "--tp", "8"}, "--world"),
            "shardplan: --world: tp·cp·pp = 8·1·1 = 8 does not divide world 12, so dp cannot be inferred\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--tp", "2", "--ep", "3"}, "--ep"),
            "shardplan: --ep: etp·ep·pp = 2·3·1 = 6 does not divide world 16, so edp (the expert data-parallel size) "
            "cannot be inferred\n");
  expect_input_error({"groups", "--world", "16", "--etp", "3"}, "--etp");
  EXPECT_EQ(expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--dp-shard", "4", "--tp", "2"},
                               "--world"),
            "shardplan: --world: dp_replicate·dp_shard·cp·tp·pp = 1·4·1·2·1 = 8 but world is 16\n");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "12", "--tp", "8"}, "--world");
}

TEST_F(Cli, GroupsOrderErrors) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--order", "tp-xp-dp"}, "--order"),
            "shardplan: --order: unknown name 'xp' in 'tp-xp-dp' (known: tp, cp, ep, dp, pp; lower-case, as Megatron-LM "
            "requires)\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--order", "tp-dp-tp"}, "--order"),
            "shardplan: --order: 'tp' appears twice in 'tp-dp-tp'\n");
  expect_input_error({"groups", "--world", "16", "--order", "tp--dp"}, "--order");
  expect_input_error({"groups", "--world", "16", "--order", ""}, "--order");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--cp", "2", "--order", "tp-dp-pp"}, "--order"),
            "shardplan: --order: 'tp-dp-pp' leaves out cp, whose size is 2 (only dims of size 1 may be left out)\n");
  expect_input_error({"groups", "--world", "16", "--pp", "2", "--ep", "2", "--order", "tp-cp-ep-pp-dp"}, "--order");
}

TEST_F(Cli, GroupsSizesMustBePositive) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--tp", "0"}, "--tp"),
            "shardplan: --tp: must be >= 1, got 0\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--pp", "-2"}, "--pp"),
            "shardplan: --pp: must be >= 1, got -2\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--dp", "0"}, "--dp"),
            "shardplan: --dp: must be >= 1 (or -1 to infer it from the world size), got 0\n");
  expect_input_error({"groups", "--world", "16", "--cp", "0"}, "--cp");
  expect_input_error({"groups", "--world", "16", "--ep", "-1"}, "--ep");
  expect_input_error({"groups", "--world", "0"}, "--world");
  expect_input_error({"groups", "--world", "-16"}, "--world");
  expect_input_error({"groups", "--world", "16", "--tp", "two"}, "--tp");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--dp-shard", "0"}, "--dp-shard");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--dp-replicate", "-1"}, "--dp-replicate");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--etp", "0"}, "--etp");
}

TEST_F(Cli, GroupsOverflow) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--tp", "4294967296", "--pp", "4294967296"}, "--pp"),
            "shardplan: --pp: tp·cp·pp = 4294967296·1·4294967296 overflows int64\n");
  expect_input_error({"groups", "--world", "16", "--tp", "4294967296", "--dp", "4294967296"}, "--dp");
  expect_input_error({"groups", "--world", "99999999999999999999"}, "--world");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--tp", "4294967296", "--cp", "4294967296"},
                     "--tp");
}

TEST_F(Cli, GroupsTorchtitanExpertRules) {
  EXPECT_EQ(expect_input_error({"groups", "--style", "torchtitan", "--world", "8", "--tp", "2", "--ep", "3"}, "--ep"),
            "shardplan: --ep: 3 is not a multiple of cp·tp = 1·2 = 2: with etp = 1, EP borrows all of cp and tp and "
            "part of dp_shard\n");
  EXPECT_EQ(expect_input_error(
                {"groups", "--style", "torchtitan", "--world", "8", "--tp", "2", "--ep", "3", "--etp", "2"}, "--ep"),
            "shardplan: --ep: 3 does not divide dp_shard·cp = 4·1 = 4, the ranks EP borrows from\n");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "8", "--cp", "4", "--ep", "2"}, "--ep");
  EXPECT_EQ(expect_input_error({"groups", "--style", "torchtitan", "--world", "8", "--tp", "2", "--etp", "4"}, "--etp"),
            "shardplan: --etp: must be 1 or tp (2), got 4; torchtitan supports only these two\n");
}

TEST_F(Cli, GroupsFlagErrors) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--groups", "tp,xx"}, "--groups"),
            "shardplan: --groups: unknown name 'xx' (known: tp, cp, ep, dp, pp, etp, edp)\n");
  expect_input_error({"groups", "--world", "16", "--groups", "tp,tp"}, "--groups");
  expect_input_error({"groups", "--world", "16", "--groups", "tp,,dp"}, "--groups");
  expect_input_error({"groups", "--world", "16", "--groups", "tp-ep"}, "--groups");
  expect_input_error({"groups", "--world", "16", "--groups", "tp-tp"}, "--groups");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--groups", "dp_shard_mod_ep"}, "--groups");
  EXPECT_EQ(expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--groups", "tp-fsdp"}, "--groups"),
            "shardplan: --groups: unknown name 'fsdp' in 'tp-fsdp' (known: pp, dp_replicate, dp_shard, cp, tp, dp, "
            "dp_shard_cp, dp_cp, ep, dp_shard_mod_ep, dp_shard_in_ep)\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "16", "--rank", "16"}, "--rank"),
            "shardplan: --rank: rank 16 is outside a world of 16 ranks (valid: 0..15)\n");
  expect_input_error({"groups", "--world", "16", "--rank", "-1"}, "--rank");
  expect_input_error({"groups", "--world", "16", "--style", "deepspeed"}, "--style");
  expect_input_error({"groups", "--world", "16", "--dp-shard", "2"}, "--dp-shard");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--dp", "2"}, "--dp");
  expect_input_error({"groups", "--style", "torchtitan", "--world", "16", "--order", "tp-dp"}, "--order");
  expect_input_error({"groups", "--tp", "2"}, "--world");
  expect_input_error({"groups", "--world", "16", "--tp", "2", "--tp", "2"}, "--tp");
  expect_input_error({"groups", "--world", "16", "--bogus", "1"}, "--bogus");
}

TEST_F(Cli, GroupsRefusesToListHugeWorlds) {
  EXPECT_EQ(expect_input_error({"groups", "--world", "4194304"}, "--world"),
            "shardplan: --world: 4194304 ranks are too many to list (at most 1048576); pick one with --rank\n");
  EXPECT_EQ(expect_input_error({"groups", "--world", "4194304", "--rank", "3"}, "--world"),
            "shardplan: --world: 4194304 ranks are too many to list (at most 1048576): a dp group is that large\n");
}

TEST_F(Cli, GroupsHelp) {
  const std::string help = run_ok({"groups", "--help"});
  EXPECT_TRUE(help.starts_with("usage: shardplan groups --world N [--style STYLE]")) << help;
  EXPECT_NE(run_ok({"--help"}).find("\n  groups "), std::string::npos);
}

}  // namespace
