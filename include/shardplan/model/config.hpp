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
/// adds q/k norms; the MoE families differ in naming, fusing and dense-layer rules.
/// `other`: a model_type without a family rule, whose parameters are a checkpoint's own tensors (ModelConfig::
/// checkpoint_groups); parse_model_family never returns it.
enum class ModelFamily { llama, mistral, qwen2, qwen3, mixtral, qwen3_moe, gpt_oss, deepseek_v3, other };

inline constexpr ModelFamily kModelFamilies[] = {ModelFamily::llama,   ModelFamily::mistral,   ModelFamily::qwen2,
                                                 ModelFamily::qwen3,   ModelFamily::mixtral,   ModelFamily::qwen3_moe,
                                                 ModelFamily::gpt_oss, ModelFamily::deepseek_v3};

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
    case ModelFamily::other: return "other";
  }
  return "llama";
}

[[nodiscard]] constexpr Result<ModelFamily> parse_model_family(std::string_view text) {
  for (ModelFamily family : kModelFamilies) {
    if (to_string(family) == text) return family;
  }
  return make_error(ErrorCode::invalid_argument, "model_type")
         << "unknown model_type '" << text.substr(0, 40)
         << "' (known: llama, mistral, qwen2, qwen3, mixtral, qwen3_moe, gpt_oss, deepseek_v3)";
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
  bool qk_norm = false;         // qwen3, qwen3_moe: per-head RMSNorm on q and k

  // Mixture of experts (num_experts == 0: dense)
  Index num_experts = 0;             // num_local_experts (mixtral, gpt_oss), num_experts (qwen3_moe), n_routed_experts
  Index num_experts_per_tok = 0;
  Index moe_intermediate_size = 0;   // per expert (mixtral: intermediate_size)
  Index num_shared_experts = 0;      // deepseek_v3: n_shared_experts (each moe_intermediate_size wide)
  Index decoder_sparse_step = 1;     // qwen3_moe: layer l is MoE when (l + 1) % step == 0 and l not in mlp_only_layers
  std::vector<Index> mlp_only_layers;
  Index first_k_dense_replace = 0;   // deepseek_v3: the first k layers are dense

  // Multi-head latent attention (deepseek_v3; q_lora_rank == 0 means no MLA)
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
