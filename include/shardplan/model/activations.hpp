#pragma once
// Activation memory of one rank: what the backward pass keeps per layer (Korthikanti et al., "Reducing Activation
// Recomputation in Large Transformer Models", 2022, with the families' real shapes) times the layers and
// micro-batches the pipeline schedule holds at its peak.
//
// Per layer and token, in bytes (16-bit activations), for the rank's share:
//   sequence terms   8h: the two norm inputs (4h), the attention input (2h), the MLP input (2h); whole on every tp
//                    rank, divided by tp with sequence parallelism
//   attention        2·q·d_qk + 2·k·d_qk + 2·k·d_v + 2·q·d_v for the rank's q query heads and k KV heads (GQA: k < q)
//                    (Q, K, V, and the output projection's input); MLA adds its whole latents 4·q_lora + 4·kv_lora +
//                    2·rope; eager attention (not flash) adds its softmax 2·q·s
//   dense MLP        6·I/tp (SwiGLU: the gate and up outputs 4I, the down projection's input 2I)
//   MoE MLP          top_k routed copies of the token, each 4h (the expert's input and output) + 6·I_e/etp, plus
//                    6·I_shared/tp for shared experts
// Recompute selective drops the eager softmax (flash attention never stores it); full keeps only the layer input, 2h
// (divided by tp with sequence parallelism). Without parallelism, MHA, a GeLU MLP of 4h and dropout, the paper's
// 34·h + 5·a·s per token is these terms plus its dropout masks (2h) and the extra softmax copies of dropout (3·a·s).
//
// Pipeline: 1F1B stage s holds min(M, pp - s) micro-batches; Megatron-LM's interleaved schedule with V model chunks
// per stage holds min(M·V, 2·(pp - s - 1) + (V - 1)·pp + 1) chunk micro-batches (a chunk is 1/V of the stage's
// layers). M = 0: enough micro-batches to fill the pipeline.
#include "shardplan/core/cxx20.hpp"

#include "shardplan/core/checked_math.hpp"
#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/model/config.hpp"
#include "shardplan/model/parallel.hpp"

namespace shardplan {

namespace activation_detail {

/// a0·a1·…, overflow blamed on `field` with every factor named, so the command line can blame the flag.
template <std::size_t N>
[[nodiscard]] constexpr Result<Index> product(std::string_view what, const Index (&factors)[N],
                                              std::string_view field = "seq") {
  const auto result = checked_product(factors);
  if (result.ok()) return result;
  auto error = make_error(ErrorCode::overflow, field) << what << " ";
  for (std::size_t i = 0; i < N; ++i) error << (i > 0 ? " * " : "") << factors[i];
  return error << " overflows int64";
}

template <std::size_t N>
[[nodiscard]] constexpr Result<Index> sum(const Index (&terms)[N], std::string_view field = "seq") {
  return checked_sum(terms, field);
}

}  // namespace activation_detail

/// Bytes one layer keeps per token on one rank, split by how tokens divide: `sequence` bytes are whole on every tp
/// rank unless sequence parallelism divides them, `rank` bytes are already the rank's share.
struct LayerActivationBytes {
  Index sequence = 0;
  Index rank = 0;
};

/// The per-token bytes of one decoder layer (an MoE layer when `moe`) on one rank. Overflow: field "hidden_size".
[[nodiscard]] constexpr Result<LayerActivationBytes> layer_activation_bytes(const ModelConfig& config,
                                                                            const ParallelConfig& parallel, bool moe) {
  using activation_detail::product;
  using activation_detail::sum;
  constexpr std::string_view kField = "hidden_size";
  const Index h = config.hidden_size;
  LayerActivationBytes out;
  if (parallel.recompute == Recompute::full) {  // the layer's input only
    out.sequence = 2 * h;
    return out;
  }
  out.sequence = 8 * h;  // hidden_size is at most 2^40 (parameter_inventory), so no overflow
  const Index tp = parallel.tp;
  const Index q_heads = ceil_div(config.num_attention_heads, tp);
  Index kv_heads = kv_heads_per_rank(config.num_key_value_heads, tp);
  Index qk_dim = config.head_dim;
  Index v_dim = config.head_dim;
  Index latent = 0;
  if (config.is_mla()) {  // K and V are per query head after kv_b_proj; the latents are whole on every rank
    kv_heads = q_heads;
    SHARDPLAN_TRY(qk_dim, checked_add(config.qk_nope_head_dim, config.qk_rope_head_dim, kField));
    v_dim = config.v_head_dim;
    SHARDPLAN_TRY(const Index q_latent, product("activations: 4 * q_lora_rank =", {4, config.q_lora_rank}, kField));
    SHARDPLAN_TRY(const Index kv_latent, product("activations: 4 * kv_lora_rank =", {4, config.kv_lora_rank}, kField));
    SHARDPLAN_TRY(latent, sum({q_latent, kv_latent, 2 * config.qk_rope_head_dim}, kField));
  }
  SHARDPLAN_TRY(const Index q, product("activations: 2 * q heads * qk dim =", {2, q_heads, qk_dim}, kField));
  SHARDPLAN_TRY(const Index k, product("activations: 2 * kv heads * qk dim =", {2, kv_heads, qk_dim}, kField));
  SHARDPLAN_TRY(const Index v, product("activations: 2 * kv heads * v dim =", {2, kv_heads, v_dim}, kField));
  SHARDPLAN_TRY(const Index o, product("activations: 2 * q heads * v dim =", {2, q_heads, v_dim}, kField));
  Index softmax = 0;
  if (!parallel.flash_attention && parallel.recompute == Recompute::none) {
    SHARDPLAN_TRY(softmax, product("activations: 2 * q heads * seq =", {2, q_heads, parallel.seq}));
  }
  Index mlp = 0;
  if (moe) {
    const Index expert_width = ceil_div(config.moe_intermediate_size, parallel.expert_tp());
    SHARDPLAN_TRY(const Index width, product("activations: 6 * expert width =", {6, expert_width}, kField));
    SHARDPLAN_TRY(const Index copy, checked_add(4 * h, width, kField));
    SHARDPLAN_TRY(const Index routed, product("activations: top_k * routed copy =", {config.num_experts_per_tok, copy},
                                              "num_experts_per_tok"));
    SHARDPLAN_TRY(const Index shared_width, checked_mul(config.moe_intermediate_size, config.num_shared_experts, kField));
    SHARDPLAN_TRY(const Index shared, product("activations: 6 * shared width =", {6, ceil_div(shared_width, tp)}, kField));
    SHARDPLAN_TRY(mlp, checked_add(routed, shared, kField));
  } else {
    SHARDPLAN_TRY(mlp, product("activations: 6 * intermediate / tp =", {6, ceil_div(config.intermediate_size, tp)},
                               kField));
  }
  SHARDPLAN_TRY(out.rank, sum({q, k, v, o, latent, softmax, mlp}, kField));
  return out;
}

/// Bytes one layer keeps on one rank for `tokens` tokens (a micro-batch's share of the sequence on this cp rank).
[[nodiscard]] constexpr Result<Index> layer_activations(const LayerActivationBytes& bytes, Index tokens,
                                                        const ParallelConfig& parallel) {
  using activation_detail::product;
  SHARDPLAN_TRY(const Index sequence, product("activations: tokens * sequence bytes =", {tokens, bytes.sequence}));
  SHARDPLAN_TRY(const Index rank, product("activations: tokens * per-rank bytes =", {tokens, bytes.rank}));
  return checked_add(parallel.sequence_parallel ? ceil_div(sequence, parallel.tp) : sequence, rank, "seq");
}

/// Micro-batches (1F1B) or chunk micro-batches (interleaved) pipeline stage `stage` holds at its peak.
[[nodiscard]] constexpr Index in_flight(const ParallelConfig& parallel, Index stage) {
  const Index pp = parallel.pp;
  const Index v = parallel.virtual_stages;
  const Index most = v <= 1 ? pp - stage : 2 * (pp - stage - 1) + (v - 1) * pp + 1;  // pp·v <= layers: no overflow
  const Index m = parallel.micro_batches;
  if (m <= 0 || m >= ceil_div(most, v <= 1 ? 1 : v)) return most;
  return v <= 1 ? m : m * v;  // < most
}

/// Checks the schedule's sizes against the model: micro-batches >= 0, virtual stages >= 1, and with V > 1, pp > 1
/// and the layers in pp·V equal chunks (Megatron-LM's requirement for the interleaved schedule).
[[nodiscard]] constexpr Status check_schedule(const ModelConfig& config, const ParallelConfig& parallel) {
  if (parallel.micro_batches < 0) {
    return make_error(ErrorCode::invalid_argument, "micro_batches") << "must be >= 1, got " << parallel.micro_batches;
  }
  if (parallel.virtual_stages < 1) {
    return make_error(ErrorCode::invalid_argument, "virtual_stages") << "must be >= 1, got " << parallel.virtual_stages;
  }
  if (parallel.virtual_stages == 1) return Ok{};
  if (parallel.pp < 2) {
    return make_error(ErrorCode::invalid_argument, "virtual_stages")
           << parallel.virtual_stages << " virtual stages need pp > 1 (the interleaved schedule), got pp " << parallel.pp;
  }
  const Index layers = config.num_hidden_layers;
  const auto chunks = checked_mul(parallel.pp, parallel.virtual_stages);
  if (!chunks.ok() || layers % *chunks != 0) {
    auto error = make_error(ErrorCode::not_divisible, "virtual_stages")
                 << layers << " layers do not split into pp * virtual stages = " << parallel.pp << " * "
                 << parallel.virtual_stages;
    if (chunks.ok()) error << " = " << *chunks;
    return error << " equal model chunks";
  }
  return Ok{};
}

/// Activation bytes of pipeline stage `stage` at its peak, given the summed per-rank bytes of one micro-batch through
/// every layer of the stage (`stage_bytes`): times the micro-batches in flight (1F1B), or times the chunk
/// micro-batches in flight over the V chunks (interleaved; each chunk 1/V of the stage, rounded up).
[[nodiscard]] constexpr Result<Index> stage_activations(Index stage_bytes, const ParallelConfig& parallel, Index stage) {
  const Index count = in_flight(parallel, stage);
  SHARDPLAN_TRY(const Index all, activation_detail::product("activations: stage bytes * micro-batches in flight =",
                                                            {stage_bytes, count}));
  return ceil_div(all, parallel.virtual_stages);
}

}  // namespace shardplan
