#pragma once
// Built-in ModelConfigs: the config.json values of well-known checkpoints, embedded so that a plan needs no file and
// works at compile time. Each preset uses its base checkpoint's quantization and dtype (gpt-oss-120b ships mxfp4
// experts, DeepSeek-V3 fp8 with 128x128 blocks, gemma-2-9b and olmo-2-7b float32, the others bf16; Qwen3-235B-A22B
// also has an official FP8 variant, which a caller selects by overriding `quantization`). The parameter totals are listed in docs/models.md and tested exactly.
#include "shardplan/core/cxx20.hpp"

#include <array>
#include <cstddef>
#include <string_view>

#include "shardplan/model/config.hpp"

namespace shardplan {

namespace preset_detail {

constexpr ModelConfig llama_3_1(Index hidden, Index intermediate, Index layers, Index heads) {
  ModelConfig config;
  config.family = ModelFamily::llama;
  config.hidden_size = hidden;
  config.intermediate_size = intermediate;
  config.num_hidden_layers = layers;
  config.num_attention_heads = heads;
  config.num_key_value_heads = 8;
  config.head_dim = 128;
  config.vocab_size = 128256;
  return config;
}

constexpr ModelConfig llama_3_1_8b() { return llama_3_1(4096, 14336, 32, 32); }
constexpr ModelConfig llama_3_1_70b() { return llama_3_1(8192, 28672, 80, 64); }
constexpr ModelConfig llama_3_1_405b() { return llama_3_1(16384, 53248, 126, 128); }

constexpr ModelConfig qwen2_5_7b() {
  ModelConfig config;
  config.family = ModelFamily::qwen2;
  config.hidden_size = 3584;
  config.intermediate_size = 18944;
  config.num_hidden_layers = 28;
  config.num_attention_heads = 28;
  config.num_key_value_heads = 4;
  config.head_dim = 128;
  config.vocab_size = 152064;
  config.attention_bias = true;  // Qwen2 has q/k/v biases whatever the flag says; true documents it
  return config;
}

constexpr ModelConfig qwen3_moe(Index hidden, Index intermediate, Index layers, Index heads,
                                Index moe_intermediate) {
  ModelConfig config;
  config.family = ModelFamily::qwen3_moe;
  config.hidden_size = hidden;
  config.intermediate_size = intermediate;  // unused: decoder_sparse_step 1, no mlp_only_layers
  config.num_hidden_layers = layers;
  config.num_attention_heads = heads;
  config.num_key_value_heads = 4;
  config.head_dim = 128;
  config.vocab_size = 151936;
  config.qk_norm = true;
  config.num_experts = 128;
  config.num_experts_per_tok = 8;
  config.moe_intermediate_size = moe_intermediate;
  return config;
}

constexpr ModelConfig qwen3_30b_a3b() { return qwen3_moe(2048, 6144, 48, 32, 768); }
constexpr ModelConfig qwen3_235b_a22b() { return qwen3_moe(4096, 12288, 94, 64, 1536); }

constexpr ModelConfig mixtral_8x7b() {
  ModelConfig config;
  config.family = ModelFamily::mixtral;
  config.hidden_size = 4096;
  config.intermediate_size = 14336;
  config.num_hidden_layers = 32;
  config.num_attention_heads = 32;
  config.num_key_value_heads = 8;
  config.head_dim = 128;
  config.vocab_size = 32000;
  config.num_experts = 8;
  config.num_experts_per_tok = 2;
  config.moe_intermediate_size = 14336;  // Mixtral's experts are intermediate_size wide
  return config;
}

constexpr ModelConfig gpt_oss_120b() {
  ModelConfig config;
  config.family = ModelFamily::gpt_oss;
  config.hidden_size = 2880;
  config.intermediate_size = 2880;  // unused: every layer is MoE
  config.num_hidden_layers = 36;
  config.num_attention_heads = 64;
  config.num_key_value_heads = 8;
  config.head_dim = 64;
  config.vocab_size = 201088;
  config.attention_bias = true;
  config.num_experts = 128;
  config.num_experts_per_tok = 4;
  config.moe_intermediate_size = 2880;
  config.quantization = Quantization::mxfp4;
  return config;
}

constexpr ModelConfig deepseek_v3() {
  ModelConfig config;
  config.family = ModelFamily::deepseek_v3;
  config.hidden_size = 7168;
  config.intermediate_size = 18432;  // the first_k_dense_replace dense layers
  config.num_hidden_layers = 61;     // without the MTP module (the checkpoint's layer 61)
  config.num_attention_heads = 128;
  config.num_key_value_heads = 128;  // config.json's value; MLA does not use it
  config.head_dim = 192;             // the q/k head, nope + rope, as model_config_from_json derives it
  config.vocab_size = 129280;
  config.num_experts = 256;
  config.num_experts_per_tok = 8;
  config.moe_intermediate_size = 2048;
  config.num_shared_experts = 1;
  config.first_k_dense_replace = 3;
  config.q_lora_rank = 1536;
  config.kv_lora_rank = 512;
  config.qk_nope_head_dim = 128;
  config.qk_rope_head_dim = 64;
  config.v_head_dim = 128;
  config.quantization = Quantization::fp8_block128;
  return config;
}

/// A dense decoder's common sizes.
constexpr ModelConfig dense(ModelFamily family, Index hidden, Index intermediate, Index layers, Index heads,
                            Index kv_heads, Index head_dim, Index vocab, bool tied) {
  ModelConfig config;
  config.family = family;
  config.hidden_size = hidden;
  config.intermediate_size = intermediate;
  config.num_hidden_layers = layers;
  config.num_attention_heads = heads;
  config.num_key_value_heads = kv_heads;
  config.head_dim = head_dim;
  config.vocab_size = vocab;
  config.tie_word_embeddings = tied;
  return config;
}

// google/gemma-2-9b: head_dim 256 (not hidden / heads = 224); the checkpoint is float32.
constexpr ModelConfig gemma_2_9b() {
  ModelConfig config = dense(ModelFamily::gemma2, 3584, 14336, 42, 16, 8, 256, 256000, true);
  config.dtype_bytes = 4;
  return config;
}

// google/gemma-3-1b-it: the text-only Gemma 3 (model_type gemma3_text), q/k norms, MQA.
constexpr ModelConfig gemma_3_1b() {
  ModelConfig config = dense(ModelFamily::gemma3_text, 1152, 6912, 26, 4, 1, 256, 262144, true);
  config.qk_norm = true;
  return config;
}

// microsoft/Phi-3-mini-4k-instruct: fused qkv_proj [9216, 3072] and gate_up_proj [16384, 3072].
constexpr ModelConfig phi_3_mini() { return dense(ModelFamily::phi3, 3072, 8192, 32, 32, 32, 96, 32064, false); }

// Qwen/Qwen1.5-MoE-A2.7B: 60 experts of 1408, top-4, one gated shared expert of 5632, q/k/v biases.
constexpr ModelConfig qwen1_5_moe_a2_7b() {
  ModelConfig config = dense(ModelFamily::qwen2_moe, 2048, 5632, 24, 16, 16, 128, 151936, false);
  config.attention_bias = true;  // qkv_bias
  config.num_experts = 60;
  config.num_experts_per_tok = 4;
  config.moe_intermediate_size = 1408;
  config.shared_expert_intermediate_size = 5632;
  return config;
}

// deepseek-ai/DeepSeek-V2-Lite: MLA without query compression (q_lora_rank null: one q_proj), 64 experts + 2
// shared, layer 0 dense.
constexpr ModelConfig deepseek_v2_lite() {
  ModelConfig config = dense(ModelFamily::deepseek_v2, 2048, 10944, 27, 16, 16, 192, 102400, false);
  config.num_experts = 64;
  config.num_experts_per_tok = 6;
  config.moe_intermediate_size = 1408;
  config.num_shared_experts = 2;
  config.first_k_dense_replace = 1;
  config.kv_lora_rank = 512;
  config.qk_nope_head_dim = 128;
  config.qk_rope_head_dim = 64;
  config.v_head_dim = 128;
  return config;
}

// zai-org/GLM-4.5-Air: 46 layers (the checkpoint's layer 46, its MTP module, is not counted), layer 0 dense,
// 128 experts + 1 shared, q/k/v biases, no q/k norms.
constexpr ModelConfig glm_4_5_air() {
  ModelConfig config = dense(ModelFamily::glm4_moe, 4096, 10944, 46, 96, 8, 128, 151552, false);
  config.attention_bias = true;
  config.num_experts = 128;
  config.num_experts_per_tok = 8;
  config.moe_intermediate_size = 1408;
  config.num_shared_experts = 1;
  config.first_k_dense_replace = 1;
  return config;
}

// allenai/OLMo-2-1124-7B: q/k norms over the whole projections, norms after attention and MLP; float32 checkpoint.
constexpr ModelConfig olmo_2_7b() {
  ModelConfig config = dense(ModelFamily::olmo2, 4096, 11008, 32, 32, 32, 128, 100352, false);
  config.qk_norm = true;
  config.dtype_bytes = 4;
  return config;
}

// ibm-granite/granite-3.1-8b-instruct: llama's layout, tied embeddings.
constexpr ModelConfig granite_3_1_8b() {
  return dense(ModelFamily::granite, 4096, 12800, 40, 32, 8, 128, 49155, true);
}

// CohereForAI/c4ai-command-r7b-12-2024: one input norm feeding attention and MLP in parallel, tied embeddings.
constexpr ModelConfig command_r7b() { return dense(ModelFamily::cohere2, 4096, 14336, 32, 32, 8, 128, 256000, true); }

struct PresetEntry {
  std::string_view name;
  ModelConfig (*make)();
};

inline constexpr PresetEntry kPresets[] = {
    {"llama-3.1-8b", llama_3_1_8b},       {"llama-3.1-70b", llama_3_1_70b},
    {"llama-3.1-405b", llama_3_1_405b},   {"qwen2.5-7b", qwen2_5_7b},
    {"qwen3-30b-a3b", qwen3_30b_a3b},     {"qwen3-235b-a22b", qwen3_235b_a22b},
    {"mixtral-8x7b", mixtral_8x7b},       {"gpt-oss-120b", gpt_oss_120b},
    {"deepseek-v3", deepseek_v3},         {"gemma-2-9b", gemma_2_9b},
    {"gemma-3-1b", gemma_3_1b},           {"phi-3-mini", phi_3_mini},
    {"qwen1.5-moe-a2.7b", qwen1_5_moe_a2_7b}, {"deepseek-v2-lite", deepseek_v2_lite},
    {"glm-4.5-air", glm_4_5_air},         {"olmo-2-7b", olmo_2_7b},
    {"granite-3.1-8b", granite_3_1_8b},   {"command-r7b", command_r7b},
};

}  // namespace preset_detail

/// The preset names, in the order docs/models.md lists them.
inline constexpr auto kModelPresetNames = [] {
  std::array<std::string_view, std::size(preset_detail::kPresets)> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = preset_detail::kPresets[i].name;
  return names;
}();

/// The built-in config called `name` (exact, lower case), with `name` in ModelConfig::name; an invalid_argument
/// error on "model" listing the known names otherwise.
[[nodiscard]] constexpr Result<ModelConfig> model_preset(std::string_view name) {
  for (const preset_detail::PresetEntry& entry : preset_detail::kPresets) {
    if (entry.name != name) continue;
    ModelConfig config = entry.make();
    config.name = FixedString<48>(entry.name);
    return config;
  }
  auto error = make_error(ErrorCode::invalid_argument, "model") << "unknown preset '" << name.substr(0, 40)
                                                                  << "' (known: ";
  // As many names as the message holds, then how many more (kModelPresetNames has them all).
  constexpr std::size_t kMessageCapacity = 200;
  constexpr std::size_t kMoreRoom = std::string_view(", and 99 more)").size();
  for (std::size_t i = 0; i < kModelPresetNames.size(); ++i) {
    const std::size_t after = error.error.message.size() + 2 + kModelPresetNames[i].size();
    const bool last = i + 1 == kModelPresetNames.size();
    if (after + (last ? 1 : kMoreRoom) > kMessageCapacity) {
      return error << ", and " << static_cast<Index>(kModelPresetNames.size() - i) << " more)";
    }
    error << (i > 0 ? ", " : "") << kModelPresetNames[i];
  }
  return error << ")";
}

}  // namespace shardplan
