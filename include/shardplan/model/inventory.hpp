#pragma once
// Parameter inventories: every parameter of a model as HF transformers names it, with its global shape, grouped by
// (name pattern, shape) over the decoder layers and experts that share them. The totals are the published parameter
// counts exactly (docs/models.md lists them), because the inventory is what sizing and sharding plans walk: a missing
// bias or a wrong dense/MoE layer split would make every memory figure downstream quietly wrong.
//
// What each family holds (H heads, K kv heads, d head_dim, h hidden, I intermediate, E experts, Ie per-expert
// intermediate, V vocab; `.*.` is the layer index, a second `.*.` the expert index):
//   all        model.embed_tokens.weight [V, h]; model.norm.weight [h]; lm_head.weight [V, h] unless
//              tie_word_embeddings; per layer [h] norms (layer_norms below): input_layernorm (not olmo2),
//              post_attention_layernorm (not cohere2), pre_ and post_feedforward_layernorm (gemma2, gemma3_text;
//              olmo2 post_feedforward_layernorm only)
//   attention  self_attn.{q_proj [H·d, h], k_proj [K·d, h], v_proj [K·d, h], o_proj [h, H·d]}.weight;
//              phi3 fuses q/k/v into self_attn.qkv_proj [(H + 2K)·d, h] (no biases);
//              biases: qwen2 q/k/v always (never o); qwen2_moe (qkv_bias) and glm4_moe q/k/v only; every other
//              family q/k/v/o when attention_bias;
//              q/k norms self_attn.{q_norm,k_norm}.weight [d]: qwen3, qwen3_moe, gemma3_text, glm4_moe with
//              use_qk_norm; olmo2's normalize the whole projection: [H·d] and [K·d]; gpt_oss: self_attn.sinks [H]
//   MLA        (deepseek_v2, deepseek_v3) q_a_proj, q_a_layernorm, q_b_proj (or q_proj when q_lora_rank is 0),
//              kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj; attention_bias: q_a, kv_a and o biases
//   dense MLP  mlp.{gate_proj [I, h], up_proj [I, h], down_proj [h, I]}.weight (llama, granite: biases [I], [I],
//              [h] when mlp_bias); phi3 fuses gate and up into mlp.gate_up_proj [2·I, h]
//   MoE        mixtral    block_sparse_moe.gate.weight [E, h], block_sparse_moe.experts.*.{w1 [Ie, h], w2 [h, Ie],
//                         w3 [Ie, h]}.weight
//              qwen3_moe  mlp.gate.weight [E, h], mlp.experts.*.{gate_proj, up_proj, down_proj}.weight
//              qwen2_moe  as qwen3_moe, plus mlp.shared_expert.{gate,up,down}_proj (shared_expert_intermediate_size)
//                         and its gate mlp.shared_expert_gate.weight [1, h]
//              gpt_oss    mlp.router.{weight [E, h], bias [E]}; experts fused into single 3-d tensors with the
//                         experts as dim 0: mlp.experts.gate_up_proj [E, h, 2·Ie] (gate and up columns
//                         interleaved), gate_up_proj_bias [E, 2·Ie], down_proj [E, Ie, h], down_proj_bias [E, h]
//              deepseek   mlp.gate.weight [E, h], mlp.gate.e_score_correction_bias [E] (deepseek_v3 and glm4_moe;
//              glm4_moe   not deepseek_v2), mlp.experts.*.{gate,up,down}_proj, mlp.shared_experts.{gate,up,
//                         down}_proj with Ie·num_shared_experts
// Which layers have the MoE block and which the dense MLP is ModelConfig::is_moe_layer: the first
// first_k_dense_replace layers (deepseek_v2/v3, glm4_moe) and qwen2_moe/qwen3_moe's mlp_only_layers /
// decoder_sparse_step gaps are dense.
//
// Not listed: buffers that are not checkpoint tensors (rotary inv_freq), the scale tensors of quantized checkpoints
// (fp8 weight_scale_inv, mxfp4 _scales), and DeepSeek-V3's multi-token-prediction module (the HF checkpoint's layer
// 61): the published 671B counts the 61 decoder layers only, and inference engines load MTP separately if at all.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/interval_set.hpp"
#include "shardplan/model/config.hpp"
#include "shardplan/model/parameter.hpp"

namespace shardplan {

/// Families whose decoder layers have routed experts (in all layers or, where dense layers exist, in some).
[[nodiscard]] constexpr bool is_moe_family(ModelFamily family) {
  switch (family) {
    case ModelFamily::mixtral:
    case ModelFamily::qwen3_moe:
    case ModelFamily::gpt_oss:
    case ModelFamily::deepseek_v3:
    case ModelFamily::qwen2_moe:
    case ModelFamily::deepseek_v2:
    case ModelFamily::glm4_moe: return true;
    default: return false;
  }
}

/// Families whose first first_k_dense_replace layers are dense and whose MoE layers have n_shared_experts shared
/// experts (mlp.shared_experts, each moe_intermediate_size wide).
[[nodiscard]] constexpr bool has_deepseek_moe(ModelFamily family) {
  return family == ModelFamily::deepseek_v2 || family == ModelFamily::deepseek_v3 || family == ModelFamily::glm4_moe;
}

/// Families that choose their MoE layers with decoder_sparse_step and mlp_only_layers.
[[nodiscard]] constexpr bool has_sparse_step(ModelFamily family) {
  return family == ModelFamily::qwen2_moe || family == ModelFamily::qwen3_moe;
}

/// Which [h] norms a decoder layer has, each in the order the layer uses it.
struct LayerNorms {
  bool input = true;            // input_layernorm, before attention (cohere2: before attention and MLP, in parallel)
  bool post_attention = true;   // post_attention_layernorm: before the MLP, or (gemma2/3, olmo2) on attention's output
  bool pre_feedforward = false;   // pre_feedforward_layernorm (gemma2/3), before the MLP
  bool post_feedforward = false;  // post_feedforward_layernorm (gemma2/3, olmo2), on the MLP's output
};

[[nodiscard]] constexpr LayerNorms layer_norms(ModelFamily family) {
  switch (family) {
    case ModelFamily::gemma2:
    case ModelFamily::gemma3_text: return {true, true, true, true};
    case ModelFamily::olmo2: return {false, true, false, true};  // norms after attention and MLP only
    case ModelFamily::cohere2: return {true, false, false, false};  // one norm feeds attention and MLP
    default: return {};
  }
}

/// Decoder layers with a routed-experts MLP: exactly the layers ModelConfig::is_moe_layer accepts, built as
/// intervals (no per-layer loop except under a decoder_sparse_step, where every MoE layer is its own interval).
/// Precondition: check_model_config(config) holds.
[[nodiscard]] constexpr IntervalSet moe_layer_set(const ModelConfig& config) {
  if (!config.is_moe()) return {};
  const Index layers = config.num_hidden_layers;
  IntervalSet candidates = subtract(IntervalSet::range(config.first_k_dense_replace, layers),
                                    IntervalSet::from_indices(config.mlp_only_layers));
  if (config.decoder_sparse_step <= 1) return candidates;
  // Layer l is sparse when (l + 1) % step == 0: l = step - 1, 2·step - 1, ... (stepping without overflow).
  IntervalSet sparse;
  const Index step = config.decoder_sparse_step;
  for (Index layer = step - 1; layer < layers; layer += step) {
    sparse.append(Interval{layer, layer + 1});
    if (layers - layer <= step) break;
  }
  return intersect(candidates, sparse);
}

/// Decoder layers with a dense MLP (mlp.gate_proj/up_proj/down_proj with intermediate_size): all the others.
/// Precondition: check_model_config(config) holds.
[[nodiscard]] constexpr IntervalSet dense_mlp_layer_set(const ModelConfig& config) {
  return subtract(IntervalSet::range(0, config.num_hidden_layers), moe_layer_set(config));
}

namespace inventory_detail {

[[nodiscard]] constexpr Status at_least_one(Index value, std::string_view field) {
  if (value < 1) return make_error(ErrorCode::invalid_argument, field) << "must be >= 1, got " << value;
  return Ok{};
}

/// A field only `owners` use ("deepseek_v3 uses", "qwen2_moe and qwen3_moe use") must keep its default elsewhere:
/// HF's other modules have no such parameter, so a value there is a config read into the wrong family rather than
/// something to ignore.
[[nodiscard]] constexpr Status unused_by_family(Index value, Index default_value, std::string_view field,
                                                const ModelConfig& config, std::string_view owners) {
  if (value == default_value) return Ok{};
  return make_error(ErrorCode::invalid_argument, field)
         << "only " << owners << " it; " << to_string(config.family) << " must leave it " << default_value
         << ", got " << value;
}

/// Families whose attention always normalizes q and k (qwen3's and gemma3's per head, olmo2's over the projection).
[[nodiscard]] constexpr bool has_qk_norm(ModelFamily family) {
  return family == ModelFamily::qwen3 || family == ModelFamily::qwen3_moe || family == ModelFamily::gemma3_text ||
         family == ModelFamily::olmo2;
}

/// Whether the layers of `config` have self_attn.q_norm / k_norm (glm4_moe: when use_qk_norm).
[[nodiscard]] constexpr bool uses_qk_norm(const ModelConfig& config) {
  return has_qk_norm(config.family) || (config.family == ModelFamily::glm4_moe && config.qk_norm);
}

[[nodiscard]] constexpr Status check_attention(const ModelConfig& config) {
  if (is_mla_family(config.family)) {
    // Multi-head latent attention: q through an optional low-rank q_a/q_b pair, k and v through the kv_a/kv_b pair,
    // each head's q/k split into a no-position part and a rotary part. head_dim and num_key_value_heads are unused.
    if (config.q_lora_rank < 0) {
      return make_error(ErrorCode::invalid_argument, "q_lora_rank")
             << "must be >= 0 (0: no q compression, one q_proj), got " << config.q_lora_rank;
    }
    const std::pair<std::string_view, Index> ranks[] = {{"kv_lora_rank", config.kv_lora_rank},
                                                        {"qk_nope_head_dim", config.qk_nope_head_dim},
                                                        {"qk_rope_head_dim", config.qk_rope_head_dim},
                                                        {"v_head_dim", config.v_head_dim}};
    for (const auto& [field, value] : ranks) {
      if (value < 1) {
        return make_error(ErrorCode::invalid_argument, field)
               << "must be >= 1 for " << to_string(config.family) << " (multi-head latent attention), got " << value;
      }
    }
    return Ok{};
  }
  const std::pair<std::string_view, Index> mla[] = {{"q_lora_rank", config.q_lora_rank},
                                                    {"kv_lora_rank", config.kv_lora_rank},
                                                    {"qk_nope_head_dim", config.qk_nope_head_dim},
                                                    {"qk_rope_head_dim", config.qk_rope_head_dim},
                                                    {"v_head_dim", config.v_head_dim}};
  for (const auto& [field, value] : mla) {
    SHARDPLAN_CHECK(
        unused_by_family(value, 0, field, config, "deepseek_v2 and deepseek_v3 (multi-head latent attention) use"));
  }
  SHARDPLAN_CHECK(at_least_one(config.num_key_value_heads, "num_key_value_heads"));
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    return make_error(ErrorCode::invalid_argument, "num_key_value_heads")
           << "num_attention_heads " << config.num_attention_heads << " is not divisible by num_key_value_heads "
           << config.num_key_value_heads << " (each kv head serves a whole group of query heads)";
  }
  SHARDPLAN_CHECK(at_least_one(config.head_dim, "head_dim"));
  if (config.mlp_bias && config.family != ModelFamily::llama && config.family != ModelFamily::granite) {
    return make_error(ErrorCode::invalid_argument, "mlp_bias")
           << to_string(config.family) << " has no MLP biases (only llama and granite)";
  }
  if (config.qk_norm && !has_qk_norm(config.family) && config.family != ModelFamily::glm4_moe) {
    return make_error(ErrorCode::invalid_argument, "qk_norm")
           << to_string(config.family) << " has no q/k norms (only qwen3, qwen3_moe, gemma3_text, olmo2 and glm4_moe)";
  }
  return Ok{};
}

[[nodiscard]] constexpr Status check_mlp(const ModelConfig& config) {
  const ModelFamily family = config.family;
  if (!is_moe_family(family)) {
    if (config.num_experts != 0) {
      return make_error(ErrorCode::invalid_argument, "num_experts")
             << to_string(family) << " is a dense family: must be 0, got " << config.num_experts;
    }
  } else {
    if (config.num_experts < 1) {
      return make_error(ErrorCode::invalid_argument, "num_experts")
             << "must be >= 1 for " << to_string(family) << ", got " << config.num_experts;
    }
    if (config.num_experts_per_tok < 1 || config.num_experts_per_tok > config.num_experts) {
      return make_error(ErrorCode::invalid_argument, "num_experts_per_tok")
             << "must be in 1.." << config.num_experts << " (num_experts), got " << config.num_experts_per_tok;
    }
    SHARDPLAN_CHECK(at_least_one(config.moe_intermediate_size, "moe_intermediate_size"));
  }
  if (has_deepseek_moe(family)) {
    if (config.num_shared_experts < 0) {
      return make_error(ErrorCode::invalid_argument, "num_shared_experts")
             << "must be >= 0, got " << config.num_shared_experts;
    }
    if (config.first_k_dense_replace < 0 || config.first_k_dense_replace > config.num_hidden_layers) {
      return make_error(ErrorCode::invalid_argument, "first_k_dense_replace")
             << "must be in 0.." << config.num_hidden_layers << " (num_hidden_layers), got "
             << config.first_k_dense_replace;
    }
  } else {
    constexpr std::string_view kOwners = "deepseek_v2, deepseek_v3 and glm4_moe use";
    SHARDPLAN_CHECK(unused_by_family(config.num_shared_experts, 0, "num_shared_experts", config, kOwners));
    SHARDPLAN_CHECK(unused_by_family(config.first_k_dense_replace, 0, "first_k_dense_replace", config, kOwners));
  }
  if (family == ModelFamily::qwen2_moe) {
    SHARDPLAN_CHECK(at_least_one(config.shared_expert_intermediate_size, "shared_expert_intermediate_size"));
  } else {
    SHARDPLAN_CHECK(unused_by_family(config.shared_expert_intermediate_size, 0, "shared_expert_intermediate_size",
                                     config, "qwen2_moe uses"));
  }
  if (has_sparse_step(family)) {
    SHARDPLAN_CHECK(at_least_one(config.decoder_sparse_step, "decoder_sparse_step"));
    for (std::size_t i = 0; i < config.mlp_only_layers.size(); ++i) {
      const Index layer = config.mlp_only_layers[i];
      if (layer < 0 || layer >= config.num_hidden_layers) {
        return make_error(ErrorCode::invalid_argument, indexed_field("mlp_only_layers", static_cast<Index>(i)))
               << "layer " << layer << " is outside the " << config.num_hidden_layers
               << " decoder layers (valid: 0.." << config.num_hidden_layers - 1 << ")";
      }
    }
  } else {
    SHARDPLAN_CHECK(unused_by_family(config.decoder_sparse_step, 1, "decoder_sparse_step", config,
                                     "qwen2_moe and qwen3_moe use"));
    if (!config.mlp_only_layers.empty()) {
      return make_error(ErrorCode::invalid_argument, "mlp_only_layers")
             << "only qwen2_moe and qwen3_moe use it; " << to_string(family) << " must leave it empty, got size "
             << static_cast<Index>(config.mlp_only_layers.size());
    }
  }
  // Checked last: which layers are dense depends on the fields above.
  const Index dense_layers = dense_mlp_layer_set(config).size();
  if (dense_layers > 0 && config.intermediate_size < 1) {
    return make_error(ErrorCode::invalid_argument, "intermediate_size")
           << "must be >= 1 (the dense MLP of " << dense_layers << " layers uses it), got "
           << config.intermediate_size;
  }
  return Ok{};
}

}  // namespace inventory_detail

/// The most decoder layers a model may have: per-layer work (qwen3_moe's sparse steps, the valid pipeline sizes) is
/// linear in the count, and the deepest published models have ~128.
inline constexpr Index kMaxLayers = Index{1} << 20;

/// Everything parameter_inventory relies on, as errors naming the ModelConfig field and the numbers: sizes >= 1
/// (layers also <= kMaxLayers), heads divisible by kv heads, the MoE and MLA fields a family needs (and none it does
/// not have), layer indices inside the model, and a quantization that applies to something. Products of sizes are
/// checked by the inventory.
[[nodiscard]] constexpr Status check_model_config(const ModelConfig& config) {
  SHARDPLAN_CHECK(inventory_detail::at_least_one(config.hidden_size, "hidden_size"));
  SHARDPLAN_CHECK(inventory_detail::at_least_one(config.num_hidden_layers, "num_hidden_layers"));
  if (config.num_hidden_layers > kMaxLayers) {
    return make_error(ErrorCode::invalid_argument, "num_hidden_layers")
           << "at most " << kMaxLayers << " supported, got " << config.num_hidden_layers;
  }
  SHARDPLAN_CHECK(inventory_detail::at_least_one(config.num_attention_heads, "num_attention_heads"));
  SHARDPLAN_CHECK(inventory_detail::at_least_one(config.vocab_size, "vocab_size"));
  SHARDPLAN_CHECK(inventory_detail::check_attention(config));
  if (config.family == ModelFamily::other) {  // no family rule: the checkpoint's tensors are the parameters
    if (config.checkpoint_groups.empty()) {
      return make_error(ErrorCode::invalid_argument, "model_type")
             << "no family rule for this model_type: its parameters can only come from a checkpoint's tensors";
    }
    return inventory_detail::at_least_one(config.dtype_bytes, "dtype_bytes");
  }
  SHARDPLAN_CHECK(inventory_detail::check_mlp(config));
  if (config.quantization == Quantization::mxfp4 && !config.is_moe()) {
    return make_error(ErrorCode::invalid_argument, "quantization")
           << "mxfp4 applies to MoE expert weights only and " << to_string(config.family) << " has no experts";
  }
  SHARDPLAN_CHECK(inventory_detail::at_least_one(config.dtype_bytes, "dtype_bytes"));
  return Ok{};
}

namespace inventory_detail {

/// Appends groups with the "model.layers.*." prefix and the quantized flag decided once per kind of weight.
class InventoryBuilder {
 public:
  constexpr explicit InventoryBuilder(const ModelConfig& config)
      : all_layers_(IntervalSet::range(0, config.num_hidden_layers)),
        // fp8 (DeepSeek-V3, Qwen3 FP8) and GPTQ quantize every linear projection of the decoder layers. mxfp4 is
        // gpt-oss's: transformers' Mxfp4 quantizer replaces only the experts, and the checkpoint's
        // modules_to_not_convert keeps self_attn, the router, embed_tokens and lm_head in bf16.
        quantize_projections_(quantizes_projections(config.quantization)),
        quantize_experts_(config.quantization != Quantization::none) {
    inventory_.reserve(40);
  }

  [[nodiscard]] constexpr const IntervalSet& all_layers() const { return all_layers_; }

  /// A parameter outside the decoder layers.
  constexpr void global(std::string_view name, const Shape& shape) {
    push(FixedString<112>(name), shape, IntervalSet{}, 0, false);
  }

  // The per-layer kinds below add nothing when `layers` is empty (e.g. the dense MLP of an all-MoE model).

  /// A norm, bias, router or sink (never quantized).
  constexpr void plain(std::string_view name, const Shape& shape, const IntervalSet& layers) {
    if (!layers.empty()) push(layer_pattern(name), shape, layers, 0, false);
  }
  /// A linear projection weight of the attention, a dense MLP or the shared experts.
  constexpr void projection(std::string_view name, const Shape& shape, const IntervalSet& layers) {
    if (!layers.empty()) push(layer_pattern(name), shape, layers, 0, quantize_projections_);
  }
  /// `module`.weight and, when `bias`, `module`.bias (sized by the weight's output dim, shape[0]).
  constexpr void projection_with_bias(std::string_view module, const Shape& shape, const IntervalSet& layers,
                                      bool bias) {
    FixedString<112> weight(module);
    projection((weight << ".weight").view(), shape, layers);
    if (bias) {
      FixedString<112> name(module);
      plain((name << ".bias").view(), Shape{shape[0]}, layers);
    }
  }
  /// A projection weight with one instance per expert: `name` holds the expert `*`.
  constexpr void per_expert(std::string_view name, const Shape& shape, const IntervalSet& layers, Index experts) {
    if (!layers.empty()) push(layer_pattern(name), shape, layers, experts, quantize_experts_);
  }
  /// A fused expert weight (gpt-oss): one tensor whose dim 0 is the experts, so `experts` stays 0.
  /// A fused expert tensor [E, in, out] (gpt-oss): the input dim is -2.
  constexpr void fused_experts(std::string_view name, const Shape& shape, const IntervalSet& layers) {
    if (layers.empty()) return;
    push(layer_pattern(name), shape, layers, 0, quantize_experts_);
    inventory_.back().input_dim = -2;
  }

  [[nodiscard]] constexpr Inventory take() { return std::move(inventory_); }

 private:
  static constexpr FixedString<112> layer_pattern(std::string_view name) {
    FixedString<112> pattern("model.layers.*.");
    pattern << name;
    return pattern;
  }

  constexpr void push(const FixedString<112>& pattern, const Shape& shape, const IntervalSet& layers, Index experts,
                      bool quantized) {
    ParameterGroup group;
    group.pattern = pattern;
    group.shape = shape;
    group.layers = layers;
    group.experts = experts;
    group.quantized = quantized;
    inventory_.push_back(std::move(group));
  }

  Inventory inventory_;
  IntervalSet all_layers_;
  bool quantize_projections_ = false;
  bool quantize_experts_ = false;
};

/// "model.layers.*.mlp.experts.*.w1.weight ([14336, 4096] * 32 layers * 8 experts)": what an overflow counted.
constexpr void describe_count(ErrorBuilder& error, const ParameterGroup& group) {
  error << group.pattern << " ([";
  for (std::size_t i = 0; i < group.shape.size(); ++i) error << (i > 0 ? ", " : "") << group.shape[i];
  error << "]";
  if (!group.layers.empty()) error << " * " << group.layers.size() << " layers";
  if (group.experts > 0) error << " * " << group.experts << " experts";
  error << ")";
}

/// Element count of one group, or an overflow error naming its pattern and the numbers. (ParameterGroup::numel is
/// unchecked: it relies on this check having passed.)
[[nodiscard]] constexpr Result<Index> checked_numel(const ParameterGroup& group) {
  auto numel = checked_product(group.shape);
  if (numel.ok()) numel = checked_mul(*numel, group.layers.empty() ? 1 : group.layers.size());
  if (numel.ok()) numel = checked_mul(*numel, group.experts > 0 ? group.experts : 1);
  if (numel.ok()) return numel;
  auto error = make_error(ErrorCode::overflow, "parameters") << "the element count of ";
  describe_count(error, group);
  return error << " overflows int64";
}

/// The sum of the groups' element counts, or an overflow error naming the group that overflows it.
[[nodiscard]] constexpr Result<Index> checked_total(const Inventory& inventory) {
  Index total = 0;
  for (const ParameterGroup& group : inventory) {
    SHARDPLAN_TRY(const Index numel, checked_numel(group));
    if (!checked_add(total, numel).ok()) {
      auto error = make_error(ErrorCode::overflow, "parameters")
                   << "the total overflows int64: " << total << " + " << numel << " of ";
      describe_count(error, group);
      return error;
    }
    total += numel;
  }
  return total;
}

}  // namespace inventory_detail

/// The parameters of the HF transformers implementation of `config`, grouped; see the top of this file for what
/// each family holds. Order: embed_tokens, the decoder-layer groups in the order a layer uses them (input norm,
/// attention, post-attention norm, dense MLP, MoE block), model.norm, lm_head. Errors: check_model_config's, and
/// an overflow error when a size, a group's element count or their total does not fit in int64 (so numel and
/// total_parameters of an inventory this returns cannot overflow).
[[nodiscard]] constexpr Result<Inventory> parameter_inventory(const ModelConfig& config) {
  SHARDPLAN_CHECK(check_model_config(config));
  if (!config.checkpoint_groups.empty()) {  // the checkpoint's own tensors (model/checkpoint_inventory.hpp)
    SHARDPLAN_CHECK(inventory_detail::checked_total(config.checkpoint_groups));
    return config.checkpoint_groups;
  }
  const Index h = config.hidden_size;
  const Index vocab = config.vocab_size;
  const ModelFamily family = config.family;
  inventory_detail::InventoryBuilder add(config);
  const IntervalSet& all = add.all_layers();

  add.global("model.embed_tokens.weight", Shape{vocab, h});
  const LayerNorms norms = layer_norms(family);
  if (norms.input) add.plain("input_layernorm.weight", Shape{h}, all);

  if (is_mla_family(family)) {
    const Index heads = config.num_attention_heads;
    SHARDPLAN_TRY(const Index qk_head_dim, checked_add(config.qk_nope_head_dim, config.qk_rope_head_dim, "qk_head_dim"));
    SHARDPLAN_TRY(const Index q_rows, checked_mul(heads, qk_head_dim, "num_attention_heads"));
    SHARDPLAN_TRY(const Index kv_a_rows, checked_add(config.kv_lora_rank, config.qk_rope_head_dim, "kv_lora_rank"));
    SHARDPLAN_TRY(const Index kv_head_dim, checked_add(config.qk_nope_head_dim, config.v_head_dim, "v_head_dim"));
    SHARDPLAN_TRY(const Index kv_b_rows, checked_mul(heads, kv_head_dim, "num_attention_heads"));
    SHARDPLAN_TRY(const Index o_cols, checked_mul(heads, config.v_head_dim, "num_attention_heads"));
    // transformers' DeepseekV2Attention and DeepseekV3Attention: q_a_proj, kv_a_proj_with_mqa and o_proj take
    // attention_bias; q_b_proj, kv_b_proj and a plain q_proj never have a bias.
    if (config.q_lora_rank > 0) {
      add.projection_with_bias("self_attn.q_a_proj", Shape{config.q_lora_rank, h}, all, config.attention_bias);
      add.plain("self_attn.q_a_layernorm.weight", Shape{config.q_lora_rank}, all);
      add.projection("self_attn.q_b_proj.weight", Shape{q_rows, config.q_lora_rank}, all);
    } else {
      add.projection("self_attn.q_proj.weight", Shape{q_rows, h}, all);
    }
    add.projection_with_bias("self_attn.kv_a_proj_with_mqa", Shape{kv_a_rows, h}, all, config.attention_bias);
    add.plain("self_attn.kv_a_layernorm.weight", Shape{config.kv_lora_rank}, all);
    add.projection("self_attn.kv_b_proj.weight", Shape{kv_b_rows, config.kv_lora_rank}, all);
    add.projection_with_bias("self_attn.o_proj", Shape{h, o_cols}, all, config.attention_bias);
  } else {
    const Index d = config.head_dim;
    SHARDPLAN_TRY(const Index q_rows, checked_mul(config.num_attention_heads, d, "num_attention_heads"));
    SHARDPLAN_TRY(const Index kv_rows, checked_mul(config.num_key_value_heads, d, "num_key_value_heads"));
    // Qwen2Attention hard-codes bias=True on q/k/v and False on o; qwen2_moe (qkv_bias) and glm4_moe
    // (attention_bias) bias q/k/v only; the others follow attention_bias on all four; phi3 has none.
    const bool qkv_bias = family == ModelFamily::qwen2 || config.attention_bias;
    const bool o_bias = config.attention_bias && family != ModelFamily::qwen2 && family != ModelFamily::qwen2_moe &&
                        family != ModelFamily::glm4_moe;
    if (family == ModelFamily::phi3) {
      // One [q; k; v] projection (fused_segments describes its three parts).
      SHARDPLAN_TRY(const Index kv_both, checked_mul(2, kv_rows, "num_key_value_heads"));
      SHARDPLAN_TRY(const Index qkv_rows, checked_add(q_rows, kv_both, "num_key_value_heads"));
      add.projection("self_attn.qkv_proj.weight", Shape{qkv_rows, h}, all);
    } else {
      add.projection_with_bias("self_attn.q_proj", Shape{q_rows, h}, all, qkv_bias);
      add.projection_with_bias("self_attn.k_proj", Shape{kv_rows, h}, all, qkv_bias);
      add.projection_with_bias("self_attn.v_proj", Shape{kv_rows, h}, all, qkv_bias);
    }
    add.projection_with_bias("self_attn.o_proj", Shape{h, q_rows}, all, o_bias);
    if (inventory_detail::uses_qk_norm(config)) {
      // Per head ([d]), except olmo2's, which normalize the whole q and k projections.
      const bool whole = family == ModelFamily::olmo2;
      add.plain("self_attn.q_norm.weight", Shape{whole ? q_rows : d}, all);
      add.plain("self_attn.k_norm.weight", Shape{whole ? kv_rows : d}, all);
    }
    if (family == ModelFamily::gpt_oss) add.plain("self_attn.sinks", Shape{config.num_attention_heads}, all);
  }
  if (norms.post_attention) add.plain("post_attention_layernorm.weight", Shape{h}, all);
  if (norms.pre_feedforward) add.plain("pre_feedforward_layernorm.weight", Shape{h}, all);

  const IntervalSet dense = dense_mlp_layer_set(config);
  const Index inter = config.intermediate_size;
  if (family == ModelFamily::phi3) {
    SHARDPLAN_TRY(const Index gate_up, checked_mul(2, inter, "intermediate_size"));
    add.projection("mlp.gate_up_proj.weight", Shape{gate_up, h}, dense);  // [gate; up]
  } else {
    add.projection_with_bias("mlp.gate_proj", Shape{inter, h}, dense, config.mlp_bias);
    add.projection_with_bias("mlp.up_proj", Shape{inter, h}, dense, config.mlp_bias);
  }
  add.projection_with_bias("mlp.down_proj", Shape{h, inter}, dense, config.mlp_bias);

  const IntervalSet moe = moe_layer_set(config);
  const Index experts = config.num_experts;
  const Index expert_inter = config.moe_intermediate_size;
  switch (family) {
    case ModelFamily::mixtral:
      add.plain("block_sparse_moe.gate.weight", Shape{experts, h}, moe);
      add.per_expert("block_sparse_moe.experts.*.w1.weight", Shape{expert_inter, h}, moe, experts);
      add.per_expert("block_sparse_moe.experts.*.w2.weight", Shape{h, expert_inter}, moe, experts);
      add.per_expert("block_sparse_moe.experts.*.w3.weight", Shape{expert_inter, h}, moe, experts);
      break;
    case ModelFamily::qwen2_moe:
    case ModelFamily::qwen3_moe:
    case ModelFamily::deepseek_v2:
    case ModelFamily::deepseek_v3:
    case ModelFamily::glm4_moe:
      add.plain("mlp.gate.weight", Shape{experts, h}, moe);
      // A buffer of the sigmoid routers (DeepSeek-V3's noaux_tc, GLM-4.5's), saved with the checkpoint; DeepSeek-V2
      // routes by softmax and has none.
      if (family == ModelFamily::deepseek_v3 || family == ModelFamily::glm4_moe) {
        add.plain("mlp.gate.e_score_correction_bias", Shape{experts}, moe);
      }
      add.per_expert("mlp.experts.*.gate_proj.weight", Shape{expert_inter, h}, moe, experts);
      add.per_expert("mlp.experts.*.up_proj.weight", Shape{expert_inter, h}, moe, experts);
      add.per_expert("mlp.experts.*.down_proj.weight", Shape{h, expert_inter}, moe, experts);
      if (config.num_shared_experts > 0) {
        SHARDPLAN_TRY(const Index shared,
                      checked_mul(expert_inter, config.num_shared_experts, "num_shared_experts"));
        add.projection("mlp.shared_experts.gate_proj.weight", Shape{shared, h}, moe);
        add.projection("mlp.shared_experts.up_proj.weight", Shape{shared, h}, moe);
        add.projection("mlp.shared_experts.down_proj.weight", Shape{h, shared}, moe);
      }
      if (family == ModelFamily::qwen2_moe) {
        // One shared expert of its own width, scaled by a sigmoid gate (a [1, h] linear, never quantized).
        const Index shared = config.shared_expert_intermediate_size;
        add.projection("mlp.shared_expert.gate_proj.weight", Shape{shared, h}, moe);
        add.projection("mlp.shared_expert.up_proj.weight", Shape{shared, h}, moe);
        add.projection("mlp.shared_expert.down_proj.weight", Shape{h, shared}, moe);
        add.plain("mlp.shared_expert_gate.weight", Shape{1, h}, moe);
      }
      break;
    case ModelFamily::gpt_oss: {
      SHARDPLAN_TRY(const Index gate_up, checked_mul(2, expert_inter, "moe_intermediate_size"));
      add.plain("mlp.router.weight", Shape{experts, h}, moe);
      add.plain("mlp.router.bias", Shape{experts}, moe);
      add.fused_experts("mlp.experts.gate_up_proj", Shape{experts, h, gate_up}, moe);
      add.plain("mlp.experts.gate_up_proj_bias", Shape{experts, gate_up}, moe);
      add.fused_experts("mlp.experts.down_proj", Shape{experts, expert_inter, h}, moe);
      add.plain("mlp.experts.down_proj_bias", Shape{experts, h}, moe);
      break;
    }
    default: break;  // dense families
  }
  if (norms.post_feedforward) add.plain("post_feedforward_layernorm.weight", Shape{h}, all);

  add.global("model.norm.weight", Shape{h});
  if (!config.tie_word_embeddings) add.global("lm_head.weight", Shape{vocab, h});

  Inventory inventory = add.take();
  SHARDPLAN_CHECK(inventory_detail::checked_total(inventory));
  return inventory;
}

/// Total parameter count of `config` (the published figure; see docs/models.md), overflow-checked.
[[nodiscard]] constexpr Result<Index> parameter_count(const ModelConfig& config) {
  SHARDPLAN_TRY(const Inventory inventory, parameter_inventory(config));
  return inventory_detail::checked_total(inventory);
}

/// The segments of a fused projection along its output dim (dim 0 of its [out, in] weight), in elements and in
/// storage order: phi3's self_attn.qkv_proj [q (H·d); k (K·d); v (K·d)] and mlp.gate_up_proj [gate (I); up (I)].
/// Empty for every other parameter (gpt-oss's expert gate_up_proj interleaves gate and up columns: a packing, not
/// segments). Precondition: `param` is a group of parameter_inventory(config), which checked these products.
[[nodiscard]] constexpr std::vector<Index> fused_segments(const ParameterGroup& param, const ModelConfig& config) {
  if (config.family != ModelFamily::phi3 || param.shape.size() != 2) return {};
  const std::string_view name = param.pattern.view();
  if (name.ends_with("self_attn.qkv_proj.weight")) {
    const Index kv_rows = config.num_key_value_heads * config.head_dim;
    return {config.num_attention_heads * config.head_dim, kv_rows, kv_rows};
  }
  if (name.ends_with("mlp.gate_up_proj.weight")) return {config.intermediate_size, config.intermediate_size};
  return {};
}

/// The group whose pattern is `pattern`, or nullptr. Patterns are unique within an inventory.
[[nodiscard]] constexpr const ParameterGroup* find_group(const Inventory& inventory, std::string_view pattern) {
  for (const ParameterGroup& group : inventory) {
    if (group.pattern.view() == pattern) return &group;
  }
  return nullptr;
}

}  // namespace shardplan
