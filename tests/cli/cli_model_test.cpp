// `shardplan check | plan | size | models`.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

TEST_F(Cli, CheckQwen25At8ExplainsAndExitsOne) {
  const RunResult result = run_cli({"check", "--model", "qwen2.5-7b", "--tp", "8"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(result.out.starts_with("qwen2.5-7b: tp 8: INVALID\n")) << result.out;
  EXPECT_NE(result.out.find("[attention_heads] model.layers.*.self_attn.q_proj.weight: total number of attention "
                            "heads (28) must be divisible by tensor parallel size (8)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("valid sizes (each alone, same policies): tp 1, 2, 4;"), std::string::npos) << result.out;
}

TEST_F(Cli, CheckJson) {
  const RunResult result = run_cli({"check", "--model", "qwen2.5-7b", "--tp", "8", "--json"});
  EXPECT_EQ(result.status, 1);
  JsonParser parser(result.out);
  const Json json = parser.parse();
  ASSERT_TRUE(parser.ok()) << parser.error();
  EXPECT_FALSE(json["valid"].boolean);
  EXPECT_EQ(json["errors"][0]["rule"].string, "attention_heads");
  EXPECT_EQ(json["errors"][0]["param"].string, "model.layers.*.self_attn.q_proj.weight");
  EXPECT_EQ(json["errors"][1]["rule"].string, "kv_heads");
  EXPECT_EQ(json["valid_sizes"]["tp"].ints(), (std::vector<std::int64_t>{1, 2, 4}));
  EXPECT_EQ(json["valid_sizes"]["pp"].array.size(), 28U);
}

TEST_F(Cli, CheckLlama70bAt8Passes) {
  const RunResult result = run_cli({"check", "--model", "llama-3.1-70b", "--tp", "8"});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_TRUE(result.out.starts_with("llama-3.1-70b: tp 8: valid\n")) << result.out;
}

TEST_F(Cli, CheckPoliciesAndQuantization) {
  EXPECT_EQ(run_cli({"check", "--model", "qwen3-30b-a3b", "--tp", "8", "--kv-policy", "replicate"}).status, 0);
  const RunResult fp8 = run_cli({"check", "--model", "qwen3-235b-a22b", "--tp", "8", "--kv-policy", "replicate",
                                 "--quant", "fp8-block128", "--json"});
  EXPECT_EQ(fp8.status, 1);
  JsonParser parser(fp8.out);
  const Json json = parser.parse();
  EXPECT_EQ(json["errors"][0]["rule"].string, "quantization_blocks");
  EXPECT_NE(json["errors"][0]["message"].string.find("(192, 4096)"), std::string::npos);
}

// The README's headline layout (tp 8 is invalid for this model: 4 KV heads).
TEST_F(Cli, SizeQwen3At4x8x8) {
  const Json json = run_json({"size", "--model", "qwen3-235b-a22b", "--tp", "4", "--ep", "8", "--dp", "8"});
  EXPECT_TRUE(json["valid"].boolean);
  EXPECT_EQ(json["total_params"].number, 235093634560);
  const Json& rank = json["per_rank"];
  EXPECT_GT(rank["params_bytes"].number, 0);
  EXPECT_EQ(rank["grads_bytes"].number, rank["params"].number * 2);
  EXPECT_EQ(rank["total_bytes"].number, rank["params_bytes"].number + rank["grads_bytes"].number +
                                            rank["optimizer_bytes"].number + rank["activation_bytes"].number);
  const std::string text = run_ok({"size", "--model", "qwen3-235b-a22b", "--tp", "4", "--ep", "8", "--dp", "8"});
  EXPECT_NE(text.find("parameters"), std::string::npos) << text;
  EXPECT_NE(text.find("GiB"), std::string::npos) << text;
}

// `plan` lists every parameter of the rank; its local shapes add up to what `size` counts for that rank.
TEST_F(Cli, PlanMatchesSize) {
  const std::vector<std::string> model{"--model", "llama-3.1-8b", "--tp", "2", "--pp", "2"};
  std::vector<std::string> plan_args{"plan", "--rank", "3"};
  plan_args.insert(plan_args.end(), model.begin(), model.end());
  const Json plan = run_json(plan_args);
  std::int64_t elements = 0;
  for (const Json& p : plan["params"].array) {
    std::int64_t n = 1;
    for (const std::int64_t size : p["local_shape"].ints()) n *= size;
    elements += n;
  }
  EXPECT_EQ(plan["params"].array.back()["name"].string, "lm_head.weight");
  EXPECT_EQ(plan["params"].array.back()["local_shape"].ints(), (std::vector<std::int64_t>{64128, 4096}));
  EXPECT_EQ(elements, 2007633920);
  const Json& q = plan["params"][16];
  EXPECT_EQ(q["name"].string, "model.layers.16.self_attn.q_proj.weight");
  EXPECT_EQ(q["style"].string, "colwise");
  EXPECT_EQ(q["placements"][0].string, "S(0)");
  EXPECT_EQ(q["local_shape"].ints(), (std::vector<std::int64_t>{2048, 4096}));
  EXPECT_EQ(q["intervals"][0].intervals(), (std::vector<std::pair<std::int64_t, std::int64_t>>{{2048, 4096}}));
}

TEST_F(Cli, ModelsListsThePresets) {
  const Json json = run_json({"models"});
  ASSERT_EQ(json["models"].array.size(), 18U);
  EXPECT_EQ(json["models"][0]["name"].string, "llama-3.1-8b");
  EXPECT_EQ(json["models"][0]["params"].number, 8030261248);
}

TEST_F(Cli, ConfigJsonPath) {
  const std::string path = testing::TempDir() + "/shardplan_cli_config.json";
  {
    std::ofstream file(path);
    file << R"({"model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
                "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
                "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";
  }
  const RunResult result = run_cli({"check", "--model", path, "--tp", "8"});
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_NE(result.out.find("[attention_heads]"), std::string::npos) << result.out;
  {
    std::ofstream file(path);
    file << "{\"model_type\": \"qwen2\",\n \"hidden_size\": 3584,,}";
  }
  const std::string error = expect_input_error({"check", "--model", path}, "--model");
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

// A config or plan path that is not a small regular file is refused before it is read (issue 13: /dev/zero read
// forever; a directory read as an empty file).
TEST_F(Cli, ConfigFilesAreCheckedBeforeReading) {
  EXPECT_EQ(expect_input_error({"check", "--model", "/dev/zero"}, "--model"),
            "shardplan: --model: '/dev/zero' is not a regular file\n");
  EXPECT_EQ(expect_input_error({"check", "--model", "llama-3.1-8b", "--plan", "/dev/zero"}, "--plan"),
            "shardplan: --plan: '/dev/zero' is not a regular file\n");
  const std::string dir = ::testing::TempDir() + "shardplan_config_dir/";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(expect_input_error({"size", "--model", dir}, "--model"),
            "shardplan: --model: '" + dir +
                "' has no config.json (a model directory holds config.json and, optionally, its safetensors files)\n");
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--plan", dir}, "--plan"),
            "shardplan: --plan: '" + dir + "' is a directory (give a file)\n");
  const std::string big = ::testing::TempDir() + "shardplan_big_config.json";
  {
    std::ofstream file(big);
    file << "{\"model_type\": \"llama\"" << std::string((16 << 20) + 1, ' ') << "}";
  }
  const auto bytes = std::to_string(std::filesystem::file_size(big));
  EXPECT_EQ(expect_input_error({"check", "--model", big}, "--model"),
            "shardplan: --model: '" + big + "' is " + bytes + " bytes, past the limit of 16 MiB for a config or plan file\n");
  std::filesystem::remove(big);
}

TEST_F(Cli, ModelInputErrors) {
  expect_input_error({"check", "--model", "llama-4"}, "--model");
  expect_input_error({"check", "--model", "/nonexistent/config.json"}, "--model");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--tp", "0"}, "--tp");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--tp", "x"}, "--tp");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--pp", "-1"}, "--pp");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--kv-policy", "share"}, "--kv-policy");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--vocab-pad", "tpu"}, "--vocab-pad");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--quant", "int3"}, "--quant");
  expect_input_error({"check", "--model", "llama-3.1-8b", "--world", "0"}, "--world");  // see also WorldMismatch
  expect_input_error({"check", "--model", "llama-3.1-8b", "--tp", "99999999999999999999"}, "--tp");
  expect_input_error({"plan", "--model", "llama-3.1-8b", "--tp", "2", "--rank", "2"}, "--rank");
  expect_input_error({"size", "--model", "llama-3.1-8b", "--pp", "40"}, "--pp");
  expect_input_error({"check"}, "--model");
}

}  // namespace

namespace {

using namespace shardplan_cli_test;

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// A user plan replaces the default one: keeping attention replicated makes Qwen2.5-7B at TP=8 pass the head rules.
TEST_F(Cli, UserPlan) {
  const std::string plan = write_temp("shardplan_plan.json", R"({"model.layers.*.mlp.gate_proj": "colwise",
      "model.layers.*.mlp.up_proj": "colwise", "model.layers.*.mlp.down_proj": "rowwise"})");
  const RunResult result = run_cli({"check", "--model", "qwen2.5-7b", "--tp", "8", "--plan", plan});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  const Json listed = run_json({"plan", "--model", "qwen2.5-7b", "--tp", "8", "--plan", plan, "--rank", "1"});
  EXPECT_EQ(listed["params"][0]["name"].string, "model.embed_tokens.weight");
  EXPECT_TRUE(listed["params"][0]["style"].kind == Json::Kind::null);
  EXPECT_NE(expect_input_error({"check", "--model", "qwen2.5-7b", "--plan",
                                write_temp("shardplan_bad_style.json", R"({"lm_head": "colwize"})")},
                               "--plan")
                .find("unknown plan style 'colwize'"),
            std::string::npos);
  EXPECT_NE(expect_input_error({"check", "--model", "qwen2.5-7b", "--plan",
                                write_temp("shardplan_bad_key.json", R"({"model.layers.*.mlp.gateproj": "colwise"})")},
                               "--plan")
                .find("'model.layers.*.mlp.gateproj' matches no parameter of the model"),
            std::string::npos);
  expect_input_error({"check", "--model", "qwen2.5-7b", "--plan", write_temp("shardplan_bad_json.json", "[1,")},
                     "--plan");
  expect_input_error({"check", "--model", "qwen2.5-7b", "--plan", "/nonexistent/plan.json"}, "--plan");
}

TEST_F(Cli, WorldMismatchIsAnInputError) {
  // With --dp given, the product must be the world (without it, dp is inferred: Cli.WorldInfersDp).
  const std::string error = expect_input_error(
      {"check", "--model", "llama-3.1-70b", "--tp", "8", "--dp", "1", "--world", "16"}, "--world");
  EXPECT_NE(error.find("tp*cp*dp*pp = 8*1*1*1 = 8 but the world is 16"), std::string::npos) << error;
  EXPECT_EQ(run_cli({"check", "--model", "llama-3.1-70b", "--tp", "8", "--dp", "2", "--world", "16"}).status, 0);
}

// Sizes whose products overflow int64 are input errors (exit 2, one line naming the field and the numbers), never
// wrapped numbers; each answers at once.
/// Llama-3.1-8B's config.json with one field's value replaced.
std::string llama_config_with(const std::string& name, const std::string& field, const std::string& value) {
  const std::pair<std::string, std::string> fields[] = {
      {"hidden_size", "4096"},      {"intermediate_size", "14336"},  {"num_hidden_layers", "32"},
      {"num_attention_heads", "32"}, {"num_key_value_heads", "8"},   {"vocab_size", "128256"},
      {"head_dim", "128"}};
  std::string text = R"({"model_type": "llama")";
  for (const auto& [key, default_value] : fields) text += ", \"" + key + "\": " + (key == field ? value : default_value);
  return write_temp(name, text + "}");
}

TEST_F(Cli, SizeOverflowsAreInputErrors) {
  // Every group of head_dim 2^40 fits in int64, their sum does not: `size` printed "-6917529020952997888
  // parameters" and `check` called it valid.
  const std::string head_dim = llama_config_with("shardplan_head_dim.json", "head_dim", "1099511627776");
  const std::string total = "shardplan: --model: parameters: the total overflows int64: 6917529028166549504 + "
                            "4611686018427387904 of model.layers.*.self_attn.o_proj.weight ([4096, 35184372088832] "
                            "* 32 layers)\n";
  EXPECT_EQ(expect_input_error({"size", "--model", head_dim}, "--model"), total);
  EXPECT_EQ(expect_input_error({"check", "--model", head_dim}, "--model"), total);
  EXPECT_EQ(expect_input_error({"plan", "--model", head_dim, "--rank", "0"}, "--model"), total);

  // Tokens times the hidden size: "activations 0.00 GiB" before.
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--seq", "9223372036854775807"}, "--seq"),
            "shardplan: --seq: activations: tokens * sequence bytes = 9223372036854775807 * 32768 overflows int64\n");
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--seq", "4611686018427387904", "--sp"}, "--seq"),
            "shardplan: --seq: activations: tokens * sequence bytes = 4611686018427387904 * 32768 overflows int64\n");
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--seq", "4096", "--batch", "4611686018427387904"},
                               "--batch"),
            "shardplan: --batch: tokens per micro-batch: seq / cp * batch = 4096 * 4611686018427387904 overflows "
            "int64\n");
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--seq", "4096", "--cp", "4611686018427387904"},
                               "--cp"),
            "shardplan: --cp: 2*cp = 2 * 4611686018427387904 overflows int64 (load-balanced context parallelism)\n");
  // Per-layer activations fit, all the layers of a stage do not.
  EXPECT_EQ(expect_input_error({"size", "--model", "llama-3.1-8b", "--seq", "35184372088832", "--sp"}, "--seq"),
            "shardplan: --seq: activations: dense layer bytes * layers = 4899916394579099648 * 32 overflows int64\n");

  // The other model sizes at huge values. hidden_size 2^40: the parameters fit, their optimizer state does not.
  EXPECT_EQ(expect_input_error({"size", "--model", llama_config_with("shardplan_hidden.json", "hidden_size",
                                                                      "1099511627776")},
                               "--model"),
            "shardplan: --model: parameters: optimizer: dense parameters * 12 = 2155606839906009088 * 12 overflows "
            "int64\n");
  EXPECT_EQ(expect_input_error({"check", "--model", llama_config_with("shardplan_vocab.json", "vocab_size",
                                                                       "4503599627370496")},
                               "--model"),
            "shardplan: --model: parameters: the element count of model.embed_tokens.weight ([4503599627370496, "
            "4096]) overflows int64\n");
  EXPECT_EQ(expect_input_error({"size", "--model", llama_config_with("shardplan_inter.json", "intermediate_size",
                                                                      "1125899906842624")},
                               "--model"),
            "shardplan: --model: parameters: the element count of model.layers.*.mlp.gate_proj.weight "
            "([1125899906842624, 4096] * 32 layers) overflows int64\n");
  EXPECT_EQ(expect_input_error({"size", "--model", llama_config_with("shardplan_layers.json", "num_hidden_layers",
                                                                      "1099511627776")},
                               "--model"),
            "shardplan: --model: num_hidden_layers: at most 1048576 supported, got 1099511627776\n");
}

}  // namespace

