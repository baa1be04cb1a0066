#pragma once
// An HF `config.json` read strictly into a ModelConfig: every field sharding depends on is checked for presence,
// type and range, and every error names the field and the value. Keys shardplan does not use are ignored (configs
// carry dozens: rope scaling, token ids, ...).
//
// Defaults follow transformers for the keys it lets configs omit: num_key_value_heads = num_attention_heads,
// head_dim = hidden_size / num_attention_heads, tie_word_embeddings = false, torch_dtype = bfloat16. A null value
// (Python None) means the same as an absent key for these. The sizes of the experts and of MLA are required: their
// transformers defaults are the sizes of one particular checkpoint, and guessing a width silently is worse than an
// error.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/json.hpp"
#include "shardplan/model/config.hpp"

namespace shardplan {
namespace config_json_detail {

/// The integer `value` if it is >= minimum; else an error in the config's words: "expected a positive integer, got
/// 3.5", "must be > 0, got 0", or (code overflow) "integer 99999999999999999999 does not fit in int64".
constexpr Result<Index> integer_at_least(const JsonValue& value, std::string_view field, Index minimum) {
  if (!value.is_int()) {
    if (auto overflow = value.int_value(field); overflow.error().code == ErrorCode::overflow) return overflow;
    return make_error(ErrorCode::invalid_argument, field)
           << "expected " << (minimum > 0 ? "a positive" : "a non-negative") << " integer, got " << value.describe();
  }
  if (value.as_int() < minimum) {
    return make_error(ErrorCode::invalid_argument, field)
           << "must be " << (minimum > 0 ? "> 0" : ">= 0") << ", got " << value.as_int();
  }
  return value.as_int();
}

/// Reads the top-level keys of one config, naming the model family in "missing" errors.
struct Fields {
  const JsonValue& config;
  ModelFamily family;

  /// A required integer >= minimum (a null is a wrong type, not a missing key).
  [[nodiscard]] constexpr Result<Index> required(std::string_view key, Index minimum = 1,
                                                 std::string_view why = {}) const {
    const JsonValue* value = config.find(key);
    if (value == nullptr) {
      return make_error(ErrorCode::invalid_argument, key)
             << "missing (required for " << to_string(family) << (why.empty() ? "" : " ") << why << ")";
    }
    return integer_at_least(*value, key, minimum);
  }
  /// An optional integer >= minimum; absent or null gives `fallback`.
  [[nodiscard]] constexpr Result<Index> optional(std::string_view key, Index fallback, Index minimum = 1) const {
    const JsonValue* value = config.find(key);
    if (value == nullptr || value->is_null()) return fallback;
    return integer_at_least(*value, key, minimum);
  }
  /// An optional boolean; absent or null gives `fallback`.
  [[nodiscard]] constexpr Result<bool> flag(std::string_view key, bool fallback) const {
    const JsonValue* value = config.find(key);
    if (value == nullptr || value->is_null()) return fallback;
    return value->bool_value(key);
  }
};

/// `quantization_config` (absent or null: none). Only the schemes whose block rules shardplan knows are accepted.
constexpr Result<Quantization> read_quantization(const JsonValue& config) {
  const JsonValue* found = config.find("quantization_config");
  if (found == nullptr || found->is_null()) return Quantization::none;
  SHARDPLAN_TRY(const JsonValue* quant, found->object_value("quantization_config"));
  SHARDPLAN_TRY(const std::string_view method, quant->get_string("quant_method", "quantization_config.quant_method"));
  if (method == "mxfp4") return Quantization::mxfp4;
  if (method == "fp8") {
    constexpr std::string_view kField = "quantization_config.weight_block_size";
    if (!quant->contains("weight_block_size")) {
      return make_error(ErrorCode::invalid_argument, kField) << "missing (per-tensor fp8 is not supported)";
    }
    SHARDPLAN_TRY(const std::span<const JsonValue> block, quant->get_array("weight_block_size", kField));
    if (block.size() != 2) {
      return make_error(ErrorCode::invalid_argument, kField)
             << "expected [128, 128], got " << static_cast<Index>(block.size()) << " sizes";
    }
    for (std::size_t i = 0; i < 2; ++i) {
      const FixedString<48> field = indexed_field(kField, static_cast<Index>(i));
      SHARDPLAN_TRY(const Index size, integer_at_least(block[i], field.view(), 1));
      if (size != 128) {
        return make_error(ErrorCode::invalid_argument, field) << "only 128-wide fp8 blocks are supported, got " << size;
      }
    }
    return Quantization::fp8_block128;
  }
  if (method == "gptq" || method == "awq") {
    SHARDPLAN_TRY(const Index group, quant->get_int("group_size", "quantization_config.group_size"));
    if (group != 128) {
      return make_error(ErrorCode::invalid_argument, "quantization_config.group_size")
             << "only group_size 128 is supported for " << method << ", got " << group;
    }
    if (const JsonValue* bits = quant->find("bits"); bits != nullptr && !(bits->is_int() && bits->as_int() == 4)) {
      return make_error(ErrorCode::invalid_argument, "quantization_config.bits")
             << "only 4-bit " << method << " is supported, got " << bits->describe();
    }
    return Quantization::gptq128;
  }
  return make_error(ErrorCode::invalid_argument, "quantization_config.quant_method")
         << "unsupported '" << method.substr(0, 30)
         << "' (supported: fp8 with weight_block_size [128, 128], mxfp4, gptq or awq with group_size 128)";
}

/// `torch_dtype` (or `dtype`, its name since transformers 4.56) as bytes per element; absent or null: bfloat16.
constexpr Result<Index> read_dtype_bytes(const JsonValue& config) {
  const std::string_view key = config.contains("torch_dtype") ? "torch_dtype" : "dtype";
  const JsonValue* found = config.find(key);
  if (found == nullptr || found->is_null()) return 2;
  SHARDPLAN_TRY(const std::string_view dtype, found->string_value(key));
  if (dtype == "bfloat16" || dtype == "float16") return 2;
  if (dtype == "float32") return 4;
  return make_error(ErrorCode::invalid_argument, key)
         << "unsupported '" << dtype.substr(0, 30) << "' (supported: bfloat16, float16, float32)";
}

/// The MoE keys of each family (dense families: nothing), and that the routing fits the experts and the layers.
constexpr Status read_experts(const Fields& fields, ModelConfig& c) {
  switch (c.family) {
    case ModelFamily::llama:
    case ModelFamily::mistral:
    case ModelFamily::qwen2:
    case ModelFamily::qwen3: return Ok{};
    case ModelFamily::mixtral: {
      SHARDPLAN_TRY(c.num_experts, fields.required("num_local_experts"));
      SHARDPLAN_TRY(c.num_experts_per_tok, fields.required("num_experts_per_tok"));
      break;
    }
    case ModelFamily::qwen3_moe: {
      SHARDPLAN_TRY(c.num_experts, fields.required("num_experts"));
      SHARDPLAN_TRY(c.num_experts_per_tok, fields.required("num_experts_per_tok"));
      SHARDPLAN_TRY(c.moe_intermediate_size, fields.required("moe_intermediate_size"));
      SHARDPLAN_TRY(c.decoder_sparse_step, fields.optional("decoder_sparse_step", 1));
      const JsonValue* layers = fields.config.find("mlp_only_layers");
      if (layers != nullptr && !layers->is_null()) {
        SHARDPLAN_TRY(const std::span<const JsonValue> list, layers->array_value("mlp_only_layers"));
        for (std::size_t i = 0; i < list.size(); ++i) {
          const FixedString<48> field = indexed_field("mlp_only_layers", static_cast<Index>(i));
          SHARDPLAN_TRY(const Index layer, integer_at_least(list[i], field.view(), 0));
          if (layer >= c.num_hidden_layers) {
            return make_error(ErrorCode::invalid_argument, field)
                   << "layer " << layer << " is outside the " << c.num_hidden_layers << " layers";
          }
          c.mlp_only_layers.push_back(layer);
        }
      }
      break;
    }
    case ModelFamily::gpt_oss: {
      SHARDPLAN_TRY(c.num_experts, fields.required("num_local_experts"));
      // gpt-oss configs write both names; either alone is enough, and two different values are a broken config.
      SHARDPLAN_TRY(const Index per_token, fields.optional("experts_per_token", 0));
      SHARDPLAN_TRY(const Index per_tok, fields.optional("num_experts_per_tok", 0));
      if (per_token > 0 && per_tok > 0 && per_token != per_tok) {
        return make_error(ErrorCode::invalid_argument, "experts_per_token")
               << per_token << " disagrees with num_experts_per_tok " << per_tok;
      }
      if (per_token == 0 && per_tok == 0) {
        return make_error(ErrorCode::invalid_argument, "experts_per_token")
               << "missing (required for gpt_oss, or num_experts_per_tok)";
      }
      c.num_experts_per_tok = per_token > 0 ? per_token : per_tok;
      break;
    }
    case ModelFamily::other: {
      // No family rule: the experts are the checkpoint's (read_checkpoint_config checks that they agree). The
      // routing width is read under the names the families use, when there is one.
      for (const std::string_view key : {"num_experts", "num_local_experts", "n_routed_experts"}) {
        if (c.num_experts == 0) {
          SHARDPLAN_TRY(c.num_experts, fields.optional(key, 0, 0));
        }
      }
      for (const std::string_view key : {"num_experts_per_tok", "experts_per_token"}) {
        if (c.num_experts_per_tok == 0) {
          SHARDPLAN_TRY(c.num_experts_per_tok, fields.optional(key, 0, 0));
        }
      }
      SHARDPLAN_TRY(c.moe_intermediate_size, fields.optional("moe_intermediate_size", 0, 0));
      return Ok{};  // the routing is checked against the checkpoint's experts
    }
    case ModelFamily::deepseek_v3: {
      SHARDPLAN_TRY(c.num_experts, fields.required("n_routed_experts"));
      SHARDPLAN_TRY(c.num_shared_experts, fields.required("n_shared_experts", 0));
      SHARDPLAN_TRY(c.moe_intermediate_size, fields.required("moe_intermediate_size"));
      SHARDPLAN_TRY(c.first_k_dense_replace, fields.required("first_k_dense_replace", 0));
      SHARDPLAN_TRY(c.num_experts_per_tok, fields.required("num_experts_per_tok"));
      if (c.first_k_dense_replace > c.num_hidden_layers) {
        return make_error(ErrorCode::invalid_argument, "first_k_dense_replace")
               << c.first_k_dense_replace << " exceeds num_hidden_layers " << c.num_hidden_layers;
      }
      break;
    }
  }
  if (c.num_experts_per_tok > c.num_experts) {
    return make_error(ErrorCode::invalid_argument, "num_experts_per_tok")
           << "routes each token to " << c.num_experts_per_tok << " experts, but there are only " << c.num_experts;
  }
  return Ok{};
}

/// deepseek_v3's multi-head latent attention. q_lora_rank may be null (no query compression, as in V2-Lite).
constexpr Status read_mla(const Fields& fields, ModelConfig& c) {
  if (c.family != ModelFamily::deepseek_v3) return Ok{};
  if (!fields.config.contains("q_lora_rank")) {
    return make_error(ErrorCode::invalid_argument, "q_lora_rank")
           << "missing (required for deepseek_v3; null means no query compression)";
  }
  SHARDPLAN_TRY(c.q_lora_rank, fields.optional("q_lora_rank", 0));
  SHARDPLAN_TRY(c.kv_lora_rank, fields.required("kv_lora_rank"));
  SHARDPLAN_TRY(c.qk_nope_head_dim, fields.required("qk_nope_head_dim"));
  SHARDPLAN_TRY(c.qk_rope_head_dim, fields.required("qk_rope_head_dim"));
  SHARDPLAN_TRY(c.v_head_dim, fields.required("v_head_dim"));
  return Ok{};
}

}  // namespace config_json_detail

/// Reads an HF config.json. `name` becomes ModelConfig::name and the field of JSON syntax errors
/// ("config.json: line 3, column 17: expected ',' or '}' after an object member, found ']'"). With
/// `unknown_type_from_checkpoint` (the caller has the checkpoint's tensors, model/checkpoint_inventory.hpp), a
/// model_type without a family rule is family `other` instead of an error.
[[nodiscard]] constexpr Result<ModelConfig> model_config_from_json(std::string_view text,
                                                                   std::string_view name = "config.json",
                                                                   bool unknown_type_from_checkpoint = false) {
  using config_json_detail::Fields;
  SHARDPLAN_TRY(const JsonValue root, parse_json(text, name));
  SHARDPLAN_TRY(const JsonValue* config, root.object_value(name));
  SHARDPLAN_TRY(const std::string_view model_type, config->get_string("model_type"));
  ModelConfig c;
  c.name = FixedString<48>(name);
  const auto family = parse_model_family(model_type);
  if (!family.ok() && !unknown_type_from_checkpoint) return family.error();
  c.family = family.ok() ? *family : ModelFamily::other;
  const Fields fields{*config, c.family};

  SHARDPLAN_TRY(c.hidden_size, fields.required("hidden_size"));
  SHARDPLAN_TRY(c.num_hidden_layers, fields.required("num_hidden_layers"));
  SHARDPLAN_TRY(c.num_attention_heads, fields.required("num_attention_heads"));
  SHARDPLAN_TRY(c.vocab_size, fields.required("vocab_size"));
  SHARDPLAN_TRY(c.num_key_value_heads, fields.optional("num_key_value_heads", c.num_attention_heads));
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return make_error(ErrorCode::invalid_argument, "num_key_value_heads")
           << "num_attention_heads " << c.num_attention_heads << " is not a multiple of num_key_value_heads "
           << c.num_key_value_heads;
  }
  SHARDPLAN_CHECK(config_json_detail::read_experts(fields, c));
  SHARDPLAN_CHECK(config_json_detail::read_mla(fields, c));

  // The dense MLP width: every layer of a dense model, the expert width of mixtral and gpt_oss, and the dense layers
  // of qwen3_moe and deepseek_v3 when they have any.
  const bool experts_use_it = c.family == ModelFamily::mixtral || c.family == ModelFamily::gpt_oss;
  const bool has_dense_layers = (!c.is_moe() || c.first_k_dense_replace > 0 || c.decoder_sparse_step > 1 ||
                                 !c.mlp_only_layers.empty()) &&
                                c.family != ModelFamily::other;  // other: the checkpoint says
  if (experts_use_it || has_dense_layers) {
    SHARDPLAN_TRY(c.intermediate_size,
                  fields.required("intermediate_size", 1, c.is_moe() && !experts_use_it ? "with dense layers" : ""));
  } else {
    SHARDPLAN_TRY(c.intermediate_size, fields.optional("intermediate_size", 0));
  }
  if (experts_use_it) c.moe_intermediate_size = c.intermediate_size;

  if (c.is_mla()) {
    // The q/k head; v heads are v_head_dim.
    SHARDPLAN_TRY(c.head_dim, checked_add(c.qk_nope_head_dim, c.qk_rope_head_dim, "qk_rope_head_dim"));
  } else {
    const bool divisible = c.hidden_size % c.num_attention_heads == 0;
    SHARDPLAN_TRY(c.head_dim, fields.optional("head_dim", divisible ? c.hidden_size / c.num_attention_heads : 0));
    if (c.head_dim == 0) {
      return make_error(ErrorCode::invalid_argument, "head_dim")
             << "missing, and hidden_size " << c.hidden_size << " is not a multiple of num_attention_heads "
             << c.num_attention_heads;
    }
  }

  SHARDPLAN_TRY(c.tie_word_embeddings, fields.flag("tie_word_embeddings", false));
  if (c.family == ModelFamily::qwen2) {
    c.attention_bias = true;  // q/k/v are always biased; the key does not exist
  } else if (c.family != ModelFamily::mixtral && c.family != ModelFamily::deepseek_v3) {  // no biased variant there
    SHARDPLAN_TRY(c.attention_bias, fields.flag("attention_bias", c.family == ModelFamily::gpt_oss));
  }
  c.qk_norm = c.family == ModelFamily::qwen3 || c.family == ModelFamily::qwen3_moe;
  SHARDPLAN_TRY(c.quantization, config_json_detail::read_quantization(*config));
  SHARDPLAN_TRY(c.dtype_bytes, config_json_detail::read_dtype_bytes(*config));
  return c;
}

}  // namespace shardplan
