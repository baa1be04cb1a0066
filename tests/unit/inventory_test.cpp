// Parameter inventories and presets: every preset's total against its published parameter count, exact shapes of
// the parameters each family adds, which layers are dense or MoE, tied embeddings, quantized flags, and the config
// errors with their exact messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/presets.hpp"

namespace shardplan {
namespace {

using testing_support::List;

constexpr ModelConfig preset(std::string_view name) { return model_preset(name).value(); }
constexpr Index preset_parameters(std::string_view name) { return parameter_count(preset(name)).value(); }

/// The shape of one parameter of a preset's inventory, or an empty shape when it has no such parameter.
constexpr Shape shape_of(const ModelConfig& config, std::string_view pattern) {
  const Inventory inventory = parameter_inventory(config).value();
  const ParameterGroup* group = find_group(inventory, pattern);
  return group != nullptr ? group->shape : Shape{};
}

// ---------------------------------------------------------------------------------------------------------------
// Compile time: presets, inventories and totals are constant expressions (the inventory's vectors are transient).

static_assert(preset_parameters("llama-3.1-8b") == 8'030'261'248);
static_assert(preset_parameters("llama-3.1-70b") == 70'553'706'496);
static_assert(preset_parameters("llama-3.1-405b") == 405'853'388'800);
static_assert(preset_parameters("qwen2.5-7b") == 7'615'616'512);
static_assert(preset_parameters("qwen3-30b-a3b") == 30'532'122'624);
static_assert(preset_parameters("qwen3-235b-a22b") == 235'093'634'560);
static_assert(preset_parameters("mixtral-8x7b") == 46'702'792'704);
static_assert(preset_parameters("gpt-oss-120b") == 116'829'156'672);
static_assert(preset_parameters("deepseek-v3") == 671'026'419'200);
static_assert(total_parameters(parameter_inventory(preset("llama-3.1-8b")).value()) == 8'030'261'248);
static_assert(shape_of(preset("deepseek-v3"), "model.layers.*.self_attn.q_b_proj.weight") == Shape{24576, 1536});
static_assert(shape_of(preset("gpt-oss-120b"), "model.layers.*.mlp.experts.gate_up_proj") == Shape{128, 2880, 5760});
static_assert(kModelPresetNames.size() == 18);  // the first nine here, the others in families_test.cpp
static_assert(model_preset("llama-3.1-8b")->name == std::string_view("llama-3.1-8b"));
static_assert(model_preset("llama-3").error().code == ErrorCode::invalid_argument);
static_assert(!parameter_inventory(ModelConfig{}).ok());

// ---------------------------------------------------------------------------------------------------------------
// Helpers

Inventory inventory_of(const ModelConfig& config) {
  auto inventory = parameter_inventory(config);
  EXPECT_TRUE(inventory.ok()) << (inventory.ok() ? "" : inventory.error().what());
  return inventory.ok() ? std::move(inventory).value() : Inventory{};
}

/// The group named `pattern`; fails the test (and returns an empty group) when there is none.
ParameterGroup group_of(const Inventory& inventory, std::string_view pattern) {
  const ParameterGroup* group = find_group(inventory, pattern);
  EXPECT_NE(group, nullptr) << "no parameter " << pattern;
  return group != nullptr ? *group : ParameterGroup{};
}

bool has(const Inventory& inventory, std::string_view pattern) {
  return find_group(inventory, pattern) != nullptr;
}

std::vector<std::string> patterns(const Inventory& inventory, bool quantized_only = false) {
  std::vector<std::string> out;
  for (const ParameterGroup& group : inventory) {
    if (!quantized_only || group.quantized) out.push_back(group.pattern.str());
  }
  return out;
}

List layers_of(const ParameterGroup& group) {
  List out;
  for (const Interval& interval : group.layers.intervals()) {
    for (Index layer = interval.begin; layer < interval.end; ++layer) out.push_back(layer);
  }
  return out;
}

std::string error_of(const ModelConfig& config) {
  auto inventory = parameter_inventory(config);
  if (inventory.ok()) return "(no error)";
  // check_model_config reports the same config errors; the inventory adds only overflow.
  const Status check = check_model_config(config);
  if (check.ok()) {
    EXPECT_EQ(inventory.error().code, ErrorCode::overflow);
  } else {
    EXPECT_EQ(check.error().what(), inventory.error().what());
  }
  return inventory.error().what();
}

/// A Qwen3-dense config (Qwen3-8B's dimensions).
ModelConfig qwen3_8b() {
  ModelConfig config = preset("llama-3.1-8b");
  config.name = FixedString<48>("qwen3-8b");
  config.family = ModelFamily::qwen3;
  config.num_hidden_layers = 36;
  config.intermediate_size = 12288;
  config.vocab_size = 151936;
  config.qk_norm = true;
  return config;
}

/// A small qwen3_moe config with dense layers from both rules: decoder_sparse_step 2 and mlp_only_layers [0, 5].
ModelConfig sparse_qwen3_moe() {
  ModelConfig config = preset("qwen3-30b-a3b");
  config.num_hidden_layers = 8;
  config.decoder_sparse_step = 2;
  config.mlp_only_layers = {0, 5};
  return config;
}

// ---------------------------------------------------------------------------------------------------------------
// Totals: every preset against its published count

struct Published {
  std::string_view preset;
  Index parameters;
  std::string_view source;
};

TEST(InventoryTotals, EveryPresetMatchesItsPublishedCount) {
  const Published published[] = {
      {"llama-3.1-8b", 8'030'261'248, "Meta / HF safetensors total"},
      {"llama-3.1-70b", 70'553'706'496, "Meta / HF safetensors total"},
      {"llama-3.1-405b", 405'853'388'800, "Meta / HF safetensors total"},
      {"qwen2.5-7b", 7'615'616'512, "Qwen2.5 model card (7.61B)"},
      {"qwen3-30b-a3b", 30'532'122'624, "Qwen3 model card (30.5B)"},
      {"qwen3-235b-a22b", 235'093'634'560, "Qwen3 model card (235B)"},
      {"mixtral-8x7b", 46'702'792'704, "Mistral / HF safetensors total"},
      {"gpt-oss-120b", 116'829'156'672, "OpenAI gpt-oss model card"},
      {"deepseek-v3", 671'026'419'200, "DeepSeek-V3 (671B, without the 14B MTP module)"},
      {"gemma-2-9b", 9'241'705'984, "HF safetensors metadata (float32 checkpoint)"},
      {"gemma-3-1b", 999'885'952, "HF safetensors metadata"},
      {"phi-3-mini", 3'821'079'552, "model.safetensors.index.json total_size 7,642,159,104 B / 2"},
      {"qwen1.5-moe-a2.7b", 14'315'784'192, "model.safetensors.index.json total_size 28,631,568,384 B / 2"},
      {"deepseek-v2-lite", 15'706'484'224, "model.safetensors.index.json total_size 31,412,968,448 B / 2"},
      {"glm-4.5-air", 106'852'251'264, "GLM-4.5 (106B, without the MTP layer 46)"},
      {"olmo-2-7b", 7'298'617'344, "HF safetensors metadata (float32 checkpoint)"},
      {"granite-3.1-8b", 8'170'848'256, "HF safetensors metadata"},
      {"command-r7b", 8'028'033'024, "HF safetensors metadata (8.03B)"},
  };
  ASSERT_EQ(std::size(published), kModelPresetNames.size());
  for (const Published& p : published) {
    SCOPED_TRACE(std::string(p.preset) + ": " + std::string(p.source));
    const ModelConfig config = preset(p.preset);
    EXPECT_EQ(parameter_count(config).value(), p.parameters);
    EXPECT_EQ(total_parameters(inventory_of(config)), p.parameters);
  }
}

// Qwen3 dense checkpoints are not presets; their model cards round (8.2B and 0.6B / 0.44B non-embedding), so these
// pin the architecture's arithmetic, including the q/k norms and (0.6B) the tied embedding.
TEST(InventoryTotals, Qwen3DenseCheckpoints) {
  EXPECT_EQ(parameter_count(qwen3_8b()).value(), 8'190'735'360);
  ModelConfig small = qwen3_8b();
  small.hidden_size = 1024;
  small.num_hidden_layers = 28;
  small.num_attention_heads = 16;
  small.intermediate_size = 3072;
  small.tie_word_embeddings = true;
  EXPECT_EQ(parameter_count(small).value(), 596'049'920);
  EXPECT_EQ(parameter_count(small).value() - 151936 * 1024, 440'467'456);  // the card's "non-embedding 0.44B"
}

// ---------------------------------------------------------------------------------------------------------------
// Presets

TEST(ModelPresets, DimensionsAreTheConfigJsonValues) {
  struct Row {
    std::string_view name;
    ModelFamily family;
    Index hidden, heads, kv_heads, head_dim, intermediate, experts, expert_intermediate, top_k, vocab, layers;
    Quantization quantization;
    bool tied = false;
    Index dtype_bytes = 2;
  };
  const Row rows[] = {
      {"llama-3.1-8b", ModelFamily::llama, 4096, 32, 8, 128, 14336, 0, 0, 0, 128256, 32, Quantization::none},
      {"llama-3.1-70b", ModelFamily::llama, 8192, 64, 8, 128, 28672, 0, 0, 0, 128256, 80, Quantization::none},
      {"llama-3.1-405b", ModelFamily::llama, 16384, 128, 8, 128, 53248, 0, 0, 0, 128256, 126, Quantization::none},
      {"qwen2.5-7b", ModelFamily::qwen2, 3584, 28, 4, 128, 18944, 0, 0, 0, 152064, 28, Quantization::none},
      {"qwen3-30b-a3b", ModelFamily::qwen3_moe, 2048, 32, 4, 128, 6144, 128, 768, 8, 151936, 48, Quantization::none},
      {"qwen3-235b-a22b", ModelFamily::qwen3_moe, 4096, 64, 4, 128, 12288, 128, 1536, 8, 151936, 94,
       Quantization::none},
      {"mixtral-8x7b", ModelFamily::mixtral, 4096, 32, 8, 128, 14336, 8, 14336, 2, 32000, 32, Quantization::none},
      {"gpt-oss-120b", ModelFamily::gpt_oss, 2880, 64, 8, 64, 2880, 128, 2880, 4, 201088, 36, Quantization::mxfp4},
      {"deepseek-v3", ModelFamily::deepseek_v3, 7168, 128, 128, 192, 18432, 256, 2048, 8, 129280, 61,
       Quantization::fp8_block128},
      {"gemma-2-9b", ModelFamily::gemma2, 3584, 16, 8, 256, 14336, 0, 0, 0, 256000, 42, Quantization::none, true,
       4},
      {"gemma-3-1b", ModelFamily::gemma3_text, 1152, 4, 1, 256, 6912, 0, 0, 0, 262144, 26, Quantization::none,
       true},
      {"phi-3-mini", ModelFamily::phi3, 3072, 32, 32, 96, 8192, 0, 0, 0, 32064, 32, Quantization::none},
      {"qwen1.5-moe-a2.7b", ModelFamily::qwen2_moe, 2048, 16, 16, 128, 5632, 60, 1408, 4, 151936, 24,
       Quantization::none},
      {"deepseek-v2-lite", ModelFamily::deepseek_v2, 2048, 16, 16, 192, 10944, 64, 1408, 6, 102400, 27,
       Quantization::none},
      {"glm-4.5-air", ModelFamily::glm4_moe, 4096, 96, 8, 128, 10944, 128, 1408, 8, 151552, 46, Quantization::none},
      {"olmo-2-7b", ModelFamily::olmo2, 4096, 32, 32, 128, 11008, 0, 0, 0, 100352, 32, Quantization::none, false,
       4},
      {"granite-3.1-8b", ModelFamily::granite, 4096, 32, 8, 128, 12800, 0, 0, 0, 49155, 40, Quantization::none,
       true},
      {"command-r7b", ModelFamily::cohere2, 4096, 32, 8, 128, 14336, 0, 0, 0, 256000, 32, Quantization::none,
       true},
  };
  ASSERT_EQ(std::size(rows), kModelPresetNames.size());
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    const Row& row = rows[i];
    SCOPED_TRACE(std::string(row.name));
    EXPECT_EQ(kModelPresetNames[i], row.name);
    const ModelConfig config = preset(row.name);
    EXPECT_EQ(config.name, row.name);
    EXPECT_EQ(config.family, row.family);
    EXPECT_EQ(config.hidden_size, row.hidden);
    EXPECT_EQ(config.num_attention_heads, row.heads);
    EXPECT_EQ(config.num_key_value_heads, row.kv_heads);
    EXPECT_EQ(config.head_dim, row.head_dim);
    EXPECT_EQ(config.intermediate_size, row.intermediate);
    EXPECT_EQ(config.num_experts, row.experts);
    EXPECT_EQ(config.moe_intermediate_size, row.expert_intermediate);
    EXPECT_EQ(config.num_experts_per_tok, row.top_k);
    EXPECT_EQ(config.vocab_size, row.vocab);
    EXPECT_EQ(config.num_hidden_layers, row.layers);
    EXPECT_EQ(config.quantization, row.quantization);
    EXPECT_EQ(config.tie_word_embeddings, row.tied);
    EXPECT_EQ(config.dtype_bytes, row.dtype_bytes);
    EXPECT_TRUE(check_model_config(config).ok());
  }
}

TEST(ModelPresets, DeepSeekV3LatentAttentionAndSharedExperts) {
  const ModelConfig config = preset("deepseek-v3");
  EXPECT_EQ(config.q_lora_rank, 1536);
  EXPECT_EQ(config.kv_lora_rank, 512);
  EXPECT_EQ(config.qk_rope_head_dim, 64);
  EXPECT_EQ(config.qk_nope_head_dim, 128);
  EXPECT_EQ(config.v_head_dim, 128);
  EXPECT_EQ(config.num_shared_experts, 1);
  EXPECT_EQ(config.first_k_dense_replace, 3);
  EXPECT_TRUE(config.is_mla());
}

TEST(ModelPresets, FamilyFlags) {
  EXPECT_TRUE(preset("qwen3-30b-a3b").qk_norm);
  EXPECT_TRUE(preset("qwen3-235b-a22b").qk_norm);
  EXPECT_FALSE(preset("llama-3.1-8b").qk_norm);
  EXPECT_TRUE(preset("qwen2.5-7b").attention_bias);
  EXPECT_TRUE(preset("gpt-oss-120b").attention_bias);
  EXPECT_FALSE(preset("mixtral-8x7b").attention_bias);
}

TEST(ModelPresets, UnknownNameListsTheKnownOnes) {
  // As many names as fit in the message, then how many more.
  EXPECT_EQ(model_preset("llama-3.1-7b").error().what(),
            "model: unknown preset 'llama-3.1-7b' (known: llama-3.1-8b, llama-3.1-70b, llama-3.1-405b, qwen2.5-7b, "
            "qwen3-30b-a3b, qwen3-235b-a22b, mixtral-8x7b, gpt-oss-120b, deepseek-v3, gemma-2-9b, and 8 more)");
  EXPECT_EQ(model_preset("Llama-3.1-8B").error().code, ErrorCode::invalid_argument);  // names are exact
  EXPECT_FALSE(model_preset("").ok());
  // A long name is cut at 40 characters; the list still ends in a count, never cut short.
  const std::string what = model_preset(std::string(100, 'x')).error().what();
  EXPECT_NE(what.find("'" + std::string(40, 'x') + "' (known: llama-3.1-8b"), std::string::npos);
  EXPECT_TRUE(std::string_view(what).ends_with(", gpt-oss-120b, and 10 more)")) << what;
}

// ---------------------------------------------------------------------------------------------------------------
// Dense families

TEST(InventoryLlama, Llama31_8BIsExactlyTheseTwelveGroups) {
  const Inventory inventory = inventory_of(preset("llama-3.1-8b"));
  struct Expected {
    std::string_view pattern;
    Shape shape;
    Index layers;
  };
  const Expected expected[] = {
      {"model.embed_tokens.weight", Shape{128256, 4096}, 0},
      {"model.layers.*.input_layernorm.weight", Shape{4096}, 32},
      {"model.layers.*.self_attn.q_proj.weight", Shape{4096, 4096}, 32},
      {"model.layers.*.self_attn.k_proj.weight", Shape{1024, 4096}, 32},
      {"model.layers.*.self_attn.v_proj.weight", Shape{1024, 4096}, 32},
      {"model.layers.*.self_attn.o_proj.weight", Shape{4096, 4096}, 32},
      {"model.layers.*.post_attention_layernorm.weight", Shape{4096}, 32},
      {"model.layers.*.mlp.gate_proj.weight", Shape{14336, 4096}, 32},
      {"model.layers.*.mlp.up_proj.weight", Shape{14336, 4096}, 32},
      {"model.layers.*.mlp.down_proj.weight", Shape{4096, 14336}, 32},
      {"model.norm.weight", Shape{4096}, 0},
      {"lm_head.weight", Shape{128256, 4096}, 0},
  };
  ASSERT_EQ(inventory.size(), std::size(expected));
  for (std::size_t i = 0; i < inventory.size(); ++i) {
    SCOPED_TRACE(std::string(expected[i].pattern));
    EXPECT_EQ(inventory[i].pattern, expected[i].pattern);
    EXPECT_EQ(inventory[i].shape, expected[i].shape);
    EXPECT_EQ(inventory[i].layers.size(), expected[i].layers);
    if (expected[i].layers > 0) {
      EXPECT_EQ(inventory[i].layers, IntervalSet::range(0, 32));
    }
    EXPECT_EQ(inventory[i].experts, 0);
    EXPECT_FALSE(inventory[i].quantized);  // a bf16 checkpoint
  }
}

TEST(InventoryLlama, AttentionBiasAddsQkvAndOBiases) {
  ModelConfig config = preset("llama-3.1-8b");
  config.attention_bias = true;
  const Inventory inventory = inventory_of(config);
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").shape, Shape{4096});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_proj.bias").shape, Shape{1024});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.v_proj.bias").shape, Shape{1024});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.bias").shape, Shape{4096});
  EXPECT_EQ(parameter_count(config).value(), 8'030'261'248 + 32 * (4096 + 1024 + 1024 + 4096));
  EXPECT_TRUE(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").is_bias());
}

TEST(InventoryLlama, MistralSharesLlamasNames) {
  ModelConfig config = preset("llama-3.1-8b");
  config.family = ModelFamily::mistral;
  EXPECT_EQ(patterns(inventory_of(config)), patterns(inventory_of(preset("llama-3.1-8b"))));
  EXPECT_EQ(parameter_count(config).value(), 8'030'261'248);
}

TEST(InventoryTies, TiedEmbeddingsHaveNoLmHead) {
  ModelConfig config = preset("llama-3.1-8b");
  config.tie_word_embeddings = true;
  const Inventory inventory = inventory_of(config);
  EXPECT_FALSE(has(inventory, "lm_head.weight"));
  EXPECT_TRUE(has(inventory, "model.embed_tokens.weight"));
  EXPECT_EQ(inventory.size(), 11U);
  EXPECT_EQ(total_parameters(inventory), 8'030'261'248 - 128256 * 4096);
  EXPECT_TRUE(has(inventory_of(preset("llama-3.1-8b")), "lm_head.weight"));
}

TEST(InventoryQwen2, QkvBiasesButNoOBias) {
  const Inventory inventory = inventory_of(preset("qwen2.5-7b"));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").shape, Shape{3584});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_proj.bias").shape, Shape{512});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.v_proj.bias").shape, Shape{512});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.weight").shape, (Shape{3584, 3584}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_proj.weight").shape, (Shape{512, 3584}));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.o_proj.bias"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_norm.weight"));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").layers, IntervalSet::range(0, 28));
}

// Qwen2Attention hard-codes its biases, so the flag changes nothing.
TEST(InventoryQwen2, BiasesDoNotDependOnTheFlag) {
  ModelConfig config = preset("qwen2.5-7b");
  config.attention_bias = false;
  EXPECT_EQ(patterns(inventory_of(config)), patterns(inventory_of(preset("qwen2.5-7b"))));
  EXPECT_EQ(parameter_count(config).value(), 7'615'616'512);
}

TEST(InventoryQwen3, QkNormsAndNoBiases) {
  const Inventory inventory = inventory_of(qwen3_8b());
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_norm.weight").shape, Shape{128});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_norm.weight").shape, Shape{128});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_norm.weight").layers, IntervalSet::range(0, 36));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_proj.bias"));
  EXPECT_EQ(inventory.size(), 14U);

  ModelConfig biased = qwen3_8b();
  biased.attention_bias = true;
  const Inventory with_bias = inventory_of(biased);
  EXPECT_TRUE(has(with_bias, "model.layers.*.self_attn.q_proj.bias"));
  EXPECT_EQ(group_of(with_bias, "model.layers.*.self_attn.o_proj.bias").shape, Shape{4096});
}

// ---------------------------------------------------------------------------------------------------------------
// MoE families

TEST(InventoryQwen3Moe, Qwen3_30B_A3B) {
  const Inventory inventory = inventory_of(preset("qwen3-30b-a3b"));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.weight").shape, (Shape{4096, 2048}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.weight").shape, (Shape{2048, 4096}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_norm.weight").shape, Shape{128});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_norm.weight").shape, Shape{128});
  const ParameterGroup gate = group_of(inventory, "model.layers.*.mlp.gate.weight");
  EXPECT_EQ(gate.shape, (Shape{128, 2048}));
  EXPECT_EQ(gate.experts, 0);
  const ParameterGroup gate_proj = group_of(inventory, "model.layers.*.mlp.experts.*.gate_proj.weight");
  EXPECT_EQ(gate_proj.shape, (Shape{768, 2048}));
  EXPECT_EQ(gate_proj.experts, 128);
  EXPECT_EQ(gate_proj.layers, IntervalSet::range(0, 48));
  EXPECT_EQ(gate_proj.instances(), 48 * 128);
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.*.up_proj.weight").shape, (Shape{768, 2048}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.*.down_proj.weight").shape, (Shape{2048, 768}));
  // Every layer is sparse (decoder_sparse_step 1, no mlp_only_layers): no dense MLP at all.
  EXPECT_FALSE(has(inventory, "model.layers.*.mlp.gate_proj.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.mlp.shared_experts.gate_proj.weight"));
}

TEST(InventoryQwen3Moe, SparseStepAndMlpOnlyLayersMakeDenseLayers) {
  const ModelConfig config = sparse_qwen3_moe();
  // MoE where (l + 1) % 2 == 0 and l is not in mlp_only_layers [0, 5]: 1, 3, 7.
  EXPECT_EQ(moe_layer_set(config), IntervalSet::from_indices({1, 3, 7}));
  EXPECT_EQ(dense_mlp_layer_set(config), IntervalSet::from_indices({0, 2, 4, 5, 6}));
  const Inventory inventory = inventory_of(config);
  EXPECT_EQ(layers_of(group_of(inventory, "model.layers.*.mlp.gate.weight")), (List{1, 3, 7}));
  EXPECT_EQ(layers_of(group_of(inventory, "model.layers.*.mlp.experts.*.down_proj.weight")), (List{1, 3, 7}));
  const ParameterGroup dense_gate = group_of(inventory, "model.layers.*.mlp.gate_proj.weight");
  EXPECT_EQ(layers_of(dense_gate), (List{0, 2, 4, 5, 6}));
  EXPECT_EQ(dense_gate.shape, (Shape{6144, 2048}));  // intermediate_size, not moe_intermediate_size
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.down_proj.weight").shape, (Shape{2048, 6144}));
  EXPECT_EQ(layers_of(group_of(inventory, "model.layers.*.self_attn.q_norm.weight")), (List{0, 1, 2, 3, 4, 5, 6, 7}));

  const Index attention_and_norms = 4096 * 2048 * 2 + 512 * 2048 * 2 + 2 * 128 + 2 * 2048;
  const Index moe_block = 128 * 2048 + 128 * 3 * 768 * 2048;
  const Index dense_mlp = 3 * 6144 * 2048;
  EXPECT_EQ(parameter_count(config).value(),
            2 * 151936 * 2048 + 2048 + 8 * attention_and_norms + 3 * moe_block + 5 * dense_mlp);
}

// moe_layer_set builds intervals; it must agree with ModelConfig::is_moe_layer on every layer.
TEST(InventoryQwen3Moe, LayerSetsAgreeWithIsMoeLayer) {
  const std::vector<List> mlp_only_choices = {{}, {0}, {3, 1}, {0, 2, 4, 6, 8, 10}, {11}, {5, 5}};
  int configs = 0;
  for (Index layers = 1; layers <= 12; ++layers) {
    for (Index step = 1; step <= 6; ++step) {
      for (const List& mlp_only : mlp_only_choices) {
        ModelConfig config = preset("qwen3-30b-a3b");
        config.num_hidden_layers = layers;
        config.decoder_sparse_step = step;
        for (Index layer : mlp_only) {
          if (layer < layers) config.mlp_only_layers.push_back(layer);
        }
        ASSERT_TRUE(check_model_config(config).ok());
        const IntervalSet moe = moe_layer_set(config);
        const IntervalSet dense = dense_mlp_layer_set(config);
        for (Index layer = 0; layer < layers; ++layer) {
          EXPECT_EQ(moe.contains(layer), config.is_moe_layer(layer))
              << "layers " << layers << " step " << step << " layer " << layer;
          EXPECT_NE(moe.contains(layer), dense.contains(layer));
        }
        EXPECT_EQ(moe.size() + dense.size(), layers);
        ++configs;
      }
    }
  }
  EXPECT_EQ(configs, 12 * 6 * 6);
}

TEST(InventoryMixtral, BlockSparseMoeNames) {
  const Inventory inventory = inventory_of(preset("mixtral-8x7b"));
  const ParameterGroup router = group_of(inventory, "model.layers.*.block_sparse_moe.gate.weight");
  EXPECT_EQ(router.shape, (Shape{8, 4096}));
  EXPECT_EQ(router.experts, 0);
  EXPECT_EQ(router.layers, IntervalSet::range(0, 32));
  for (std::string_view w : {"w1", "w3"}) {
    const std::string name = std::string("model.layers.*.block_sparse_moe.experts.*.") + std::string(w) + ".weight";
    const ParameterGroup group = group_of(inventory, name);
    EXPECT_EQ(group.shape, (Shape{14336, 4096})) << name;
    EXPECT_EQ(group.experts, 8) << name;
  }
  const ParameterGroup w2 = group_of(inventory, "model.layers.*.block_sparse_moe.experts.*.w2.weight");
  EXPECT_EQ(w2.shape, (Shape{4096, 14336}));
  EXPECT_EQ(w2.experts, 8);
  EXPECT_EQ(w2.numel(), 32 * 8 * 4096 * Index{14336});
  EXPECT_FALSE(has(inventory, "model.layers.*.mlp.gate_proj.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.mlp.gate.weight"));
  EXPECT_EQ(inventory.size(), 13U);
}

TEST(InventoryGptOss, FusedExpertsRouterSinksAndBiases) {
  const Inventory inventory = inventory_of(preset("gpt-oss-120b"));
  const ParameterGroup gate_up = group_of(inventory, "model.layers.*.mlp.experts.gate_up_proj");
  EXPECT_EQ(gate_up.shape, (Shape{128, 2880, 5760}));
  EXPECT_EQ(gate_up.experts, 0);  // one tensor per layer: the experts are its dim 0
  EXPECT_EQ(gate_up.instances(), 36);
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.gate_up_proj_bias").shape, (Shape{128, 5760}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.down_proj").shape, (Shape{128, 2880, 2880}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.down_proj_bias").shape, (Shape{128, 2880}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.router.weight").shape, (Shape{128, 2880}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.router.bias").shape, Shape{128});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.sinks").shape, Shape{64});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.weight").shape, (Shape{4096, 2880}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").shape, Shape{4096});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.k_proj.weight").shape, (Shape{512, 2880}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.v_proj.bias").shape, Shape{512});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.weight").shape, (Shape{2880, 4096}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.bias").shape, Shape{2880});
  EXPECT_EQ(group_of(inventory, "model.embed_tokens.weight").shape, (Shape{201088, 2880}));
  for (const ParameterGroup& group : inventory) EXPECT_EQ(group.experts, 0) << group.pattern.view();
  EXPECT_EQ(inventory.size(), 20U);
}

TEST(InventoryDeepSeekV3, LatentAttentionShapes) {
  const Inventory inventory = inventory_of(preset("deepseek-v3"));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_a_proj.weight").shape, (Shape{1536, 7168}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_a_layernorm.weight").shape, Shape{1536});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_b_proj.weight").shape, (Shape{24576, 1536}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.kv_a_proj_with_mqa.weight").shape, (Shape{576, 7168}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.kv_a_layernorm.weight").shape, Shape{512});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.kv_b_proj.weight").shape, (Shape{32768, 512}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.weight").shape, (Shape{7168, 16384}));
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.kv_b_proj.weight").layers, IntervalSet::range(0, 61));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_proj.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.k_proj.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_a_proj.bias"));
}

TEST(InventoryDeepSeekV3, FirstThreeLayersDenseTheRestMoe) {
  const ModelConfig config = preset("deepseek-v3");
  EXPECT_EQ(moe_layer_set(config), IntervalSet::range(3, 61));
  EXPECT_EQ(dense_mlp_layer_set(config), IntervalSet::range(0, 3));
  const Inventory inventory = inventory_of(config);
  const ParameterGroup dense = group_of(inventory, "model.layers.*.mlp.gate_proj.weight");
  EXPECT_EQ(dense.shape, (Shape{18432, 7168}));
  EXPECT_EQ(dense.layers, IntervalSet::range(0, 3));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.down_proj.weight").shape, (Shape{7168, 18432}));
  const ParameterGroup router = group_of(inventory, "model.layers.*.mlp.gate.weight");
  EXPECT_EQ(router.shape, (Shape{256, 7168}));
  EXPECT_EQ(router.layers, IntervalSet::range(3, 61));
  const ParameterGroup correction = group_of(inventory, "model.layers.*.mlp.gate.e_score_correction_bias");
  EXPECT_EQ(correction.shape, Shape{256});
  EXPECT_EQ(correction.layers, IntervalSet::range(3, 61));
  const ParameterGroup expert = group_of(inventory, "model.layers.*.mlp.experts.*.gate_proj.weight");
  EXPECT_EQ(expert.shape, (Shape{2048, 7168}));
  EXPECT_EQ(expert.experts, 256);
  EXPECT_EQ(expert.layers, IntervalSet::range(3, 61));
  EXPECT_EQ(expert.instances(), 58 * 256);
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.experts.*.down_proj.weight").shape, (Shape{7168, 2048}));
  const ParameterGroup shared = group_of(inventory, "model.layers.*.mlp.shared_experts.up_proj.weight");
  EXPECT_EQ(shared.shape, (Shape{2048, 7168}));
  EXPECT_EQ(shared.experts, 0);
  EXPECT_EQ(shared.layers, IntervalSet::range(3, 61));
  EXPECT_EQ(group_of(inventory, "model.layers.*.mlp.shared_experts.down_proj.weight").shape, (Shape{7168, 2048}));
  EXPECT_EQ(inventory.size(), 23U);
  EXPECT_FALSE(has(inventory, "model.layers.*.embed_tokens.weight"));  // the MTP module is not counted
}

TEST(InventoryDeepSeekV3, DenseReplaceBoundsAndSharedExpertWidth) {
  ModelConfig all_dense = preset("deepseek-v3");
  all_dense.first_k_dense_replace = 61;
  const Inventory dense_only = inventory_of(all_dense);
  EXPECT_EQ(group_of(dense_only, "model.layers.*.mlp.gate_proj.weight").layers, IntervalSet::range(0, 61));
  EXPECT_FALSE(has(dense_only, "model.layers.*.mlp.gate.weight"));
  EXPECT_FALSE(has(dense_only, "model.layers.*.mlp.experts.*.gate_proj.weight"));

  ModelConfig all_moe = preset("deepseek-v3");
  all_moe.first_k_dense_replace = 0;
  all_moe.num_shared_experts = 2;
  const Inventory moe_only = inventory_of(all_moe);
  EXPECT_FALSE(has(moe_only, "model.layers.*.mlp.gate_proj.weight"));
  EXPECT_EQ(group_of(moe_only, "model.layers.*.mlp.shared_experts.gate_proj.weight").shape, (Shape{4096, 7168}));
  EXPECT_EQ(group_of(moe_only, "model.layers.*.mlp.shared_experts.down_proj.weight").shape, (Shape{7168, 4096}));

  ModelConfig unshared = preset("deepseek-v3");
  unshared.num_shared_experts = 0;
  EXPECT_FALSE(has(inventory_of(unshared), "model.layers.*.mlp.shared_experts.gate_proj.weight"));
  EXPECT_EQ(parameter_count(unshared).value(), 671'026'419'200 - 58 * 3 * 2048 * Index{7168});
}

// q_lora_rank 0 (as transformers' q_lora_rank=None): one q_proj straight from the hidden state.
TEST(InventoryDeepSeekV3, WithoutQCompressionOneQProj) {
  ModelConfig config = preset("deepseek-v3");
  config.q_lora_rank = 0;
  const Inventory inventory = inventory_of(config);
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_proj.weight").shape, (Shape{24576, 7168}));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_a_proj.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_a_layernorm.weight"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_b_proj.weight"));
  EXPECT_TRUE(has(inventory, "model.layers.*.self_attn.kv_a_proj_with_mqa.weight"));
}

TEST(InventoryDeepSeekV3, AttentionBiasOnTheAProjectionsAndO) {
  ModelConfig config = preset("deepseek-v3");
  config.attention_bias = true;
  const Inventory inventory = inventory_of(config);
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.q_a_proj.bias").shape, Shape{1536});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.kv_a_proj_with_mqa.bias").shape, Shape{576});
  EXPECT_EQ(group_of(inventory, "model.layers.*.self_attn.o_proj.bias").shape, Shape{7168});
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.q_b_proj.bias"));
  EXPECT_FALSE(has(inventory, "model.layers.*.self_attn.kv_b_proj.bias"));
}

// ---------------------------------------------------------------------------------------------------------------
// Quantized flags

TEST(InventoryQuantized, Bf16CheckpointsQuantizeNothing) {
  for (std::string_view name : {"llama-3.1-8b", "qwen2.5-7b", "qwen3-235b-a22b", "mixtral-8x7b"}) {
    EXPECT_TRUE(patterns(inventory_of(preset(name)), true).empty()) << name;
  }
}

TEST(InventoryQuantized, Fp8AndGptqQuantizeEveryDecoderProjection) {
  const std::vector<std::string> expected = {
      "model.layers.*.self_attn.q_proj.weight", "model.layers.*.self_attn.k_proj.weight",
      "model.layers.*.self_attn.v_proj.weight", "model.layers.*.self_attn.o_proj.weight",
      "model.layers.*.mlp.gate_proj.weight",    "model.layers.*.mlp.up_proj.weight",
      "model.layers.*.mlp.down_proj.weight"};
  for (Quantization quantization : {Quantization::fp8_block128, Quantization::gptq128}) {
    ModelConfig config = preset("llama-3.1-8b");
    config.quantization = quantization;
    config.attention_bias = true;  // the biases stay unquantized
    EXPECT_EQ(patterns(inventory_of(config), true), expected) << to_string(quantization);
  }
}

// Qwen3-235B-A22B-FP8: attention and experts, not the router.
TEST(InventoryQuantized, Qwen3MoeFp8KeepsTheRouter) {
  ModelConfig config = preset("qwen3-235b-a22b");
  config.quantization = Quantization::fp8_block128;
  const Inventory inventory = inventory_of(config);
  EXPECT_EQ(patterns(inventory, true),
            (std::vector<std::string>{"model.layers.*.self_attn.q_proj.weight",
                                      "model.layers.*.self_attn.k_proj.weight",
                                      "model.layers.*.self_attn.v_proj.weight",
                                      "model.layers.*.self_attn.o_proj.weight",
                                      "model.layers.*.mlp.experts.*.gate_proj.weight",
                                      "model.layers.*.mlp.experts.*.up_proj.weight",
                                      "model.layers.*.mlp.experts.*.down_proj.weight"}));
  EXPECT_FALSE(group_of(inventory, "model.layers.*.mlp.gate.weight").quantized);
  EXPECT_FALSE(group_of(inventory, "model.layers.*.self_attn.q_norm.weight").quantized);
}

TEST(InventoryQuantized, DeepSeekV3Fp8) {
  const Inventory inventory = inventory_of(preset("deepseek-v3"));
  EXPECT_EQ(patterns(inventory, true),
            (std::vector<std::string>{"model.layers.*.self_attn.q_a_proj.weight",
                                      "model.layers.*.self_attn.q_b_proj.weight",
                                      "model.layers.*.self_attn.kv_a_proj_with_mqa.weight",
                                      "model.layers.*.self_attn.kv_b_proj.weight",
                                      "model.layers.*.self_attn.o_proj.weight",
                                      "model.layers.*.mlp.gate_proj.weight",
                                      "model.layers.*.mlp.up_proj.weight",
                                      "model.layers.*.mlp.down_proj.weight",
                                      "model.layers.*.mlp.experts.*.gate_proj.weight",
                                      "model.layers.*.mlp.experts.*.up_proj.weight",
                                      "model.layers.*.mlp.experts.*.down_proj.weight",
                                      "model.layers.*.mlp.shared_experts.gate_proj.weight",
                                      "model.layers.*.mlp.shared_experts.up_proj.weight",
                                      "model.layers.*.mlp.shared_experts.down_proj.weight"}));
  for (std::string_view name : {"model.embed_tokens.weight", "lm_head.weight", "model.norm.weight",
                                "model.layers.*.mlp.gate.weight", "model.layers.*.mlp.gate.e_score_correction_bias",
                                "model.layers.*.self_attn.q_a_layernorm.weight",
                                "model.layers.*.self_attn.kv_a_layernorm.weight"}) {
    EXPECT_FALSE(group_of(inventory, name).quantized) << name;
  }
}

// gpt-oss's mxfp4 covers the experts only: its config keeps self_attn, the router, embed and lm_head in bf16.
TEST(InventoryQuantized, GptOssMxfp4IsExpertsOnly) {
  EXPECT_EQ(patterns(inventory_of(preset("gpt-oss-120b")), true),
            (std::vector<std::string>{"model.layers.*.mlp.experts.gate_up_proj",
                                      "model.layers.*.mlp.experts.down_proj"}));
  ModelConfig fp8 = preset("gpt-oss-120b");
  fp8.quantization = Quantization::fp8_block128;
  const Inventory inventory = inventory_of(fp8);
  EXPECT_TRUE(group_of(inventory, "model.layers.*.self_attn.q_proj.weight").quantized);
  EXPECT_FALSE(group_of(inventory, "model.layers.*.self_attn.q_proj.bias").quantized);
  EXPECT_FALSE(group_of(inventory, "model.layers.*.self_attn.sinks").quantized);
  EXPECT_FALSE(group_of(inventory, "model.layers.*.mlp.router.weight").quantized);
  EXPECT_FALSE(group_of(inventory, "model.layers.*.mlp.experts.gate_up_proj_bias").quantized);
  EXPECT_TRUE(group_of(inventory, "model.layers.*.mlp.experts.down_proj").quantized);
}

TEST(InventoryQuantized, Mxfp4OnOtherMoeFamiliesIsTheRoutedExperts) {
  ModelConfig mixtral = preset("mixtral-8x7b");
  mixtral.quantization = Quantization::mxfp4;
  EXPECT_EQ(patterns(inventory_of(mixtral), true),
            (std::vector<std::string>{"model.layers.*.block_sparse_moe.experts.*.w1.weight",
                                      "model.layers.*.block_sparse_moe.experts.*.w2.weight",
                                      "model.layers.*.block_sparse_moe.experts.*.w3.weight"}));
  ModelConfig deepseek = preset("deepseek-v3");
  deepseek.quantization = Quantization::mxfp4;
  EXPECT_EQ(patterns(inventory_of(deepseek), true).size(), 3U);
}

// ---------------------------------------------------------------------------------------------------------------
// Structure shared by every preset

TEST(InventoryStructure, PatternsLayersAndExpertsAreConsistent) {
  for (std::string_view name : kModelPresetNames) {
    SCOPED_TRACE(std::string(name));
    const ModelConfig config = preset(name);
    const Inventory inventory = inventory_of(config);
    std::set<std::string> seen;
    Index total = 0;
    for (const ParameterGroup& group : inventory) {
      const std::string_view pattern = group.pattern.view();
      SCOPED_TRACE(std::string(pattern));
      EXPECT_TRUE(seen.insert(std::string(pattern)).second) << "duplicate pattern";
      const auto stars = std::count(pattern.begin(), pattern.end(), '*');
      if (group.is_per_layer()) {
        EXPECT_TRUE(pattern.starts_with("model.layers.*."));
        EXPECT_EQ(stars, group.experts > 0 ? 2 : 1);
        EXPECT_GE(group.layers.front(), 0);
        EXPECT_LE(group.layers.back_end(), config.num_hidden_layers);
      } else {
        EXPECT_EQ(stars, 0);
        EXPECT_EQ(group.experts, 0);
      }
      EXPECT_GE(group.shape.size(), 1U);
      for (Index size : group.shape) EXPECT_GE(size, 1);
      if (group.quantized) {
        EXPECT_GE(group.shape.size(), 2U);  // weights, never vectors (biases, norms, sinks)
        EXPECT_FALSE(pattern.find("norm") != std::string_view::npos);
        EXPECT_NE(config.quantization, Quantization::none);
      }
      total += group.numel();
    }
    EXPECT_EQ(total, parameter_count(config).value());
    // Every layer has its norms (olmo2 none before attention, cohere2 none after it) and exactly one MLP: dense or
    // MoE.
    const bool olmo2 = config.family == ModelFamily::olmo2;
    EXPECT_EQ(group_of(inventory, olmo2 ? "model.layers.*.post_attention_layernorm.weight"
                                        : "model.layers.*.input_layernorm.weight")
                  .layers,
              IntervalSet::range(0, config.num_hidden_layers));
    EXPECT_EQ(unite(moe_layer_set(config), dense_mlp_layer_set(config)),
              IntervalSet::range(0, config.num_hidden_layers));
    EXPECT_TRUE(intersect(moe_layer_set(config), dense_mlp_layer_set(config)).empty());
  }
}

TEST(InventoryStructure, FindParameter) {
  const Inventory inventory = inventory_of(preset("llama-3.1-8b"));
  ASSERT_NE(find_group(inventory, "model.norm.weight"), nullptr);
  EXPECT_EQ(find_group(inventory, "model.norm.weight")->shape, Shape{4096});
  EXPECT_EQ(find_group(inventory, "model.layers.0.self_attn.q_proj.weight"), nullptr);  // patterns, not names
  EXPECT_EQ(find_group(inventory, "model.norm"), nullptr);
  EXPECT_EQ(find_group(Inventory{}, "lm_head.weight"), nullptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

TEST(InventoryErrors, ZeroAndNegativeSizes) {
  ModelConfig config = preset("llama-3.1-8b");
  config.hidden_size = 0;
  EXPECT_EQ(error_of(config), "hidden_size: must be >= 1, got 0");
  config = preset("llama-3.1-8b");
  config.num_hidden_layers = -1;
  EXPECT_EQ(error_of(config), "num_hidden_layers: must be >= 1, got -1");
  config = preset("llama-3.1-8b");
  config.num_attention_heads = 0;
  EXPECT_EQ(error_of(config), "num_attention_heads: must be >= 1, got 0");
  config = preset("llama-3.1-8b");
  config.vocab_size = 0;
  EXPECT_EQ(error_of(config), "vocab_size: must be >= 1, got 0");
  config = preset("llama-3.1-8b");
  config.num_key_value_heads = 0;
  EXPECT_EQ(error_of(config), "num_key_value_heads: must be >= 1, got 0");
  config = preset("llama-3.1-8b");
  config.head_dim = 0;
  EXPECT_EQ(error_of(config), "head_dim: must be >= 1, got 0");
  config = preset("llama-3.1-8b");
  config.intermediate_size = 0;
  EXPECT_EQ(error_of(config), "intermediate_size: must be >= 1 (the dense MLP of 32 layers uses it), got 0");
  config = preset("llama-3.1-8b");
  config.dtype_bytes = 0;
  EXPECT_EQ(error_of(config), "dtype_bytes: must be >= 1, got 0");
  EXPECT_EQ(error_of(ModelConfig{}), "hidden_size: must be >= 1, got 0");
  EXPECT_EQ(check_model_config(ModelConfig{}).error().code, ErrorCode::invalid_argument);
}

TEST(InventoryErrors, HeadsNotDivisibleByKvHeads) {
  ModelConfig config = preset("llama-3.1-8b");
  config.num_key_value_heads = 5;
  EXPECT_EQ(error_of(config),
            "num_key_value_heads: num_attention_heads 32 is not divisible by num_key_value_heads 5 (each kv head "
            "serves a whole group of query heads)");
  config.num_key_value_heads = 64;  // more kv heads than heads
  EXPECT_EQ(error_of(config),
            "num_key_value_heads: num_attention_heads 32 is not divisible by num_key_value_heads 64 (each kv head "
            "serves a whole group of query heads)");
  config.num_key_value_heads = 32;  // plain multi-head attention is fine
  EXPECT_TRUE(parameter_inventory(config).ok());
}

TEST(InventoryErrors, LatentAttentionMissingRanks) {
  ModelConfig config = preset("deepseek-v3");
  config.kv_lora_rank = 0;
  EXPECT_EQ(error_of(config), "kv_lora_rank: must be >= 1 for deepseek_v3 (multi-head latent attention), got 0");
  config = preset("deepseek-v3");
  config.qk_rope_head_dim = 0;
  EXPECT_EQ(error_of(config),
            "qk_rope_head_dim: must be >= 1 for deepseek_v3 (multi-head latent attention), got 0");
  config = preset("deepseek-v3");
  config.qk_nope_head_dim = 0;
  EXPECT_EQ(error_of(config),
            "qk_nope_head_dim: must be >= 1 for deepseek_v3 (multi-head latent attention), got 0");
  config = preset("deepseek-v3");
  config.v_head_dim = 0;
  EXPECT_EQ(error_of(config), "v_head_dim: must be >= 1 for deepseek_v3 (multi-head latent attention), got 0");
  config = preset("deepseek-v3");
  config.q_lora_rank = -1;
  EXPECT_EQ(error_of(config), "q_lora_rank: must be >= 0 (0: no q compression, one q_proj), got -1");
  // MLA does not use head_dim or num_key_value_heads.
  config = preset("deepseek-v3");
  config.head_dim = 0;
  config.num_key_value_heads = 0;
  EXPECT_EQ(parameter_count(config).value(), 671'026'419'200);
}

TEST(InventoryErrors, FieldsOfOtherFamilies) {
  ModelConfig config = preset("llama-3.1-8b");
  config.q_lora_rank = 1536;
  EXPECT_EQ(error_of(config),
            "q_lora_rank: only deepseek_v2 and deepseek_v3 (multi-head latent attention) use it; llama must leave it 0, "
            "got 1536");
  config = preset("qwen3-30b-a3b");
  config.kv_lora_rank = 512;
  EXPECT_EQ(error_of(config),
            "kv_lora_rank: only deepseek_v2 and deepseek_v3 (multi-head latent attention) use it; qwen3_moe must leave "
            "it 0, got 512");
  config = preset("llama-3.1-8b");
  config.num_experts = 8;
  EXPECT_EQ(error_of(config), "num_experts: llama is a dense family: must be 0, got 8");
  config = preset("llama-3.1-8b");
  config.qk_norm = true;
  EXPECT_EQ(error_of(config), "qk_norm: llama has no q/k norms (only qwen3, qwen3_moe, gemma3_text, olmo2 and glm4_moe)");
  config = preset("qwen3-30b-a3b");
  config.num_shared_experts = 1;
  EXPECT_EQ(error_of(config), "num_shared_experts: only deepseek_v2, deepseek_v3 and glm4_moe use it; qwen3_moe must leave it 0, "
            "got 1");
  config = preset("qwen3-30b-a3b");
  config.first_k_dense_replace = 3;
  EXPECT_EQ(error_of(config), "first_k_dense_replace: only deepseek_v2, deepseek_v3 and glm4_moe use it; qwen3_moe must leave it 0, "
            "got 3");
  config = preset("mixtral-8x7b");
  config.decoder_sparse_step = 2;
  EXPECT_EQ(error_of(config), "decoder_sparse_step: only qwen2_moe and qwen3_moe use it; mixtral must leave it 1, got 2");
  config = preset("deepseek-v3");
  config.mlp_only_layers = {0, 1};
  EXPECT_EQ(error_of(config), "mlp_only_layers: only qwen2_moe and qwen3_moe use it; deepseek_v3 must leave it empty, got size 2");
  config = preset("llama-3.1-8b");
  config.quantization = Quantization::mxfp4;
  EXPECT_EQ(error_of(config), "quantization: mxfp4 applies to MoE expert weights only and llama has no experts");
}

TEST(InventoryErrors, ExpertCounts) {
  ModelConfig config = preset("mixtral-8x7b");
  config.num_experts = 0;
  EXPECT_EQ(error_of(config), "num_experts: must be >= 1 for mixtral, got 0");
  config = preset("mixtral-8x7b");
  config.num_experts_per_tok = 9;
  EXPECT_EQ(error_of(config), "num_experts_per_tok: must be in 1..8 (num_experts), got 9");
  config.num_experts_per_tok = 0;
  EXPECT_EQ(error_of(config), "num_experts_per_tok: must be in 1..8 (num_experts), got 0");
  config = preset("mixtral-8x7b");
  config.moe_intermediate_size = 0;
  EXPECT_EQ(error_of(config), "moe_intermediate_size: must be >= 1, got 0");
  config = preset("deepseek-v3");
  config.num_shared_experts = -1;
  EXPECT_EQ(error_of(config), "num_shared_experts: must be >= 0, got -1");
}

TEST(InventoryErrors, DenseLayerRules) {
  ModelConfig config = preset("deepseek-v3");
  config.first_k_dense_replace = 62;
  EXPECT_EQ(error_of(config), "first_k_dense_replace: must be in 0..61 (num_hidden_layers), got 62");
  config = sparse_qwen3_moe();
  config.mlp_only_layers = {0, 8};
  EXPECT_EQ(error_of(config), "mlp_only_layers[1]: layer 8 is outside the 8 decoder layers (valid: 0..7)");
  config.mlp_only_layers = {-1};
  EXPECT_EQ(error_of(config), "mlp_only_layers[0]: layer -1 is outside the 8 decoder layers (valid: 0..7)");
  config = sparse_qwen3_moe();
  config.decoder_sparse_step = 0;
  EXPECT_EQ(error_of(config), "decoder_sparse_step: must be >= 1, got 0");
  // intermediate_size matters only when some layer is dense.
  config = preset("qwen3-30b-a3b");
  config.intermediate_size = 0;
  EXPECT_TRUE(parameter_inventory(config).ok());
  config = sparse_qwen3_moe();
  config.intermediate_size = 0;
  EXPECT_EQ(error_of(config), "intermediate_size: must be >= 1 (the dense MLP of 5 layers uses it), got 0");
  config = preset("gpt-oss-120b");
  config.intermediate_size = 0;
  EXPECT_TRUE(parameter_inventory(config).ok());
}

TEST(InventoryErrors, Overflow) {
  ModelConfig config = preset("llama-3.1-8b");
  config.head_dim = Index{1} << 58;
  EXPECT_EQ(error_of(config), "num_attention_heads: 32 * 288230376151711744 overflows int64");
  EXPECT_EQ(parameter_inventory(config).error().code, ErrorCode::overflow);

  config = preset("llama-3.1-8b");
  config.vocab_size = Index{1} << 52;  // V·h = 2^64
  EXPECT_EQ(error_of(config),
            "parameters: the element count of model.embed_tokens.weight ([4503599627370496, 4096]) overflows int64");

  // Every group fits, the sum does not: embed_tokens and lm_head are 2^62 each, the layers' groups in between.
  config = preset("llama-3.1-8b");
  config.vocab_size = Index{1} << 50;
  EXPECT_EQ(error_of(config), "parameters: the total overflows int64: 4611686025406976000 + 4611686018427387904 of "
                              "lm_head.weight ([1125899906842624, 4096])");
  const auto count = parameter_count(config);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().code, ErrorCode::overflow);
  EXPECT_EQ(count.error().field, std::string_view("parameters"));

  // Every group fits in int64, their sum does not (issue 11: `size` printed "-6917529020952997888 parameters").
  config = preset("llama-3.1-8b");
  config.head_dim = Index{1} << 40;
  EXPECT_EQ(error_of(config), "parameters: the total overflows int64: 6917529028166549504 + 4611686018427387904 of "
                              "model.layers.*.self_attn.o_proj.weight ([4096, 35184372088832] * 32 layers)");

  config = preset("deepseek-v3");
  config.num_experts = Index{1} << 40;
  config.num_experts_per_tok = 1;
  EXPECT_EQ(error_of(config),
            "parameters: the element count of model.layers.*.mlp.experts.*.gate_proj.weight ([2048, 7168] * 58 "
            "layers * 1099511627776 experts) overflows int64");
}

}  // namespace
}  // namespace shardplan
