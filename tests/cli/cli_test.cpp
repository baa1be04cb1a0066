// End-to-end tests of the `shardplan` command: runs the built binary (SHARDPLAN_CLI_PATH) and checks exit status,
// stdout and stderr separately. JSON output is compact and deterministic, so small cases are compared byte for
// byte; larger ones go through the small JSON parser of tests/support/cli_runner.hpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

const std::vector<std::string> kExample = {"shards",       "--shape",          "39,2", "--mesh", "4,2,3",
                                           "--placements", "S(0),_S(0,2),S(0)"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

using Intervals = std::vector<std::pair<std::int64_t, std::int64_t>>;

// ---------------------------------------------------------------------------------------------------------------
// JSON output

TEST_F(Cli, SmallJsonIsExact) {
  EXPECT_EQ(run_ok({"shards", "--shape", "4", "--mesh", "2", "--placements", "S(0)", "--json"}),
            R"j({"shape":[4],"mesh":[2],"placements":["S(0)"],"policy":"chunk","world_size":2,)j"
            R"j("shard_order":"{0:[0]}","ranks":[)j"
            R"j({"rank":0,"coord":[0],"local_shape":[2],"global_offset":[0],"intervals":[[[0,2]]]},)j"
            R"j({"rank":1,"coord":[1],"local_shape":[2],"global_offset":[2],"intervals":[[[2,4]]]}]})j"
            "\n");
}

TEST_F(Cli, EqualsFormOfFlagsGivesTheSameOutput) {
  EXPECT_EQ(run_ok({"shards", "--shape=4", "--mesh=2", "--placements=S(0)", "--json"}),
            run_ok({"shards", "--json", "--placements", "S(0)", "--mesh", "2", "--shape", "4"}));
}

TEST_F(Cli, CompositionExampleEveryRank) {
  // Rank r holds these dim-0 indices (reference: an independent implementation of DTensor's composition).
  const std::vector<Intervals> expected = {
      {{0, 2}},   {{2, 3}, {5, 6}},     {{6, 8}},   {{3, 5}},   {{8, 10}},  {},
      {{10, 12}}, {{12, 13}, {15, 16}}, {{16, 18}}, {{13, 15}}, {{18, 20}}, {},
      {{20, 22}}, {{22, 23}, {25, 26}}, {{26, 28}}, {{23, 25}}, {{28, 30}}, {},
      {{30, 32}}, {{32, 33}, {35, 36}}, {{36, 37}}, {{33, 35}}, {{37, 39}}, {},
  };
  const Json json = run_json(kExample);
  EXPECT_EQ(json["shape"].ints(), (std::vector<std::int64_t>{39, 2}));
  EXPECT_EQ(json["mesh"].ints(), (std::vector<std::int64_t>{4, 2, 3}));
  ASSERT_EQ(json["placements"].array.size(), 3u);
  EXPECT_EQ(json["placements"][0].string, "S(0)");
  EXPECT_EQ(json["placements"][1].string, "_S(0,2)");
  EXPECT_EQ(json["placements"][2].string, "S(0)");
  EXPECT_EQ(json["policy"].string, "chunk");
  EXPECT_EQ(json["world_size"].number, 24);
  EXPECT_EQ(json["shard_order"].kind, Json::Kind::null);  // _S(0,2) before a size-3 axis has no order form
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 24u);
  for (std::int64_t r = 0; r < 24; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const Json& rank = ranks[static_cast<std::size_t>(r)];
    EXPECT_EQ(rank["rank"].number, r);
    EXPECT_EQ(rank["coord"].ints(), (std::vector<std::int64_t>{r / 6, (r / 3) % 2, r % 3}));
    const Intervals& dim0 = expected[static_cast<std::size_t>(r)];
    std::int64_t size = 0;
    for (const auto& [begin, end] : dim0) size += end - begin;
    EXPECT_EQ(rank["local_shape"].ints(), (std::vector<std::int64_t>{size, 2}));
    EXPECT_EQ(rank["global_offset"].ints(), (std::vector<std::int64_t>{dim0.empty() ? 39 : dim0.front().first, 0}));
    ASSERT_EQ(rank["intervals"].array.size(), 2u);
    EXPECT_EQ(rank["intervals"][0].intervals(), dim0);
    EXPECT_EQ(rank["intervals"][1].intervals(), (Intervals{{0, 2}}));
  }
}

TEST_F(Cli, CompositionExampleExactRanks) {
  const std::string out = run_ok(with(kExample, {"--json"}));
  EXPECT_NE(out.find(R"j({"rank":5,"coord":[0,1,2],"local_shape":[0,2],"global_offset":[39,0],)j"
                     R"j("intervals":[[],[[0,2]]]})j"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"j({"rank":1,"coord":[0,0,1],"local_shape":[2,2],"global_offset":[2,0],)j"
                     R"j("intervals":[[[2,3],[5,6]],[[0,2]]]})j"),
            std::string::npos)
      << out;
}

TEST_F(Cli, RankSelectsOneRank) {
  EXPECT_EQ(run_ok(with(kExample, {"--rank", "5", "--json"})),
            R"j({"shape":[39,2],"mesh":[4,2,3],"placements":["S(0)","_S(0,2)","S(0)"],"policy":"chunk",)j"
            R"j("world_size":24,"shard_order":null,"ranks":[)j"
            R"j({"rank":5,"coord":[0,1,2],"local_shape":[0,2],"global_offset":[39,0],"intervals":[[],[[0,2]]]}]})j"
            "\n");
  const Json json = run_json(with(kExample, {"--rank=1"}));
  ASSERT_EQ(json["ranks"].array.size(), 1u);
  EXPECT_EQ(json["ranks"][0]["rank"].number, 1);
  EXPECT_EQ(json["ranks"][0]["intervals"][0].intervals(), (Intervals{{2, 3}, {5, 6}}));
}

TEST_F(Cli, NamedMesh) {
  const Json json = run_json({"shards", "--shape", "8,6", "--mesh", "dp=2,tp=2", "--placements", "_S(0,2),S(0)"});
  EXPECT_EQ(json["mesh"].ints(), (std::vector<std::int64_t>{2, 2}));
  ASSERT_TRUE(json.has("mesh_names"));
  ASSERT_EQ(json["mesh_names"].array.size(), 2u);
  EXPECT_EQ(json["mesh_names"][0].string, "dp");
  EXPECT_EQ(json["mesh_names"][1].string, "tp");
  // FSDP after TP: dim 0 is split by tp first, then dp.
  EXPECT_EQ(json["shard_order"].string, "{0:[tp,dp]}");
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 4u);
  EXPECT_EQ(ranks[0]["intervals"][0].intervals(), (Intervals{{0, 2}}));
  EXPECT_EQ(ranks[1]["intervals"][0].intervals(), (Intervals{{4, 6}}));
  EXPECT_EQ(ranks[2]["intervals"][0].intervals(), (Intervals{{2, 4}}));
  EXPECT_EQ(ranks[3]["intervals"][0].intervals(), (Intervals{{6, 8}}));
  EXPECT_EQ(ranks[3]["intervals"][1].intervals(), (Intervals{{0, 6}}));
  // Unnamed meshes carry no names.
  EXPECT_FALSE(run_json({"shards", "--shape", "4", "--mesh", "2", "--placements", "R"}).has("mesh_names"));
}

TEST_F(Cli, DeviceOrderMovesRanks) {
  // Transposed device order: rank 1 sits at cell (1,0) instead of (0,1).
  const Json json = run_json({"shards", "--shape", "8,8", "--mesh", "2,2 <=[2,2]T(1,0)", "--placements", "S(0),S(1)"});
  EXPECT_EQ(json["device_order"].string, "[2,2]T(1,0)");
  EXPECT_EQ(json["ranks"][1]["coord"].ints(), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(json["ranks"][1]["global_offset"].ints(), (std::vector<std::int64_t>{4, 0}));
  EXPECT_EQ(json["ranks"][2]["coord"].ints(), (std::vector<std::int64_t>{0, 1}));
}

std::vector<std::int64_t> local_sizes(const Json& json) {
  std::vector<std::int64_t> sizes;
  for (const Json& rank : json["ranks"].array) sizes.push_back(rank["local_shape"][0].number);
  return sizes;
}

TEST_F(Cli, Policies) {
  const std::vector<std::string> args = {"shards", "--shape", "10", "--mesh", "4", "--placements", "S(0)"};
  const Json chunk = run_json(args);
  EXPECT_EQ(chunk["policy"].string, "chunk");
  EXPECT_EQ(local_sizes(chunk), (std::vector<std::int64_t>{3, 3, 3, 1}));

  const Json balanced = run_json(with(args, {"--policy", "balanced"}));
  EXPECT_EQ(balanced["policy"].string, "balanced");
  EXPECT_EQ(local_sizes(balanced), (std::vector<std::int64_t>{3, 3, 2, 2}));
  EXPECT_EQ(balanced["ranks"][2]["intervals"][0].intervals(), (Intervals{{6, 8}}));
  EXPECT_EQ(balanced["ranks"][3]["global_offset"].ints(), (std::vector<std::int64_t>{8}));

  const Json even = run_json({"shards", "--shape", "12", "--mesh", "4", "--placements", "S(0)", "--policy=even"});
  EXPECT_EQ(even["policy"].string, "even");
  EXPECT_EQ(local_sizes(even), (std::vector<std::int64_t>{3, 3, 3, 3}));

  // `even` refuses 10 over 4 and says so with the numbers.
  const std::string error = expect_input_error(with(args, {"--policy", "even"}), "--policy");
  EXPECT_NE(error.find("10"), std::string::npos) << error;
  EXPECT_NE(error.find('4'), std::string::npos) << error;
}

TEST_F(Cli, NegativeDimsAreNormalised) {
  const Json json = run_json({"shards", "--shape", "4,6", "--mesh", "2,3", "--placements", "S(-1),_S(-2,2)"});
  ASSERT_EQ(json["placements"].array.size(), 2u);
  EXPECT_EQ(json["placements"][0].string, "S(1)");
  EXPECT_EQ(json["placements"][1].string, "_S(0,2)");
  EXPECT_EQ(json["ranks"][4]["intervals"][1].intervals(), (Intervals{{3, 6}}));
}

TEST_F(Cli, ScalarAndEmptyDims) {
  const Json scalar = run_json({"shards", "--shape", "", "--mesh", "2", "--placements", "P(max)"});
  EXPECT_TRUE(scalar["shape"].array.empty());
  EXPECT_EQ(scalar["placements"][0].string, "P(max)");
  EXPECT_EQ(scalar["ranks"][1]["intervals"].kind, Json::Kind::array);
  EXPECT_TRUE(scalar["ranks"][1]["intervals"].array.empty());

  // A dim of size 0: every rank holds nothing of it and reports the dim size (0) as its offset.
  const Json empty = run_json({"shards", "--shape", "0,3", "--mesh", "2", "--placements", "S(0)"});
  EXPECT_EQ(empty["ranks"][1]["local_shape"].ints(), (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(empty["ranks"][1]["global_offset"].ints(), (std::vector<std::int64_t>{0, 0}));
  EXPECT_TRUE(empty["ranks"][1]["intervals"][0].array.empty());
}

// Every rank's intervals agree with its local shape and offset, and the ranks of a Shard-only layout tile the
// tensor exactly once per replica.
TEST_F(Cli, JsonIsSelfConsistent) {
  const std::vector<std::vector<std::string>> cases = {
      kExample,
      {"shards", "--shape", "17,5", "--mesh", "dp=2,tp=3", "--placements", "[Shard(0), _StridedShard(0, sf=2)]"},
      {"shards", "--shape", "9,7", "--mesh", "3,2,2", "--placements", "S(1),R,S(0)", "--policy", "balanced"},
      {"shards", "--shape", "5", "--mesh", "8", "--placements", "S(0)"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(describe(args));
    const Json json = run_json(args);
    const std::vector<std::int64_t> shape = json["shape"].ints();
    for (const Json& rank : json["ranks"].array) {
      for (std::size_t d = 0; d < shape.size(); ++d) {
        const Intervals intervals = rank["intervals"][d].intervals();
        std::int64_t size = 0;
        std::int64_t previous_end = -1;
        for (const auto& [begin, end] : intervals) {
          EXPECT_LT(previous_end, begin);  // sorted and coalesced
          EXPECT_LT(begin, end);
          EXPECT_GE(begin, 0);
          EXPECT_LE(end, shape[d]);
          size += end - begin;
          previous_end = end;
        }
        EXPECT_EQ(rank["local_shape"][d].number, size);
        EXPECT_EQ(rank["global_offset"][d].number, intervals.empty() ? shape[d] : intervals.front().first);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Readable output

TEST_F(Cli, ReadableTwoDimensional) {
  EXPECT_EQ(run_ok({"shards", "--shape", "4,4", "--mesh", "dp=2,tp=2", "--placements", "S(0),S(1)"}),
            "shape (4,4)  mesh (dp=2,tp=2)  placements S(0),S(1)  policy chunk\n"
            "4 ranks, shard order {0:[dp],1:[tp]}\n"
            "\n"
            "rank  coord  local_shape  global_offset  dim0   dim1\n"
            "   0  (0,0)  (2,2)        (0,0)          [0,2)  [0,2)\n"
            "   1  (0,1)  (2,2)        (0,2)          [0,2)  [2,4)\n"
            "   2  (1,0)  (2,2)        (2,0)          [2,4)  [0,2)\n"
            "   3  (1,1)  (2,2)        (2,2)          [2,4)  [2,4)\n"
            "\n"
            "owners of each block (rows: dim 0, columns: dim 1):\n"
            "+-------------+-------------+\n"
            "| [0,2)x[0,2) | [0,2)x[2,4) |\n"
            "|     r0      |     r1      |\n"
            "+-------------+-------------+\n"
            "| [2,4)x[0,2) | [2,4)x[2,4) |\n"
            "|     r2      |     r3      |\n"
            "+-------------+-------------+\n");
}

TEST_F(Cli, ReadableDrawingShowsReplicasAndStrides) {
  // _S(0,2) over dp then S(1) over tp: dim 0 blocks alternate between dp groups; every block has one owner.
  const std::string out = run_ok({"shards", "--shape", "8,4", "--mesh", "2,2,2", "--placements", "_S(0,2),S(1),R"});
  EXPECT_NE(out.find("+-------------+-------------+\n"
                     "| [0,2)x[0,2) | [0,2)x[2,4) |\n"
                     "|    r0,r1    |    r2,r3    |\n"
                     "+-------------+-------------+\n"
                     "| [2,4)x[0,2) | [2,4)x[2,4) |\n"
                     "|    r4,r5    |    r6,r7    |\n"
                     "+-------------+-------------+\n"
                     "| [4,6)x[0,2) | [4,6)x[2,4) |\n"
                     "|    r0,r1    |    r2,r3    |\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("   1  (0,0,1)  (4,2)        (0,0)          [0,2)U[4,6)  [0,2)\n"), std::string::npos) << out;
}

TEST_F(Cli, ReadableOneDimensionalAndSingleRank) {
  const std::string out =
      run_ok({"shards", "--shape", "10", "--mesh", "4", "--placements", "S(-1)", "--policy", "balanced"});
  EXPECT_NE(out.find("shape (10)  mesh (4)  placements S(0)  policy balanced\n"), std::string::npos) << out;
  EXPECT_NE(out.find("owners of each block (dim 0):\n"
                     "+-------+-------+-------+--------+\n"
                     "| [0,3) | [3,6) | [6,8) | [8,10) |\n"
                     "|  r0   |  r1   |  r2   |   r3   |\n"
                     "+-------+-------+-------+--------+\n"),
            std::string::npos)
      << out;

  const std::string one = run_ok({"shards", "--shape", "10", "--mesh", "4", "--placements", "S(0)", "--rank", "2"});
  EXPECT_NE(one.find("rank  coord  local_shape  global_offset  dim0\n"
                     "   2  (2)    (3)          (6)            [6,9)\n"),
            std::string::npos)
      << one;
  EXPECT_NE(one.find("blocks held by rank 2 (dim 0):\n"
                     "+-------+-------+--------+\n"
                     "| [0,6) | [6,9) | [9,10) |\n"
                     "|   -   |  r2   |   -    |\n"),
            std::string::npos)
      << one;
}

TEST_F(Cli, ReadableCompositionExample) {
  const std::string out = run_ok(kExample);
  EXPECT_TRUE(out.starts_with("shape (39,2)  mesh (4,2,3)  placements S(0),_S(0,2),S(0)  policy chunk\n")) << out;
  EXPECT_NE(out.find("   1  (0,0,1)  (2,2)        (2,0)          [2,3)U[5,6)      [0,2)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("   5  (0,1,2)  (0,2)        (39,0)         {}               [0,2)\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\ntoo many blocks to draw (24 x 1); use --json\n")) << out;
  // No drawing for tensors of rank 3.
  const std::string three = run_ok({"shards", "--shape", "2,2,2", "--mesh", "2", "--placements", "S(2)"});
  EXPECT_EQ(three.find("+--"), std::string::npos) << three;
  EXPECT_EQ(three.find("too many"), std::string::npos) << three;
}

TEST_F(Cli, TooWideToDraw) {
  const std::string out = run_ok({"shards", "--shape", "4", "--mesh", "64", "--placements", "R"});
  EXPECT_TRUE(out.ends_with("\ntoo wide to draw (more than 160 columns); use --json\n")) << out;
}

// ---------------------------------------------------------------------------------------------------------------
// Help and usage

TEST_F(Cli, Help) {
  const std::string top = run_ok({"--help"});
  EXPECT_TRUE(top.starts_with("usage: shardplan <command> [flags]\n")) << top;
  EXPECT_NE(top.find("  shards  "), std::string::npos) << top;

  const std::string shards = run_ok({"shards", "--help"});
  EXPECT_TRUE(
      shards.starts_with("usage: shardplan shards --shape SIZES --mesh MESH --placements LIST [--policy POLICY] "
                         "[--rank R] [--segments DIM=S1,S2,..[/UNIT]] [--segment-policy POLICY] [--json]\n"))
      << shards;
  EXPECT_EQ(run_ok({"shards", "--shape", "4", "-h"}), shards);  // help wins over a missing flag

  const RunResult bare = run_cli({});
  EXPECT_EQ(bare.status, 2);
  EXPECT_EQ(bare.out, "");
  EXPECT_TRUE(bare.err.starts_with("usage: shardplan <command> [flags]\n")) << bare.err;
}

// ---------------------------------------------------------------------------------------------------------------
// Input errors: status 2, empty stdout, one line naming the flag.

TEST_F(Cli, PlacementErrors) {
  const std::vector<std::string> base = {"shards", "--shape", "39,2", "--mesh", "4,2,3", "--placements"};
  EXPECT_NE(
      expect_input_error(with(base, {"S(0),Foo,S(0)"}), "--placements").find("placements[1]: unknown placement 'Foo'"),
      std::string::npos);
  expect_input_error(with(base, {"S(0,_S(0,2),S(0)"}), "--placements");    // unbalanced parentheses
  expect_input_error(with(base, {"S(0),_S(0,2),S(0"}), "--placements");    // unclosed at the end
  expect_input_error(with(base, {"[S(0),_S(0,2),S(0)"}), "--placements");  // unclosed bracket
  expect_input_error(with(base, {"S(0),,S(0)"}), "--placements");          // stray comma
  expect_input_error(with(base, {"S(0),_S(0,2),S(0),"}), "--placements");  // trailing comma
  expect_input_error(with(base, {"S(0),_S(0,2),S(0) junk"}), "--placements");
  EXPECT_NE(expect_input_error(with(base, {"S(0),S(0)"}), "--placements").find("2 placements for a 3-axis mesh"),
            std::string::npos);
  EXPECT_NE(expect_input_error(with(base, {"S(0),S(2),R"}), "--placements").find("placements[1]"), std::string::npos);
  expect_input_error(with(base, {"S(0),S(-3),R"}), "--placements");
  EXPECT_NE(expect_input_error(with(base, {"S(0),_S(0,0),S(0)"}), "--placements").find("split factor"),
            std::string::npos);
  expect_input_error(with(base, {""}), "--placements");
  expect_input_error(with(base, {"S(99999999999999999999),R,R"}), "--placements");
}

TEST_F(Cli, MeshErrors) {
  const std::vector<std::string> base = {"shards", "--shape", "8", "--placements", "S(0),R", "--mesh"};
  EXPECT_NE(expect_input_error(with(base, {"4,0"}), "--mesh").find("mesh[1]"), std::string::npos);
  expect_input_error(with(base, {"4,-2"}), "--mesh");
  expect_input_error(with(base, {"4,x"}), "--mesh");
  EXPECT_NE(expect_input_error(with(base, {"dp=2,dp=2"}), "--mesh").find("'dp'"), std::string::npos);  // duplicate
  expect_input_error(with(base, {"dp=2,=2"}), "--mesh");                                               // empty name
  expect_input_error(with(base, {"dp=2,2"}), "--mesh");                                                // mixed
  expect_input_error(with(base, {"4294967296,4294967296"}), "--mesh");                                 // overflow
  expect_input_error(with(base, {"4,2 <=[3,4]"}), "--mesh");  // device order of the wrong size
  expect_input_error(with(base, {""}), "--mesh");
}

TEST_F(Cli, ShapeErrors) {
  const std::vector<std::string> base = {"shards", "--mesh", "2", "--placements", "R", "--shape"};
  EXPECT_NE(expect_input_error(with(base, {"4,-1"}), "--shape").find("shape[1]"), std::string::npos);
  EXPECT_NE(expect_input_error(with(base, {"4294967296,4294967296"}), "--shape").find("overflow"), std::string::npos);
  EXPECT_NE(expect_input_error(with(base, {"99999999999999999999"}), "--shape").find("int64"), std::string::npos);
  expect_input_error(with(base, {"4x"}), "--shape");
  expect_input_error(with(base, {"4,,2"}), "--shape");
  expect_input_error(with(base, {"4,"}), "--shape");
  expect_input_error(with(base, {"1,2,3,4,5,6,7,8,9"}), "--shape");
}

TEST_F(Cli, RankErrors) {
  EXPECT_NE(expect_input_error(with(kExample, {"--rank", "24"}), "--rank").find("24"), std::string::npos);
  expect_input_error(with(kExample, {"--rank", "-1"}), "--rank");
  expect_input_error(with(kExample, {"--rank", "1x"}), "--rank");
  expect_input_error(with(kExample, {"--rank", ""}), "--rank");
  expect_input_error(with(kExample, {"--rank", "99999999999999999999"}), "--rank");
}

TEST_F(Cli, FlagErrors) {
  EXPECT_NE(expect_input_error(with(kExample, {"--bogus"}), "--bogus").find("unknown flag"), std::string::npos);
  expect_input_error(with(kExample, {"--bogus=1"}), "--bogus");
  expect_input_error(with(kExample, {"-x"}), "-x");
  expect_input_error({"shards", "--shape", "4", "--mesh", "2"}, "--placements");  // missing required flag
  expect_input_error({"shards", "--mesh", "2", "--placements", "R"}, "--shape");
  expect_input_error({"shards", "--shape", "4", "--mesh", "2", "--placements"}, "--placements");  // no value
  expect_input_error({"shards", "--shape", "4", "--mesh", "--placements", "R"}, "--mesh");
  expect_input_error(with(kExample, {"--shape", "4"}), "--shape");  // repeated
  expect_input_error(with(kExample, {"--json=yes"}), "--json");     // a switch with a value
  expect_input_error(with(kExample, {"--policy", "fast"}), "--policy");
  expect_input_error(with(kExample, {"stray"}), "shards");  // positional argument
  EXPECT_NE(expect_input_error({"frobnicate"}, "frobnicate").find("unknown command"), std::string::npos);
  expect_input_error({"--shape", "4"}, "--shape");  // flags before any command
}

TEST_F(Cli, ErrorsStayOnOneLine) {
  // User text with a newline is echoed escaped, never as a second line.
  expect_input_error({"shards", "--shape", "4", "--mesh", "2", "--placements", "S(0)\nR"}, "--placements");
  expect_input_error({"shards", "--shape", "4", "--mesh", "2", "--placements", "R", "--rank", "1\n2"}, "--rank");
  // Long junk is cut short.
  const std::string error =
      expect_input_error({"shards", "--shape", std::string(5000, '7'), "--mesh", "2", "--placements", "R"}, "--shape");
  EXPECT_LT(error.size(), 300u);
}

TEST_F(Cli, LimitsAreInputErrors) {
  // A split factor far beyond the dim size is cheap (chunks past the end are empty), so it is no error.
  const Json huge = run_json({"shards", "--shape", "4", "--mesh", "2", "--placements", "_S(0,4611686018427387904)"});
  EXPECT_EQ(huge["ranks"][0]["local_shape"].ints(), (std::vector<std::int64_t>{4}));
  EXPECT_EQ(huge["ranks"][1]["global_offset"].ints(), (std::vector<std::int64_t>{4}));
  EXPECT_EQ(expect_input_error({"shards", "--shape", "4000000", "--mesh", "64,64", "--placements", "_S(0,1000000),R"},
                               "--mesh"),
            "shardplan: --mesh: listing 4096 ranks of up to 1000001 intervals each is past the limit of 67108864 "
            "intervals; pick one with --rank\n");
  expect_input_error({"shards", "--shape", "4", "--mesh", "2048,1024", "--placements", "R,R"}, "--mesh");
  // With --rank only one rank is computed, so the same mesh is fine.
  const Json json =
      run_json({"shards", "--shape", "4", "--mesh", "2048,1024", "--placements", "S(0),R", "--rank", "2097151"});
  EXPECT_EQ(json["ranks"][0]["coord"].ints(), (std::vector<std::int64_t>{2047, 1023}));
  EXPECT_EQ(json["ranks"][0]["global_offset"].ints(), (std::vector<std::int64_t>{4}));
}

// Issue 11: split factors whose interval counts overflowed int64 in the CLI (UBSan aborted, Release printed
// nonsense). The library's listing bound (check_listing) refuses them at once, naming the dim and the numbers.
TEST_F(Cli, HugeSplitFactorsAreRefusedAtOnce) {
  EXPECT_EQ(expect_input_error({"shards", "--shape", "9223372036854775807", "--mesh", "1", "--placements",
                                "_S(0,9223372036854775807)"},
                               "--placements"),
            "shardplan: --placements: _S split factors cut dim 0 (size 9223372036854775807) into up to "
            "9223372036854775807 intervals per rank, past the limit of 67108864 intervals\n");
  EXPECT_EQ(expect_input_error({"shards", "--shape", "4611686018427387904,1", "--mesh", "2,2", "--placements",
                                "_S(0,4611686018427387904),_S(1,4611686018427387904)"},
                               "--placements"),
            "shardplan: --placements: _S split factors cut dim 0 (size 4611686018427387904) into up to "
            "4611686018427387904 intervals per rank, past the limit of 67108864 intervals\n");
  // --rank lists one rank, which alone is too much.
  expect_input_error({"shards", "--shape", "4611686018427387904,1", "--mesh", "2,2", "--placements",
                      "_S(0,4611686018427387904),_S(1,4611686018427387904)", "--rank", "3"},
                     "--placements");
}

// No input makes the command crash: every exit is 0, or 2 with exactly one line on stderr.
TEST_F(Cli, NeverCrashes) {
  const std::vector<std::string> shapes = {"39,2", "", "0", "4294967296,4294967296", "-1", "[5]", "9223372036854775807",
                                           "3,3,3"};
  const std::vector<std::string> meshes = {"4,2,3",       "dp=2,tp=2",         "1", "9223372036854775807,2",
                                           "(2,2) <=[4]", "2,2 <=[2,2]T(1,0)", "0", "a=1"};
  const std::vector<std::string> placements = {
      "S(0),_S(0,2),S(0)",          "R,R", "P", "S(-1),S(0)", "_S(0,3),R", "S(9223372036854775807),R", "((",
      "Partial(reduce_op=max),S(1)"};
  const std::vector<std::string> policies = {"chunk", "balanced", "even", "x"};
  std::uint64_t state = 12345;
  const auto next = [&state](std::size_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((state >> 33) % n);
  };
  for (int i = 0; i < 120; ++i) {
    std::vector<std::string> args = {"shards",
                                     "--shape",
                                     shapes[next(shapes.size())],
                                     "--mesh",
                                     meshes[next(meshes.size())],
                                     "--placements",
                                     placements[next(placements.size())],
                                     "--policy",
                                     policies[next(policies.size())]};
    if (next(2) == 0) args.push_back("--json");
    if (next(3) == 0) args.insert(args.end(), {"--rank", std::to_string(static_cast<int>(next(30)) - 2)});
    const RunResult result = run_cli(args);
    ASSERT_TRUE(result.exited) << describe(args) << " was killed by signal " << -result.status;
    if (result.status == 0) {
      EXPECT_EQ(result.err, "") << describe(args);
      EXPECT_FALSE(result.out.empty()) << describe(args);
    } else {
      EXPECT_EQ(result.status, 2) << describe(args);
      EXPECT_EQ(result.out, "") << describe(args);
      EXPECT_EQ(count_lines(result.err), 1u) << describe(args) << "\n" << result.err;
    }
  }
}

}  // namespace
