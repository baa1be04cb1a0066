// `shardplan shards --segments ... --segment-policy ...`: fused dims from the command line.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;
using Intervals = std::vector<std::pair<std::int64_t, std::int64_t>>;

// The acceptance case: Llama-3.1-70B's fused QKV at TP=8.
TEST_F(Cli, SegmentsLlama70bQkv) {
  const Json json = run_json({"shards", "--shape", "10240,8192", "--mesh", "tp=8", "--placements", "S(0)", "--segments",
                              "0=8192,1024,1024/128"});
  EXPECT_EQ(json["segments"]["sizes"].ints(), (std::vector<std::int64_t>{8192, 1024, 1024}));
  EXPECT_EQ(json["segments"]["unit"].number, 128);
  EXPECT_EQ(json["segments"]["policy"].string, "forbid");
  for (std::int64_t r = 0; r < 8; ++r) {
    const Json& rank = json["ranks"][static_cast<std::size_t>(r)];
    EXPECT_EQ(rank["intervals"][0].intervals(),
              (Intervals{{1024 * r, 1024 * r + 1024}, {8192 + 128 * r, 8192 + 128 * r + 128},
                         {9216 + 128 * r, 9216 + 128 * r + 128}}));
    EXPECT_EQ(rank["local_shape"].ints(), (std::vector<std::int64_t>{1280, 8192}));
    EXPECT_EQ(rank["segment_intervals"][1].intervals(), (Intervals{{128 * r, 128 * r + 128}}));
  }
}

TEST_F(Cli, SegmentsExactSmallJson) {
  EXPECT_EQ(run_ok({"shards", "--shape", "16", "--mesh", "4", "--placements", "S(0)", "--segments", "0=8,8", "--rank",
                    "1", "--json"}),
            "{\"shape\":[16],\"mesh\":[4],\"placements\":[\"S(0)\"],\"policy\":\"chunk\",\"world_size\":4,"
            "\"shard_order\":\"{0:[0]}\",\"segments\":{\"dim\":0,\"sizes\":[8,8],\"unit\":1,\"policy\":\"forbid\"},"
            "\"ranks\":[{\"rank\":1,\"coord\":[1],\"local_shape\":[4],\"global_offset\":[2],"
            "\"intervals\":[[[2,4],[10,12]]],\"segment_intervals\":[[[2,4]],[[2,4]]]}]}\n");
}

// Qwen3-30B-A3B at TP=8: forbidden by default, vLLM's replication on request.
TEST_F(Cli, SegmentsKvHeadReplication) {
  const std::vector<std::string> args{"shards", "--shape",     "5120",       "--mesh",
                                      "tp=8",   "--placements", "S(0)",      "--segments",
                                      "0=4096,512,512/128"};
  const std::string error = expect_input_error(args, "--segments");
  EXPECT_NE(error.find("4 units of 128 for 8 shards"), std::string::npos) << error;
  std::vector<std::string> replicate = args;
  replicate.insert(replicate.end(), {"--segment-policy", "replicate"});
  const Json json = run_json(replicate);
  for (std::int64_t r = 0; r < 8; ++r) {
    const std::int64_t head = r / 2;
    EXPECT_EQ(json["ranks"][static_cast<std::size_t>(r)]["intervals"][0].intervals(),
              (Intervals{{512 * r, 512 * r + 512}, {4096 + 128 * head, 4224 + 128 * head},
                         {4608 + 128 * head, 4736 + 128 * head}}));
  }
}

// The case: 48 query heads and 2 KV heads at tp 6 under the even policy, judged per segment (vLLM accepts it).
TEST_F(Cli, SegmentsEvenPolicyPerSegment) {
  const Json json = run_json({"shards", "--shape", "6656,4", "--mesh", "tp=6", "--placements", "S(0)", "--policy",
                              "even", "--segments", "0=6144,256,256/128", "--segment-policy", "replicate"});
  for (std::int64_t r = 0; r < 6; ++r) {
    const std::int64_t head = r / 3;
    const Json& rank = json["ranks"][static_cast<std::size_t>(r)];
    EXPECT_EQ(rank["intervals"][0].intervals(),
              (Intervals{{1024 * r, 1024 * r + 1024}, {6144 + 128 * head, 6272 + 128 * head},
                         {6400 + 128 * head, 6528 + 128 * head}}));
    EXPECT_EQ(rank["local_shape"].ints(), (std::vector<std::int64_t>{1280, 4}));
  }
  // Without --segments the whole dim is judged, and 6656 rows do not divide by 6.
  expect_input_error({"shards", "--shape", "6656,4", "--mesh", "tp=6", "--placements", "S(0)", "--policy", "even"},
                     "--policy");
}

TEST_F(Cli, SegmentsReplicateOnlyKvHeads) {
  const std::string error = expect_input_error({"shards", "--shape", "1536", "--mesh", "tp=8", "--placements", "S(0)",
                                                "--segments", "0=512,512,512/128", "--segment-policy", "replicate"},
                                               "--segments");
  EXPECT_NE(error.find("the first segment (the query heads of [q; k; v]) is never replicated, only KV heads are; use a "
                       "shard count that divides 4"),
            std::string::npos)
      << error;
}

TEST_F(Cli, SegmentsReadable) {
  const std::string out =
      run_ok({"shards", "--shape", "16", "--mesh", "4", "--placements", "S(0)", "--segments", "0=8,8"});
  EXPECT_NE(out.find("segments 0=8,8/1 (forbid)"), std::string::npos) << out;
  EXPECT_NE(out.find("   1  (1)    (4)          (2)            [2,4)U[10,12)  [2,4) | [2,4)"), std::string::npos)
      << out;
}

TEST_F(Cli, SegmentsBadInput) {
  const std::vector<std::string> base{"shards", "--shape", "10240", "--mesh", "8", "--placements", "S(0)"};
  const auto with = [&base](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  EXPECT_NE(expect_input_error(with({"--segments", "0=8192,1024"}), "--segments").find("add up to 9216"),
            std::string::npos);
  EXPECT_NE(expect_input_error(with({"--segments", "0=8192,1024,1000/128"}), "--segments")
                .find("1000 is not a multiple of the unit 128"),
            std::string::npos);
  expect_input_error(with({"--segments", "0=8192,,2048"}), "--segments");
  expect_input_error(with({"--segments", "1=10240"}), "--segments");
  expect_input_error(with({"--segments", "0=10240", "--segment-policy", "split"}), "--segment-policy");
  expect_input_error(with({"--segment-policy", "replicate"}), "--segment-policy");
  const std::string replicate =
      expect_input_error(with({"--shape", "4864"}), "--shape");  // --shape given twice
  (void)replicate;
  const std::string error = expect_input_error(
      {"shards", "--shape", "4864", "--mesh", "8", "--placements", "S(0)", "--segments", "0=4096,384,384/128",
       "--segment-policy", "replicate"},
      "--segments");
  EXPECT_NE(error.find("replicate policy needs the 8 shards of mesh axis 0 to be a multiple of its 3 units"),
            std::string::npos)
      << error;
}

}  // namespace
