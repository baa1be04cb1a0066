// The families added after the first nine presets: gemma2, gemma3_text (and Gemma 3's multimodal config through its
// text_config), phi3, qwen2_moe, deepseek_v2, glm4_moe, olmo2, granite, cohere2. For each: the preset's total against
// the published count, the same total from the published config.json, the tensors that make the family different
// (exact names and shapes), its default plan entries; and phi3's fused qkv_proj / gate_up_proj split segment by
// segment, with the KV policy on the k and v segments only.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/model/config_json.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/presets.hpp"
#include "shardplan/model/validate.hpp"

namespace shardplan {
namespace {

constexpr ModelConfig preset(std::string_view name) { return model_preset(name).value(); }
constexpr Index preset_parameters(std::string_view name) { return parameter_count(preset(name)).value(); }

// ---------------------------------------------------------------------------------------------------------------
// Compile time: the published counts (docs/models.md says where each comes from).

static_assert(preset_parameters("gemma-2-9b") == 9'241'705'984);
static_assert(preset_parameters("gemma-3-1b") == 999'885'952);
static_assert(preset_parameters("phi-3-mini") == 3'821'079'552);
static_assert(preset_parameters("qwen1.5-moe-a2.7b") == 14'315'784'192);
static_assert(preset_parameters("deepseek-v2-lite") == 15'706'484'224);
static_assert(preset_parameters("glm-4.5-air") == 106'852'251'264);
static_assert(preset_parameters("olmo-2-7b") == 7'298'617'344);
static_assert(preset_parameters("granite-3.1-8b") == 8'170'848'256);
static_assert(preset_parameters("command-r7b") == 8'028'033'024);
static_assert(kModelPresetNames.size() == 18);
static_assert(parse_model_family("gemma3_text").value() == ModelFamily::gemma3_text);
static_assert(std::size(kModelFamilies) == 17);

// ---------------------------------------------------------------------------------------------------------------
// Helpers

Inventory inventory_of(const ModelConfig& config) {
  auto inventory = parameter_inventory(config);
  EXPECT_TRUE(inventory.ok()) << (inventory.ok() ? "" : inventory.error().what());
  return inventory.ok() ? std::move(inventory).value() : Inventory{};
}

/// The patterns of an inventory, in order, without the "model.layers.*." prefix of per-layer groups.
std::vector<std::string> layer_patterns(const Inventory& inventory) {
  std::vector<std::string> out;
  for (const ParameterGroup& group : inventory) {
    if (!group.is_per_layer()) continue;
    std::string pattern(group.pattern.view());
    out.push_back(pattern.substr(std::string_view("model.layers.*.").size()));
  }
  return out;
}

Shape shape_in(const Inventory& inventory, std::string_view pattern) {
  const ParameterGroup* group = find_group(inventory, pattern);
  return group != nullptr ? group->shape : Shape{};
}

ModelConfig read(std::string_view text) {
  auto result = model_config_from_json(text);
  EXPECT_TRUE(result.ok()) << result.error().what();
  return result.ok() ? std::move(result).value() : ModelConfig{};
}

std::string error_of(std::string_view text) {
  const auto result = model_config_from_json(text);
  return result.ok() ? std::string("parsed") : result.error().what();
}

std::string config_error_of(const ModelConfig& config) {
  const auto result = parameter_inventory(config);
  return result.ok() ? std::string("valid") : result.error().what();
}

/// The fields a preset and its config.json must agree on (the name differs: preset name vs "config.json").
void expect_same_model(const ModelConfig& actual, const ModelConfig& expected) {
  EXPECT_EQ(actual.family, expected.family);
  EXPECT_EQ(actual.hidden_size, expected.hidden_size);
  EXPECT_EQ(actual.intermediate_size, expected.intermediate_size);
  EXPECT_EQ(actual.num_hidden_layers, expected.num_hidden_layers);
  EXPECT_EQ(actual.num_attention_heads, expected.num_attention_heads);
  EXPECT_EQ(actual.num_key_value_heads, expected.num_key_value_heads);
  EXPECT_EQ(actual.head_dim, expected.head_dim);
  EXPECT_EQ(actual.vocab_size, expected.vocab_size);
  EXPECT_EQ(actual.tie_word_embeddings, expected.tie_word_embeddings);
  EXPECT_EQ(actual.attention_bias, expected.attention_bias);
  EXPECT_EQ(actual.qk_norm, expected.qk_norm);
  EXPECT_EQ(actual.mlp_bias, expected.mlp_bias);
  EXPECT_EQ(actual.num_experts, expected.num_experts);
  EXPECT_EQ(actual.num_experts_per_tok, expected.num_experts_per_tok);
  EXPECT_EQ(actual.moe_intermediate_size, expected.moe_intermediate_size);
  EXPECT_EQ(actual.num_shared_experts, expected.num_shared_experts);
  EXPECT_EQ(actual.shared_expert_intermediate_size, expected.shared_expert_intermediate_size);
  EXPECT_EQ(actual.decoder_sparse_step, expected.decoder_sparse_step);
  EXPECT_EQ(actual.first_k_dense_replace, expected.first_k_dense_replace);
  EXPECT_EQ(actual.q_lora_rank, expected.q_lora_rank);
  EXPECT_EQ(actual.kv_lora_rank, expected.kv_lora_rank);
  EXPECT_EQ(actual.qk_nope_head_dim, expected.qk_nope_head_dim);
  EXPECT_EQ(actual.qk_rope_head_dim, expected.qk_rope_head_dim);
  EXPECT_EQ(actual.v_head_dim, expected.v_head_dim);
  EXPECT_EQ(actual.quantization, expected.quantization);
  EXPECT_EQ(actual.dtype_bytes, expected.dtype_bytes);
}

IntervalSet intervals(std::initializer_list<std::pair<Index, Index>> ranges) {
  IntervalSet set;
  for (const auto& [begin, end] : ranges) set.append(Interval{begin, end});
  return set;
}

/// The parameter of `params` whose pattern is `pattern`.
const ShardedParameter& sharded(const std::vector<ShardedParameter>& params, std::string_view pattern) {
  for (const ShardedParameter& p : params) {
    if (p.param.pattern.view() == pattern) return p;
  }
  ADD_FAILURE() << "no parameter " << pattern;
  static const ShardedParameter none{};
  return none;
}

std::vector<ShardedParameter> shard_default(const ModelConfig& config, const ParallelConfig& parallel) {
  const Inventory inventory = inventory_of(config);
  auto params = shard_parameters(inventory, default_plan(config.family, parallel.ep > 1, false), config, parallel);
  EXPECT_TRUE(params.ok()) << params.error().what();
  return params.ok() ? std::move(params).value() : std::vector<ShardedParameter>{};
}

// ---------------------------------------------------------------------------------------------------------------
// The published config.json of each preset (the keys that matter, as the files write them) gives the preset's
// config and the published count.

constexpr std::string_view kGemma2_9B = R"({
  "architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attn_logit_softcapping": 50.0,
  "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 3584,
  "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16,
  "num_hidden_layers": 42, "num_key_value_heads": 8, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
  "rope_theta": 10000.0, "sliding_window": 4096, "torch_dtype": "float32", "vocab_size": 256000
})";

constexpr std::string_view kGemma3_1B = R"({
  "architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attn_logit_softcapping": null, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152, "intermediate_size": 6912,
  "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26,
  "num_key_value_heads": 1, "query_pre_attn_scalar": 256, "rope_scaling": null, "sliding_window": 512,
  "sliding_window_pattern": 6, "torch_dtype": "bfloat16", "vocab_size": 262144
})";

constexpr std::string_view kPhi3Mini = R"({
  "architectures": ["Phi3ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 32000,
  "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096,
  "model_type": "phi3", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
  "original_max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_scaling": null, "sliding_window": 2047,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 32064
})";

constexpr std::string_view kQwen15MoeA27B = R"({
  "architectures": ["Qwen2MoeForCausalLM"], "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 5632,
  "max_position_embeddings": 8192, "max_window_layers": 21, "model_type": "qwen2_moe", "num_attention_heads": 16,
  "num_hidden_layers": 24, "num_key_value_heads": 16, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_sliding_window": false,
  "vocab_size": 151936, "decoder_sparse_step": 1, "moe_intermediate_size": 1408,
  "shared_expert_intermediate_size": 5632, "num_experts_per_tok": 4, "num_experts": 60, "norm_topk_prob": false
})";

constexpr std::string_view kDeepSeekV2Lite = R"({
  "architectures": ["DeepseekV2ForCausalLM"], "attention_bias": false, "first_k_dense_replace": 1,
  "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 10944, "kv_lora_rank": 512,
  "max_position_embeddings": 163840, "model_type": "deepseek_v2", "moe_intermediate_size": 1408,
  "moe_layer_freq": 1, "n_group": 1, "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": false,
  "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27, "num_key_value_heads": 16,
  "q_lora_rank": null, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "scoring_func": "softmax",
  "tie_word_embeddings": false, "topk_group": 1, "topk_method": "greedy", "torch_dtype": "bfloat16",
  "v_head_dim": 128, "vocab_size": 102400
})";

constexpr std::string_view kGlm45Air = R"({
  "architectures": ["Glm4MoeForCausalLM"], "attention_bias": true, "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 4096, "partial_rotary_factor": 0.5, "intermediate_size": 10944, "max_position_embeddings": 131072,
  "model_type": "glm4_moe", "moe_intermediate_size": 1408, "norm_topk_prob": true, "num_attention_heads": 96,
  "n_group": 1, "topk_group": 1, "n_routed_experts": 128, "n_shared_experts": 1, "routed_scaling_factor": 1.0,
  "num_experts_per_tok": 8, "first_k_dense_replace": 1, "num_hidden_layers": 46, "num_key_value_heads": 8,
  "num_nextn_predict_layers": 1, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_qk_norm": false,
  "vocab_size": 151552
})";

constexpr std::string_view kOlmo2_7B = R"({
  "architectures": ["Olmo2ForCausalLM"], "attention_bias": false, "hidden_act": "silu", "hidden_size": 4096,
  "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "olmo2", "num_attention_heads": 32,
  "num_hidden_layers": 32, "num_key_value_heads": 32, "rms_norm_eps": 1e-06, "rope_scaling": null,
  "rope_theta": 500000, "tie_word_embeddings": false, "torch_dtype": "float32", "vocab_size": 100352
})";

constexpr std::string_view kGranite31_8B = R"({
  "architectures": ["GraniteForCausalLM"], "attention_bias": false, "attention_multiplier": 0.0078125,
  "embedding_multiplier": 12.0, "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 12800,
  "logits_scaling": 16.0, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "granite",
  "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8, "residual_multiplier": 0.22,
  "rms_norm_eps": 1e-05, "rope_theta": 10000000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "vocab_size": 49155
})";

constexpr std::string_view kCommandR7B = R"({
  "architectures": ["Cohere2ForCausalLM"], "attention_bias": false, "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 4096, "intermediate_size": 14336, "layer_norm_eps": 1e-05, "logit_scale": 0.25,
  "max_position_embeddings": 132096, "model_type": "cohere2", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 8, "rope_theta": 50000, "sliding_window": 4096, "sliding_window_pattern": 4,
  "torch_dtype": "bfloat16", "use_embedding_sharing": true, "vocab_size": 256000
})";

struct PublishedConfig {
  std::string_view preset;
  std::string_view json;
  Index parameters;
};

const PublishedConfig kPublished[] = {
    {"gemma-2-9b", kGemma2_9B, 9'241'705'984},          {"gemma-3-1b", kGemma3_1B, 999'885'952},
    {"phi-3-mini", kPhi3Mini, 3'821'079'552},           {"qwen1.5-moe-a2.7b", kQwen15MoeA27B, 14'315'784'192},
    {"deepseek-v2-lite", kDeepSeekV2Lite, 15'706'484'224}, {"glm-4.5-air", kGlm45Air, 106'852'251'264},
    {"olmo-2-7b", kOlmo2_7B, 7'298'617'344},            {"granite-3.1-8b", kGranite31_8B, 8'170'848'256},
    {"command-r7b", kCommandR7B, 8'028'033'024},
};

TEST(Families, PublishedConfigsGiveThePresetsAndTheirCounts) {
  for (const PublishedConfig& published : kPublished) {
    SCOPED_TRACE(std::string(published.preset));
    const ModelConfig config = read(published.json);
    expect_same_model(config, preset(published.preset));
    EXPECT_EQ(parameter_count(config).value(), published.parameters);
    EXPECT_EQ(preset_parameters(published.preset), published.parameters);
  }
}

// Defaults transformers applies where a config omits a key: gemma2/gemma3_text/cohere2 tie their embeddings,
// qwen2_moe's q/k/v are biased without a qkv_bias key, cohere2's head_dim is hidden / heads whatever the file says.
TEST(Families, TransformersDefaults) {
  EXPECT_TRUE(read(kGemma2_9B).tie_word_embeddings);    // no tie_word_embeddings key
  EXPECT_TRUE(read(kCommandR7B).tie_word_embeddings);   // idem
  EXPECT_TRUE(read(kQwen15MoeA27B).attention_bias);     // no qkv_bias key
  std::string no_qkv_bias(kQwen15MoeA27B);
  no_qkv_bias.insert(no_qkv_bias.size() - 2, R"(, "qkv_bias": false)");
  EXPECT_FALSE(read(no_qkv_bias).attention_bias);
  EXPECT_EQ(parameter_count(read(no_qkv_bias)).value(), 14'315'784'192 - 24 * 3 * 2048);
  std::string cohere(kCommandR7B);
  cohere.replace(cohere.find("\"head_dim\": 128"), 15, "\"head_dim\": 96 ");
  EXPECT_EQ(read(cohere).head_dim, 128);  // Cohere2Config overrides it
  std::string glm(kGlm45Air);
  glm.replace(glm.find("\"use_qk_norm\": false"), 20, "\"use_qk_norm\": true ");
  const ModelConfig glm_norms = read(glm);
  EXPECT_TRUE(glm_norms.qk_norm);
  EXPECT_EQ(shape_in(inventory_of(glm_norms), "model.layers.*.self_attn.k_norm.weight"), (Shape{128}));
  EXPECT_EQ(parameter_count(glm_norms).value(), 106'852'251'264 + 46 * 2 * 128);
}

// Gemma 3's multimodal config: the text decoder is read through text_config, whose omitted sizes are
// Gemma3TextConfig's defaults (heads 8, kv 4, head_dim 256, vocab 262208), as google/gemma-3-4b-it writes it.
constexpr std::string_view kGemma3_4B = R"({
  "architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999, "eoi_token_index": 256000,
  "image_token_index": 262144, "mm_tokens_per_image": 256, "model_type": "gemma3",
  "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                  "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                  "sliding_window": 1024},
  "torch_dtype": "bfloat16",
  "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304, "model_type": "siglip_vision_model",
                    "num_attention_heads": 16, "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": false}
})";

TEST(Families, Gemma3MultimodalReadThroughTextConfig) {
  const ModelConfig gemma = read(kGemma3_4B);
  EXPECT_EQ(gemma.family, ModelFamily::gemma3_text);
  EXPECT_EQ(gemma.hidden_size, 2560);
  EXPECT_EQ(gemma.num_attention_heads, 8);
  EXPECT_EQ(gemma.num_key_value_heads, 4);
  EXPECT_EQ(gemma.head_dim, 256);
  EXPECT_EQ(gemma.vocab_size, 262208);
  EXPECT_TRUE(gemma.tie_word_embeddings);
  EXPECT_TRUE(gemma.qk_norm);
  EXPECT_EQ(gemma.dtype_bytes, 2);
  // The text decoder only: 262208·2560 embedding + 34 layers of 94,382,592 + the final norm (the SigLIP tower and
  // the projector are not in it).
  EXPECT_EQ(parameter_count(gemma).value(), 3'880'263'168);
  EXPECT_EQ(parameter_count(gemma).value(), 262208 * 2560 + 34 * Index{94'382'592} + 2560);

  // A text_config without model_type: gemma3's text model is gemma3_text; another's is not known.
  EXPECT_EQ(read(R"({"model_type": "gemma3", "text_config": {"hidden_size": 1152, "num_hidden_layers": 2}})").family,
            ModelFamily::gemma3_text);
  EXPECT_EQ(error_of(R"({"model_type": "llava", "text_config": {"hidden_size": 4096}})"),
            "text_config.model_type: missing (the text model of 'llava' is not known)");
  // Errors inside it name the field there; a top-level quantization_config error stays top-level.
  EXPECT_EQ(error_of(R"({"model_type": "llava", "text_config": {"model_type": "llama", "hidden_size": 4096}})"),
            "text_config.num_hidden_layers: missing (required for llama)");
  EXPECT_EQ(error_of(R"({"model_type": "gemma3", "text_config": {"hidden_size": 0}})"),
            "text_config.hidden_size: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"model_type": "gemma3", "text_config": [1]})"),
            "text_config: expected an object, got an array");
  EXPECT_EQ(error_of(R"({"model_type": "gemma3", "text_config": {}, "quantization_config": {"quant_method": "x"}})"),
            "quantization_config.quant_method: unsupported 'x' (supported: fp8, compressed-tensors fp8, mxfp4, gptq "
            "or awq with group_size 128)");
  // A null text_config is no text_config.
  EXPECT_EQ(read(std::string(kGemma3_1B).insert(1, R"("text_config": null, )")).family, ModelFamily::gemma3_text);
}

// ---------------------------------------------------------------------------------------------------------------
// What each family holds: the per-layer groups in the order a layer uses them.

TEST(FamilyInventories, Gemma2NormsAroundAttentionAndMlp) {
  const Inventory gemma = inventory_of(preset("gemma-2-9b"));
  EXPECT_EQ(layer_patterns(gemma),
            (std::vector<std::string>{"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                      "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                                      "post_attention_layernorm.weight", "pre_feedforward_layernorm.weight",
                                      "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
                                      "post_feedforward_layernorm.weight"}));
  EXPECT_EQ(shape_in(gemma, "model.layers.*.self_attn.q_proj.weight"), (Shape{4096, 3584}));  // 16 heads of 256
  EXPECT_EQ(find_group(gemma, "lm_head.weight"), nullptr);                                      // tied
}

TEST(FamilyInventories, Gemma3QkNormsPerHead) {
  const Inventory gemma = inventory_of(preset("gemma-3-1b"));
  EXPECT_EQ(shape_in(gemma, "model.layers.*.self_attn.q_norm.weight"), (Shape{256}));
  EXPECT_EQ(shape_in(gemma, "model.layers.*.self_attn.k_norm.weight"), (Shape{256}));
  EXPECT_EQ(shape_in(gemma, "model.layers.*.self_attn.k_proj.weight"), (Shape{256, 1152}));  // one KV head
  EXPECT_EQ(layer_patterns(gemma).back(), "post_feedforward_layernorm.weight");
}

TEST(FamilyInventories, Phi3FusedProjections) {
  const Inventory phi = inventory_of(preset("phi-3-mini"));
  EXPECT_EQ(layer_patterns(phi),
            (std::vector<std::string>{"input_layernorm.weight", "self_attn.qkv_proj.weight", "self_attn.o_proj.weight",
                                      "post_attention_layernorm.weight", "mlp.gate_up_proj.weight",
                                      "mlp.down_proj.weight"}));
  EXPECT_EQ(shape_in(phi, "model.layers.*.self_attn.qkv_proj.weight"), (Shape{9216, 3072}));
  EXPECT_EQ(shape_in(phi, "model.layers.*.mlp.gate_up_proj.weight"), (Shape{16384, 3072}));
  EXPECT_EQ(fused_segments(*find_group(phi, "model.layers.*.self_attn.qkv_proj.weight"), preset("phi-3-mini")),
            (std::vector<Index>{3072, 3072, 3072}));
  EXPECT_EQ(fused_segments(*find_group(phi, "model.layers.*.mlp.gate_up_proj.weight"), preset("phi-3-mini")),
            (std::vector<Index>{8192, 8192}));
  EXPECT_TRUE(fused_segments(*find_group(phi, "model.layers.*.self_attn.o_proj.weight"), preset("phi-3-mini")).empty());
  // gpt-oss's interleaved gate_up is a packing, not segments.
  const Inventory oss = inventory_of(preset("gpt-oss-120b"));
  EXPECT_TRUE(fused_segments(*find_group(oss, "model.layers.*.mlp.experts.gate_up_proj"), preset("gpt-oss-120b")).empty());
}

TEST(FamilyInventories, Qwen2MoeSharedExpertWithItsGate) {
  const Inventory qwen = inventory_of(preset("qwen1.5-moe-a2.7b"));
  EXPECT_EQ(layer_patterns(qwen),
            (std::vector<std::string>{"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias",
                                      "self_attn.k_proj.weight", "self_attn.k_proj.bias", "self_attn.v_proj.weight",
                                      "self_attn.v_proj.bias", "self_attn.o_proj.weight",
                                      "post_attention_layernorm.weight", "mlp.gate.weight",
                                      "mlp.experts.*.gate_proj.weight", "mlp.experts.*.up_proj.weight",
                                      "mlp.experts.*.down_proj.weight", "mlp.shared_expert.gate_proj.weight",
                                      "mlp.shared_expert.up_proj.weight", "mlp.shared_expert.down_proj.weight",
                                      "mlp.shared_expert_gate.weight"}));
  EXPECT_EQ(shape_in(qwen, "model.layers.*.mlp.shared_expert.up_proj.weight"), (Shape{5632, 2048}));
  EXPECT_EQ(shape_in(qwen, "model.layers.*.mlp.shared_expert_gate.weight"), (Shape{1, 2048}));
  EXPECT_EQ(find_group(qwen, "model.layers.*.mlp.experts.*.down_proj.weight")->experts, 60);
  // 4,659 tensors, as the checkpoint's index lists them: 194 per layer, embedding, norm, lm_head.
  Index tensors = 0;
  for (const ParameterGroup& group : qwen) tensors += group.instances();
  EXPECT_EQ(tensors, 4659);
}

TEST(FamilyInventories, DeepSeekV2LiteQProjAndNoCorrectionBias) {
  const Inventory lite = inventory_of(preset("deepseek-v2-lite"));
  EXPECT_EQ(shape_in(lite, "model.layers.*.self_attn.q_proj.weight"), (Shape{3072, 2048}));  // 16 · (128 + 64)
  EXPECT_EQ(find_group(lite, "model.layers.*.self_attn.q_a_proj.weight"), nullptr);
  EXPECT_EQ(shape_in(lite, "model.layers.*.self_attn.kv_a_proj_with_mqa.weight"), (Shape{576, 2048}));
  EXPECT_EQ(shape_in(lite, "model.layers.*.self_attn.kv_b_proj.weight"), (Shape{4096, 512}));
  EXPECT_EQ(find_group(lite, "model.layers.*.mlp.gate.e_score_correction_bias"), nullptr);
  EXPECT_EQ(shape_in(lite, "model.layers.*.mlp.shared_experts.gate_proj.weight"), (Shape{2816, 2048}));
  EXPECT_EQ(find_group(lite, "model.layers.*.mlp.gate_proj.weight")->layers, IntervalSet::range(0, 1));
  EXPECT_EQ(find_group(lite, "model.layers.*.mlp.gate.weight")->layers, IntervalSet::range(1, 27));
}

TEST(FamilyInventories, Glm4MoeBiasesAndRouter) {
  const Inventory glm = inventory_of(preset("glm-4.5-air"));
  EXPECT_EQ(shape_in(glm, "model.layers.*.self_attn.q_proj.bias"), (Shape{12288}));
  EXPECT_EQ(shape_in(glm, "model.layers.*.self_attn.k_proj.bias"), (Shape{1024}));
  EXPECT_EQ(find_group(glm, "model.layers.*.self_attn.o_proj.bias"), nullptr);  // Glm4MoeAttention: bias=False
  EXPECT_EQ(shape_in(glm, "model.layers.*.mlp.gate.e_score_correction_bias"), (Shape{128}));
  EXPECT_EQ(shape_in(glm, "model.layers.*.mlp.shared_experts.down_proj.weight"), (Shape{4096, 1408}));
  EXPECT_EQ(find_group(glm, "model.layers.*.self_attn.q_norm.weight"), nullptr);  // use_qk_norm false
}

TEST(FamilyInventories, Olmo2NormsAfterBlocksAndOverWholeProjections) {
  const Inventory olmo = inventory_of(preset("olmo-2-7b"));
  EXPECT_EQ(layer_patterns(olmo),
            (std::vector<std::string>{"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                      "self_attn.o_proj.weight", "self_attn.q_norm.weight", "self_attn.k_norm.weight",
                                      "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                      "mlp.down_proj.weight", "post_feedforward_layernorm.weight"}));
  EXPECT_EQ(shape_in(olmo, "model.layers.*.self_attn.q_norm.weight"), (Shape{4096}));  // H·d, not d
  EXPECT_EQ(shape_in(olmo, "model.layers.*.self_attn.k_norm.weight"), (Shape{4096}));  // K·d
}

TEST(FamilyInventories, GraniteAndCohere2) {
  const Inventory granite = inventory_of(preset("granite-3.1-8b"));
  EXPECT_EQ(find_group(granite, "lm_head.weight"), nullptr);
  EXPECT_EQ(shape_in(granite, "model.embed_tokens.weight"), (Shape{49155, 4096}));
  const Inventory cohere = inventory_of(preset("command-r7b"));
  EXPECT_EQ(layer_patterns(cohere),
            (std::vector<std::string>{"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                      "self_attn.v_proj.weight", "self_attn.o_proj.weight", "mlp.gate_proj.weight",
                                      "mlp.up_proj.weight", "mlp.down_proj.weight"}));
  EXPECT_EQ(find_group(cohere, "lm_head.weight"), nullptr);
}

// granite (and llama) configs carry mlp_bias: GraniteMLP's gate/up/down take it.
TEST(FamilyInventories, GraniteMlpBias) {
  std::string biased(kGranite31_8B);
  biased.replace(biased.find("\"mlp_bias\": false"), 17, "\"mlp_bias\": true ");
  const ModelConfig granite = read(biased);
  EXPECT_TRUE(granite.mlp_bias);
  const Inventory inventory = inventory_of(granite);
  EXPECT_EQ(shape_in(inventory, "model.layers.*.mlp.up_proj.bias"), (Shape{12800}));
  EXPECT_EQ(shape_in(inventory, "model.layers.*.mlp.down_proj.bias"), (Shape{4096}));
  EXPECT_EQ(parameter_count(granite).value(), 8'170'848'256 + 40 * (2 * 12800 + 4096));
  ModelConfig gemma = preset("gemma-2-9b");
  gemma.mlp_bias = true;
  EXPECT_EQ(config_error_of(gemma), "mlp_bias: gemma2 has no MLP biases (only llama and granite)");
}

TEST(FamilyInventories, ConfigErrors) {
  ModelConfig granite = preset("granite-3.1-8b");
  granite.qk_norm = true;
  EXPECT_EQ(config_error_of(granite),
            "qk_norm: granite has no q/k norms (only qwen3, qwen3_moe, gemma3_text, olmo2 and glm4_moe)");
  ModelConfig qwen = preset("qwen1.5-moe-a2.7b");
  qwen.shared_expert_intermediate_size = 0;
  EXPECT_EQ(config_error_of(qwen), "shared_expert_intermediate_size: must be >= 1, got 0");
  qwen = preset("qwen1.5-moe-a2.7b");
  qwen.num_shared_experts = 1;
  EXPECT_EQ(config_error_of(qwen),
            "num_shared_experts: only deepseek_v2, deepseek_v3 and glm4_moe use it; qwen2_moe must leave it 0, got 1");
  ModelConfig glm = preset("glm-4.5-air");
  glm.shared_expert_intermediate_size = 1408;
  EXPECT_EQ(config_error_of(glm),
            "shared_expert_intermediate_size: only qwen2_moe uses it; glm4_moe must leave it 0, got 1408");
  glm = preset("glm-4.5-air");
  glm.decoder_sparse_step = 2;
  EXPECT_EQ(config_error_of(glm),
            "decoder_sparse_step: only qwen2_moe and qwen3_moe use it; glm4_moe must leave it 1, got 2");
  ModelConfig lite = preset("deepseek-v2-lite");
  lite.kv_lora_rank = 0;
  EXPECT_EQ(config_error_of(lite), "kv_lora_rank: must be >= 1 for deepseek_v2 (multi-head latent attention), got 0");
  ModelConfig phi = preset("phi-3-mini");
  phi.kv_lora_rank = 512;
  EXPECT_EQ(config_error_of(phi),
            "kv_lora_rank: only deepseek_v2 and deepseek_v3 (multi-head latent attention) use it; phi3 must leave it "
            "0, got 512");
  phi = preset("phi-3-mini");
  phi.num_experts = 8;
  EXPECT_EQ(config_error_of(phi), "num_experts: phi3 is a dense family: must be 0, got 8");

  EXPECT_EQ(error_of(R"({"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "vocab_size": 128, "num_experts": 4, "num_experts_per_tok": 2,
      "moe_intermediate_size": 32})"),
            "shared_expert_intermediate_size: missing (required for qwen2_moe)");
  EXPECT_EQ(error_of(R"({"model_type": "deepseek_v2", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "vocab_size": 128, "n_routed_experts": 4, "n_shared_experts": 1,
      "moe_intermediate_size": 32, "first_k_dense_replace": 0, "num_experts_per_tok": 2})"),
            "q_lora_rank: missing (required for deepseek_v2; null means no query compression)");
}

// ---------------------------------------------------------------------------------------------------------------
// Default plans: HF's base_model_tp_plan / base_model_ep_plan of each family (shardplan's additions are in
// docs/plans.md).

TEST(FamilyPlans, DefaultTpEntries) {
  const auto style = [](ModelFamily family, std::string_view name) {
    return resolve_style(default_tp_plan(family), name);
  };
  EXPECT_EQ(style(ModelFamily::phi3, "model.layers.3.self_attn.qkv_proj.weight"), PlanStyle::colwise_gather_output);
  EXPECT_EQ(style(ModelFamily::phi3, "model.layers.3.self_attn.o_proj.weight"), PlanStyle::rowwise_split_input);
  EXPECT_EQ(style(ModelFamily::phi3, "model.layers.3.mlp.gate_up_proj.weight"), PlanStyle::colwise_gather_output);
  EXPECT_EQ(style(ModelFamily::phi3, "model.layers.3.mlp.down_proj.weight"), PlanStyle::rowwise_split_input);
  EXPECT_EQ(style(ModelFamily::olmo2, "model.layers.0.self_attn.k_proj.weight"), PlanStyle::colwise_gather_output);
  EXPECT_EQ(style(ModelFamily::olmo2, "model.layers.0.self_attn.o_proj.weight"), PlanStyle::rowwise_split_input);
  EXPECT_EQ(style(ModelFamily::olmo2, "model.layers.0.mlp.up_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(style(ModelFamily::olmo2, "model.layers.0.self_attn.q_norm.weight"), std::nullopt);
  for (ModelFamily family : {ModelFamily::gemma2, ModelFamily::gemma3_text, ModelFamily::granite, ModelFamily::cohere2}) {
    EXPECT_EQ(style(family, "model.layers.0.self_attn.v_proj.weight"), PlanStyle::colwise);
    EXPECT_EQ(style(family, "model.layers.0.self_attn.o_proj.weight"), PlanStyle::rowwise);
    EXPECT_EQ(style(family, "model.layers.0.mlp.down_proj.weight"), PlanStyle::rowwise);
  }
  EXPECT_EQ(style(ModelFamily::gemma3_text, "model.layers.0.self_attn.q_norm.weight"), std::nullopt);
  EXPECT_EQ(style(ModelFamily::deepseek_v2, "model.layers.1.self_attn.q_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(style(ModelFamily::deepseek_v2, "model.layers.1.self_attn.kv_a_proj_with_mqa.weight"), PlanStyle::replicate);
  EXPECT_EQ(style(ModelFamily::deepseek_v2, "model.layers.1.mlp.shared_experts.up_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(style(ModelFamily::qwen2_moe, "model.layers.1.mlp.shared_expert.down_proj.weight"), PlanStyle::rowwise);
  EXPECT_EQ(style(ModelFamily::qwen2_moe, "model.layers.1.mlp.shared_expert_gate.weight"), std::nullopt);
  EXPECT_EQ(style(ModelFamily::qwen2_moe, "model.layers.1.mlp.experts.7.up_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(style(ModelFamily::glm4_moe, "model.layers.1.mlp.experts.7.down_proj.weight"), PlanStyle::rowwise);
  EXPECT_EQ(style(ModelFamily::glm4_moe, "model.layers.1.mlp.shared_experts.gate_proj.weight"), std::nullopt);
}

TEST(FamilyPlans, DefaultEpEntries) {
  for (ModelFamily family : {ModelFamily::qwen2_moe, ModelFamily::deepseek_v2, ModelFamily::glm4_moe}) {
    const Plan plan = default_plan(family, true, false);
    EXPECT_EQ(resolve_style(plan, "model.layers.5.mlp.gate.weight"), PlanStyle::ep_router);
    EXPECT_EQ(resolve_style(plan, "model.layers.5.mlp.experts.3.gate_proj.weight"), PlanStyle::grouped_gemm);
    EXPECT_EQ(resolve_style(plan, "model.layers.5.mlp.experts.3.down_proj.weight"), PlanStyle::grouped_gemm);
  }
  EXPECT_TRUE(default_ep_plan(ModelFamily::phi3).empty());
}

// ---------------------------------------------------------------------------------------------------------------
// phi3's fused tensors: each segment split on its own, never a plain chunk of the fused dim.

TEST(Phi3Fused, QkvAndGateUpPerRankAtTp2And4) {
  const ModelConfig phi = preset("phi-3-mini");
  for (const Index tp : {Index{2}, Index{4}}) {
    SCOPED_TRACE(tp);
    const ParallelConfig parallel{.tp = tp};
    const std::vector<ShardedParameter> params = shard_default(phi, parallel);
    const ShardedParameter& qkv = sharded(params, "model.layers.*.self_attn.qkv_proj.weight");
    const ShardedParameter& gate_up = sharded(params, "model.layers.*.mlp.gate_up_proj.weight");
    EXPECT_EQ(qkv.segments, (std::vector<Index>{3072, 3072, 3072}));
    EXPECT_EQ(qkv.unit, 96);
    EXPECT_EQ(gate_up.segments, (std::vector<Index>{8192, 8192}));
    const Index q_rows = 3072 / tp;   // 32 / tp heads of 96
    const Index ff_rows = 8192 / tp;
    for (Index rank = 0; rank < tp; ++rank) {
      const LocalRegion qkv_region = local_region(qkv, rank, parallel).value();
      EXPECT_EQ(qkv_region.local_shape, (Shape{3 * q_rows, 3072}));
      EXPECT_EQ(qkv_region.sets[0], intervals({{rank * q_rows, (rank + 1) * q_rows},
                                               {3072 + rank * q_rows, 3072 + (rank + 1) * q_rows},
                                               {6144 + rank * q_rows, 6144 + (rank + 1) * q_rows}}));
      const LocalRegion gate_up_region = local_region(gate_up, rank, parallel).value();
      EXPECT_EQ(gate_up_region.local_shape, (Shape{2 * ff_rows, 3072}));
      EXPECT_EQ(gate_up_region.sets[0],
                intervals({{rank * ff_rows, (rank + 1) * ff_rows}, {8192 + rank * ff_rows, 8192 + (rank + 1) * ff_rows}}));
    }
  }
  // tp 4, rank 1, spelled out: q rows [768, 1536), k rows [3840, 4608), v rows [6912, 7680) — a plain S(0) would
  // have given it [2304, 4608), the end of q and the start of k.
  const ParallelConfig tp4{.tp = 4};
  const LocalRegion rank1 =
      local_region(sharded(shard_default(phi, tp4), "model.layers.*.self_attn.qkv_proj.weight"), 1, tp4).value();
  EXPECT_EQ(rank1.sets[0], intervals({{768, 1536}, {3840, 4608}, {6912, 7680}}));
}

TEST(Phi3Fused, RankParametersListTheSegmentedShapes) {
  const ModelConfig phi = preset("phi-3-mini");
  const std::vector<RankParameter> rank = rank_parameters(phi, ParallelConfig{.tp = 2, .pp = 2}, 3).value();
  bool found = false;
  for (const RankParameter& p : rank) {
    if (p.name.view() != "model.layers.16.self_attn.qkv_proj.weight") continue;
    found = true;
    EXPECT_EQ(p.local_shape, (Shape{4608, 3072}));
    EXPECT_EQ(p.sets[0], intervals({{1536, 3072}, {4608, 6144}, {7680, 9216}}));
  }
  EXPECT_TRUE(found);
}

/// A small phi3 with GQA: 8 query heads, 2 KV heads of 16.
ModelConfig small_phi3_gqa() {
  ModelConfig config;
  config.family = ModelFamily::phi3;
  config.hidden_size = 128;
  config.intermediate_size = 256;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 8;
  config.num_key_value_heads = 2;
  config.head_dim = 16;
  config.vocab_size = 1024;
  return config;
}

TEST(Phi3Fused, KvPolicyAppliesToTheKAndVSegmentsOnly) {
  const ModelConfig phi = small_phi3_gqa();
  // tp 4: 2 query heads per rank; 2 KV heads for 4 ranks. forbid refuses it; replicate puts each KV head on 2 ranks.
  const ParallelConfig forbid{.tp = 4};
  const PlanReport refused = validate_model_plan(phi, forbid).value();
  ASSERT_EQ(refused.errors.size(), 1U);
  EXPECT_EQ(refused.errors[0].rule, Rule::kv_heads);
  EXPECT_EQ(refused.errors[0].param.view(), "model.layers.*.self_attn.qkv_proj.weight");
  EXPECT_EQ(std::string(refused.errors[0].message.view()), "2 KV heads are not divisible by tp 4 (kv policy forbid)");
  EXPECT_FALSE(local_region(sharded(shard_default(phi, forbid), "model.layers.*.self_attn.qkv_proj.weight"), 0, forbid)
                   .ok());

  const ParallelConfig replicate{.tp = 4, .kv_policy = ShortSegmentPolicy::replicate};
  EXPECT_TRUE(validate_model_plan(phi, replicate)->valid());
  const std::vector<ShardedParameter> params = shard_default(phi, replicate);
  const ShardedParameter& qkv = sharded(params, "model.layers.*.self_attn.qkv_proj.weight");
  EXPECT_EQ(qkv.segments, (std::vector<Index>{128, 32, 32}));
  const LocalRegion rank3 = local_region(qkv, 3, replicate).value();
  EXPECT_EQ(rank3.local_shape, (Shape{64, 128}));  // 2 query heads, 1 k head, 1 v head
  EXPECT_EQ(rank3.sets[0], intervals({{96, 128}, {144, 160}, {176, 192}}));  // q heads 6-7, KV head 1
  const LocalRegion rank0 = local_region(qkv, 0, replicate).value();
  EXPECT_EQ(rank0.sets[0], intervals({{0, 32}, {128, 144}, {160, 176}}));   // q heads 0-1, KV head 0

  // tp 16: 8 query heads for 16 ranks. Query heads are never replicated, whatever the KV policy.
  const ParallelConfig too_many{.tp = 16, .kv_policy = ShortSegmentPolicy::replicate};
  const PlanReport report = validate_model_plan(phi, too_many).value();
  ASSERT_FALSE(report.errors.empty());
  EXPECT_EQ(report.errors[0].rule, Rule::attention_heads);
  EXPECT_EQ(std::string(report.errors[0].message.view()),
            "total number of attention heads (8) must be divisible by tensor parallel size (16)");
  const auto region =
      local_region(sharded(shard_default(phi, too_many), "model.layers.*.self_attn.qkv_proj.weight"), 0, too_many);
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(std::string(region.error().what()),
            "segments[0]: 8 units of 16 for 16 shards on mesh axis 0: the first segment (the query heads of [q; k; v]) "
            "is never replicated, only KV heads are; use a shard count that divides 8");
}

TEST(Phi3Fused, RulesJudgeEachSegment) {
  const PlanReport report = validate_model_plan(preset("phi-3-mini"), ParallelConfig{.tp = 3}).value();
  ASSERT_EQ(report.errors.size(), 3U);
  EXPECT_EQ(report.errors[0].rule, Rule::attention_heads);
  EXPECT_EQ(report.errors[1].rule, Rule::kv_heads);
  EXPECT_EQ(report.errors[2].rule, Rule::intermediate);
  EXPECT_EQ(report.errors[2].param.view(), "model.layers.*.mlp.gate_up_proj.weight");
  EXPECT_EQ(std::string(report.errors[2].message.view()), "intermediate size 8192 is not divisible by tp 3");
  EXPECT_EQ(report.valid_tp, (std::vector<Index>{1, 2, 4, 8, 16, 32}));

  // A width that only the fused dim divides: I = 12 at tp 8 (2I = 24 is not the test; 12 % 8 is).
  ModelConfig narrow = small_phi3_gqa();
  narrow.num_key_value_heads = 8;
  narrow.intermediate_size = 12;
  const PlanReport width = validate_model_plan(narrow, ParallelConfig{.tp = 4}).value();
  EXPECT_TRUE(width.valid());  // 12 % 4 == 0 per segment
  const PlanReport cut = validate_model_plan(narrow, ParallelConfig{.tp = 8}).value();
  ASSERT_EQ(cut.errors.size(), 1U);
  EXPECT_EQ(std::string(cut.errors[0].message.view()), "intermediate size 12 is not divisible by tp 8");
}

// Sizing walks the same segmented local shapes: a rank of phi-3-mini at tp 4 holds a quarter of each layer.
TEST(Phi3Fused, SizeAtTp4) {
  const SizeReport size = size_plan(preset("phi-3-mini"), ParallelConfig{.tp = 4}).value();
  EXPECT_EQ(size.total_params, 3'821'079'552);
  // Per rank: the vocabulary-split embedding and lm_head (32064 / 4 rows each), a quarter of every projection, and
  // the replicated norms.
  const Index per_layer = (9216 * 3072 + 3072 * 3072 + 16384 * 3072 + 3072 * 8192) / 4 + 2 * 3072;
  EXPECT_EQ(size.busiest().params, 2 * 8016 * 3072 + 32 * per_layer + 3072);
}

// ---------------------------------------------------------------------------------------------------------------
// Every new preset validates at its published serving sizes.

TEST(FamilyPlans, ValidSizes) {
  struct Expected {
    std::string_view preset;
    std::vector<Index> valid_tp;
  };
  const Expected cases[] = {
      {"gemma-2-9b", {1, 2, 4, 8}},   {"gemma-3-1b", {1}},          {"phi-3-mini", {1, 2, 4, 8, 16, 32}},
      {"qwen1.5-moe-a2.7b", {1, 2, 4, 8, 16}}, {"deepseek-v2-lite", {1, 2, 4, 8, 16}},
      {"glm-4.5-air", {1, 2, 4, 8}},  {"olmo-2-7b", {1, 2, 4, 8, 16, 32}},
      {"granite-3.1-8b", {1}},        {"command-r7b", {1, 2, 4, 8}},
  };
  for (const Expected& expected : cases) {
    SCOPED_TRACE(std::string(expected.preset));
    const PlanReport report = validate_model_plan(preset(expected.preset), ParallelConfig{}).value();
    EXPECT_EQ(report.valid_tp, expected.valid_tp);
  }
}

}  // namespace
}  // namespace shardplan
