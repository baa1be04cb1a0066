// `shardplan check | plan | size`: dp inferred from --world, the schedule and recomputation flags, expert tensor
// parallelism, sizes at any tp, the listing limit and quantization formats read from config.json.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

Json parse_json(const std::string& text) {
  JsonParser parser(text);
  Json json = parser.parse();
  EXPECT_TRUE(parser.ok()) << parser.error() << "\n" << text;
  return json;
}

/// The figures block of `size`'s text output: from the parameter count on (past the model line and, for an invalid
/// layout, check's diagnostics above it).
std::string figures(const std::string& out) {
  const std::size_t start = out.find(" parameters; busiest rank");
  if (start == std::string::npos) return out;
  const std::size_t line = out.rfind('\n', start);
  return line == std::string::npos ? out.substr(0) : out.substr(line + 1);
}

TEST_F(Cli, WorldInfersDp) {
  const std::string check = run_ok({"check", "--model", "llama-3.1-8b", "--world", "16", "--tp", "8"});
  EXPECT_TRUE(check.starts_with("llama-3.1-8b: tp 8, dp 2: valid\n")) << check;
  // plan knows rank 15 (the last of 16) and size shards the optimizer over the inferred dp.
  EXPECT_EQ(run_cli({"plan", "--model", "llama-3.1-8b", "--world", "16", "--tp", "8", "--rank", "15"}).status, 0);
  const Json json = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--world", "16", "--tp", "8", "--json"}));
  EXPECT_EQ(json["per_rank"]["optimizer_bytes"].number, 12 * json["per_rank"]["params"].number / 2);
  // With pp and cp: 64 / (2·2·4) = 4.
  const std::string four = run_ok({"check", "--model", "llama-3.1-8b", "--world", "64", "--tp", "2", "--pp", "4",
                                   "--cp", "2"});
  EXPECT_TRUE(four.starts_with("llama-3.1-8b: tp 2, pp 4, dp 4, cp 2: valid\n")) << four;
}

TEST_F(Cli, WorldErrors) {
  const RunResult odd = run_cli({"check", "--model", "llama-3.1-8b", "--world", "12", "--tp", "8"});
  EXPECT_EQ(odd.status, 2);
  EXPECT_EQ(odd.err, "shardplan: --world: tp·cp·pp = 8·1·1 = 8 does not divide world 12, so dp cannot be inferred\n");
  // An explicit --dp must agree with the world.
  const RunResult both = run_cli({"size", "--model", "llama-3.1-8b", "--world", "16", "--tp", "8", "--dp", "4"});
  EXPECT_EQ(both.status, 2);
  EXPECT_EQ(both.err, "shardplan: --world: tp*cp*dp*pp = 8*1*4*1 = 32 but the world is 16\n");
  const RunResult zero = run_cli({"plan", "--model", "llama-3.1-8b", "--world", "0"});
  EXPECT_EQ(zero.status, 2);
  EXPECT_EQ(zero.err, "shardplan: --world: must be >= 1, got 0\n");
}

TEST_F(Cli, ScheduleFlags) {
  // Stage 0 of tp 2, pp 2 at seq 4096 with sequence parallelism, full recomputation: the layer input only,
  // 4096 tokens × 2·4096 bytes / tp 2 per layer, 16 layers, 2 micro-batches in flight.
  const Json full = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "2", "--seq", "4096",
                                       "--sp", "--recompute", "full", "--json"}));
  EXPECT_EQ(full["per_rank"]["activation_bytes"].number, std::int64_t{16} * 2 * 4096 * 4096);
  EXPECT_EQ(full["per_rank"]["micro_batches_in_flight"].number, 2);
  // One micro-batch: one in flight.
  const Json one = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "2", "--seq", "4096",
                                      "--sp", "--recompute", "full", "--micro-batches", "1", "--json"}));
  EXPECT_EQ(one["per_rank"]["activation_bytes"].number, std::int64_t{16} * 4096 * 4096);
  // Eager attention without recomputation stores the softmax, 2 bytes × 16 heads × 4096 keys per token and layer.
  const Json flash = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "2", "--seq", "4096",
                                        "--sp", "--json"}));
  const Json eager = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "2", "--seq", "4096",
                                        "--sp", "--eager-attention", "--json"}));
  EXPECT_EQ(eager["per_rank"]["activation_bytes"].number - flash["per_rank"]["activation_bytes"].number,
            std::int64_t{16} * 2 * 4096 * (2 * 16 * 4096));
  const Json selective = parse_json(run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "2", "--seq",
                                            "4096", "--sp", "--eager-attention", "--recompute", "selective", "--json"}));
  EXPECT_EQ(selective["per_rank"]["activation_bytes"].number, flash["per_rank"]["activation_bytes"].number);
  // Interleaved: pp 4, 2 virtual stages: 11 chunk micro-batches on the first stage.
  const std::string text = run_ok({"size", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "4", "--virtual-stages",
                                   "2", "--seq", "4096", "--sp"});
  EXPECT_NE(text.find("\n  activations (x11 chunks)        "), std::string::npos) << text;
  EXPECT_NE(text.find("\n  sent per micro-batch forward     tp 536870912, ep 0, etp 0 bytes\n"), std::string::npos)
      << text;
}

TEST_F(Cli, ScheduleFlagErrors) {
  const auto error = [](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"size", "--model", "llama-3.1-8b", "--seq", "4096"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult result = run_cli(args);
    EXPECT_EQ(result.status, 2) << describe(args);
    return result.err;
  };
  EXPECT_EQ(error({"--recompute", "some"}),
            "shardplan: --recompute: unknown recomputation 'some' (known: none, selective, full)\n");
  EXPECT_EQ(error({"--micro-batches", "0"}), "shardplan: --micro-batches: must be >= 1, got 0\n");
  EXPECT_EQ(error({"--virtual-stages", "0"}), "shardplan: --virtual-stages: must be >= 1, got 0\n");
  EXPECT_EQ(error({"--pp", "4", "--virtual-stages", "3"}),
            "shardplan: --virtual-stages: 32 layers do not split into pp * virtual stages = 4 * 3 = 12 equal model "
            "chunks\n");
  EXPECT_EQ(error({"--virtual-stages", "2"}),
            "shardplan: --virtual-stages: 2 virtual stages need pp > 1 (the interleaved schedule), got pp 1\n");
  EXPECT_EQ(error({"--micro-batches", "x"}).substr(0, 28), "shardplan: --micro-batches: ");
}

TEST_F(Cli, ExpertTensorParallelism) {
  const auto params = [](const char* etp) {
    const Json json = parse_json(run_ok({"size", "--model", "mixtral-8x7b", "--tp", "8", "--dp", "8", "--ep", "8",
                                         "--etp", etp, "--seq", "4096", "--sp", "--json"}));
    return std::vector<std::int64_t>{json["per_rank"]["params"].number, json["per_rank"]["etp_comm_bytes_per_step"].number,
                                     json["rank_classes"].number};
  };
  EXPECT_EQ(params("8"), (std::vector<std::int64_t>{906498048, 3758096384, 1}));
  EXPECT_EQ(params("1"), (std::vector<std::int64_t>{5838999552, 0, 1}));
  const RunResult zero = run_cli({"size", "--model", "mixtral-8x7b", "--etp", "0"});
  EXPECT_EQ(zero.status, 2);
  EXPECT_EQ(zero.err, "shardplan: --etp: must be >= 1, got 0\n");
}

TEST_F(Cli, SizeAnswersAtAnyTp) {
  // Invalid (exit 1, check's diagnostics first), yet sized at once.
  const RunResult result = run_cli({"size", "--model", "llama-3.1-8b", "--tp", "9223372036854775807"});
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(result.out.starts_with("llama-3.1-8b: tp 9223372036854775807: INVALID\n  error   [attention_heads] model.layers.*.self_attn.q_proj.weight: total number "
                                     "of attention heads (32) must be divisible by tensor parallel size "
                                     "(9223372036854775807)\n"))
      << result.out;
  EXPECT_EQ(figures(result.out),
            "8030261248 parameters; busiest rank 0 (stage 0, tp rank 0, ep rank 0):\n"
            "  parameters                      0.00 GiB\n"
            "  gradients (bf16)                0.00 GiB\n"
            "  optimizer (Adam, fp32, / dp)    0.01 GiB\n"
            "  activations                     0.00 GiB\n"
            "  total                           0.01 GiB\n"
            "  KV cache per token              16384 bytes\n"
            "(activations and communication need --seq)\n");
  const Json json = parse_json(run_cli({"size", "--model", "qwen2.5-7b", "--tp", "10000", "--json"}).out);
  EXPECT_EQ(json["rank_classes"].number, 15);
  EXPECT_EQ(json["per_rank"]["params"].number, 26819100);
  EXPECT_EQ(json["busiest"]["tp_ranks"].number, 4);
}

std::string write_config(const std::string& name, const std::string& extra) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream file(path);
  file << R"({"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000, "num_experts_per_tok": 2)"
       << extra << "}";
  return path;
}

TEST_F(Cli, ListingLimitBeforeExpansion) {
  const std::string path = write_config("shardplan_many_experts.json", R"(, "num_local_experts": 1000000000)");
  const RunResult plan = run_cli({"plan", "--model", path, "--tp", "8"});
  EXPECT_EQ(plan.status, 2);
  EXPECT_EQ(plan.err,
            "shardplan: --model: experts: rank 0 holds 96000000227 parameters (layers x experts x tensors), past the "
            "listing limit of 1048576 (kMaxListedParameters); size the layout instead, or list a config with fewer "
            "experts\n");
  // check does not expand the experts at all.
  EXPECT_EQ(run_cli({"check", "--model", path, "--tp", "8"}).status, 0);
}

TEST_F(Cli, QuantizationFromConfigAndOverride) {
  const std::string path = write_config(
      "shardplan_fp8_channel.json",
      R"(, "num_local_experts": 8, "quantization_config": {"quant_method": "compressed-tensors", "config_groups":
      {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float", "strategy": "channel"}}}})");
  const Json fp8 = parse_json(run_ok({"size", "--model", path, "--tp", "8", "--json"}));
  const Json none = parse_json(run_ok({"size", "--model", path, "--tp", "8", "--quant", "none", "--json"}));
  const Json preset = parse_json(run_ok({"size", "--model", "mixtral-8x7b", "--tp", "8", "--json"}));
  EXPECT_EQ(none["per_rank"]["params_bytes"].number, preset["per_rank"]["params_bytes"].number);
  EXPECT_EQ(none["per_rank"]["params_bytes"].number, 2 * none["per_rank"]["params"].number);
  // Per layer and rank, the fp8 projections (1 byte) and their fp32 per-row scales: q 512 rows, k 128, v 128 and the
  // experts' w1, w3 1792 rows each (8 experts) are colwise; o and w2 keep all 4096 rows (rowwise).
  const std::int64_t layer_weights = (4096 * 512 + 2 * 1024 * 512 + 512 * 4096) + 8 * 3 * 1792 * 4096;
  const std::int64_t layer_scales = 4 * (512 + 128 + 128 + 4096 + 8 * (1792 + 1792 + 4096));
  const std::int64_t rest = 2 * (2 * 4000 * 4096 + 4096 + 32 * (2 * 4096 + 8 * 4096));  // embeddings, norms, router
  EXPECT_EQ(fp8["per_rank"]["params_bytes"].number, 32 * (layer_weights + layer_scales) + rest);
  const std::string text = run_ok({"check", "--model", path, "--tp", "8"});
  EXPECT_TRUE(text.starts_with("shardplan_fp8_channel.json: tp 8, fp8-channel: valid\n")) << text;
}

}  // namespace
