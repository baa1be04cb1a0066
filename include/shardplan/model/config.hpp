#pragma once
// ModelConfig: the architecture facts of an HF `config.json` that sharding depends on. Plain values only (no
// strings), so a preset can be built, validated and sized inside a constant expression.
#include "shardplan/core/cxx20.hpp"

#include <string_view>
#include <vector>

#include "shardplan/core/result.hpp"
#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/model/parameter.hpp"
#include "shardplan/model/quantization.hpp"

namespace shardplan {

/// The `model_type` values shardplan knows. llama and mistral share an architecture; qwen2 adds q/k/v biases; qwen3
/// adds q/k norms; gemma2 and gemma3_text add norms after attention and MLP (gemma3_text also q/k norms); phi3 fuses
/// q/k/v and gate/up into one tensor each; olmo2 normalizes after the blocks and over whole q/k projections; granite
/// is llama's layout; cohere2 runs attention and MLP in parallel off one norm; the MoE families differ in naming,
/// fusing, shared experts and dense-layer rules; deepseek_v2 and deepseek_v3 use multi-head latent attention.
/// `other`: a model_type without a family rule, whose parameters are a checkpoint's own tensors (ModelConfig::
/// checkpoint_groups); parse_model_family never returns it.
enum class ModelFamily {
  llama,
  mistral,
  qwen2,
  qwen3,
  mixtral,
  qwen3_moe,
  gpt_oss,
  deepseek_v3,
  gemma2,
  gemma3_text,
  phi3,
  qwen2_moe,
  deepseek_v2,
  glm4_moe,
  olmo2,
  granite,
  cohere2,
  other,
};

inline constexpr ModelFamily kModelFamilies[] = {
    ModelFamily::llama,     ModelFamily::mistral,     ModelFamily::qwen2,       ModelFamily::qwen3,
    ModelFamily::mixtral,   ModelFamily::qwen3_moe,   ModelFamily::gpt_oss,     ModelFamily::deepseek_v3,
    ModelFamily::gemma2,    ModelFamily::gemma3_text, ModelFamily::phi3,        ModelFamily::qwen2_moe,
    ModelFamily::deepseek_v2, ModelFamily::glm4_moe,  ModelFamily::olmo2,       ModelFamily::granite,
    ModelFamily::cohere2};

[[nodiscard]] constexpr std::string_view to_string(ModelFamily family) {
  switch (family) {
    case ModelFamily::llama: return "llama";
    case ModelFamily::mistral: return "mistral";
    case ModelFamily::qwen2: return "qwen2";
    case ModelFamily::qwen3: return "qwen3";
    case ModelFamily::mixtral: return "mixtral";
    case ModelFamily::qwen3_moe: return "qwen3_moe";
    case ModelFamily::gpt_oss: return "gpt_oss";
    case ModelFamily::deepseek_v3: return "deepseek_v3";
    case ModelFamily::gemma2: return "gemma2";
    case ModelFamily::gemma3_text: return "gemma3_text";
    case ModelFamily::phi3: return "phi3";
    case ModelFamily::qwen2_moe: return "qwen2_moe";
    case ModelFamily::deepseek_v2: return "deepseek_v2";
    case ModelFamily::glm4_moe: return "glm4_moe";
    case ModelFamily::olmo2: return "olmo2";
    case ModelFamily::granite: return "granite";
    case ModelFamily::cohere2: return "cohere2";
    case ModelFamily::other: return "other";
  }
  return "llama";
}

[[nodiscard]] constexpr Result<ModelFamily> parse_model_family(std::string_view text) {
  for (ModelFamily family : kModelFamilies) {
    if (to_string(family) == text) return family;
  }
  // The list of 17 names fills most of an error message: the unknown name is cut at 18 characters to fit.
  auto error = make_error(ErrorCode::invalid_argument, "model_type") << "unknown '" << text.substr(0, 18)
                                                                      << "' (known:";
  for (std::size_t i = 0; i < std::size(kModelFamilies); ++i) {
    error << (i == 0 ? " " : ", ") << to_string(kModelFamilies[i]);
  }
  return error << ")";
}

/// Multi-head latent attention (q through an optional low rank, k and v through a shared latent).
[[nodiscard]] constexpr bool is_mla_family(ModelFamily family) {
  return family == ModelFamily::deepseek_v2 || family == ModelFamily::deepseek_v3;
}

struct ModelConfig {
  FixedString<48> name;  // the preset's name, or the path's file name for a config.json
  ModelFamily family = ModelFamily::llama;

  // Dense transformer
  Index hidden_size = 0;
  Index intermediate_size = 0;  // dense MLP (DeepSeek: the first_k_dense_replace layers; gpt-oss: unused)
  Index num_hidden_layers = 0;
  Index num_attention_heads = 0;
  Index num_key_value_heads = 0;  // = num_attention_heads when the config omits it
  Index head_dim = 0;             // = hidden_size / num_attention_heads when the config omits it
  Index vocab_size = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (qwen2 always; llama/gpt_oss when `attention_bias`: o_proj too)
  bool mlp_bias = false;        // llama, granite: biases on the dense MLP's gate/up/down (`mlp_bias`)
  bool qk_norm = false;         // per-head RMSNorm on q and k (qwen3, qwen3_moe, gemma3_text; glm4_moe with
                                // use_qk_norm); olmo2: one RMSNorm over the whole q and k projections

  // Mixture of experts (num_experts == 0: dense)
  Index num_experts = 0;             // num_local_experts (mixtral, gpt_oss), num_experts (qwen3_moe), n_routed_experts
  Index num_experts_per_tok = 0;
  Index moe_intermediate_size = 0;   // per expert (mixtral: intermediate_size)
  Index num_shared_experts = 0;      // deepseek_v2/v3, glm4_moe: n_shared_experts (each moe_intermediate_size wide)
  Index shared_expert_intermediate_size = 0;  // qwen2_moe: the one shared expert's width (with its sigmoid gate)
  Index decoder_sparse_step = 1;     // qwen2_moe, qwen3_moe: layer l is MoE when (l + 1) % step == 0 and l not in
  std::vector<Index> mlp_only_layers;  // mlp_only_layers
  Index first_k_dense_replace = 0;   // deepseek_v2/v3, glm4_moe: the first k layers are dense

  // Multi-head latent attention (deepseek_v2, deepseek_v3; q_lora_rank == 0: one q_proj, no q compression)
  Index q_lora_rank = 0;
  Index kv_lora_rank = 0;
  Index qk_nope_head_dim = 0;
  Index qk_rope_head_dim = 0;
  Index v_head_dim = 0;

  Quantization quantization = Quantization::none;
  Index dtype_bytes = 2;  // torch_dtype of the unquantized weights (bf16)

  /// A checkpoint's own tensors, grouped (model/checkpoint_inventory.hpp): when not empty, parameter_inventory
  /// returns them instead of the family rule's groups, so that validation, plans and sizes read the checkpoint.
  Inventory checkpoint_groups;

  [[nodiscard]] constexpr bool is_moe() const { return num_experts > 0; }
  [[nodiscard]] constexpr bool is_mla() const { return q_lora_rank > 0 || kv_lora_rank > 0; }
  /// Whether decoder layer `layer` has a routed-experts MLP (else a dense MLP).
  [[nodiscard]] constexpr bool is_moe_layer(Index layer) const {
    if (!is_moe()) return false;
    if (layer < first_k_dense_replace) return false;
    for (Index dense : mlp_only_layers) {
      if (dense == layer) return false;
    }
    return decoder_sparse_step <= 1 || (layer + 1) % decoder_sparse_step == 0;
  }
};

}  // namespace shardplan
