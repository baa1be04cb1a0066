// HF config.json -> ModelConfig: the config.json texts of six real checkpoints (as published on the Hub, long lists
// shortened) with every ModelConfig field asserted, the defaults, and every error naming its field and value.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "shardplan/model/config_json.hpp"

namespace shardplan {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// The checkpoints

constexpr std::string_view kLlama31_8B = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": 128001,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
}
)";

constexpr std::string_view kQwen25_7B = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 3584,
  "initializer_range": 0.02,
  "intermediate_size": 18944,
  "max_position_embeddings": 131072,
  "max_window_layers": 28,
  "model_type": "qwen2",
  "num_attention_heads": 28,
  "num_hidden_layers": 28,
  "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 131072,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 152064
}
)";

constexpr std::string_view kQwen3_30B_A3B = R"({
  "architectures": ["Qwen3MoeForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "decoder_sparse_step": 1,
  "eos_token_id": 151645,
  "head_dim": 128,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 6144,
  "max_position_embeddings": 40960,
  "max_window_layers": 48,
  "mlp_only_layers": [],
  "model_type": "qwen3_moe",
  "moe_intermediate_size": 768,
  "norm_topk_prob": true,
  "num_attention_heads": 32,
  "num_experts": 128,
  "num_experts_per_tok": 8,
  "num_hidden_layers": 48,
  "num_key_value_heads": 4,
  "output_router_logits": false,
  "rms_norm_eps": 1e-06,
  "rope_scaling": null,
  "rope_theta": 1000000.0,
  "router_aux_loss_coef": 0.001,
  "sliding_window": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.51.0",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
}
)";

constexpr std::string_view kMixtral8x7B = R"({
  "architectures": ["MixtralForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mixtral",
  "num_attention_heads": 32,
  "num_experts_per_tok": 2,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "num_local_experts": 8,
  "output_router_logits": false,
  "rms_norm_eps": 1e-05,
  "rope_theta": 1000000.0,
  "router_aux_loss_coef": 0.02,
  "sliding_window": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.36.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
}
)";

constexpr std::string_view kGptOss120B = R"({
  "architectures": ["GptOssForCausalLM"],
  "attention_bias": true,
  "attention_dropout": 0.0,
  "eos_token_id": 200002,
  "experts_per_token": 4,
  "head_dim": 64,
  "hidden_act": "silu",
  "hidden_size": 2880,
  "initial_context_length": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 2880,
  "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
  "max_position_embeddings": 131072,
  "model_type": "gpt_oss",
  "num_attention_heads": 64,
  "num_experts_per_tok": 4,
  "num_hidden_layers": 36,
  "num_key_value_heads": 8,
  "num_local_experts": 128,
  "output_router_logits": false,
  "pad_token_id": 199999,
  "quantization_config": {
    "modules_to_not_convert": [
      "model.layers.*.self_attn",
      "model.layers.*.mlp.router",
      "model.embed_tokens",
      "lm_head"
    ],
    "quant_method": "mxfp4"
  },
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "beta_fast": 32.0,
    "beta_slow": 1.0,
    "factor": 32.0,
    "original_max_position_embeddings": 4096,
    "rope_type": "yarn",
    "truncate": false
  },
  "rope_theta": 150000,
  "router_aux_loss_coef": 0.9,
  "sliding_window": 128,
  "swiglu_limit": 7.0,
  "tie_word_embeddings": false,
  "transformers_version": "4.55.0.dev0",
  "use_cache": true,
  "vocab_size": 201088
}
)";

constexpr std::string_view kDeepSeekV3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "auto_map": {
    "AutoConfig": "configuration_deepseek.DeepseekV3Config",
    "AutoModel": "modeling_deepseek.DeepseekV3Model",
    "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"
  },
  "aux_loss_alpha": 0.001,
  "bos_token_id": 0,
  "eos_token_id": 1,
  "ep_size": 1,
  "first_k_dense_replace": 3,
  "hidden_act": "silu",
  "hidden_size": 7168,
  "initializer_range": 0.02,
  "intermediate_size": 18432,
  "kv_lora_rank": 512,
  "max_position_embeddings": 163840,
  "model_type": "deepseek_v3",
  "moe_intermediate_size": 2048,
  "moe_layer_freq": 1,
  "n_group": 8,
  "n_routed_experts": 256,
  "n_shared_experts": 1,
  "norm_topk_prob": true,
  "num_attention_heads": 128,
  "num_experts_per_tok": 8,
  "num_hidden_layers": 61,
  "num_key_value_heads": 128,
  "num_nextn_predict_layers": 1,
  "pretraining_tp": 1,
  "q_lora_rank": 1536,
  "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "quantization_config": {
    "activation_scheme": "dynamic",
    "fmt": "e4m3",
    "quant_method": "fp8",
    "weight_block_size": [128, 128]
  },
  "rms_norm_eps": 1e-06,
  "rope_scaling": {
    "beta_fast": 32,
    "beta_slow": 1,
    "factor": 40,
    "mscale": 1.0,
    "mscale_all_dim": 1.0,
    "original_max_position_embeddings": 4096,
    "type": "yarn"
  },
  "rope_theta": 10000,
  "routed_scaling_factor": 2.5,
  "scoring_func": "sigmoid",
  "seq_aux": true,
  "tie_word_embeddings": false,
  "topk_group": 4,
  "topk_method": "noaux_tc",
  "torch_dtype": "bfloat16",
  "transformers_version": "4.33.1",
  "use_cache": true,
  "v_head_dim": 128,
  "vocab_size": 129280
}
)";

// Compile time: a whole checkpoint's config read inside a constant expression.
static_assert(model_config_from_json(kDeepSeekV3)->num_experts == 256);
static_assert(model_config_from_json(kDeepSeekV3)->head_dim == 192);
static_assert(model_config_from_json(kQwen3_30B_A3B)->is_moe_layer(0));
static_assert(model_config_from_json(kLlama31_8B, "llama")->name == std::string_view("llama"));
static_assert(model_config_from_json(R"({"model_type": "qwen3"})").error().message ==
              "missing (required for qwen3)");

/// Every field of ModelConfig, so that a test names the one that differs.
void expect_config(const ModelConfig& actual, const ModelConfig& expected) {
  EXPECT_EQ(actual.name, expected.name.view());
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
  EXPECT_EQ(actual.num_experts, expected.num_experts);
  EXPECT_EQ(actual.num_experts_per_tok, expected.num_experts_per_tok);
  EXPECT_EQ(actual.moe_intermediate_size, expected.moe_intermediate_size);
  EXPECT_EQ(actual.num_shared_experts, expected.num_shared_experts);
  EXPECT_EQ(actual.decoder_sparse_step, expected.decoder_sparse_step);
  EXPECT_EQ(actual.mlp_only_layers, expected.mlp_only_layers);
  EXPECT_EQ(actual.first_k_dense_replace, expected.first_k_dense_replace);
  EXPECT_EQ(actual.q_lora_rank, expected.q_lora_rank);
  EXPECT_EQ(actual.kv_lora_rank, expected.kv_lora_rank);
  EXPECT_EQ(actual.qk_nope_head_dim, expected.qk_nope_head_dim);
  EXPECT_EQ(actual.qk_rope_head_dim, expected.qk_rope_head_dim);
  EXPECT_EQ(actual.v_head_dim, expected.v_head_dim);
  EXPECT_EQ(actual.quantization, expected.quantization);
  EXPECT_EQ(actual.dtype_bytes, expected.dtype_bytes);
}

ModelConfig read(std::string_view text, std::string_view name = "config.json") {
  auto result = model_config_from_json(text, name);
  EXPECT_TRUE(result.ok()) << result.error().what();
  return result.ok() ? std::move(result).value() : ModelConfig{};
}

std::string error_of(std::string_view text) {
  const auto result = model_config_from_json(text);
  return result.ok() ? std::string("parsed") : result.error().what();
}

ModelConfig dense(ModelFamily family, Index hidden, Index intermediate, Index layers, Index heads, Index kv,
                  Index head_dim, Index vocab) {
  ModelConfig c;
  c.name = FixedString<48>("config.json");
  c.family = family;
  c.hidden_size = hidden;
  c.intermediate_size = intermediate;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.head_dim = head_dim;
  c.vocab_size = vocab;
  return c;
}

TEST(ConfigJson, Llama31_8B) {
  expect_config(read(kLlama31_8B), dense(ModelFamily::llama, 4096, 14336, 32, 32, 8, 128, 128256));
}

TEST(ConfigJson, Qwen25_7B) {
  ModelConfig expected = dense(ModelFamily::qwen2, 3584, 18944, 28, 28, 4, 128, 152064);
  expected.attention_bias = true;  // qwen2: q/k/v biases without an attention_bias key
  expect_config(read(kQwen25_7B), expected);
}

TEST(ConfigJson, Qwen3_30B_A3B) {
  ModelConfig expected = dense(ModelFamily::qwen3_moe, 2048, 6144, 48, 32, 4, 128, 151936);
  expected.qk_norm = true;
  expected.num_experts = 128;
  expected.num_experts_per_tok = 8;
  expected.moe_intermediate_size = 768;
  expected.decoder_sparse_step = 1;
  const ModelConfig config = read(kQwen3_30B_A3B);
  expect_config(config, expected);
  EXPECT_TRUE(config.is_moe_layer(0));
  EXPECT_TRUE(config.is_moe_layer(47));
}

TEST(ConfigJson, Mixtral8x7B) {
  ModelConfig expected = dense(ModelFamily::mixtral, 4096, 14336, 32, 32, 8, 128, 32000);
  expected.num_experts = 8;
  expected.num_experts_per_tok = 2;
  expected.moe_intermediate_size = 14336;  // the experts are intermediate_size wide
  expect_config(read(kMixtral8x7B, "mixtral-8x7b"), (expected.name = FixedString<48>("mixtral-8x7b"), expected));
}

TEST(ConfigJson, GptOss120B) {
  ModelConfig expected = dense(ModelFamily::gpt_oss, 2880, 2880, 36, 64, 8, 64, 201088);
  expected.attention_bias = true;
  expected.num_experts = 128;
  expected.num_experts_per_tok = 4;
  expected.moe_intermediate_size = 2880;
  expected.quantization = Quantization::mxfp4;
  const ModelConfig config = read(kGptOss120B);
  expect_config(config, expected);
  EXPECT_NE(config.head_dim * config.num_attention_heads, config.hidden_size);  // 4096 != 2880, and that is fine
}

TEST(ConfigJson, DeepSeekV3) {
  ModelConfig expected = dense(ModelFamily::deepseek_v3, 7168, 18432, 61, 128, 128, 192, 129280);
  expected.num_experts = 256;
  expected.num_shared_experts = 1;
  expected.num_experts_per_tok = 8;
  expected.moe_intermediate_size = 2048;
  expected.first_k_dense_replace = 3;
  expected.q_lora_rank = 1536;
  expected.kv_lora_rank = 512;
  expected.qk_nope_head_dim = 128;
  expected.qk_rope_head_dim = 64;
  expected.v_head_dim = 128;
  expected.quantization = Quantization::fp8_block128;
  const ModelConfig config = read(kDeepSeekV3);
  expect_config(config, expected);
  EXPECT_TRUE(config.is_mla());
  EXPECT_FALSE(config.is_moe_layer(2));
  EXPECT_TRUE(config.is_moe_layer(3));
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults and per-family rules, on a minimal config

/// A minimal config of `family` with `extra` members appended (JSON text without braces, starting with ',').
std::string minimal(std::string_view family, std::string_view extra = "") {
  std::string text = R"({"model_type": ")";
  text += family;
  text += R"(", "hidden_size": 512, "num_hidden_layers": 4, "num_attention_heads": 8, "vocab_size": 1000,
               "intermediate_size": 1024)";
  text += extra;
  text += "}";
  return text;
}

TEST(ConfigJsonDefaults, DenseFamilies) {
  const ModelConfig llama = read(minimal("llama"));
  EXPECT_EQ(llama.num_key_value_heads, 8);  // = num_attention_heads
  EXPECT_EQ(llama.head_dim, 64);            // = hidden_size / num_attention_heads
  EXPECT_FALSE(llama.tie_word_embeddings);
  EXPECT_FALSE(llama.attention_bias);
  EXPECT_FALSE(llama.qk_norm);
  EXPECT_FALSE(llama.is_moe());
  EXPECT_EQ(llama.quantization, Quantization::none);
  EXPECT_EQ(llama.dtype_bytes, 2);
  // null means the default, as Python's None does in transformers.
  const ModelConfig nulls = read(minimal("mistral", R"(, "num_key_value_heads": null, "head_dim": null,
      "tie_word_embeddings": null, "attention_bias": null, "quantization_config": null, "torch_dtype": null)"));
  EXPECT_EQ(nulls.num_key_value_heads, 8);
  EXPECT_EQ(nulls.head_dim, 64);
  EXPECT_FALSE(nulls.tie_word_embeddings);
  EXPECT_EQ(nulls.family, ModelFamily::mistral);
  // Given values win.
  const ModelConfig given = read(minimal("llama", R"(, "num_key_value_heads": 2, "head_dim": 128,
      "tie_word_embeddings": true, "attention_bias": true, "torch_dtype": "float32")"));
  EXPECT_EQ(given.num_key_value_heads, 2);
  EXPECT_EQ(given.head_dim, 128);
  EXPECT_TRUE(given.tie_word_embeddings);
  EXPECT_TRUE(given.attention_bias);
  EXPECT_EQ(given.dtype_bytes, 4);
  EXPECT_EQ(read(minimal("llama", R"(, "torch_dtype": "float16")")).dtype_bytes, 2);
  EXPECT_EQ(read(minimal("llama", R"(, "dtype": "float32")")).dtype_bytes, 4);  // transformers >= 4.56 name
  // qwen2 always has q/k/v biases; qwen3 has q/k norms and reads attention_bias.
  EXPECT_TRUE(read(minimal("qwen2", R"(, "attention_bias": false)")).attention_bias);
  const ModelConfig qwen3 = read(minimal("qwen3", R"(, "attention_bias": true)"));
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_TRUE(qwen3.attention_bias);
}

TEST(ConfigJsonDefaults, MoeFamilies) {
  // gpt_oss: attention_bias defaults to true; either experts_per_token or num_experts_per_tok is enough.
  const ModelConfig gpt = read(minimal("gpt_oss", R"(, "num_local_experts": 4, "num_experts_per_tok": 2)"));
  EXPECT_TRUE(gpt.attention_bias);
  EXPECT_EQ(gpt.num_experts_per_tok, 2);
  EXPECT_EQ(gpt.moe_intermediate_size, 1024);
  EXPECT_EQ(read(minimal("gpt_oss", R"(, "num_local_experts": 4, "experts_per_token": 3)")).num_experts_per_tok, 3);
  EXPECT_FALSE(read(minimal("gpt_oss", R"(, "num_local_experts": 4, "experts_per_token": 3,
                                          "attention_bias": false)"))
                   .attention_bias);
  // mixtral and deepseek_v3 have no biased attention, whatever the key says.
  EXPECT_FALSE(read(minimal("mixtral", R"(, "num_local_experts": 4, "num_experts_per_tok": 2, "attention_bias": true)"))
                   .attention_bias);
  // qwen3_moe: dense layers through mlp_only_layers and decoder_sparse_step; without them intermediate_size is
  // optional.
  const ModelConfig sparse = read(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2,
      "moe_intermediate_size": 256, "decoder_sparse_step": 2, "mlp_only_layers": [0, 3])"));
  EXPECT_EQ(sparse.mlp_only_layers, (std::vector<Index>{0, 3}));
  EXPECT_EQ(sparse.decoder_sparse_step, 2);
  EXPECT_FALSE(sparse.is_moe_layer(0));
  EXPECT_TRUE(sparse.is_moe_layer(1));
  EXPECT_FALSE(sparse.is_moe_layer(2));
  EXPECT_FALSE(sparse.is_moe_layer(3));
  const ModelConfig no_dense = read(R"({"model_type": "qwen3_moe", "hidden_size": 512, "num_hidden_layers": 4,
      "num_attention_heads": 8, "vocab_size": 1000, "num_experts": 8, "num_experts_per_tok": 2,
      "moe_intermediate_size": 256, "mlp_only_layers": null})");
  EXPECT_EQ(no_dense.intermediate_size, 0);
  EXPECT_EQ(no_dense.decoder_sparse_step, 1);
  EXPECT_TRUE(no_dense.mlp_only_layers.empty());
  // deepseek_v3: q_lora_rank null means no query compression (still MLA through kv_lora_rank).
  const ModelConfig lite = read(minimal("deepseek_v3", R"(, "n_routed_experts": 64, "n_shared_experts": 2,
      "moe_intermediate_size": 256, "first_k_dense_replace": 1, "num_experts_per_tok": 6, "q_lora_rank": null,
      "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128)"));
  EXPECT_EQ(lite.q_lora_rank, 0);
  EXPECT_TRUE(lite.is_mla());
  EXPECT_EQ(lite.head_dim, 192);
  EXPECT_EQ(lite.num_shared_experts, 2);
}

TEST(ConfigJsonDefaults, Quantization) {
  const auto quant = [](std::string_view config) {
    return read(minimal("llama", std::string(R"(, "quantization_config": )").append(config))).quantization;
  };
  EXPECT_EQ(quant(R"({"quant_method": "fp8", "weight_block_size": [128, 128]})"), Quantization::fp8_block128);
  EXPECT_EQ(quant(R"({"quant_method": "mxfp4"})"), Quantization::mxfp4);
  EXPECT_EQ(quant(R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": false})"),
            Quantization::gptq128);
  EXPECT_EQ(quant(R"({"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"})"),
            Quantization::gptq128);
  EXPECT_EQ(quant(R"({"quant_method": "awq", "group_size": 128})"), Quantization::gptq128);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

TEST(ConfigJsonErrors, MalformedJson) {
  EXPECT_EQ(error_of("{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096]\n}"),
            "config.json: line 3, column 22: expected ',' or '}' after an object member, found ']'");
  EXPECT_EQ(error_of("{\"model_type\": \"llama\",}"),
            "config.json: line 1, column 24: expected a string key after ',' in an object, found '}' (a trailing "
            "comma)");
  EXPECT_EQ(error_of("{\"hidden_size\": 1, \"hidden_size\": 2}"),
            "config.json: line 1, column 20: duplicate key \"hidden_size\" in an object (first at line 1, column 2)");
  EXPECT_EQ(error_of(""), "config.json: line 1, column 1: expected a value, found end of input");
  EXPECT_EQ(model_config_from_json("{", "/models/llama/config.json").error().what(),
            "/models/llama/config.json: line 1, column 2: expected a string key or '}' in an object, found end of "
            "input");
  EXPECT_EQ(model_config_from_json("{").error().code, ErrorCode::parse_error);
  EXPECT_EQ(error_of("[]"), "config.json: expected an object, got an array");
  EXPECT_EQ(error_of("\"llama\""), "config.json: expected an object, got \"llama\"");
}

TEST(ConfigJsonErrors, ModelType) {
  EXPECT_EQ(error_of("{}"), "model_type: missing");
  EXPECT_EQ(error_of(R"({"model_type": 7})"), "model_type: expected a string, got 7");
  EXPECT_EQ(error_of(R"({"model_type": "gemma4"})"),
            "model_type: unknown 'gemma4' (known: llama, mistral, qwen2, qwen3, mixtral, qwen3_moe, gpt_oss, "
            "deepseek_v3, gemma2, gemma3_text, phi3, qwen2_moe, deepseek_v2, glm4_moe, olmo2, granite, cohere2)");
  EXPECT_EQ(error_of(R"({"model_type": "Llama"})").substr(0, 28), "model_type: unknown 'Llama' ");
  // A long name is cut at 18 characters so that the whole list fits in the message.
  const std::string long_name = error_of(R"({"model_type": "Qwen2MoeForCausalLM_v2"})");
  EXPECT_EQ(long_name.substr(0, 50), "model_type: unknown 'Qwen2MoeForCausalL' (known: l");
  EXPECT_TRUE(long_name.ends_with(", granite, cohere2)")) << long_name;
}

TEST(ConfigJsonErrors, RequiredIntegers) {
  const std::string base = R"({"model_type": "llama", "num_hidden_layers": 4, "num_attention_heads": 8,
                               "vocab_size": 1000, "intermediate_size": 1024)";
  const auto with = [&](std::string_view member) {
    std::string text = base;
    text += ", ";
    text += member;
    text += "}";
    return error_of(text);
  };
  EXPECT_EQ(error_of(base + "}"), "hidden_size: missing (required for llama)");
  EXPECT_EQ(with(R"("hidden_size": 0)"), "hidden_size: must be > 0, got 0");
  EXPECT_EQ(with(R"("hidden_size": -4096)"), "hidden_size: must be > 0, got -4096");
  EXPECT_EQ(with(R"("hidden_size": 3.5)"), "hidden_size: expected a positive integer, got 3.5");
  EXPECT_EQ(with(R"("hidden_size": 4096.0)"), "hidden_size: expected a positive integer, got 4096.0");
  EXPECT_EQ(with(R"("hidden_size": 4e3)"), "hidden_size: expected a positive integer, got 4e3");
  EXPECT_EQ(with(R"("hidden_size": "4096")"), "hidden_size: expected a positive integer, got \"4096\"");
  EXPECT_EQ(with(R"("hidden_size": null)"), "hidden_size: expected a positive integer, got null");
  EXPECT_EQ(with(R"("hidden_size": true)"), "hidden_size: expected a positive integer, got true");
  EXPECT_EQ(with(R"("hidden_size": [4096])"), "hidden_size: expected a positive integer, got an array");
  const auto overflow = model_config_from_json(base + R"(, "hidden_size": 99999999999999999999})");
  EXPECT_EQ(overflow.error().code, ErrorCode::overflow);
  EXPECT_EQ(overflow.error().what(), "hidden_size: integer 99999999999999999999 does not fit in int64");
  EXPECT_EQ(with(R"("hidden_size": -99999999999999999999)"),
            "hidden_size: integer -99999999999999999999 does not fit in int64");
  // Each required key, and the optional ones' ranges.
  EXPECT_EQ(error_of(R"({"model_type": "mistral", "hidden_size": 8})"),
            "num_hidden_layers: missing (required for mistral)");
  EXPECT_EQ(error_of(R"({"model_type": "llama", "hidden_size": 8, "num_hidden_layers": 1})"),
            "num_attention_heads: missing (required for llama)");
  EXPECT_EQ(error_of(R"({"model_type": "llama", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 0})"),
            "num_attention_heads: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"model_type": "llama", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2})"),
            "vocab_size: missing (required for llama)");
  EXPECT_EQ(error_of(minimal("llama", R"(, "num_key_value_heads": 0)")), "num_key_value_heads: must be > 0, got 0");
  EXPECT_EQ(error_of(minimal("llama", R"(, "head_dim": -1)")), "head_dim: must be > 0, got -1");
  EXPECT_EQ(error_of(minimal("llama", R"(, "head_dim": 64.5)")), "head_dim: expected a positive integer, got 64.5");
  EXPECT_EQ(error_of(R"({"model_type": "qwen2", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                         "vocab_size": 10})"),
            "intermediate_size: missing (required for qwen2)");
  EXPECT_EQ(error_of(minimal("llama", R"(, "tie_word_embeddings": 0)")),
            "tie_word_embeddings: expected a boolean, got 0");
  EXPECT_EQ(error_of(minimal("llama", R"(, "attention_bias": "yes")")),
            "attention_bias: expected a boolean, got \"yes\"");
}

TEST(ConfigJsonErrors, Consistency) {
  EXPECT_EQ(error_of(minimal("llama", R"(, "num_key_value_heads": 3)")),
            "num_key_value_heads: num_attention_heads 8 is not a multiple of num_key_value_heads 3");
  EXPECT_EQ(error_of(minimal("llama", R"(, "num_key_value_heads": 16)")),
            "num_key_value_heads: num_attention_heads 8 is not a multiple of num_key_value_heads 16");
  EXPECT_EQ(error_of(R"({"model_type": "llama", "hidden_size": 100, "num_hidden_layers": 1, "num_attention_heads": 3,
                         "vocab_size": 10, "intermediate_size": 10})"),
            "head_dim: missing, and hidden_size 100 is not a multiple of num_attention_heads 3");
  EXPECT_TRUE(model_config_from_json(R"({"model_type": "llama", "hidden_size": 100, "num_hidden_layers": 1,
      "num_attention_heads": 3, "vocab_size": 10, "intermediate_size": 10, "head_dim": 32})")
                  .ok());
  EXPECT_EQ(error_of(minimal("mixtral", R"(, "num_local_experts": 8, "num_experts_per_tok": 9)")),
            "num_experts_per_tok: routes each token to 9 experts, but there are only 8");
  EXPECT_EQ(error_of(minimal("gpt_oss",
                             R"(, "num_local_experts": 8, "experts_per_token": 4, "num_experts_per_tok": 2)")),
            "experts_per_token: 4 disagrees with num_experts_per_tok 2");
  EXPECT_EQ(error_of(minimal("gpt_oss", R"(, "num_local_experts": 8)")),
            "experts_per_token: missing (required for gpt_oss, or num_experts_per_tok)");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2,
                                 "moe_intermediate_size": 64, "mlp_only_layers": [1, 4])")),
            "mlp_only_layers[1]: layer 4 is outside the 4 layers");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2,
                                 "moe_intermediate_size": 64, "mlp_only_layers": [-1])")),
            "mlp_only_layers[0]: must be >= 0, got -1");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2,
                                 "moe_intermediate_size": 64, "mlp_only_layers": "0")")),
            "mlp_only_layers: expected an array, got \"0\"");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2,
                                 "moe_intermediate_size": 64, "decoder_sparse_step": 0)")),
            "decoder_sparse_step: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"model_type": "qwen3_moe", "hidden_size": 512, "num_hidden_layers": 4,
      "num_attention_heads": 8, "vocab_size": 1000, "num_experts": 8, "num_experts_per_tok": 2,
      "moe_intermediate_size": 256, "decoder_sparse_step": 2})"),
            "intermediate_size: missing (required for qwen3_moe with dense layers)");
}

TEST(ConfigJsonErrors, MoeAndMlaKeys) {
  EXPECT_EQ(error_of(minimal("mixtral", R"(, "num_experts_per_tok": 2)")),
            "num_local_experts: missing (required for mixtral)");
  EXPECT_EQ(error_of(minimal("mixtral", R"(, "num_local_experts": 8)")),
            "num_experts_per_tok: missing (required for mixtral)");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 8, "num_experts_per_tok": 2)")),
            "moe_intermediate_size: missing (required for qwen3_moe)");
  EXPECT_EQ(error_of(minimal("qwen3_moe", R"(, "num_experts": 0)")), "num_experts: must be > 0, got 0");
  const std::string deepseek = R"(, "n_routed_experts": 8, "n_shared_experts": 0, "moe_intermediate_size": 64,
      "first_k_dense_replace": 0, "num_experts_per_tok": 2, "kv_lora_rank": 64, "qk_nope_head_dim": 16,
      "qk_rope_head_dim": 8, "v_head_dim": 16)";
  EXPECT_EQ(error_of(minimal("deepseek_v3", deepseek)),
            "q_lora_rank: missing (required for deepseek_v3; null means no query compression)");
  EXPECT_TRUE(model_config_from_json(minimal("deepseek_v3", deepseek + R"(, "q_lora_rank": 32)")).ok());
  EXPECT_EQ(error_of(minimal("deepseek_v3", deepseek + R"(, "q_lora_rank": 0)")), "q_lora_rank: must be > 0, got 0");
  EXPECT_EQ(error_of(minimal("deepseek_v3", R"(, "n_routed_experts": 8)")),
            "n_shared_experts: missing (required for deepseek_v3)");
  EXPECT_EQ(error_of(minimal("deepseek_v3", R"(, "n_routed_experts": 8, "n_shared_experts": -1)")),
            "n_shared_experts: must be >= 0, got -1");
  EXPECT_EQ(error_of(minimal("deepseek_v3", R"(, "n_routed_experts": 8, "n_shared_experts": 1,
      "moe_intermediate_size": 64, "first_k_dense_replace": 5, "num_experts_per_tok": 2)")),
            "first_k_dense_replace: 5 exceeds num_hidden_layers 4");
  EXPECT_EQ(error_of(minimal("deepseek_v3", R"(, "n_routed_experts": 8, "n_shared_experts": 1,
      "moe_intermediate_size": 64, "first_k_dense_replace": 1, "num_experts_per_tok": 2, "q_lora_rank": 32)")),
            "kv_lora_rank: missing (required for deepseek_v3)");
}

TEST(ConfigJsonErrors, QuantizationAndDtype) {
  const auto quant = [](std::string_view config) {
    return error_of(minimal("llama", std::string(R"(, "quantization_config": )").append(config)));
  };
  EXPECT_EQ(quant(R"("fp8")"), "quantization_config: expected an object, got \"fp8\"");
  EXPECT_EQ(quant(R"({})"), "quantization_config.quant_method: missing");
  EXPECT_EQ(quant(R"({"quant_method": 8})"), "quantization_config.quant_method: expected a string, got 8");
  EXPECT_EQ(quant(R"({"quant_method": "bitsandbytes", "load_in_4bit": true})"),
            "quantization_config.quant_method: unsupported 'bitsandbytes' (supported: fp8, compressed-tensors fp8, "
            "mxfp4, gptq or awq with group_size 128)");
  EXPECT_EQ(quant(R"({"quant_method": "fp8", "weight_block_size": [128, 64]})"),
            "quantization_config.weight_block_size[1]: only 128-wide fp8 blocks are supported, got 64");
  EXPECT_EQ(quant(R"({"quant_method": "fp8", "weight_block_size": [128]})"),
            "quantization_config.weight_block_size: expected [128, 128], got 1 sizes");
  EXPECT_EQ(quant(R"({"quant_method": "fp8", "weight_block_size": 128})"),
            "quantization_config.weight_block_size: expected an array, got 128");
  EXPECT_EQ(quant(R"({"quant_method": "fp8", "weight_block_size": [128.0, 128]})"),
            "quantization_config.weight_block_size[0]: expected a positive integer, got 128.0");
  EXPECT_EQ(quant(R"({"quant_method": "gptq", "bits": 4, "group_size": 64})"),
            "quantization_config.group_size: only group_size 128 is supported for gptq, got 64");
  EXPECT_EQ(quant(R"({"quant_method": "awq", "bits": 4})"), "quantization_config.group_size: missing");
  EXPECT_EQ(quant(R"({"quant_method": "gptq", "bits": 8, "group_size": 128})"),
            "quantization_config.bits: only 4-bit gptq is supported, got 8");
  EXPECT_EQ(error_of(minimal("llama", R"(, "torch_dtype": "float64")")),
            "torch_dtype: unsupported 'float64' (supported: bfloat16, float16, float32)");
  EXPECT_EQ(error_of(minimal("llama", R"(, "torch_dtype": 2)")), "torch_dtype: expected a string, got 2");
  EXPECT_EQ(error_of(minimal("llama", R"(, "dtype": "int8")")),
            "dtype: unsupported 'int8' (supported: bfloat16, float16, float32)");
}

TEST(ConfigJsonErrors, UnknownKeysAreIgnored) {
  const ModelConfig config = read(minimal("llama", R"(, "rope_scaling": {"type": "dynamic", "factor": 2.0},
      "some_future_key": [1, {"x": null}], "num_local_experts": 8, "n_routed_experts": 4)"));
  EXPECT_FALSE(config.is_moe());  // MoE keys of other families mean nothing to llama
  EXPECT_EQ(config.hidden_size, 512);
}

}  // namespace
}  // namespace shardplan
