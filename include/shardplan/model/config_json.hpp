#pragma once
// An HF `config.json` read strictly into a ModelConfig: every field sharding depends on is checked for presence,
// type and range, and every error names the field and the value. Keys shardplan does not use are ignored (configs
// carry dozens: rope scaling, token ids, ...).
//
// Defaults follow transformers for the keys it lets configs omit: num_key_value_heads = num_attention_heads,
// head_dim = hidden_size / num_attention_heads (gemma2, gemma3_text: 256), tie_word_embeddings = false (gemma2,
// gemma3_text, cohere2: true), torch_dtype = bfloat16. A null value (Python None) means the same as an absent key for
// these. The sizes of the experts and of MLA are required: their transformers defaults are the sizes of one
// particular checkpoint, and guessing a width silently is worse than an error. gemma3_text is the exception: the
// published Gemma 3 multimodal configs leave most sizes of their text_config to Gemma3TextConfig's defaults, so
// those defaults apply (kGemma3TextDefaults).
//
// A multimodal config with a `text_config` object (Gemma 3's `gemma3`) is read through it: the model is its text
// decoder; quantization_config and torch_dtype come from the top level (torch_dtype from text_config when the top
// level has none). Errors inside it name the field as "text_config.hidden_size".
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

/// Gemma3TextConfig's defaults for the sizes the published Gemma 3 multimodal configs omit from their text_config
/// (google/gemma-3-4b-it's gives only hidden_size, intermediate_size and num_hidden_layers).
struct KeyDefault {
  std::string_view key;
  Index value;
};
inline constexpr KeyDefault kGemma3TextDefaults[] = {
    {"vocab_size", 262208},        {"hidden_size", 2304},       {"intermediate_size", 9216},
    {"num_hidden_layers", 26},     {"num_attention_heads", 8},  {"num_key_value_heads", 4},
    {"head_dim", 256},
};

/// The transformers default of `key` for `family` that shardplan applies (0: none, the key is required).
[[nodiscard]] constexpr Index family_default(ModelFamily family, std::string_view key) {
  if (family == ModelFamily::gemma3_text) {
    for (const KeyDefault& entry : kGemma3TextDefaults) {
      if (entry.key == key) return entry.value;
    }
  }
  if (family == ModelFamily::gemma2 && key == "head_dim") return 256;  // Gemma2Config's; hidden / heads is not it
  return 0;
}

/// Reads the top-level keys of one config, naming the model family in "missing" errors.
struct Fields {
  const JsonValue& config;
  ModelFamily family;

  /// A required integer >= minimum (a null is a wrong type, not a missing key).
  [[nodiscard]] constexpr Result<Index> required(std::string_view key, Index minimum = 1,
                                                 std::string_view why = {}) const {
    const JsonValue* value = config.find(key);
    if (value == nullptr && family_default(family, key) > 0) return family_default(family, key);
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
    case ModelFamily::qwen3:
    case ModelFamily::gemma2:
    case ModelFamily::gemma3_text:
    case ModelFamily::phi3:
    case ModelFamily::olmo2:
    case ModelFamily::granite:
    case ModelFamily::cohere2: return Ok{};
    case ModelFamily::mixtral: {
      SHARDPLAN_TRY(c.num_experts, fields.required("num_local_experts"));
      SHARDPLAN_TRY(c.num_experts_per_tok, fields.required("num_experts_per_tok"));
      break;
    }
    case ModelFamily::qwen2_moe:
    case ModelFamily::qwen3_moe: {
      SHARDPLAN_TRY(c.num_experts, fields.required("num_experts"));
      SHARDPLAN_TRY(c.num_experts_per_tok, fields.required("num_experts_per_tok"));
      SHARDPLAN_TRY(c.moe_intermediate_size, fields.required("moe_intermediate_size"));
      if (c.family == ModelFamily::qwen2_moe) {  // every MoE layer also has one shared expert, gated
        SHARDPLAN_TRY(c.shared_expert_intermediate_size, fields.required("shared_expert_intermediate_size"));
      }
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
    case ModelFamily::deepseek_v2:
    case ModelFamily::deepseek_v3:
    case ModelFamily::glm4_moe: {
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

/// deepseek_v2/v3's multi-head latent attention. q_lora_rank may be null (no query compression, as in V2-Lite).
constexpr Status read_mla(const Fields& fields, ModelConfig& c) {
  if (!is_mla_family(c.family)) return Ok{};
  if (!fields.config.contains("q_lora_rank")) {
    return make_error(ErrorCode::invalid_argument, "q_lora_rank")
           << "missing (required for " << to_string(c.family) << "; null means no query compression)";
  }
  SHARDPLAN_TRY(c.q_lora_rank, fields.optional("q_lora_rank", 0));
  SHARDPLAN_TRY(c.kv_lora_rank, fields.required("kv_lora_rank"));
  SHARDPLAN_TRY(c.qk_nope_head_dim, fields.required("qk_nope_head_dim"));
  SHARDPLAN_TRY(c.qk_rope_head_dim, fields.required("qk_rope_head_dim"));
  SHARDPLAN_TRY(c.v_head_dim, fields.required("v_head_dim"));
  return Ok{};
}

}  // namespace config_json_detail

namespace config_json_detail {

/// The decoder of one (text) config; `top` is the whole file, whose quantization_config and torch_dtype apply. With
/// `unknown_type_from_checkpoint`, a model_type without a family rule is family `other` instead of an error.
constexpr Result<ModelConfig> read_decoder(const JsonValue& config, const JsonValue& top, std::string_view model_type,
                                           std::string_view name, bool unknown_type_from_checkpoint) {
  ModelConfig c;
  c.name = FixedString<48>(name);
  const auto family = parse_model_family(model_type);
  if (!family.ok() && !unknown_type_from_checkpoint) return family.error();
  c.family = family.ok() ? *family : ModelFamily::other;
  const Fields fields{config, c.family};

  SHARDPLAN_TRY(c.hidden_size, fields.required("hidden_size"));
  SHARDPLAN_TRY(c.num_hidden_layers, fields.required("num_hidden_layers"));
  SHARDPLAN_TRY(c.num_attention_heads, fields.required("num_attention_heads"));
  SHARDPLAN_TRY(c.vocab_size, fields.required("vocab_size"));
  const Index kv_default = family_default(c.family, "num_key_value_heads");
  SHARDPLAN_TRY(c.num_key_value_heads,
                fields.optional("num_key_value_heads", kv_default > 0 ? kv_default : c.num_attention_heads));
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return make_error(ErrorCode::invalid_argument, "num_key_value_heads")
           << "num_attention_heads " << c.num_attention_heads << " is not a multiple of num_key_value_heads "
           << c.num_key_value_heads;
  }
  SHARDPLAN_CHECK(read_experts(fields, c));
  SHARDPLAN_CHECK(read_mla(fields, c));

  // The dense MLP width: every layer of a dense model, the expert width of mixtral and gpt_oss, and the dense layers
  // of the other MoE families when they have any.
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

  const bool divisible = c.hidden_size % c.num_attention_heads == 0;
  if (c.is_mla()) {
    // The q/k head; v heads are v_head_dim.
    SHARDPLAN_TRY(c.head_dim, checked_add(c.qk_nope_head_dim, c.qk_rope_head_dim, "qk_rope_head_dim"));
  } else if (c.family == ModelFamily::cohere2) {
    // Cohere2Config sets head_dim = hidden_size / num_attention_heads whatever the file says.
    c.head_dim = divisible ? c.hidden_size / c.num_attention_heads : 0;
  } else {
    const Index fallback = family_default(c.family, "head_dim");
    SHARDPLAN_TRY(c.head_dim, fields.optional("head_dim", fallback > 0   ? fallback
                                                          : divisible ? c.hidden_size / c.num_attention_heads
                                                                      : 0));
  }
  if (c.head_dim == 0) {
    return make_error(ErrorCode::invalid_argument, "head_dim")
           << "missing, and hidden_size " << c.hidden_size << " is not a multiple of num_attention_heads "
           << c.num_attention_heads;
  }

  const bool ties_by_default = c.family == ModelFamily::gemma2 || c.family == ModelFamily::gemma3_text ||
                               c.family == ModelFamily::cohere2;
  SHARDPLAN_TRY(c.tie_word_embeddings, fields.flag("tie_word_embeddings", ties_by_default));
  switch (c.family) {
    case ModelFamily::qwen2: c.attention_bias = true; break;  // q/k/v are always biased; the key does not exist
    case ModelFamily::qwen2_moe: {  // q/k/v biases under their own key (absent in older configs: biased)
      SHARDPLAN_TRY(c.attention_bias, fields.flag("qkv_bias", true));
      break;
    }
    case ModelFamily::mixtral:
    case ModelFamily::deepseek_v3:
    case ModelFamily::phi3: break;  // no biased variant there
    default: {
      SHARDPLAN_TRY(c.attention_bias, fields.flag("attention_bias", c.family == ModelFamily::gpt_oss));
      break;
    }
  }
  if (c.family == ModelFamily::llama || c.family == ModelFamily::granite) {  // LlamaMLP, GraniteMLP: bias=mlp_bias
    SHARDPLAN_TRY(c.mlp_bias, fields.flag("mlp_bias", false));
  }
  c.qk_norm = c.family == ModelFamily::qwen3 || c.family == ModelFamily::qwen3_moe ||
              c.family == ModelFamily::gemma3_text || c.family == ModelFamily::olmo2;
  if (c.family == ModelFamily::glm4_moe) {
    SHARDPLAN_TRY(c.qk_norm, fields.flag("use_qk_norm", false));
  }
  SHARDPLAN_TRY(c.quantization, quantization_from_json(top));
  SHARDPLAN_TRY(c.dtype_bytes, read_dtype_bytes(top.contains("torch_dtype") || top.contains("dtype") ? top : config));
  return c;
}

/// The text model type of a multimodal config whose text_config does not say (transformers' sub-config default).
[[nodiscard]] constexpr std::string_view text_model_type(std::string_view model_type) {
  return model_type == "gemma3" ? std::string_view("gemma3_text") : std::string_view{};
}

}  // namespace config_json_detail

/// Reads an HF config.json. `name` becomes ModelConfig::name and the field of JSON syntax errors
/// ("config.json: line 3, column 17: expected ',' or '}' after an object member, found ']'"). A config with a
/// `text_config` object is read through it (see the top of this file). With `unknown_type_from_checkpoint` (the
/// caller has the checkpoint's tensors, model/checkpoint_inventory.hpp), a model_type without a family rule is family
/// `other` instead of an error.
[[nodiscard]] constexpr Result<ModelConfig> model_config_from_json(std::string_view text,
                                                                   std::string_view name = "config.json",
                                                                   bool unknown_type_from_checkpoint = false) {
  SHARDPLAN_TRY(const JsonValue root, parse_json(text, name));
  SHARDPLAN_TRY(const JsonValue* config, root.object_value(name));
  const JsonValue* text_config = config->find("text_config");
  if (text_config == nullptr || text_config->is_null()) {
    SHARDPLAN_TRY(const std::string_view model_type, config->get_string("model_type"));
    return config_json_detail::read_decoder(*config, *config, model_type, name, unknown_type_from_checkpoint);
  }
  SHARDPLAN_TRY(const JsonValue* decoder, text_config->object_value("text_config"));
  std::string_view model_type;
  if (decoder->contains("model_type")) {
    SHARDPLAN_TRY(model_type, decoder->get_string("model_type", "text_config.model_type"));
  } else {
    SHARDPLAN_TRY(const std::string_view outer, config->get_string("model_type"));
    model_type = config_json_detail::text_model_type(outer);
    if (model_type.empty()) {
      return make_error(ErrorCode::invalid_argument, "text_config.model_type")
             << "missing (the text model of '" << outer.substr(0, 40) << "' is not known)";
    }
  }
  Result<ModelConfig> read =
      config_json_detail::read_decoder(*decoder, *config, model_type, name, unknown_type_from_checkpoint);
  if (read.ok()) return read;
  const std::string_view failed = read.error().field.view();
  const bool top_level = failed.starts_with("quantization_config") ||
                         ((failed == "torch_dtype" || failed == "dtype") && config->contains(failed));
  if (top_level) return read;
  Error error = read.error();  // a field of the text decoder: say where it is
  FixedString<48> field("text_config.");
  field << error.field.view();
  error.field = field;
  return error;
}

}  // namespace shardplan
