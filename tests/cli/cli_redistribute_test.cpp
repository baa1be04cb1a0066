// End-to-end tests of `shardplan redistribute`: the collective steps between two layouts on one mesh, their bytes and
// modelled times, --verify, and the errors. The test JSON parser reads integers only, so decimal numbers (the times,
// the axis figures) are turned into strings before parsing and read back with std::stod.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;
using Ints = std::vector<std::int64_t>;
using Strings = std::vector<std::string>;

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

Strings strings(const Json& array) {
  Strings values;
  for (const Json& item : array.array) values.push_back(item.string);
  return values;
}

/// Wraps every number with a fraction or an exponent (outside strings) in quotes: `0.6007` -> `"0.6007"`.
std::string quote_decimals(const std::string& text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      ++i;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = i + 1;
      while (end < text.size() && std::string_view("0123456789.eE+-").find(text[end]) != std::string_view::npos) ++end;
      const std::string number = text.substr(i, end - i);
      if (number.find_first_of(".eE") != std::string::npos) {
        out += '"' + number + '"';
      } else {
        out += number;
      }
      i = end;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

/// A decimal member (quoted by quote_decimals) or an integer one, as a double.
double decimal(const Json& value) {
  if (value.kind == Json::Kind::number) return static_cast<double>(value.number);
  EXPECT_EQ(value.kind, Json::Kind::string) << "expected a number";
  return std::stod(value.string);
}

class RedistributeCli : public Cli {
 protected:
  /// Runs `redistribute ... --json` and parses it, decimals as strings.
  static Json plan(const std::vector<std::string>& args) {
    std::vector<std::string> full{"redistribute"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back("--json");
    const std::string out = run_ok(full);
    EXPECT_TRUE(out.ends_with("\n")) << describe(full);
    EXPECT_EQ(count_lines(out), 1u) << describe(full);
    const std::string quoted = quote_decimals(out);  // the parser keeps a view of its text
    JsonParser parser(quoted);
    Json json = parser.parse();
    EXPECT_TRUE(parser.ok()) << describe(full) << ": " << parser.error() << "\n" << out;
    return json;
  }

  /// Sum of the steps' times equals the total; the last step ends at the target; bytes_per_rank >= the bound.
  static void expect_consistent(const Json& json) {
    double total = 0;
    for (const Json& step : json["steps"].array) total += decimal(step["time_us"]);
    EXPECT_NEAR(decimal(json["time_us"]), total, 1e-9 * (1 + total));
    if (!json["steps"].array.empty()) {
      EXPECT_EQ(strings(json["steps"].array.back()["placements_after"]), strings(json["to"]));
    }
    EXPECT_GE(json["bytes_per_rank"].number, json["lower_bound_bytes"].number);
  }

  static std::string error(const std::vector<std::string>& args, const std::string& flag) {
    std::vector<std::string> full{"redistribute"};
    full.insert(full.end(), args.begin(), args.end());
    return expect_input_error(full, flag);
  }
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Default figures (cost_model.hpp): intra-host 0.6 us + 87.7 GB/s, inter-host 2.7 us + 0.22 x 87.7 GB/s.
constexpr double kIntraAlpha = 0.6;
constexpr double kIntraGbps = 87.7;
constexpr double kInterAlpha = 2.7;
constexpr double kInterGbps = 0.22 * 87.7;

/// hops x alpha + bytes / (GB/s x 1e3), in µs.
double model_time(double hops, double alpha_us, double bytes, double gbps) {
  return hops * alpha_us + bytes / (gbps * 1e3);
}

const std::vector<std::string> kAcceptance = {"--shape", "8,8",         "--mesh", "2,2",         "--from",
                                              "S(0),S(1)", "--to",      "S(1),S(0)", "--dtype", "f32",
                                              "--verify"};

// ---------------------------------------------------------------------------------------------------------------
// Plans

TEST_F(RedistributeCli, AcceptanceExample) {
  const Json json = plan(kAcceptance);
  EXPECT_EQ(json["shape"].ints(), (Ints{8, 8}));
  EXPECT_EQ(json["dtype"].string, "f32");
  EXPECT_EQ(json["dtype_bytes"].number, 4);
  EXPECT_EQ(json["mesh"].ints(), (Ints{2, 2}));
  EXPECT_EQ(strings(json["from"]), (Strings{"S(0)", "S(1)"}));
  EXPECT_EQ(strings(json["to"]), (Strings{"S(1)", "S(0)"}));

  // One permute: each rank's 4x4 block moves whole to one other rank; no gather.
  const Json& steps = json["steps"];
  ASSERT_EQ(steps.array.size(), 1u);
  const Json& step = steps[0];
  EXPECT_EQ(step["op"].string, "permute");
  EXPECT_FALSE(step.has("reduce_op"));
  EXPECT_EQ(step["mesh_dims"].ints(), (Ints{0, 1}));
  EXPECT_EQ(step["tensor_dims"].ints(), (Ints{0, 1}));
  EXPECT_EQ(strings(step["placements_after"]), (Strings{"S(1)", "S(0)"}));
  EXPECT_EQ(step["bytes_received"].number, 64);
  EXPECT_EQ(step["bytes_sent"].number, 64);
  // One hop over the flattened group (both axes intra-host).
  EXPECT_DOUBLE_EQ(decimal(step["time_us"]), model_time(1, kIntraAlpha, 64, kIntraGbps));
  for (const Json& s : steps.array) EXPECT_NE(s["op"].string, "all_gather");

  EXPECT_EQ(json["bytes_per_rank"].number, 64);
  EXPECT_EQ(json["lower_bound_bytes"].number, 64);
  EXPECT_EQ(json["bytes_per_rank"].number, json["lower_bound_bytes"].number);
  EXPECT_EQ(json["peak_bytes"].number, 128);
  EXPECT_DOUBLE_EQ(decimal(json["time_us"]), model_time(1, kIntraAlpha, 64, kIntraGbps));
  EXPECT_EQ(json["verified"].kind, Json::Kind::boolean);
  EXPECT_TRUE(json["verified"].boolean);
  expect_consistent(json);
}

TEST_F(RedistributeCli, AcceptanceExampleIsExact) {
  // The whole output, byte for byte: keys, order, and the shortest decimals that read back exactly.
  const std::string out = run_ok(with(with({"redistribute"}, kAcceptance), {"--json"}));
  EXPECT_EQ(out,
            "{\"shape\":[8,8],\"dtype\":\"f32\",\"dtype_bytes\":4,\"policy\":\"chunk\",\"mesh\":[2,2],"
            "\"from\":[\"S(0)\",\"S(1)\"],\"to\":[\"S(1)\",\"S(0)\"],\"devices_per_host\":8,"
            "\"axis_costs\":[{\"axis\":0,\"alpha_us\":0.6,\"gbps\":87.7},{\"axis\":1,\"alpha_us\":0.6,\"gbps\":87.7}],"
            "\"steps\":[{\"op\":\"permute\",\"mesh_dims\":[0,1],\"tensor_dims\":[0,1],"
            "\"placements_after\":[\"S(1)\",\"S(0)\"],\"bytes_sent\":64,\"bytes_received\":64,"
            "\"time_us\":0.6007297605473204}],\"bytes_per_rank\":64,\"lower_bound_bytes\":64,"
            "\"time_us\":0.6007297605473204,\"peak_bytes\":128,\"optimal\":true,\"verified\":true}\n");
}

TEST_F(RedistributeCli, VerifiedIsFalseWithoutVerify) {
  const Json json = plan({"--shape", "8,8", "--mesh", "2,2", "--from", "S(0),S(1)", "--to", "S(1),S(0)"});
  EXPECT_EQ(json["verified"].kind, Json::Kind::boolean);
  EXPECT_FALSE(json["verified"].boolean);
  // bf16 by default: half the bytes of f32.
  EXPECT_EQ(json["dtype"].string, "bf16");
  EXPECT_EQ(json["dtype_bytes"].number, 2);
  EXPECT_EQ(json["bytes_per_rank"].number, 32);
}

TEST_F(RedistributeCli, PartialThenShardToReplicate) {
  const Json json = plan({"--shape", "16,16", "--mesh", "2,2", "--from", "P,S(0)", "--to", "R,R", "--verify"});
  EXPECT_EQ(strings(json["from"]), (Strings{"P(sum)", "S(0)"}));
  const Json& steps = json["steps"];
  ASSERT_EQ(steps.array.size(), 2u);
  // First the reduction on axis 0 (on the 8x16 half each rank holds), then the gather on axis 1.
  EXPECT_EQ(steps[0]["op"].string, "all_reduce");
  ASSERT_TRUE(steps[0].has("reduce_op"));
  EXPECT_EQ(steps[0]["reduce_op"].string, "sum");
  EXPECT_EQ(steps[0]["mesh_dims"].ints(), (Ints{0}));
  EXPECT_EQ(steps[0]["tensor_dims"].ints(), (Ints{}));
  EXPECT_EQ(strings(steps[0]["placements_after"]), (Strings{"R", "S(0)"}));
  EXPECT_EQ(steps[0]["bytes_received"].number, 256);  // ring: 2(k-1)/k x 256 bytes
  EXPECT_DOUBLE_EQ(decimal(steps[0]["time_us"]), model_time(2, kIntraAlpha, 256, kIntraGbps));

  EXPECT_EQ(steps[1]["op"].string, "all_gather");
  EXPECT_FALSE(steps[1].has("reduce_op"));
  EXPECT_EQ(steps[1]["mesh_dims"].ints(), (Ints{1}));
  EXPECT_EQ(steps[1]["tensor_dims"].ints(), (Ints{0}));
  EXPECT_EQ(strings(steps[1]["placements_after"]), (Strings{"R", "R"}));
  EXPECT_EQ(steps[1]["bytes_received"].number, 256);
  EXPECT_DOUBLE_EQ(decimal(steps[1]["time_us"]), model_time(1, kIntraAlpha, 256, kIntraGbps));

  EXPECT_EQ(json["bytes_per_rank"].number, 512);
  EXPECT_TRUE(json["verified"].boolean);
  expect_consistent(json);
}

TEST_F(RedistributeCli, ReduceOpsOnReductionsAndPartitions) {
  const Json scatter = plan({"--shape", "16,16", "--mesh", "2,2", "--from", "P(avg),R", "--to", "S(0),R", "--verify"});
  ASSERT_EQ(scatter["steps"].array.size(), 1u);
  EXPECT_EQ(scatter["steps"][0]["op"].string, "reduce_scatter");
  EXPECT_EQ(scatter["steps"][0]["reduce_op"].string, "avg");
  EXPECT_EQ(scatter["steps"][0]["tensor_dims"].ints(), (Ints{0}));
  EXPECT_TRUE(scatter["verified"].boolean);

  const Json partition = plan({"--shape", "16,16", "--mesh", "2,2", "--from", "R,R", "--to", "P(max),R", "--verify"});
  ASSERT_EQ(partition["steps"].array.size(), 1u);
  const Json& step = partition["steps"][0];
  EXPECT_EQ(step["op"].string, "local_partition");
  EXPECT_EQ(step["reduce_op"].string, "max");
  EXPECT_EQ(step["bytes_received"].number, 0);
  EXPECT_EQ(step["bytes_sent"].number, 0);
  EXPECT_EQ(decimal(step["time_us"]), 0);
  EXPECT_EQ(partition["lower_bound_bytes"].number, 0);
  EXPECT_TRUE(partition["verified"].boolean);

  const Json slice = plan({"--shape", "16,16", "--mesh", "2,2", "--from", "R,R", "--to", "S(0),R"});
  ASSERT_EQ(slice["steps"].array.size(), 1u);
  EXPECT_EQ(slice["steps"][0]["op"].string, "local_slice");
  EXPECT_FALSE(slice["steps"][0].has("reduce_op"));
  EXPECT_EQ(slice["bytes_per_rank"].number, 0);
}

TEST_F(RedistributeCli, SameLayoutHasNoSteps) {
  const Json json = plan({"--shape", "16,16", "--mesh", "2,2", "--from", "S(0),R", "--to", "S(0),R", "--verify"});
  EXPECT_TRUE(json["steps"].array.empty());
  EXPECT_EQ(json["bytes_per_rank"].number, 0);
  EXPECT_EQ(json["lower_bound_bytes"].number, 0);
  EXPECT_EQ(decimal(json["time_us"]), 0);
  EXPECT_EQ(json["peak_bytes"].number, 8 * 16 * 2);
  EXPECT_TRUE(json["verified"].boolean);
}

TEST_F(RedistributeCli, UnevenAndStridedPlansVerify) {
  const std::vector<std::vector<std::string>> cases = {
      {"--shape", "13,7", "--mesh", "2,3", "--from", "S(0),S(0)", "--to", "S(1),R"},
      {"--shape", "13,7", "--mesh", "2,3", "--from", "S(0),S(0)", "--to", "S(1),R", "--policy", "balanced"},
      {"--shape", "10", "--mesh", "2,2", "--from", "S(0),_S(0,1)", "--to", "R,S(0)"},
      {"--shape", "12,6", "--mesh", "2,2", "--from", "S(1),S(0)", "--to", "_S(0,2),S(0)", "--policy", "even"},
      {"--shape", "9,5,4", "--mesh", "dp=2,cp=2,tp=2", "--from", "S(0),P(sum),S(2)", "--to", "R,S(1),S(0)"},
      {"--shape", "", "--mesh", "2,2", "--from", "P,R", "--to", "R,R"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(describe(args));
    const Json json = plan(with(args, {"--verify"}));
    EXPECT_TRUE(json["verified"].boolean);
    expect_consistent(json);
  }
}

TEST_F(RedistributeCli, NamedMeshAndDeviceOrderAreEchoed) {
  const Json json = plan({"--shape", "8,8", "--mesh", "dp=2,tp=2", "--from", "S(0),R", "--to", "R,R"});
  EXPECT_EQ(strings(json["mesh_names"]), (Strings{"dp", "tp"}));
  EXPECT_FALSE(json.has("mesh_device_order"));
  const Json ordered = plan({"--shape", "8,8", "--mesh", "2,2 <=[2,2]T(1,0)", "--from", "S(0),R", "--to", "R,R"});
  EXPECT_EQ(ordered["mesh_device_order"].string, "[2,2]T(1,0)");
  EXPECT_FALSE(ordered.has("mesh_names"));
}

// ---------------------------------------------------------------------------------------------------------------
// The cost model: --devices-per-host and --axis-cost

// An all_gather of S(0) over mesh axis 0 of size 4 on a 16x16 bf16 tensor: 3 hops, each rank receives the other
// three quarters, 3 x 4 x 16 x 2 = 384 bytes.
const std::vector<std::string> kGather = {"--shape", "16,16", "--mesh", "4,4", "--from", "S(0),R", "--to", "R,R"};

TEST_F(RedistributeCli, DefaultTopologyCrossesHosts) {
  const Json json = plan(kGather);
  // (4,4) with 8 devices per host: axis 1 within a host, axis 0 across hosts.
  const Json& axes = json["axis_costs"];
  ASSERT_EQ(axes.array.size(), 2u);
  EXPECT_EQ(axes[0]["axis"].number, 0);
  EXPECT_DOUBLE_EQ(decimal(axes[0]["alpha_us"]), kInterAlpha);
  EXPECT_DOUBLE_EQ(decimal(axes[0]["gbps"]), kInterGbps);
  EXPECT_DOUBLE_EQ(decimal(axes[1]["alpha_us"]), kIntraAlpha);
  EXPECT_DOUBLE_EQ(decimal(axes[1]["gbps"]), kIntraGbps);
  EXPECT_EQ(json["devices_per_host"].number, 8);

  ASSERT_EQ(json["steps"].array.size(), 1u);
  const Json& step = json["steps"][0];
  EXPECT_EQ(step["op"].string, "all_gather");
  EXPECT_EQ(step["mesh_dims"].ints(), (Ints{0}));
  EXPECT_EQ(step["bytes_received"].number, 384);
  EXPECT_DOUBLE_EQ(decimal(step["time_us"]), model_time(3, kInterAlpha, 384, kInterGbps));
  EXPECT_DOUBLE_EQ(decimal(json["time_us"]), model_time(3, kInterAlpha, 384, kInterGbps));
}

TEST_F(RedistributeCli, DevicesPerHostChangesTime) {
  // 16 devices per host: the whole (4,4) mesh is one host, axis 0 runs at intra-host figures.
  const Json json = plan(with(kGather, {"--devices-per-host", "16"}));
  EXPECT_EQ(json["devices_per_host"].number, 16);
  EXPECT_DOUBLE_EQ(decimal(json["axis_costs"][0]["alpha_us"]), kIntraAlpha);
  ASSERT_EQ(json["steps"].array.size(), 1u);
  EXPECT_EQ(json["steps"][0]["bytes_received"].number, 384);
  EXPECT_DOUBLE_EQ(decimal(json["steps"][0]["time_us"]), model_time(3, kIntraAlpha, 384, kIntraGbps));

  // 2 devices per host: axis 1 (size 4) already crosses hosts; axis 0 too.
  const Json small = plan(with(kGather, {"--devices-per-host", "2"}));
  EXPECT_DOUBLE_EQ(decimal(small["axis_costs"][1]["gbps"]), kInterGbps);
  EXPECT_DOUBLE_EQ(decimal(small["steps"][0]["time_us"]), model_time(3, kInterAlpha, 384, kInterGbps));
}

TEST_F(RedistributeCli, AxisCostChangesTime) {
  const Json json = plan(with(kGather, {"--axis-cost", "0=5:10"}));
  EXPECT_DOUBLE_EQ(decimal(json["axis_costs"][0]["alpha_us"]), 5);
  EXPECT_DOUBLE_EQ(decimal(json["axis_costs"][0]["gbps"]), 10);
  EXPECT_DOUBLE_EQ(decimal(json["axis_costs"][1]["alpha_us"]), kIntraAlpha);  // untouched: default topology
  ASSERT_EQ(json["steps"].array.size(), 1u);
  // 3 x 5 + 384 / 10e3 = 15.0384
  EXPECT_DOUBLE_EQ(decimal(json["steps"][0]["time_us"]), 15.0384);
  EXPECT_DOUBLE_EQ(decimal(json["time_us"]), model_time(3, 5, 384, 10));

  // Overrides apply after --devices-per-host, by name as well as by index.
  const Json named = plan({"--shape", "16,16", "--mesh", "dp=4,tp=4", "--from", "S(0),R", "--to", "R,R",
                           "--devices-per-host", "16", "--axis-cost", "tp=1:1, dp = 0.25:2.5e2"});
  EXPECT_DOUBLE_EQ(decimal(named["axis_costs"][0]["alpha_us"]), 0.25);
  EXPECT_DOUBLE_EQ(decimal(named["axis_costs"][0]["gbps"]), 250);
  EXPECT_DOUBLE_EQ(decimal(named["axis_costs"][1]["alpha_us"]), 1);
  EXPECT_DOUBLE_EQ(decimal(named["axis_costs"][1]["gbps"]), 1);
  EXPECT_DOUBLE_EQ(decimal(named["steps"][0]["time_us"]), model_time(3, 0.25, 384, 250));
}

TEST_F(RedistributeCli, FlattenedGroupRunsAtTheSlowerAxis) {
  // The acceptance permute spans both axes: it runs at the larger latency and the smaller bandwidth.
  const Json json = plan(with(kAcceptance, {"--axis-cost", "0=2:100,1=1:50"}));
  ASSERT_EQ(json["steps"].array.size(), 1u);
  EXPECT_EQ(json["steps"][0]["op"].string, "permute");
  EXPECT_DOUBLE_EQ(decimal(json["steps"][0]["time_us"]), model_time(1, 2, 64, 50));
}

// ---------------------------------------------------------------------------------------------------------------
// Readable output

TEST_F(RedistributeCli, Readable) {
  const std::string out = run_ok(with({"redistribute"}, kAcceptance));
  EXPECT_EQ(out,
            "redistribute shape (8,8)  mesh (2,2)  dtype f32 (4 bytes)  policy chunk\n"
            "from S(0),S(1)\n"
            "to   S(1),S(0)\n"
            "costs (8 devices per host): axis 0 0.6 us + 87.7 GB/s, axis 1 0.6 us + 87.7 GB/s\n"
            "\n"
            "step  op       mesh_dims  tensor_dims  reduce  placements_after  received  sent  time_us\n"
            "   0  permute  [0,1]      [0,1]        -       S(1),S(0)         64        64    0.601\n"
            "\n"
            "time 0.601 us\n"
            "bytes per rank 64 (lower bound 64, ratio 1.00)\n"
            "peak bytes 128\n"
            "optimal: yes (no cheaper plan under the model)\n"
            "verified: yes (ran in memory on every rank)\n");
}

TEST_F(RedistributeCli, ReadableSteps) {
  const std::string out =
      run_ok({"redistribute", "--shape", "16,16", "--mesh", "dp=2,tp=2", "--from", "P,S(0)", "--to", "R,R"});
  EXPECT_TRUE(has(out, "costs (8 devices per host): axis 0 (dp) 0.6 us + 87.7 GB/s, axis 1 (tp)")) << out;
  EXPECT_TRUE(has(out, "   0  all_reduce  [0]        []           sum     R,S(0)")) << out;
  EXPECT_TRUE(has(out, "   1  all_gather  [1]        [0]          -       R,R")) << out;
  EXPECT_TRUE(has(out, "\ntime 1.806 us\n")) << out;
  EXPECT_TRUE(has(out, "bytes per rank 512 (lower bound 512, ratio 1.00)\n")) << out;
  EXPECT_TRUE(has(out, "verified: no (use --verify)\n")) << out;
}

// Issue 12's first case: a packed gate_up_proj (_S(0,2), no shard order) to plain S(0) on 4 ranks, verified.
TEST_F(RedistributeCli, StridedEndpointWithoutShardOrder) {
  const std::string out = run_ok({"redistribute", "--shape", "16,6", "--mesh", "4", "--from", "_S(0,2)", "--to",
                                  "S(0)", "--dtype", "f32", "--verify", "--json"});
  EXPECT_TRUE(has(out, R"("op":"all_to_all")")) << out;
  EXPECT_TRUE(has(out, R"("bytes_per_rank":96)")) << out;
  EXPECT_TRUE(has(out, R"("lower_bound_bytes":96)")) << out;
  EXPECT_TRUE(has(out, R"("verified":true)")) << out;
}

// Issue 12's request that once gave up after 20 s and 3.5 GB: a 6-axis mesh, a tensor of 3 elements. The search's
// budget runs out and the best plan it found answers (reduce, gather, slice), verified, and marked not optimal.
TEST_F(RedistributeCli, OutOfBudgetAnswersWithTheConstructivePlan) {
  const std::vector<std::string> request = {"--shape", "3", "--mesh", "2,2,4,4,2,2", "--from",
                                            "S(0),P(max),S(0),S(0),S(0),S(0)", "--to", "R,S(0),S(0),R,S(0),R",
                                            "--verify"};
  const Json json = plan(request);
  expect_consistent(json);
  EXPECT_EQ(json["optimal"].kind, Json::Kind::boolean);
  EXPECT_FALSE(json["optimal"].boolean);
  EXPECT_TRUE(json["verified"].boolean);
  EXPECT_EQ(json["steps"].array.front()["op"].string, "all_reduce");
  EXPECT_EQ(json["steps"].array.back()["op"].string, "local_slice");
  const std::string text = run_ok(with({"redistribute"}, request));
  EXPECT_TRUE(has(text, "optimal: no (the search ran out of budget; the best plan it found, not proven the least)\n"))
      << text;
}

// On (4,65536) the search may not slice the 4-rank Replicate axis as well (4 x 65,536 combinations, past the
// limit): the plan is right but not proven the least, and the listing says why.
TEST_F(RedistributeCli, StepsPastTheCombinationLimitAreNotWeighed) {
  const std::vector<std::string> request = {"--shape", "8,8",    "--mesh", "4,65536",
                                            "--from",  "R,S(0)", "--to",   "R,S(1)"};
  const Json json = plan(request);
  EXPECT_FALSE(json["optimal"].boolean);
  EXPECT_EQ(json["steps"].array.size(), 1U);
  EXPECT_EQ(json["steps"].array.front()["op"].string, "all_to_all");
  EXPECT_EQ(json["bytes_per_rank"].number, 7 * 2);
  const std::string text = run_ok(with({"redistribute"}, request));
  EXPECT_TRUE(has(text, "optimal: no (the search left out steps whose splitting axes span more than 131072 "
                        "combinations; the best plan it found, not proven the least)\n"))
      << text;
}

// Meshes of up to 16 axes plan; a 17th axis is refused, naming the limit.
TEST_F(RedistributeCli, SixteenAxisMeshes) {
  const Json json = plan({"--shape", "4096,512", "--mesh", "2,2,2,2,2,2,2,2,2,2,2,2,2,2,4,4", "--from",
                          "R,R,R,R,R,R,R,R,R,R,R,R,R,R,S(0),S(1)", "--to", "R,R,R,R,R,R,R,R,R,R,R,R,R,R,S(1),S(0)"});
  EXPECT_TRUE(json["optimal"].boolean);
  ASSERT_EQ(json["steps"].array.size(), 1U);
  EXPECT_EQ(json["steps"].array.front()["op"].string, "permute");
  EXPECT_EQ(json["bytes_per_rank"].number, 1024 * 128 * 2);
  const std::string err = error({"--shape", "8", "--mesh", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", "--from",
                                  "R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R", "--to", "R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R"},
                                 "--mesh");
  EXPECT_TRUE(has(err, "more than 16 axes")) << err;
}

TEST_F(RedistributeCli, ReadableWithoutLowerBound) {
  const std::string out = run_ok({"redistribute", "--shape", "16,16", "--mesh", "2,2", "--from", "R,R", "--to", "S(0),R"});
  EXPECT_TRUE(has(out, "local_slice")) << out;
  EXPECT_TRUE(has(out, "bytes per rank 0 (lower bound 0, ratio n/a)\n")) << out;
  const std::string same = run_ok({"redistribute", "--shape", "16,16", "--mesh", "2,2", "--from", "R,R", "--to", "R,R"});
  EXPECT_TRUE(has(same, "no steps: the layouts are the same\n")) << same;
  EXPECT_TRUE(has(same, "time 0.000 us\n")) << same;
}

TEST_F(RedistributeCli, TheSlowestFiguresAllowedGiveFiniteTimesPrintedInFull) {
  // 1e15 us per hop and 1e-9 GB/s (1 byte per second, 1e6 us per byte): the one all_gather takes 1e15 + 64e6 us,
  // every digit shown (format_us measures its text instead of cutting it to a buffer).
  const std::vector<std::string> args = {"redistribute", "--shape", "8,8",   "--mesh",      "2,2",
                                         "--from",       "S(0),R",  "--to",  "R,R",         "--axis-cost",
                                         "0=1e15:1e-9,1=1e15:1e-9"};
  const std::string out = run_ok(args);
  EXPECT_TRUE(has(out, "axis 0 1000000000000000 us + 1e-9 GB/s, axis 1 1000000000000000 us + 1e-9 GB/s\n")) << out;
  EXPECT_TRUE(has(out, "  1000000064000000.000\n")) << out;
  EXPECT_TRUE(has(out, "\ntime 1000000064000000.000 us\n")) << out;
  const Json json = plan(std::vector<std::string>(args.begin() + 1, args.end()));
  EXPECT_EQ(decimal(json["time_us"]), 1.000000064e15);
}

TEST_F(RedistributeCli, Help) {
  const std::string out = run_ok({"redistribute", "--help"});
  EXPECT_TRUE(out.starts_with("usage: shardplan redistribute --shape SIZES --mesh MESH --from PLACEMENTS --to "
                              "PLACEMENTS [--dtype D] [--policy POLICY] [--devices-per-host N] [--axis-cost LIST] "
                              "[--verify] [--json]\n"))
      << out;
  EXPECT_TRUE(has(out, "bf16 (default)")) << out;
  EXPECT_TRUE(has(out, "AXIS=ALPHA_US:GBPS")) << out;
  EXPECT_TRUE(has(run_ok({"--help"}), "  redistribute  ")) << "listed in the command table";
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

const std::vector<std::string> kBase = {"--shape", "8,8", "--mesh", "2,2"};

TEST_F(RedistributeCli, LayoutErrors) {
  // Partial target from a sharded source.
  std::string err = error(with(kBase, {"--from", "S(0),R", "--to", "P,R"}), "--to");
  EXPECT_TRUE(has(err, "to[0]: no rule turns S(0) into P(sum) on mesh axis 0")) << err;
  // Partial axes with different ops.
  err = error(with(kBase, {"--from", "P(sum),P(max)", "--to", "R,R"}), "--from");
  EXPECT_TRUE(has(err, "from[1]: Partial axes reduce with different ops (sum and max)")) << err;
  // Placements that do not fit the mesh or the tensor.
  err = error(with(kBase, {"--from", "S(0)", "--to", "R,R"}), "--from");
  EXPECT_TRUE(has(err, "1 placements for a 2-axis mesh")) << err;
  err = error(with(kBase, {"--from", "R,R", "--to", "S(2),R"}), "--to");
  EXPECT_TRUE(has(err, "placements[0]: dim 2 is outside a rank-2 tensor")) << err;
  err = error(with(kBase, {"--from", "Foo,R", "--to", "R,R"}), "--from");
  EXPECT_TRUE(has(err, "unknown placement 'Foo'")) << err;
}

TEST_F(RedistributeCli, PolicyErrors) {
  std::string err = error(with(kBase, {"--from", "R,R", "--to", "R,R", "--policy", "foo"}), "--policy");
  EXPECT_TRUE(has(err, "unknown split policy 'foo'")) << err;
  // Even splits: the source fails, then the target.
  err = error({"--shape", "9,8", "--mesh", "2,2", "--from", "S(0),R", "--to", "R,R", "--policy", "even"}, "--policy");
  EXPECT_TRUE(has(err, "--from placements[0]: even policy: dim 0 has 9 indices here, not divisible by mesh axis 0 "
                       "of size 2"))
      << err;
  err = error({"--shape", "6,8", "--mesh", "2,2", "--from", "R,R", "--to", "S(0),S(0)", "--policy", "even"}, "--policy");
  EXPECT_TRUE(has(err, "--to placements[1]: even policy: dim 0 has 3 indices here")) << err;
}

TEST_F(RedistributeCli, ShapeAndMeshErrors) {
  std::string err = error({"--shape", "4294967296,4294967296", "--mesh", "2,2", "--from", "R,R", "--to", "R,R"},
                          "--shape");
  EXPECT_TRUE(has(err, "4294967296 * 4294967296 overflows int64")) << err;
  err = error({"--shape", "1073741824,1073741824", "--mesh", "2,2", "--from", "R,R", "--to", "S(0),R"}, "--shape");
  EXPECT_TRUE(has(err, "x 2 bytes is past the planner's 2^56-byte limit")) << err;
  err = error({"--shape", "8,x", "--mesh", "2,2", "--from", "R,R", "--to", "R,R"}, "--shape");
  EXPECT_TRUE(has(err, "shape[1]: 'x' is not an integer")) << err;
  err = error({"--shape", "8,-1", "--mesh", "2,2", "--from", "R,R", "--to", "R,R"}, "--shape");
  EXPECT_TRUE(has(err, "shape[1]: size must be >= 0, got -1")) << err;
  err = error({"--shape", "8,8", "--mesh", "2,0", "--from", "R,R", "--to", "R,R"}, "--mesh");
  EXPECT_TRUE(has(err, "mesh[1]: axis size must be >= 1, got 0")) << err;
  err = error({"--shape", "8,8", "--mesh", "1024,1024", "--from", "S(0),S(0)", "--to", "S(1),S(1)"}, "--mesh");
  EXPECT_TRUE(has(err, "span 1048576 coordinate combinations, past the planner's limit of 131072")) << err;
}

TEST_F(RedistributeCli, DtypeErrors) {
  std::string err = error(with(kBase, {"--from", "R,R", "--to", "R,R", "--dtype", "f4"}), "--dtype");
  EXPECT_TRUE(has(err, "unknown dtype 'f4'")) << err;
  err = error(with(kBase, {"--from", "R,R", "--to", "R,R", "--dtype", ""}), "--dtype");
  EXPECT_TRUE(has(err, "unknown dtype ''")) << err;
}

TEST_F(RedistributeCli, CostErrors) {
  const std::vector<std::string> base = with(kBase, {"--from", "S(0),R", "--to", "R,R"});
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "--axis-cost: no entries; expected AXIS=ALPHA_US:GBPS"},
      {"0=1:2,", "axis_cost[1]: empty entry"},
      {"0", "axis_cost[0]: '0' has no '='"},
      {"0=1", "axis_cost[0]: '0=1' has no ':'"},
      {"2=1:2", "axis_cost[0]: axis 2 is outside a 2-axis mesh (valid: 0..1)"},
      {"tp=1:2", "axis_cost[0]: no mesh axis is named 'tp' (the mesh has no axis names)"},
      {"0=1:2,0=3:4", "axis_cost[1]: mesh axis 0 is already set by axis_cost[0]"},
      {"0=x:2", "axis_cost[0]: latency ALPHA_US: 'x' is not a decimal number"},
      {"0=1:nan", "axis_cost[0]: bandwidth GBPS: 'nan' is not a decimal number"},
      {"0=0:2", "axis_cost[0]: mesh axis 0: latency must be a positive number of microseconds, got 0"},
      {"1=-1:2", "axis_cost[0]: mesh axis 1: latency must be a positive number of microseconds, got -1"},
      {"0=1:0", "axis_cost[0]: mesh axis 0: bandwidth must be a positive number of GB/s, got 0"},
      {"0=1:1e400", "axis_cost[0]: mesh axis 0: bandwidth must be a positive number of GB/s, got inf"},
      // Figures that would make a time non-finite (issue 11: "time inf us" with exit 0).
      {"0=1:1e-320",
       "axis_cost[0]: mesh axis 0: bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay "
       "finite, got 1e-320"},
      {"1=1e299:1",
       "axis_cost[0]: mesh axis 1: latency must be at most 1e15 microseconds (31 years) so that times stay finite, "
       "got 1e299"},
  };
  for (const Case& c : cases) {
    const std::string err = error(with(base, {"--axis-cost", c.text}), "--axis-cost");
    EXPECT_TRUE(has(err, c.message)) << c.text << ": " << err;
  }
  std::string err = error(with(base, {"--devices-per-host", "0"}), "--devices-per-host");
  EXPECT_TRUE(has(err, "must be >= 1, got 0")) << err;
  err = error(with(base, {"--devices-per-host", "-3"}), "--devices-per-host");
  EXPECT_TRUE(has(err, "must be >= 1, got -3")) << err;
  err = error(with(base, {"--devices-per-host", "eight"}), "--devices-per-host");
  EXPECT_TRUE(has(err, "'eight' is not an integer")) << err;
}

TEST_F(RedistributeCli, VerifyRefusesHugeTensors) {
  // 4096 x 4096 elements on 4 ranks: 2^26 > 2^24.
  std::string err = error({"--shape", "4096,4096", "--mesh", "2,2", "--from", "S(0),R", "--to", "R,R", "--verify"},
                          "--verify");
  EXPECT_TRUE(has(err, "16777216 elements x 4 ranks = 67108864 elements, more than 2^24 = 16777216")) << err;
  // At the limit it runs.
  const Json json = plan({"--shape", "1024,1024", "--mesh", "4,4", "--from", "S(0),S(1)", "--to", "S(1),S(0)",
                          "--verify", "--dtype", "i8"});
  EXPECT_TRUE(json["verified"].boolean);
  // Past int64.
  err = error({"--shape", "4294967296,1048576", "--mesh", "16384", "--from", "S(0)", "--to", "S(1)", "--verify"},
              "--verify");
  EXPECT_TRUE(has(err, "more than int64 can count")) << err;
  // Without --verify the same plan is fine.
  run_ok({"redistribute", "--shape", "4096,4096", "--mesh", "2,2", "--from", "S(0),R", "--to", "R,R"});
}

TEST_F(RedistributeCli, FlagErrors) {
  std::string err = error({"--shape", "8,8", "--mesh", "2,2", "--to", "R,R"}, "--from");
  EXPECT_TRUE(has(err, "required flag is missing")) << err;
  err = error({"--shape", "8,8", "--from", "R,R", "--to", "R,R"}, "--mesh");
  EXPECT_TRUE(has(err, "required flag is missing")) << err;
  err = error(with(kBase, {"--from", "R,R", "--to", "R,R", "--verify=yes"}), "--verify");
  EXPECT_TRUE(has(err, "takes no value")) << err;
  err = error(with(kBase, {"--from", "R,R", "--to", "R,R", "--from-mesh", "2"}), "--from-mesh");
  EXPECT_TRUE(has(err, "unknown flag for 'redistribute'")) << err;
}

}  // namespace
