// `shardplan models | check | size | plan` on the families added after the first nine presets (docs/models.md):
// every new preset is listed, checks and sizes to its published count; phi3's fused qkv_proj is listed per rank as
// its three segments; Gemma 3's multimodal config.json is read through its text_config.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

struct NewPreset {
  std::string name;
  std::string model_type;
  std::int64_t params;
  std::vector<std::string> valid_layout;  // a layout `check` accepts (exit 0)
};

const std::vector<NewPreset>& new_presets() {
  static const std::vector<NewPreset> presets{
      {"gemma-2-9b", "gemma2", 9241705984, {"--tp", "8"}},
      {"gemma-3-1b", "gemma3_text", 999885952, {"--tp", "4", "--kv-policy", "replicate"}},
      {"phi-3-mini", "phi3", 3821079552, {"--tp", "4"}},
      {"qwen1.5-moe-a2.7b", "qwen2_moe", 14315784192, {"--tp", "4", "--ep", "4", "--dp", "4"}},
      {"deepseek-v2-lite", "deepseek_v2", 15706484224, {"--tp", "8"}},
      {"glm-4.5-air", "glm4_moe", 106852251264, {"--tp", "8", "--ep", "8", "--dp", "8"}},
      {"olmo-2-7b", "olmo2", 7298617344, {"--tp", "8"}},
      {"granite-3.1-8b", "granite", 8170848256, {"--tp", "8", "--vocab-pad", "vllm"}},
      {"command-r7b", "cohere2", 8028033024, {"--tp", "8"}},
  };
  return presets;
}

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST_F(Cli, ModelsListsTheNewFamilies) {
  const Json json = run_json({"models"});
  ASSERT_EQ(json["models"].array.size(), 18U);
  for (std::size_t i = 0; i < new_presets().size(); ++i) {
    const NewPreset& expected = new_presets()[i];
    const Json& listed = json["models"][9 + i];
    EXPECT_EQ(listed["name"].string, expected.name);
    EXPECT_EQ(listed["model_type"].string, expected.model_type);
    EXPECT_EQ(listed["params"].number, expected.params);
  }
  const std::string text = run_ok({"models"});
  EXPECT_NE(text.find("qwen1.5-moe-a2.7b qwen2_moe     14315784192 params, 24 layers, heads 16/16, 60 experts\n"),
            std::string::npos)
      << text;
}

TEST_F(Cli, CheckAndSizeEveryNewPreset) {
  for (const NewPreset& preset : new_presets()) {
    SCOPED_TRACE(preset.name);
    const RunResult check = run_cli(with({"check", "--model", preset.name}, preset.valid_layout));
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    EXPECT_NE(check.out.find(preset.name + ": tp "), std::string::npos) << check.out;
    const Json size = run_json(with({"size", "--model", preset.name}, preset.valid_layout));
    EXPECT_EQ(size["total_params"].number, preset.params);
    EXPECT_GT(size["per_rank"]["params_bytes"].number, 0);
  }
}

TEST_F(Cli, CheckPhi3AtTp3NamesTheFusedTensors) {
  const Json json = [] {
    const RunResult result = run_cli({"check", "--model", "phi-3-mini", "--tp", "3", "--json"});
    EXPECT_EQ(result.status, 1) << result.err;
    JsonParser parser(result.out);
    Json parsed = parser.parse();
    EXPECT_TRUE(parser.ok()) << parser.error();
    return parsed;
  }();
  EXPECT_EQ(json["errors"][0]["rule"].string, "attention_heads");
  EXPECT_EQ(json["errors"][0]["param"].string, "model.layers.*.self_attn.qkv_proj.weight");
  EXPECT_EQ(json["errors"][1]["rule"].string, "kv_heads");
  EXPECT_EQ(json["errors"][2]["rule"].string, "intermediate");
  EXPECT_EQ(json["errors"][2]["param"].string, "model.layers.*.mlp.gate_up_proj.weight");
  EXPECT_EQ(json["errors"][2]["message"].string, "intermediate size 8192 is not divisible by tp 3");
}

// One KV head (Gemma 3 1B) at tp 4: refused under the default KV policy, valid when the KV head is replicated.
TEST_F(Cli, CheckGemma3KvPolicy) {
  const RunResult forbid = run_cli({"check", "--model", "gemma-3-1b", "--tp", "4"});
  EXPECT_EQ(forbid.status, 1);
  EXPECT_NE(forbid.out.find("[kv_heads] model.layers.*.self_attn.k_proj.weight: 1 KV heads are not divisible by tp 4"),
            std::string::npos)
      << forbid.out;
  EXPECT_EQ(run_cli({"check", "--model", "gemma-3-1b", "--tp", "4", "--kv-policy", "replicate"}).status, 0);
}

// `plan --rank` lists phi3's fused qkv_proj as its q, k and v pieces (tp 4, rank 1).
TEST_F(Cli, PlanPhi3SegmentsPerRank) {
  const Json plan = run_json({"plan", "--model", "phi-3-mini", "--tp", "4", "--rank", "1"});
  const Json* qkv = nullptr;
  const Json* gate_up = nullptr;
  for (const Json& p : plan["params"].array) {
    if (p["name"].string == "model.layers.0.self_attn.qkv_proj.weight") qkv = &p;
    if (p["name"].string == "model.layers.0.mlp.gate_up_proj.weight") gate_up = &p;
  }
  ASSERT_NE(qkv, nullptr);
  ASSERT_NE(gate_up, nullptr);
  EXPECT_EQ((*qkv)["style"].string, "colwise_gather_output");
  EXPECT_EQ((*qkv)["local_shape"].ints(), (std::vector<std::int64_t>{2304, 3072}));
  EXPECT_EQ((*qkv)["intervals"][0].intervals(),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{768, 1536}, {3840, 4608}, {6912, 7680}}));
  EXPECT_EQ((*gate_up)["local_shape"].ints(), (std::vector<std::int64_t>{4096, 3072}));
  EXPECT_EQ((*gate_up)["intervals"][0].intervals(),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{2048, 4096}, {10240, 12288}}));
}

// Gemma 3 4B's config.json (multimodal): the text decoder is read through text_config.
TEST_F(Cli, Gemma3MultimodalConfigJson) {
  const std::string path = testing::TempDir() + "/shardplan_gemma3_config.json";
  {
    std::ofstream file(path);
    file << R"({"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
                "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                                "num_hidden_layers": 34, "sliding_window": 1024},
                "torch_dtype": "bfloat16",
                "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model"}})";
  }
  const Json size = run_json({"size", "--model", path, "--tp", "4"});
  EXPECT_EQ(size["total_params"].number, 3880263168);
  EXPECT_EQ(run_cli({"check", "--model", path, "--tp", "4"}).status, 0);
  EXPECT_EQ(run_cli({"check", "--model", path, "--tp", "8"}).status, 1);  // 4 KV heads, 8 query heads
}

}  // namespace
