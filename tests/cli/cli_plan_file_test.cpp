// `--plan FILE` in HF's own format, `--ep-plan`, and `plan --print-plan` (the built-in plans as HF writes them).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

std::string write_plan(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

const Json* find_param(const Json& listed, const std::string& name) {
  for (const Json& p : listed["params"].array) {
    if (p["name"].string == name) return &p;
  }
  return nullptr;
}

TEST_F(Cli, PrintPlanWritesTheBuiltInPlansAsHfDoes) {
  const RunResult llama = run_cli({"plan", "--model", "llama-3.1-8b", "--print-plan"});
  EXPECT_EQ(llama.status, 0);
  EXPECT_EQ(llama.err, "");
  EXPECT_EQ(llama.out,
            R"({"base_model_tp_plan":{"embed_tokens":"embedding_rowwise","layers.*.self_attn.q_proj":"colwise",)"
            R"("layers.*.self_attn.k_proj":"colwise","layers.*.self_attn.v_proj":"colwise",)"
            R"("layers.*.self_attn.o_proj":"rowwise","layers.*.mlp.gate_proj":"colwise","layers.*.mlp.up_proj":"colwise",)"
            R"("layers.*.mlp.down_proj":"rowwise"},"base_model_sp_plan":{"embed_tokens":"embedding_rowwise",)"
            R"("layers.*.self_attn.q_proj":"colwise","layers.*.self_attn.k_proj":"colwise",)"
            R"("layers.*.self_attn.v_proj":"colwise","layers.*.self_attn.o_proj":"rowwise",)"
            R"("layers.*.mlp.gate_proj":"colwise","layers.*.mlp.up_proj":"colwise","layers.*.mlp.down_proj":"rowwise",)"
            R"("layers.*.input_layernorm":"sequence_parallel","layers.*.post_attention_layernorm":"sequence_parallel",)"
            R"("norm":"sequence_parallel"},"_tp_plan":{"lm_head":"colwise_gather_output"},)"
            R"("_sp_plan":{"lm_head":"colwise_gather_output"}})"
            "\n");
  const std::string qwen = run_ok({"plan", "--model", "qwen3-30b-a3b", "--print-plan"});
  EXPECT_NE(qwen.find(R"("base_model_ep_plan":{"layers.*.mlp.gate":"ep_router",)"
                      R"("layers.*.mlp.experts.*.gate_proj":"grouped_gemm","layers.*.mlp.experts.*.up_proj":"grouped_gemm",)"
                      R"("layers.*.mlp.experts.*.down_proj":"grouped_gemm"})"),
            std::string::npos)
      << qwen;
  // Only what the model has: Mixtral's MLPs are all block_sparse_moe.
  const std::string mixtral = run_ok({"plan", "--model", "mixtral-8x7b", "--print-plan"});
  EXPECT_EQ(mixtral.find("layers.*.mlp."), std::string::npos) << mixtral;
  EXPECT_NE(mixtral.find(R"("layers.*.block_sparse_moe.experts.*.w1":"colwise")"), std::string::npos) << mixtral;
}

// What --print-plan writes, --plan reads back to the same plan: every figure of `size` agrees.
TEST_F(Cli, PrintedPlansReadBackToTheSameSizes) {
  for (const std::vector<std::string>& layout :
       {std::vector<std::string>{"--model", "qwen3-30b-a3b", "--tp", "4"},
        std::vector<std::string>{"--model", "qwen3-30b-a3b", "--tp", "2", "--dp", "4", "--ep", "8", "--etp", "1"},
        std::vector<std::string>{"--model", "deepseek-v3", "--tp", "8", "--sp", "--seq", "4096"}}) {
    std::vector<std::string> print{"plan", "--print-plan"};
    print.insert(print.end(), layout.begin(), layout.end());
    const std::string file = write_plan("shardplan_printed_plan.json", run_ok(print));
    std::vector<std::string> size{"size", "--json"};
    size.insert(size.end(), layout.begin(), layout.end());
    const std::string builtin = run_ok(size);
    size.insert(size.end(), {"--plan", file});
    EXPECT_EQ(run_ok(size), builtin) << describe(size);
  }
}

// A flat dict as HF's tp_plan argument is written: keys relative to the base model, a per-layer override.
TEST_F(Cli, FlatHfPlanWithAPerLayerKey) {
  const std::string file = write_plan("shardplan_hf_flat.json", R"({"layers.*.self_attn.q_proj": "colwise",
      "layers.*.self_attn.k_proj": "colwise", "layers.*.self_attn.v_proj": "colwise",
      "layers.*.self_attn.o_proj": "rowwise", "layers.*.mlp.gate_proj": "colwise", "layers.*.mlp.up_proj": "colwise",
      "layers.*.mlp.down_proj": "rowwise", "layers.0.mlp.down_proj": "replicate", "lm_head": "colwise_rep"})");
  const Json listed = run_json({"plan", "--model", "llama-3.1-8b", "--tp", "8", "--plan", file, "--rank", "3"});
  const Json* layer0 = find_param(listed, "model.layers.0.mlp.down_proj.weight");
  const Json* layer1 = find_param(listed, "model.layers.1.mlp.down_proj.weight");
  ASSERT_NE(layer0, nullptr);
  ASSERT_NE(layer1, nullptr);
  EXPECT_EQ((*layer0)["style"].string, "replicate");
  EXPECT_EQ((*layer0)["local_shape"].ints(), (std::vector<std::int64_t>{4096, 14336}));
  EXPECT_EQ((*layer1)["style"].string, "rowwise");
  EXPECT_EQ((*layer1)["placements"][0].string, "S(1)");
  EXPECT_EQ((*layer1)["local_shape"].ints(), (std::vector<std::int64_t>{4096, 1792}));
  EXPECT_EQ(listed["params"].array.size(), 291U);
  // The file printed back in HF's format, the per-layer key kept.
  const std::string printed = run_ok({"plan", "--model", "llama-3.1-8b", "--plan", file, "--print-plan"});
  EXPECT_NE(printed.find(R"("layers.*.mlp.down_proj":"rowwise","layers.0.mlp.down_proj":"replicate"},)"
                         R"("_tp_plan":{"lm_head":"colwise_gather_output"}})"),
            std::string::npos)
      << printed;
}

// Validation sees one layer's style: sharding layer 5's q_proj alone breaks the head rule at tp 8.
TEST_F(Cli, CheckJudgesAPerLayerKey) {
  const std::string mlp = write_plan("shardplan_hf_mlp.json", R"({"layers.*.mlp.gate_proj": "colwise"})");
  EXPECT_EQ(run_cli({"check", "--model", "qwen2.5-7b", "--tp", "8", "--plan", mlp}).status, 0);
  const std::string layer5 = write_plan("shardplan_hf_layer5.json",
                                        R"({"layers.*.mlp.gate_proj": "colwise", "layers.5.self_attn.q_proj": "colwise"})");
  const RunResult result = run_cli({"check", "--model", "qwen2.5-7b", "--tp", "8", "--plan", layer5});
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("[attention_heads] model.layers.*.self_attn.q_proj.weight: total number of attention "
                            "heads (28) must be divisible by tensor parallel size (8)"),
            std::string::npos)
      << result.out;
}

// --ep-plan replace is transformers 4.56-5.x (the EP plan alone): attention, the embedding and lm_head replicated.
TEST_F(Cli, EpPlanOverlayOrReplace) {
  // --etp 1: HF keeps each expert whole under its EP plan (no expert tensor parallelism).
  const std::vector<std::string> layout{"size", "--model", "qwen3-30b-a3b", "--tp", "2", "--dp", "4", "--ep", "4",
                                        "--etp", "1"};
  std::vector<std::string> overlay = layout;
  overlay.insert(overlay.end(), {"--ep-plan", "overlay"});
  std::vector<std::string> replace = layout;
  replace.insert(replace.end(), {"--ep-plan", "replace"});
  EXPECT_EQ(run_json(overlay)["per_rank"]["params"].number, 8024700928);
  EXPECT_EQ(run_json(layout)["per_rank"]["params"].number, 8024700928);  // overlay is the default
  // + 48 layers x half of (q 4096x2048 + k, v 512x2048 + o 2048x4096) + half the embedding and half lm_head
  EXPECT_EQ(run_json(replace)["per_rank"]["params"].number, 8024700928 + 452984832 + 311164928);
  EXPECT_EQ(expect_input_error({"check", "--model", "qwen3-30b-a3b", "--ep", "4", "--dp", "4", "--ep-plan", "merge"},
                               "--ep-plan"),
            "shardplan: --ep-plan: expected overlay or replace, got 'merge'\n");
}

// grouped_gemm without ep splits gpt-oss's fused experts over tp, as HF's one-mesh plan does.
TEST_F(Cli, GroupedGemmSplitsFusedExpertsOverTpWithoutEp) {
  const Json listed = run_json({"plan", "--model", "gpt-oss-120b", "--tp", "8", "--rank", "1"});
  const Json* experts = find_param(listed, "model.layers.0.mlp.experts.gate_up_proj");
  ASSERT_NE(experts, nullptr);
  EXPECT_EQ((*experts)["style"].string, "grouped_gemm");
  EXPECT_EQ((*experts)["placements"][0].string, "S(0)");
  EXPECT_EQ((*experts)["local_shape"].ints(), (std::vector<std::int64_t>{16, 2880, 5760}));
}

TEST_F(Cli, HfPlanErrorsNameTheKey) {
  const auto error = [](const std::string& name, const std::string& text) {
    return expect_input_error({"check", "--model", "llama-3.1-8b", "--plan", write_plan(name, text)}, "--plan");
  };
  EXPECT_EQ(error("shardplan_hf_bad_style.json", R"({"layers.*.mlp.up_proj": "colwize"})"),
            "shardplan: --plan: layers.*.mlp.up_proj: unknown plan style 'colwize' (known: colwise, "
            "colwise_gather_output, rowwise, rowwise_reduce_scatter, rowwise_split_input, ... 37 more in "
            "docs/plans.md)\n");
  EXPECT_EQ(error("shardplan_hf_bad_key.json", R"({"layers.*.mlp.gateproj": "colwise"})"),
            "shardplan: --plan: plan: 'layers.*.mlp.gateproj' matches no parameter of the model\n");
  EXPECT_EQ(error("shardplan_hf_bad_layer.json", R"({"layers.40.mlp.up_proj": "colwise"})"),
            "shardplan: --plan: plan: 'layers.40.mlp.up_proj' matches no parameter of the model (it has no layer 40)\n");
  EXPECT_EQ(error("shardplan_hf_bad_member.json", R"({"base_model_tp_plan": {"layers.*.mlp": "rowwise"}})"),
            "shardplan: --plan: base_model_tp_plan: 'layers.*.mlp' names a module above the parameters; HF applies "
            "'rowwise' to a module's own parameters only, so it would shard nothing\n");
}

}  // namespace
