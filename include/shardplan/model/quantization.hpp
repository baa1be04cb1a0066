#pragma once
// Checkpoint quantization schemes, one row each: the name, the scale blocks and the bits per weight, scale and zero.
// Both the validity rule on per-rank shapes (model/plan_rules.hpp) and the packed byte counts (model/sizing.hpp) read
// this table, so a block size is written once.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

/// How the checkpoint's linear weights are quantized (the validity rules about block sizes depend on it).
enum class Quantization { none, fp8_block128, mxfp4, gptq128 };

/// One scheme. A weight [out, in] (the other dims, e.g. experts, count as more rows) is stored as
/// `weight_bits` per element, plus, per block of `out_block` × `in_block` elements, a scale of `scale_bits` and a
/// zero point of `zero_bits`. A per-rank shape must not cut a block: `out` a multiple of `out_block` and `in` a
/// multiple of `in_block`, except that with `in_cut_only_when_rowwise` the input blocks (GPTQ's groups, computed
/// per rank) matter only when the weight is split along its input.
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
};

[[nodiscard]] constexpr bool quantization_table_in_order() {
  for (std::size_t i = 0; i < std::size(kQuantizationSchemes); ++i) {
    if (kQuantizationSchemes[i].id != static_cast<Quantization>(i)) return false;
  }
  return true;
}
static_assert(quantization_table_in_order() && std::size(kQuantizationSchemes) ==
                                                   static_cast<std::size_t>(Quantization::gptq128) + 1,
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

/// Whether a per-rank weight of `out` × `in` keeps the scheme's blocks whole; `rowwise`: split along its input.
[[nodiscard]] constexpr bool keeps_quantization_blocks(const QuantizationScheme& scheme, Index out, Index in,
                                                       bool rowwise) {
  const bool in_matters = !scheme.in_cut_only_when_rowwise || rowwise;
  return out % scheme.out_block == 0 && (!in_matters || in % scheme.in_block == 0);
}

/// Bytes of `numel` elements stored as `rows` × `in` (rows: every dim but the input one; `out` is the output dim,
/// rows / out the other dims) under a quantized scheme: packed weights, then scales and zeros per block, each
/// rounded up to whole bytes. Overflow is an error in field `field`.
[[nodiscard]] constexpr Result<Index> quantized_bytes(const QuantizationScheme& scheme, Index numel, Index rows,
                                                      Index out, Index in, std::string_view field) {
  SHARDPLAN_TRY(const Index weight_bits, checked_mul(numel, scheme.weight_bits, field));
  const Index others = rows / (out == 0 ? 1 : out);  // e.g. the experts of a fused expert weight
  const Index blocks_each = ceil_div(out, scheme.out_block) * ceil_div(in, scheme.in_block);  // <= out * in
  SHARDPLAN_TRY(const Index blocks, checked_mul(blocks_each, others, field));
  SHARDPLAN_TRY(const Index scale_bits, checked_mul(blocks, scheme.scale_bits, field));
  SHARDPLAN_TRY(const Index zero_bits, checked_mul(blocks, scheme.zero_bits, field));
  const Index parts[] = {ceil_div(weight_bits, 8), ceil_div(scale_bits, 8), ceil_div(zero_bits, 8)};
  return checked_sum(parts, field);
}

}  // namespace shardplan
