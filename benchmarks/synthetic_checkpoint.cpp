// Writes a DeepSeek-V3-sized checkpoint directory for timing `shardplan load` and `--model DIR`: config.json, the
// index and 163 sparse safetensors files (real headers; the data a hole, so the directory takes a few MB of disk).
// The tensors are the deepseek-v3 preset's 61 layers with fp8 weights and their weight_scale_inv, named and shaped as
// the hub checkpoint has them (without its MTP layer 61).
//   build/benchmarks/shardplan_synthetic_checkpoint DIR [files, default 163]
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../tests/support/checkpoint_builder.hpp"
#include "shardplan/model/presets.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [files]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  if (std::filesystem::exists(dir)) {
    std::fprintf(stderr, "%s exists: give a new directory\n", argv[1]);
    return 2;
  }
  const int files = argc > 2 ? std::atoi(argv[2]) : 163;
  std::filesystem::create_directories(dir);
  const shardplan::ModelConfig config = shardplan::model_preset("deepseek-v3").value();
  // All tensors in order, then cut into `files` contiguous runs (the hub checkpoint also spreads a layer over files).
  const auto one = shardplan::testing_support::fake_checkpoint(config, 1);
  const auto& all = one.files.begin()->second;
  shardplan::testing_support::FakeCheckpoint fake;
  for (std::size_t i = 0; i < all.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05d.safetensors", i * static_cast<std::size_t>(files) / all.size() + 1,
                  files);
    fake.files[name].push_back(all[i]);
  }
  shardplan::testing_support::write_checkpoint(fake, dir);
  std::ofstream(dir / "config.json") << R"({"model_type": "deepseek_v3", "hidden_size": 7168,
  "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_hidden_layers": 61, "num_attention_heads": 128,
  "num_key_value_heads": 128, "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
  "first_k_dense_replace": 3, "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 129280, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]}})";
  std::printf("%zu tensors in %zu files under %s\n", all.size(), fake.files.size(), argv[1]);
  return 0;
}
