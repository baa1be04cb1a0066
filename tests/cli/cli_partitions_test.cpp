// End-to-end tests of `shardplan vocab`, `shardplan experts` and `shardplan layers`: exact JSON for small cases,
// the framework examples through the JSON parser, readable output, help, and every bad input (exit 2, nothing on
// stdout, one line on stderr naming the flag).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

using Ints = std::vector<std::int64_t>;
using Intervals = std::vector<std::pair<std::int64_t, std::int64_t>>;

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ===============================================================================================================
// vocab

const std::vector<std::string> kVllmExample = {"vocab", "--vocab", "1010",  "--added", "16",
                                               "--tp",  "2",       "--pad", "vllm"};

TEST_F(Cli, VocabVllmExampleJsonIsExact) {
  EXPECT_EQ(run_ok(with(kVllmExample, {"--json"})),
            R"j({"vocab":1010,"added":16,"tp":2,"pad":"vllm","pad_to":64,"padded_vocab":1088,"rows_per_rank":544,)j"
            R"j("padding_rows":62,"padded_original":1024,"padded_added":64,"ranks":[)j"
            R"j({"rank":0,"tokens":[[0,512],[1010,1026]],"padding_rows":16,"padding":[[528,544]]},)j"
            R"j({"rank":1,"tokens":[[512,1010]],"padding_rows":46,"padding":[[498,544]]}]})j"
            "\n");
}

TEST_F(Cli, VocabNoneJsonIsExact) {
  EXPECT_EQ(run_ok({"vocab", "--vocab", "10", "--tp", "2", "--pad", "none", "--json"}),
            R"j({"vocab":10,"added":0,"tp":2,"pad":"none","pad_to":null,"padded_vocab":10,"rows_per_rank":5,)j"
            R"j("padding_rows":0,"ranks":[{"rank":0,"tokens":[[0,5]],"padding_rows":0,"padding":[]},)j"
            R"j({"rank":1,"tokens":[[5,10]],"padding_rows":0,"padding":[]}]})j"
            "\n");
}

TEST_F(Cli, VocabMegatronAtTp8) {
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"128256", 129024}, {"151936", 152576}, {"32000", 32768}};
  for (const auto& [vocab, padded] : cases) {
    SCOPED_TRACE(vocab);
    const Json json = run_json({"vocab", "--vocab", vocab, "--tp", "8", "--pad", "megatron"});
    EXPECT_EQ(json["padded_vocab"].number, padded);
    EXPECT_EQ(json["rows_per_rank"].number, padded / 8);
    EXPECT_EQ(json["pad_to"].number, 128);
    EXPECT_FALSE(json.has("padded_original"));
    ASSERT_EQ(json["ranks"].array.size(), 8u);
    // The padding sits at the end of the last rank; the others are all tokens.
    for (std::size_t r = 0; r < 7; ++r) EXPECT_EQ(json["ranks"][r]["padding_rows"].number, 0) << r;
    const std::int64_t real = std::stoll(vocab);
    const std::int64_t per = padded / 8;
    EXPECT_EQ(json["ranks"][7]["tokens"].intervals(), (Intervals{{7 * per, real}}));
    EXPECT_EQ(json["ranks"][7]["padding"].intervals(), (Intervals{{real - 7 * per, per}}));
    EXPECT_EQ(json["padding_rows"].number, padded - real);
  }
  // --pad-to sets make_vocab_size_divisible_by.
  EXPECT_EQ(run_json({"vocab", "--vocab", "128256", "--tp", "8", "--pad", "megatron", "--pad-to", "64"})["padded_vocab"]
                .number,
            128512);
}

TEST_F(Cli, VocabRankSelectsOneRank) {
  const Json json = run_json(with(kVllmExample, {"--rank", "1"}));
  ASSERT_EQ(json["ranks"].array.size(), 1u);
  EXPECT_EQ(json["ranks"][0]["rank"].number, 1);
  EXPECT_EQ(json["ranks"][0]["tokens"].intervals(), (Intervals{{512, 1010}}));
  EXPECT_EQ(json["padded_vocab"].number, 1088);
}

TEST_F(Cli, VocabReadable) {
  EXPECT_EQ(run_ok(kVllmExample),
            "vocab 1010 + 16 added  tp 2  pad vllm (each part to a multiple of 64)\n"
            "1088 rows = 1024 original + 64 added, 544 per rank, 62 padding rows\n"
            "\n"
            "rank  tokens               real  padding  padding_rows\n"
            "   0  [0,512)U[1010,1026)  528   16       [528,544)\n"
            "   1  [512,1010)           498   46       [498,544)\n");
  const std::string megatron = run_ok({"vocab", "--vocab", "100", "--tp", "4", "--pad", "megatron"});
  EXPECT_TRUE(
      megatron.starts_with("vocab 100  tp 4  pad megatron (to a multiple of 128 x tp = 512)\n"
                           "512 rows, 128 per rank, 412 padding rows\n"))
      << megatron;
  EXPECT_TRUE(contains(megatron, "   1  {}       0     128      [0,128)\n")) << megatron;
}

TEST_F(Cli, VocabErrors) {
  // vLLM at TP=6: the padded vocabulary does not divide; the rule is blamed, with the numbers.
  const std::string tp6 = expect_input_error({"vocab", "--vocab", "151552", "--tp", "6", "--pad", "vllm"}, "--pad");
  EXPECT_TRUE(contains(tp6, "151552 is not divisible by 6")) << tp6;
  EXPECT_TRUE(contains(tp6, "vllm")) << tp6;
  EXPECT_TRUE(contains(tp6, "64")) << tp6;
  const std::string none =
      expect_input_error({"vocab", "--vocab", "1010", "--added", "16", "--tp", "4", "--pad", "none"}, "--pad");
  EXPECT_TRUE(contains(none, "1026 is not divisible by 4")) << none;

  const std::vector<std::string> base = {"vocab", "--tp", "2", "--pad", "vllm", "--vocab"};
  EXPECT_TRUE(contains(expect_input_error(with(base, {"0"}), "--vocab"), "must be >= 1, got 0"));
  expect_input_error(with(base, {"-3"}), "--vocab");
  expect_input_error(with(base, {"12x"}), "--vocab");
  expect_input_error(with(base, {""}), "--vocab");
  EXPECT_TRUE(contains(expect_input_error(with(base, {"9223372036854775807"}), "--vocab"), "overflows"));
  EXPECT_TRUE(contains(expect_input_error(with(base, {"99999999999999999999"}), "--vocab"), "int64"));

  EXPECT_TRUE(contains(expect_input_error({"vocab", "--vocab", "64", "--tp", "0", "--pad", "vllm"}, "--tp"),
                       "must be >= 1, got 0"));
  expect_input_error({"vocab", "--vocab", "64", "--tp", "two", "--pad", "vllm"}, "--tp");
  EXPECT_TRUE(
      contains(expect_input_error({"vocab", "--vocab", "64", "--added", "-1", "--tp", "2", "--pad", "vllm"}, "--added"),
               "must be >= 0, got -1"));
  expect_input_error(with(kVllmExample, {"--added", "3"}), "--added");  // given twice
  EXPECT_TRUE(contains(expect_input_error({"vocab", "--vocab", "64", "--tp", "2", "--pad", "fast"}, "--pad"),
                       "(known: none, vllm, megatron)"));
  expect_input_error({"vocab", "--vocab", "64", "--tp", "2"}, "--pad");  // required
  expect_input_error({"vocab", "--tp", "2", "--pad", "vllm"}, "--vocab");
  expect_input_error({"vocab", "--vocab", "64", "--pad", "vllm"}, "--tp");
  EXPECT_TRUE(contains(expect_input_error(with(kVllmExample, {"--pad-to", "0"}), "--pad-to"), "must be >= 1, got 0"));
  EXPECT_TRUE(contains(
      expect_input_error({"vocab", "--vocab", "64", "--tp", "2", "--pad", "none", "--pad-to", "64"}, "--pad-to"),
      "does not pad"));
  EXPECT_TRUE(
      contains(expect_input_error(with(kVllmExample, {"--rank", "2"}), "--rank"), "outside tp 2 (valid: 0..1)"));
  expect_input_error(with(kVllmExample, {"--rank", "-1"}), "--rank");
  expect_input_error(with(kVllmExample, {"--bogus"}), "--bogus");
  EXPECT_TRUE(contains(expect_input_error({"vocab", "--vocab", "1", "--tp", "2000000", "--pad", "megatron"}, "--tp"),
                       "too many to list"));
  // ... but one rank of a huge tp is fine.
  EXPECT_EQ(run_json({"vocab", "--vocab", "1", "--tp", "2000000", "--pad", "megatron", "--rank",
                      "0"})["ranks"][0]["padding_rows"]
                .number,
            127);
}

// ===============================================================================================================
// experts

TEST_F(Cli, ExpertsJsonIsExact) {
  EXPECT_EQ(run_ok({"experts", "--experts", "8", "--ep", "3", "--json"}),
            R"j({"num_experts":8,"ep":3,"placement":"linear","policy":"balanced","redundant":0,"physical_slots":8,)j"
            R"j("replicas":[],"ranks":[{"rank":0,"num_local":3,"experts":[0,1,2]},)j"
            R"j({"rank":1,"num_local":3,"experts":[3,4,5]},{"rank":2,"num_local":2,"experts":[6,7]}]})j"
            "\n");
  EXPECT_EQ(run_ok({"experts", "--experts", "8", "--ep", "2", "--rank", "1", "--json"}),
            R"j({"num_experts":8,"ep":2,"placement":"linear","policy":"balanced","redundant":0,"physical_slots":8,)j"
            R"j("replicas":[],"ranks":[{"rank":1,"num_local":4,"experts":[4,5,6,7],)j"
            R"j("local_of_global":[-1,-1,-1,-1,0,1,2,3]}]})j"
            "\n");
  EXPECT_EQ(
      run_ok({"experts", "--experts", "6", "--ep", "2", "--placement", "round_robin", "--redundant", "2", "--json"}),
      R"j({"num_experts":6,"ep":2,"placement":"round_robin","policy":"balanced","redundant":2,)j"
      R"j("physical_slots":8,"replicas":[0,1],"ranks":[)j"
      R"j({"rank":0,"num_local":4,"experts":[0,2,4,0],"slots":[[0,1],[2,3],[4,5],[6,7]]},)j"
      R"j({"rank":1,"num_local":4,"experts":[1,3,5,1],"slots":[[1,2],[3,4],[5,6],[7,8]]}]})j"
      "\n");
}

Ints range(std::int64_t begin, std::int64_t end) {
  Ints out;
  for (std::int64_t i = begin; i < end; ++i) out.push_back(i);
  return out;
}

TEST_F(Cli, ExpertsVllmBalanced256Over6) {
  const Json json = run_json({"experts", "--experts", "256", "--ep", "6"});
  const Ints counts = {43, 43, 43, 43, 42, 42};
  const Ints starts = {0, 43, 86, 129, 172, 214};
  ASSERT_EQ(json["ranks"].array.size(), 6u);
  for (std::size_t r = 0; r < 6; ++r) {
    EXPECT_EQ(json["ranks"][r]["num_local"].number, counts[r]) << r;
    EXPECT_EQ(json["ranks"][r]["experts"].ints(), range(starts[r], starts[r] + counts[r])) << r;
  }
}

TEST_F(Cli, ExpertsHfRouterMap) {
  // 128 experts, EP=8: global 52 is rank 3 local 4; global 119 is rank 7 local 7.
  const Json rank3 = run_json({"experts", "--experts", "128", "--ep", "8", "--policy", "even", "--rank", "3"});
  const Ints map3 = rank3["ranks"][0]["local_of_global"].ints();
  ASSERT_EQ(map3.size(), 128u);
  EXPECT_EQ(map3[52], 4);
  EXPECT_EQ(map3[47], -1);
  EXPECT_EQ(map3[64], -1);
  const Json rank7 = run_json({"experts", "--experts", "128", "--ep", "8", "--policy", "even", "--rank", "7"});
  EXPECT_EQ(rank7["ranks"][0]["local_of_global"].ints()[119], 7);
  EXPECT_EQ(rank7["ranks"][0]["experts"].ints(), range(112, 128));
}

TEST_F(Cli, ExpertsRoundRobinAndReplicas) {
  const Json rr = run_json({"experts", "--experts", "10", "--ep", "4", "--placement", "round_robin"});
  EXPECT_EQ(rr["placement"].string, "round_robin");
  EXPECT_EQ(rr["ranks"][0]["experts"].ints(), (Ints{0, 4, 8}));
  EXPECT_EQ(rr["ranks"][1]["experts"].ints(), (Ints{1, 5, 9}));
  EXPECT_EQ(rr["ranks"][3]["experts"].ints(), (Ints{3, 7}));
  EXPECT_FALSE(rr["ranks"][0].has("slots"));  // only with redundant slots

  const Json hot = run_json({"experts", "--experts", "8", "--ep", "2", "--replicas", "3,3"});
  EXPECT_EQ(hot["replicas"].ints(), (Ints{3, 3}));
  EXPECT_EQ(hot["physical_slots"].number, 10);
  EXPECT_EQ(hot["ranks"][1]["experts"].ints(), (Ints{5, 6, 7, 3, 3}));
  EXPECT_EQ(hot["ranks"][1]["slots"].intervals(), (Intervals{{5, 10}}));

  // `contiguous` is accepted for linear.
  EXPECT_EQ(run_json({"experts", "--experts", "4", "--ep", "2", "--placement", "contiguous"})["placement"].string,
            "linear");
}

TEST_F(Cli, ExpertsReadable) {
  EXPECT_EQ(run_ok({"experts", "--experts", "256", "--ep", "6"}),
            "256 experts over ep 6  placement linear  policy balanced\n"
            "\n"
            "rank  count  experts\n"
            "   0  43     0-42\n"
            "   1  43     43-85\n"
            "   2  43     86-128\n"
            "   3  43     129-171\n"
            "   4  42     172-213\n"
            "   5  42     214-255\n");
  const std::string rr = run_ok({"experts", "--experts", "256", "--ep", "8", "--placement", "round_robin"});
  EXPECT_TRUE(contains(rr, "   3  32     3,11,...,251\n")) << rr;
  EXPECT_EQ(run_ok({"experts", "--experts", "8", "--ep", "2", "--replicas", "3,3", "--rank", "1"}),
            "8 experts + 2 redundant = 10 slots over ep 2  placement linear  policy balanced\n"
            "\n"
            "rank  count  slots   experts\n"
            "   1  5      [5,10)  5-7,3,3\n"
            "\n"
            "global -> local on rank 1: 3->3 5->0 6->1 7->2\n");
  const std::string few = run_ok({"experts", "--experts", "3", "--ep", "5"});
  EXPECT_TRUE(contains(few, "   4  0      none\n")) << few;
}

TEST_F(Cli, ExpertsErrors) {
  const std::string even =
      expect_input_error({"experts", "--experts", "250", "--ep", "8", "--policy", "even"}, "--policy");
  EXPECT_TRUE(contains(even, "250 experts do not split evenly over ep 8 (remainder 2)")) << even;
  EXPECT_TRUE(contains(
      expect_input_error({"experts", "--experts", "8", "--ep", "2", "--placement", "round_robin", "--policy", "chunk"},
                         "--policy"),
      "use balanced or even"));
  expect_input_error({"experts", "--experts", "8", "--ep", "2", "--policy", "uneven"}, "--policy");
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "8", "--ep", "2", "--placement", "striped"}, "--placement"),
               "unknown expert placement 'striped'"));
  EXPECT_TRUE(contains(expect_input_error({"experts", "--experts", "0", "--ep", "2"}, "--experts"), "got 0"));
  expect_input_error({"experts", "--experts", "x", "--ep", "2"}, "--experts");
  EXPECT_TRUE(contains(expect_input_error({"experts", "--experts", "8", "--ep", "0"}, "--ep"), "got 0"));
  expect_input_error({"experts", "--experts", "8"}, "--ep");
  expect_input_error({"experts", "--ep", "8"}, "--experts");
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "8", "--ep", "2", "--replicas", "1,8"}, "--replicas"),
               "--replicas: replicas[1]: expert 8 is outside the 8 experts (valid: 0..7)"));
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "8", "--ep", "2", "--replicas", "1,,2"}, "--replicas"),
               "replicas[1]"));
  EXPECT_TRUE(contains(
      expect_input_error({"experts", "--experts", "8", "--ep", "2", "--redundant", "-1"}, "--redundant"), "got -1"));
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "8", "--ep", "2", "--redundant", "2", "--replicas", "1,2"},
                                  "--redundant"),
               "not both"));
  EXPECT_TRUE(contains(expect_input_error({"experts", "--experts", "8", "--ep", "2", "--rank", "2"}, "--rank"),
                       "rank 2 is outside ep 2 (valid: 0..1)"));
  expect_input_error({"experts", "--experts", "8", "--ep", "2", "--rank", "one"}, "--rank");
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "2000000", "--ep", "2"}, "--experts"), "too many to list"));
  EXPECT_TRUE(
      contains(expect_input_error({"experts", "--experts", "8", "--ep", "2000000"}, "--ep"), "too many to list"));
  expect_input_error({"experts", "--experts", "8", "--ep", "2", "--redundant", "2000000"}, "--redundant");
  expect_input_error({"experts", "--experts", "9223372036854775807", "--ep", "2", "--redundant", "1"}, "--redundant");
}

// ===============================================================================================================
// layers

TEST_F(Cli, LayersJsonIsExact) {
  EXPECT_EQ(run_ok({"layers", "--layers", "61", "--pp", "4", "--json"}),
            R"j({"layers":61,"pp":4,"rule":"vllm","stages":[)j"
            R"j({"stage":0,"first_layer":0,"num_layers":15,"end_layer":15},)j"
            R"j({"stage":1,"first_layer":15,"num_layers":15,"end_layer":30},)j"
            R"j({"stage":2,"first_layer":30,"num_layers":16,"end_layer":46},)j"
            R"j({"stage":3,"first_layer":46,"num_layers":15,"end_layer":61}]})j"
            "\n");
}

Ints stage_sizes(const Json& json) {
  Ints out;
  for (const Json& stage : json["stages"].array) out.push_back(stage["num_layers"].number);
  return out;
}

TEST_F(Cli, LayersExamples) {
  EXPECT_EQ(stage_sizes(run_json({"layers", "--layers", "61", "--pp", "8"})), (Ints{7, 7, 8, 8, 8, 8, 8, 7}));
  EXPECT_EQ(stage_sizes(run_json({"layers", "--layers", "94", "--pp", "4"})), (Ints{23, 24, 24, 23}));
  EXPECT_EQ(stage_sizes(run_json({"layers", "--layers", "61", "--pp", "1"})), (Ints{61}));
  const Json given = run_json({"layers", "--layers", "61", "--pp", "4", "--split", "15,16,15,15"});
  EXPECT_EQ(given["rule"].string, "explicit");
  EXPECT_EQ(stage_sizes(given), (Ints{15, 16, 15, 15}));
  EXPECT_EQ(given["stages"][2]["first_layer"].number, 31);
  // Brackets are accepted around the list, as for every list flag.
  EXPECT_EQ(stage_sizes(run_json({"layers", "--layers", "4", "--pp", "2", "--split", "[3, 1]"})), (Ints{3, 1}));
}

TEST_F(Cli, LayersReadable) {
  EXPECT_EQ(run_ok({"layers", "--layers", "61", "--pp", "8"}),
            "61 layers over pp 8  vllm rule: 7 per stage, the 5 extra layers on stages 2-6 (before the last, walking "
            "backwards)\n"
            "\n"
            "stage  layers   count\n"
            "    0  [0,7)    7\n"
            "    1  [7,14)   7\n"
            "    2  [14,22)  8\n"
            "    3  [22,30)  8\n"
            "    4  [30,38)  8\n"
            "    5  [38,46)  8\n"
            "    6  [46,54)  8\n"
            "    7  [54,61)  7\n");
  EXPECT_TRUE(run_ok({"layers", "--layers", "61", "--pp", "4"})
                  .starts_with("61 layers over pp 4  vllm rule: 15 per stage, the 1 extra layer on stage 2 "));
  EXPECT_TRUE(
      run_ok({"layers", "--layers", "64", "--pp", "8"}).starts_with("64 layers over pp 8  vllm rule: 8 per stage\n\n"));
  EXPECT_TRUE(run_ok({"layers", "--layers", "4", "--pp", "2", "--split", "3,1"})
                  .starts_with("4 layers over pp 2  explicit split\n\nstage  layers  count\n    0  [0,3)   3\n"));
}

TEST_F(Cli, LayersErrors) {
  EXPECT_TRUE(
      contains(expect_input_error({"layers", "--layers", "4", "--pp", "5"}, "--pp"), "5 pipeline stages for 4 layers"));
  EXPECT_TRUE(contains(expect_input_error({"layers", "--layers", "0", "--pp", "1"}, "--layers"), "got 0"));
  expect_input_error({"layers", "--layers", "-61", "--pp", "4"}, "--layers");
  EXPECT_TRUE(contains(expect_input_error({"layers", "--layers", "61", "--pp", "0"}, "--pp"), "got 0"));
  expect_input_error({"layers", "--layers", "61"}, "--pp");
  expect_input_error({"layers", "--pp", "4"}, "--layers");
  const std::vector<std::string> base = {"layers", "--layers", "61", "--pp", "4", "--split"};
  EXPECT_TRUE(contains(expect_input_error(with(base, {"15,16,30"}), "--split"), "3 entries for 4 pipeline stages"));
  EXPECT_TRUE(
      contains(expect_input_error(with(base, {"15,16,15,14"}), "--split"), "entries sum to 60 layers, not the 61"));
  EXPECT_TRUE(
      contains(expect_input_error(with(base, {"15,16,0,30"}), "--split"), "--split: split[2]: stage 2 gets 0 layers"));
  EXPECT_TRUE(contains(expect_input_error(with(base, {"15,x,15,15"}), "--split"), "split[1]"));
  expect_input_error(with(base, {""}), "--split");
  EXPECT_TRUE(
      contains(expect_input_error({"layers", "--layers", "2000000", "--pp", "2000000"}, "--pp"), "too many to list"));
}

// ===============================================================================================================
// Help

TEST_F(Cli, PartitionCommandsHaveHelp) {
  const std::string top = run_ok({"--help"});
  EXPECT_TRUE(contains(top, "  vocab    ")) << top;
  EXPECT_TRUE(contains(top, "  experts  ")) << top;
  EXPECT_TRUE(contains(top, "  layers   ")) << top;
  EXPECT_TRUE(run_ok({"vocab", "--help"})
                  .starts_with("usage: shardplan vocab --vocab V [--added A] --tp N --pad RULE [--pad-to M] [--rank R] "
                               "[--json]\n"));
  EXPECT_TRUE(run_ok({"experts", "-h"})
                  .starts_with("usage: shardplan experts --experts E --ep N [--placement STRATEGY] [--policy POLICY] "
                               "[--redundant R] [--replicas LIST] [--rank R] [--json]\n"));
  EXPECT_TRUE(run_ok({"layers", "--layers", "0", "--help"})
                  .starts_with("usage: shardplan layers --layers L --pp N [--split LIST] [--json]\n"));
}

}  // namespace
