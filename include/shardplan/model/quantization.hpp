#pragma once
// Checkpoint quantization schemes, one row each: the name, the scale blocks and the bits per weight, scale and zero.
// Both the validity rule on per-rank shapes (model/plan_rules.hpp) and the packed byte counts (model/sizing.hpp) read
// this table, so a block size is written once.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/json.hpp"

namespace shardplan {

/// How the checkpoint's linear weights are quantized (the validity rules about block sizes depend on it).
enum class Quantization { none, fp8_block128, mxfp4, gptq128, fp8_tensor, fp8_channel };

/// One scheme. A weight [out, in] (the other dims, e.g. experts, count as more rows) is stored as
/// `weight_bits` per element, plus, per block of `out_block` × `in_block` elements, a scale of `scale_bits` and a
/// zero point of `zero_bits`. A block size of 0 means the whole dim: fp8 per-tensor has one scale per tensor (0 × 0),
/// per-channel one per output row (1 × 0). A per-rank shape must not cut a block: `out` a multiple of `out_block` and
/// `in` a multiple of `in_block`, except that with `in_cut_only_when_rowwise` the input blocks (GPTQ's groups,
/// computed per rank) matter only when the weight is split along its input. Scales are counted per rank from the
/// local shape, so a per-channel scale is sharded with the rows it scales (colwise) and whole on every rank when the
/// weight is split along its input (rowwise); a per-tensor scale is whole on every rank.
struct QuantizationScheme {
  Quantization id = Quantization::none;
  std::string_view name;
  Index out_block = 1;
  Index in_block = 1;
  bool in_cut_only_when_rowwise = false;
  Index weight_bits = 0;  // 0: unquantized (the model's dtype)
  Index scale_bits = 0;
  Index zero_bits = 0;
};

inline constexpr QuantizationScheme kQuantizationSchemes[] = {
    {Quantization::none, "none"},
    // DeepSeek-V3 / Qwen3 FP8: 1 byte each, an fp32 scale per 128x128 block.
    {Quantization::fp8_block128, "fp8-block128", 128, 128, false, 8, 32, 0},
    // gpt-oss's MXFP4: 4 bits each, a 1-byte e8m0 scale per 32 along the input.
    {Quantization::mxfp4, "mxfp4", 1, 32, false, 4, 8, 0},
    // GPTQ / AWQ, group size 128: 4 bits each, per group of 128 inputs an fp16 scale and a 4-bit zero.
    {Quantization::gptq128, "gptq128", 1, 128, true, 4, 16, 4},
    // fp8 with one fp32 scale per weight tensor (quant_method "fp8" without weight_block_size; compressed-tensors
    // strategy "tensor"). vLLM keeps these scales in fp32.
    {Quantization::fp8_tensor, "fp8-tensor", 0, 0, false, 8, 32, 0},
    // fp8 with one fp32 scale per output row (compressed-tensors strategy "channel", a [out, 1] scale).
    {Quantization::fp8_channel, "fp8-channel", 1, 0, false, 8, 32, 0},
};

[[nodiscard]] constexpr bool quantization_table_in_order() {
  for (std::size_t i = 0; i < std::size(kQuantizationSchemes); ++i) {
    if (kQuantizationSchemes[i].id != static_cast<Quantization>(i)) return false;
  }
  return true;
}
static_assert(quantization_table_in_order() && std::size(kQuantizationSchemes) ==
                                                   static_cast<std::size_t>(Quantization::fp8_channel) + 1,
              "kQuantizationSchemes must list every Quantization, in enum order");

/// The row of `quantization`. Precondition: a Quantization enumerator (every one has a row, see above).
[[nodiscard]] constexpr const QuantizationScheme& quantization_scheme(Quantization quantization) {
  return kQuantizationSchemes[static_cast<std::size_t>(quantization)];
}

[[nodiscard]] constexpr std::string_view to_string(Quantization quantization) {
  return quantization_scheme(quantization).name;
}

[[nodiscard]] constexpr Result<Quantization> parse_quantization(std::string_view text) {
  for (const QuantizationScheme& scheme : kQuantizationSchemes) {
    if (scheme.name == text) return scheme.id;
  }
  auto error = make_error(ErrorCode::parse_error, "quant") << "unknown quantization '" << text.substr(0, 40)
                                                           << "' (known: ";
  for (std::size_t i = 0; i < std::size(kQuantizationSchemes); ++i) {
    error << (i > 0 ? ", " : "") << kQuantizationSchemes[i].name;
  }
  return error << ")";
}

/// Scale blocks along a dim of `size`: one when the block is the whole dim (0), else one per started block.
[[nodiscard]] constexpr Index quantization_blocks_along(Index size, Index block) {
  return block == 0 ? 1 : ceil_div(size, block);
}

/// Whether a per-rank weight of `out` × `in` keeps the scheme's blocks whole; `rowwise`: split along its input.
/// A whole-dim block (0) is never cut: every rank keeps its own copy of the scale.
[[nodiscard]] constexpr bool keeps_quantization_blocks(const QuantizationScheme& scheme, Index out, Index in,
                                                       bool rowwise) {
  const bool in_matters = !scheme.in_cut_only_when_rowwise || rowwise;
  const bool out_kept = scheme.out_block == 0 || out % scheme.out_block == 0;
  const bool in_kept = !in_matters || scheme.in_block == 0 || in % scheme.in_block == 0;
  return out_kept && in_kept;
}

/// Bytes of `numel` elements stored as `rows` × `in` (rows: every dim but the input one; `out` is the output dim,
/// rows / out the other dims) under a quantized scheme: packed weights, then scales and zeros per block, each
/// rounded up to whole bytes. Overflow is an error in field `field`.
[[nodiscard]] constexpr Result<Index> quantized_bytes(const QuantizationScheme& scheme, Index numel, Index rows,
                                                      Index out, Index in, std::string_view field) {
  SHARDPLAN_TRY(const Index weight_bits, checked_mul(numel, scheme.weight_bits, field));
  const Index others = rows / (out == 0 ? 1 : out);  // e.g. the experts of a fused expert weight
  // <= out * in, which the caller's numel bounds
  const Index blocks_each =
      quantization_blocks_along(out, scheme.out_block) * quantization_blocks_along(in, scheme.in_block);
  SHARDPLAN_TRY(const Index blocks, checked_mul(blocks_each, others, field));
  SHARDPLAN_TRY(const Index scale_bits, checked_mul(blocks, scheme.scale_bits, field));
  SHARDPLAN_TRY(const Index zero_bits, checked_mul(blocks, scheme.zero_bits, field));
  const Index parts[] = {ceil_div(weight_bits, 8), ceil_div(scale_bits, 8), ceil_div(zero_bits, 8)};
  return checked_sum(parts, field);
}

/// Whether a scheme quantizes every linear projection of the decoder layers (fp8 in all its forms and GPTQ do;
/// mxfp4 is gpt-oss's and quantizes only the experts).
[[nodiscard]] constexpr bool quantizes_projections(Quantization quantization) {
  return quantization != Quantization::none && quantization != Quantization::mxfp4;
}

namespace quantization_detail {

/// An integer of a quantization config, >= 1.
[[nodiscard]] constexpr Result<Index> positive(const JsonValue& value, std::string_view field) {
  SHARDPLAN_TRY(const Index number, value.int_value(field));
  if (number < 1) return make_error(ErrorCode::invalid_argument, field) << "must be > 0, got " << number;
  return number;
}

/// A fp8 block shape ([128, 128] is the only one whose rules shardplan knows), at `field`.
[[nodiscard]] constexpr Result<Quantization> fp8_blocks(std::span<const JsonValue> block, std::string_view field) {
  if (block.size() != 2) {
    return make_error(ErrorCode::invalid_argument, field)
           << "expected [128, 128], got " << static_cast<Index>(block.size()) << " sizes";
  }
  for (std::size_t i = 0; i < 2; ++i) {
    FixedString<128> element;
    element << field << "[" << static_cast<Index>(i) << "]";
    if (!block[i].is_int()) {
      return make_error(ErrorCode::invalid_argument, element.view())
             << "expected a positive integer, got " << block[i].describe();
    }
    SHARDPLAN_TRY(const Index size, positive(block[i], element.view()));
    if (size != 128) {
      return make_error(ErrorCode::invalid_argument, element.view())
             << "only 128-wide fp8 blocks are supported, got " << size;
    }
  }
  return Quantization::fp8_block128;
}

/// An error about group `group` of config_groups: field "quantization_config.config_groups" (error fields are
/// short), the path inside the group first in the message.
[[nodiscard]] constexpr Error in_group(std::string_view group, const Error& error) {
  return make_error(error.code, "quantization_config.config_groups")
         << group.substr(0, 40) << "." << error.field.view() << ": " << error.message.view();
}

/// The fp8 scheme of one group's `weights`: 8-bit float with strategy tensor, channel, or block with
/// block_structure [128, 128]. Fields are relative to the group ("weights.strategy").
[[nodiscard]] constexpr Result<Quantization> compressed_group(const JsonValue& group) {
  SHARDPLAN_TRY(const JsonValue* weights, group.get_object("weights", "weights"));
  SHARDPLAN_TRY(const Index bits, weights->get_int("num_bits", "weights.num_bits"));
  SHARDPLAN_TRY(const std::string_view type, weights->get_string("type", "weights.type"));
  if (bits != 8 || type != "float") {
    return make_error(ErrorCode::invalid_argument, "weights")
           << "only 8-bit float (fp8) weights are supported, got " << bits << "-bit " << type.substr(0, 20);
  }
  SHARDPLAN_TRY(const std::string_view strategy, weights->get_string("strategy", "weights.strategy"));
  if (strategy == "tensor") return Quantization::fp8_tensor;
  if (strategy == "channel") return Quantization::fp8_channel;
  if (strategy == "block") {
    SHARDPLAN_TRY(const std::span<const JsonValue> block,
                  weights->get_array("block_structure", "weights.block_structure"));
    return fp8_blocks(block, "weights.block_structure");
  }
  return make_error(ErrorCode::invalid_argument, "weights.strategy")
         << "unsupported '" << strategy.substr(0, 30) << "' (supported: tensor, channel, block)";
}

/// compressed-tensors: every `config_groups.*.weights` must be fp8 with the same strategy; the scheme is that
/// strategy's.
[[nodiscard]] constexpr Result<Quantization> compressed_tensors(const JsonValue& quant) {
  constexpr std::string_view kGroups = "quantization_config.config_groups";
  SHARDPLAN_TRY(const JsonValue* groups, quant.get_object("config_groups", kGroups));
  if (groups->members().empty()) return make_error(ErrorCode::invalid_argument, kGroups) << "has no group";
  std::optional<Quantization> found;
  for (const JsonMember& member : groups->members()) {
    if (!member.value.is_object()) {
      return make_error(ErrorCode::invalid_argument, kGroups)
             << member.key().substr(0, 40) << ": expected an object, got " << member.value.describe();
    }
    const Result<Quantization> scheme = compressed_group(member.value);
    if (!scheme.ok()) return in_group(member.key(), scheme.error());
    if (found && *found != *scheme) {
      return make_error(ErrorCode::invalid_argument, kGroups)
             << "groups mix " << to_string(*found) << " and " << to_string(*scheme) << " weights";
    }
    found = *scheme;
  }
  return *found;
}

}  // namespace quantization_detail

/// The scheme of a config.json's `quantization_config` (absent or null: none). Only the schemes whose block rules
/// shardplan knows are accepted: quant_method "fp8" (per-tensor without weight_block_size, 128x128 blocks with it),
/// "compressed-tensors" fp8 (strategy tensor, channel or block), "mxfp4", "gptq"/"awq" 4-bit with group_size 128.
[[nodiscard]] constexpr Result<Quantization> quantization_from_json(const JsonValue& config) {
  const JsonValue* found = config.find("quantization_config");
  if (found == nullptr || found->is_null()) return Quantization::none;
  SHARDPLAN_TRY(const JsonValue* quant, found->object_value("quantization_config"));
  SHARDPLAN_TRY(const std::string_view method, quant->get_string("quant_method", "quantization_config.quant_method"));
  if (method == "mxfp4") return Quantization::mxfp4;
  if (method == "fp8") {
    constexpr std::string_view kField = "quantization_config.weight_block_size";
    const JsonValue* block = quant->find("weight_block_size");
    if (block == nullptr || block->is_null()) return Quantization::fp8_tensor;
    SHARDPLAN_TRY(const std::span<const JsonValue> sizes, block->array_value(kField));
    return quantization_detail::fp8_blocks(sizes, kField);
  }
  if (method == "compressed-tensors") return quantization_detail::compressed_tensors(*quant);
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
         << "' (supported: fp8, compressed-tensors fp8, mxfp4, gptq or awq with group_size 128)";
}

}  // namespace shardplan
