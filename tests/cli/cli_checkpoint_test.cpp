// `--model DIR` and `shardplan load` on checkpoint directories built on the fly: config.json plus sparse safetensors
// files (real headers, the data a hole) and their index. check, plan, size and load read the checkpoint's own
// tensors, including for a model_type without a family rule; broken directories are one line and exit 2.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/checkpoint_builder.hpp"
#include "../support/cli_runner.hpp"
#include "shardplan/model/presets.hpp"

namespace {

using namespace shardplan_cli_test;
using shardplan::Index;
using shardplan::testing_support::fake_checkpoint;
using shardplan::testing_support::small_deepseek;
using shardplan::testing_support::small_llama;
using shardplan::testing_support::FakeCheckpoint;
using shardplan::testing_support::write_checkpoint;

std::string llama_config(std::string_view model_type) {
  return "{\"model_type\": \"" + std::string(model_type) +
         "\", \"hidden_size\": 256, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512, \"vocab_size\": 1000, "
         "\"torch_dtype\": \"bfloat16\"}";
}

constexpr std::string_view kDeepseekConfig = R"({"model_type": "deepseek_v3", "hidden_size": 7168,
  "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_hidden_layers": 4, "num_attention_heads": 128,
  "num_key_value_heads": 128, "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2,
  "first_k_dense_replace": 1, "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 129280,
  "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]}})";

/// A fresh directory `name` under the test temp dir, with config.json and (unless `fake` is null) the checkpoint.
std::string model_dir(const std::string& name, std::string_view config, const FakeCheckpoint* fake,
                      bool with_index = true) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("shardplan_ckpt_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config;
  if (fake != nullptr) write_checkpoint(*fake, dir, with_index);
  return dir.string();
}

/// The parameters of small_llama: embed and lm_head 1000 x 256, final norm, 2 layers of 590,336.
constexpr Index kSmallLlamaParams = 2 * 1000 * 256 + 256 + 2 * (256 * 256 * 2 + 128 * 256 * 2 + 3 * 512 * 256 + 2 * 256);

TEST_F(Cli, ModelDirectoryIsCheckedPlannedAndSizedFromItsTensors) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 2);
  const std::string dir = model_dir("llama", llama_config("llama"), &fake);
  // Sparse: the files are as large as their data, but hold only the headers.
  const auto file = std::filesystem::path(dir) / "model-00001-of-00002.safetensors";
  EXPECT_GT(std::filesystem::file_size(file), 1'000'000U);

  const RunResult valid = run_cli({"check", "--model", dir, "--tp", "2"});
  EXPECT_EQ(valid.status, 0) << valid.out << valid.err;
  EXPECT_TRUE(valid.out.starts_with("shardplan_ckpt_llama: tp 2: valid\n")) << valid.out;
  const RunResult invalid = run_cli({"check", "--model", dir, "--tp", "4"});
  EXPECT_EQ(invalid.status, 1) << invalid.out << invalid.err;
  EXPECT_NE(invalid.out.find("2 KV heads are not divisible by tp 4"), std::string::npos) << invalid.out;

  const std::string plan = run_ok({"plan", "--model", dir, "--tp", "2", "--rank", "1"});
  EXPECT_TRUE(plan.starts_with("shardplan_ckpt_llama: tp 2, rank 1: 21 parameters\n")) << plan;
  EXPECT_NE(plan.find("model.layers.1.self_attn.q_proj.weight"), std::string::npos);
  EXPECT_NE(plan.find("(256,256) -> (128,256)  colwise"), std::string::npos) << plan;

  const Json size = run_json({"size", "--model", dir, "--tp", "2"});
  EXPECT_EQ(size["total_params"].number, kSmallLlamaParams);
  EXPECT_EQ(size["total_params"].number, 1'692'928);
  // bf16: half the vocabulary of embed and lm_head, per layer q [128, 256], k and v [64, 256], o [256, 128], the MLP
  // halves [256, 256] x 3, and the 5 norms whole.
  EXPECT_EQ(size["per_rank"]["params_bytes"].number,
            (2 * 500 * 256 + 2 * (128 * 256 + 2 * 64 * 256 + 256 * 128 + 3 * 256 * 256) + 5 * 256) * 2);
}

TEST_F(Cli, LoadListsEachTensorsFileShapeAndRanges) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 2);
  const std::string dir = model_dir("llama_load", llama_config("llama"), &fake);
  const auto files = shardplan::testing_support::parsed_files(fake);
  const shardplan::SafetensorsTensor* o_proj = files[1].header.find("model.layers.1.self_attn.o_proj.weight");
  ASSERT_NE(o_proj, nullptr);

  const std::string text = run_ok({"load", "--model", dir, "--tp", "2", "--rank", "1"});
  EXPECT_TRUE(text.starts_with("shardplan_ckpt_llama_load: tp 2, rank 1 (stage 0, tp rank 1, ep rank 0): 21 tensors "
                               "for 21 parameters, from 2 of 2 files\n"))
      << text;
  // A row-wise split: every row's second half, as one line.
  EXPECT_NE(text.find("model.layers.1.self_attn.o_proj.weight  model-00002-of-00002.safetensors  BF16 (256,256) -> "
                      "(256,128)  65536 bytes in 256 reads of 256 bytes, 512 apart, from " +
                      std::to_string(o_proj->file_offset + 256) + "\n"),
            std::string::npos)
      << text;
  // A column-wise split: one read.
  const shardplan::SafetensorsTensor* q = files[0].header.find("model.layers.0.self_attn.q_proj.weight");
  EXPECT_NE(text.find("model.layers.0.self_attn.q_proj.weight  model-00001-of-00002.safetensors  BF16 (256,256) -> "
                      "(128,256)  65536 bytes in 1 read: " +
                      std::to_string(q->file_offset + 65536) + "+65536\n"),
            std::string::npos)
      << text;
  const Index needed = (kSmallLlamaParams - (1 + 2 * 2) * 256) / 2 * 2 + (1 + 2 * 2) * 256 * 2;
  EXPECT_NE(text.find("total: " + std::to_string(needed) + " bytes needed, " + std::to_string(needed) +
                      " bytes read in "),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("(max gap 0), read amplification 1.00\n")) << text;

  const Json json = run_json({"load", "--model", dir, "--tp", "2", "--rank", "1"});
  EXPECT_EQ(json["model"].string, "shardplan_ckpt_llama_load");
  EXPECT_EQ(json["layout"]["tp"].number, 2);
  EXPECT_EQ(json["rank"].number, 1);
  EXPECT_EQ(json["tp_rank"].number, 1);
  EXPECT_EQ(json["parameters"].number, 21);
  EXPECT_EQ(json["files_read"].number, 2);
  EXPECT_EQ(json["bytes_needed"].number, needed);
  EXPECT_EQ(json["bytes_read"].number, needed);
  EXPECT_EQ(json["read_amplification"].number, 1);
  const Json& tensors = json["tensors"];
  ASSERT_EQ(tensors.array.size(), 21U);
  EXPECT_EQ(tensors[0]["name"].string, "model.embed_tokens.weight");
  EXPECT_EQ(tensors[0]["local_shape"].ints(), (std::vector<std::int64_t>{500, 256}));
  for (const Json& tensor : tensors.array) {
    if (tensor["name"].string != "model.layers.1.self_attn.o_proj.weight") continue;
    EXPECT_EQ(tensor["file"].string, "model-00002-of-00002.safetensors");
    EXPECT_EQ(tensor["reads"].number, 256);
    EXPECT_EQ(tensor["length"].number, 256);
    EXPECT_EQ(tensor["stride"].number, 512);
    ASSERT_EQ(tensor["ranges"].array.size(), 16U);
    EXPECT_EQ(tensor["ranges"][2]["file_offset"].number, o_proj->file_offset + 2 * 512 + 256);
    EXPECT_EQ(tensor["ranges"][2]["length"].number, 256);
  }
  // Gaps of 256 bytes bridged: one read per row-wise tensor, more bytes read than needed.
  const std::string bridged = run_ok({"load", "--model", dir, "--tp", "2", "--rank", "1", "--max-gap", "256"});
  EXPECT_NE(bridged.find("(256,256) -> (256,128)  65536 bytes in 1 read: " + std::to_string(o_proj->file_offset + 256) +
                         "+" + std::to_string(255 * 512 + 256) + "\n"),
            std::string::npos)
      << bridged;
}

TEST_F(Cli, Fp8CheckpointWithItsScalesAndAnMtpLayer) {
  const FakeCheckpoint fake = fake_checkpoint(small_deepseek(), 3, {{"model.layers.4.eh_proj.weight", "BF16",
                                                                     shardplan::Shape{7168, 14336}}});
  const std::string dir = model_dir("deepseek", kDeepseekConfig, &fake);
  // The MTP layer (4 of a 4-layer model) is left out: the family rule's count.
  const Json size = run_json({"size", "--model", dir, "--tp", "2"});
  EXPECT_EQ(size["total_params"].number, 4'187'470'872);
  const std::string text = run_ok({"load", "--model", dir, "--tp", "2", "--rank", "1"});
  // q_b_proj's rows 12288.. and its scale's block rows 96.. (scales indented under their weight).
  EXPECT_NE(text.find("model.layers.2.self_attn.q_b_proj.weight  model-00003-of-00003.safetensors  F8_E4M3 "
                      "(24576,1536) -> (12288,1536)  18874368 bytes in 1 read"),
            std::string::npos)
      << text.substr(0, 4000);
  EXPECT_NE(text.find("\n  model.layers.2.self_attn.q_b_proj.weight_scale_inv  model-00003-of-00003.safetensors  F32 "
                      "(192,12) -> (96,12)  4608 bytes in 1 read"),
            std::string::npos);
  const Json json = run_json({"load", "--model", dir, "--tp", "2", "--rank", "1"});
  // What the rank reads (fp8 weights and their f32 block scales) is what size counts for its parameters.
  EXPECT_EQ(json["bytes_needed"].number, size["per_rank"]["params_bytes"].number);
  EXPECT_EQ(json["bytes_needed"].number, 3'051'351'984);
  Index scales = 0;
  for (const Json& tensor : json["tensors"].array) scales += tensor["scale"].boolean ? 1 : 0;
  // Every quantized projection: 5 MLA projections x 4 layers, 3 dense MLP, 3 x (3 shared + 8 x 3 experts).
  EXPECT_EQ(scales, 5 * 4 + 3 + 3 * (3 + 8 * 3));
}

TEST_F(Cli, UnknownModelTypeIsReadFromItsCheckpoint) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 1);
  const std::string dir = model_dir("mystery", llama_config("mystery_lm"), &fake, false);  // model.safetensors
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "model.safetensors"));
  EXPECT_EQ(run_cli({"check", "--model", dir, "--tp", "2"}).status, 0);
  EXPECT_EQ(run_cli({"check", "--model", dir, "--tp", "4"}).status, 1);
  EXPECT_NE(run_ok({"plan", "--model", dir, "--tp", "2"}).find("model.layers.0.mlp.down_proj.weight"),
            std::string::npos);
  EXPECT_EQ(run_json({"size", "--model", dir})["total_params"].number, kSmallLlamaParams);
  const Json load = run_json({"load", "--model", dir, "--tp", "2", "--rank", "0"});
  EXPECT_EQ(load["files"].number, 1);
  EXPECT_EQ(load["tensors"][0]["file"].string, "model.safetensors");
  // Without the checkpoint, no family rule: the error stays.
  const std::string config_only = model_dir("mystery_config", llama_config("mystery_lm"), nullptr);
  EXPECT_EQ(expect_input_error({"check", "--model", config_only}, "--model"),
            "shardplan: --model: " + config_only +
                "/config.json: model_type: unknown 'mystery_lm' (known: llama, mistral, qwen2, qwen3, mixtral, "
                "qwen3_moe, gpt_oss, deepseek_v3, gemma2, gemma3_text, phi3, qwen2_moe, deepseek_v2, glm4_moe, olmo2, "
                "granite, cohere2)\n");
  const std::string llama_only = model_dir("llama_config", llama_config("llama"), nullptr);
  EXPECT_EQ(run_json({"size", "--model", llama_only})["total_params"].number, kSmallLlamaParams);
  EXPECT_EQ(expect_input_error({"load", "--model", llama_only, "--rank", "0"}, "--model"),
            "shardplan: --model: load reads a checkpoint: give a model directory holding model.safetensors.index.json "
            "or model.safetensors\n");
}

TEST_F(Cli, BrokenCheckpointDirectoriesAreOneLine) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 2);
  const std::string dir = model_dir("broken", llama_config("llama"), &fake);
  const std::filesystem::path second = std::filesystem::path(dir) / "model-00002-of-00002.safetensors";
  // A shard file the index names is missing.
  std::filesystem::rename(second, second.string() + ".away");
  EXPECT_EQ(expect_input_error({"check", "--model", dir}, "--model"),
            "shardplan: --model: " + dir + ": path: cannot read " + second.string() + ": No such file or directory\n");
  std::filesystem::rename(second.string() + ".away", second);
  // A header that disagrees with the index.
  FakeCheckpoint moved = fake;
  moved.files["model-00002-of-00002.safetensors"].push_back({"model.norm.bias", "BF16", shardplan::Shape{256}});
  write_checkpoint(moved, dir);
  std::ofstream(std::filesystem::path(dir) / "model.safetensors.index.json") << fake.index_json();  // the old index
  EXPECT_EQ(expect_input_error({"size", "--model", dir}, "--model"),
            "shardplan: --model: " + dir +
                ": checkpoint: tensor 'model.norm.bias' of model-00002-of-00002.safetensors is not in the index's "
                "weight_map\n");
  // A header length past the format's limit, refused from its 8-byte prefix.
  {
    std::ofstream file(second, std::ios::binary | std::ios::trunc);
    const unsigned char prefix[8] = {0, 0, 0, 0, 0, 1, 0, 0};  // 2^40
    file.write(reinterpret_cast<const char*>(prefix), 8);
  }
  std::filesystem::resize_file(second, 1 << 20);
  EXPECT_EQ(expect_input_error({"load", "--model", dir, "--rank", "0"}, "--model"),
            "shardplan: --model: " + dir +
                ": model-00002-of-00002.safetensors: header: header of 1099511627776 bytes exceeds the limit of "
                "100000000 bytes\n");
  // An index that is not JSON.
  std::ofstream(std::filesystem::path(dir) / "model.safetensors.index.json") << "{\"weight_map\": ";
  EXPECT_EQ(expect_input_error({"check", "--model", dir}, "--model"),
            "shardplan: --model: " + dir +
                ": model.safetensors.index.json: line 1, column 16: expected a value, found end of input\n");
  // The rank must be in the world.
  const std::string good = model_dir("good", llama_config("llama"), &fake);
  EXPECT_EQ(expect_input_error({"load", "--model", good, "--tp", "2", "--rank", "2"}, "--rank"),
            "shardplan: --rank: rank 2 is outside a world of 2 ranks (valid: 0..1)\n");
  EXPECT_EQ(expect_input_error({"load", "--model", "llama-3.1-8b", "--rank", "0"}, "--model"),
            "shardplan: --model: load reads a checkpoint: give a model directory holding model.safetensors.index.json "
            "or model.safetensors\n");
}

// An invalid layout: load exits 1 with check's diagnostics, as plan and size do (4 query heads at tp 8).
TEST_F(Cli, LoadOnAnInvalidLayoutPrintsChecksDiagnostics) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 1);
  const std::string dir = model_dir("llama_invalid", llama_config("llama"), &fake);
  const RunResult text = run_cli({"load", "--model", dir, "--tp", "8", "--rank", "0"});
  EXPECT_EQ(text.status, 1) << text.err;
  EXPECT_EQ(text.err, "");
  const std::string check = run_cli({"check", "--model", dir, "--tp", "8"}).out;
  // The same diagnostics as check (whose last line, the valid sizes, is check's alone).
  const std::string diagnostics = check.substr(0, check.find("valid sizes"));
  EXPECT_TRUE(text.out.starts_with(diagnostics)) << text.out << "\n---\n" << check;
  EXPECT_NE(text.out.find("[attention_heads]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("rank 0 cannot be listed: "), std::string::npos) << text.out;
  const RunResult json_run = run_cli({"load", "--model", dir, "--tp", "8", "--rank", "0", "--json"});
  EXPECT_EQ(json_run.status, 1);
  const Json json = JsonParser(json_run.out).parse();
  EXPECT_FALSE(json["valid"].boolean);
  EXPECT_EQ(json["layout"]["tp"].number, 8);
  EXPECT_EQ(json["layout"]["world"].number, 8);
  EXPECT_EQ(json["tensors"].kind, Json::Kind::null);
  EXPECT_FALSE(json["listing_error"].string.empty());
}

}  // namespace
