#pragma once
// Sizing: exact per-rank memory from the per-rank local shapes of every parameter, and the busiest rank.
//   parameters    local elements × bytes (quantized weights: their packed bytes plus their scales)
//   gradients     local elements × 2 (bf16)
//   optimizer     Adam in mixed precision: fp32 master + two fp32 moments = 12 bytes per local element, sharded by dp
//   activations   per layer, Korthikanti et al. 2022 with flash attention (the 5·a·s/h term vanishes):
//                 s·b·h·34/t with sequence parallelism, s·b·h·(10 + 24/t) without; s = seq / cp
//   KV cache      per token: 2 · layers · kv heads per rank · head_dim · 2 bytes; MLA caches (kv_lora + rope) per layer
//   communication per forward step: 2 TP all-reduces of s·b·h·2 bytes per layer (ring: 2(t-1)/t of it sent), and per
//                 MoE layer an all-to-all dispatch + combine of s·b·top_k·h·2 bytes ((ep-1)/ep of it sent)
// Ranks are (pipeline stage, tp rank, ep rank); dp replicas are identical. The first stage holds the embedding, the
// last the final norm and lm_head.
#include "shardplan/core/cxx20.hpp"

#include <vector>

#include "shardplan/llm/expert_placement.hpp"
#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/model/quantization.hpp"
#include "shardplan/model/validate.hpp"

namespace shardplan {

struct RankMemory {
  Index stage = 0;
  Index tp_rank = 0;
  Index ep_rank = 0;
  Index params = 0;  // elements
  Index params_bytes = 0;
  Index grads_bytes = 0;
  Index optimizer_bytes = 0;
  Index activation_bytes = 0;
  Index kv_cache_bytes_per_token = 0;
  Index tp_comm_bytes = 0;
  Index ep_comm_bytes = 0;
  [[nodiscard]] constexpr Index total_bytes() const {
    return params_bytes + grads_bytes + optimizer_bytes + activation_bytes;
  }
};

struct SizeReport {
  Index total_params = 0;
  std::vector<RankMemory> ranks;  // every (stage, tp rank, ep rank)
  [[nodiscard]] constexpr const RankMemory& busiest() const {
    const RankMemory* most = &ranks.front();
    for (const RankMemory& rank : ranks) {
      if (rank.total_bytes() > most->total_bytes()) most = &rank;
    }
    return *most;
  }
};

/// Bytes of a local weight of `shape` stored with `quantization` (`dtype_bytes` when unquantized; the scheme's
/// packed weights, scales and zeros otherwise, see model/quantization.hpp). `input_dim` is the dim the weight reduces
/// over (-1 for [out, in], -2 for gpt-oss's [E, in, out]). Errors: overflow (field "parameters").
[[nodiscard]] constexpr Result<Index> weight_bytes(const Shape& shape, bool quantized, Quantization quantization,
                                                   Index dtype_bytes, Index input_dim = -1) {
  SHARDPLAN_TRY(const Index numel, checked_product(shape, "parameters"));
  if (!quantized || quantization == Quantization::none || shape.size() < 2) {
    return checked_mul(numel, dtype_bytes, "parameters");
  }
  const auto rank = static_cast<Index>(shape.size());
  const Index in = shape[static_cast<std::size_t>(rank + input_dim)];
  const Index rows = numel / (in == 0 ? 1 : in);  // every dim but the input one
  const Index out = shape[static_cast<std::size_t>(input_dim == -1 ? rank - 2 : rank - 1)];
  return quantized_bytes(quantization_scheme(quantization), numel, rows, out, in, "parameters");
}

namespace sizing_detail {

/// A product of per-rank figures. Overflow names `field` (seq for activations and communication: what makes those
/// large) and every factor, so that the command line blames the flag with the numbers.
template <std::size_t N>
[[nodiscard]] constexpr Result<Index> sized_product(std::string_view what, const Index (&factors)[N],
                                                      std::string_view field = "seq") {
  const auto product = checked_product(factors);
  if (product.ok()) return product;
  auto error = make_error(ErrorCode::overflow, field) << what << " ";
  for (std::size_t i = 0; i < N; ++i) error << (i > 0 ? " * " : "") << factors[i];
  return error << " overflows int64";
}

}  // namespace sizing_detail

/// Per-rank memory of a model under a plan (the family's default when null). Invalid plans are sized too (KV heads
/// that `forbid` refuses are sized as replicated): validate_model_plan says whether they run.
[[nodiscard]] constexpr Result<SizeReport> size_plan(const ModelConfig& config, const ParallelConfig& parallel,
                                                     const Plan* plan = nullptr) {
  SHARDPLAN_CHECK(detail::check_inputs(parallel));
  SHARDPLAN_TRY(const Inventory inventory, parameter_inventory(config));
  const Plan chosen = plan_or_default(plan, config, parallel);
  ParallelConfig sizing = parallel;
  sizing.kv_policy = ShortSegmentPolicy::replicate;
  SHARDPLAN_TRY(const std::vector<ShardedParameter> params, shard_parameters(inventory, chosen, config, sizing));
  if (parallel.pp > config.num_hidden_layers) {
    return make_error(ErrorCode::invalid_argument, "pp")
           << parallel.pp << " pipeline stages for " << config.num_hidden_layers << " layers";
  }
  SHARDPLAN_TRY(const PipelineSplit split, PipelineSplit::create(config.num_hidden_layers, parallel.pp));
  std::optional<ExpertPartition> experts;
  if (config.is_moe()) {
    SHARDPLAN_TRY(experts, expert_partition(config, parallel));
  }

  SHARDPLAN_CHECK(rules::world_product(parallel));  // so that every rank number fits

  // Bytes and elements of one instance of each parameter on each member of its axis.
  struct PerMember {
    std::vector<Index> bytes;
    std::vector<Index> elements;
  };
  std::vector<PerMember> local(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ShardedParameter& p = params[i];
    const Index members = p.axis == StyleAxis::none ? 1 : p.shards;
    for (Index member = 0; member < members; ++member) {
      auto shape = local_shape(p, member, sizing);
      if (!shape.ok()) {  // a layout the rules refuse (e.g. heads not divisible): size its chunked split
        SHARDPLAN_TRY(const Mesh mesh, Mesh::create(AxisSizes{members}));
        SHARDPLAN_TRY(const Layout layout, Layout::create(p.param.shape, mesh, Placements{p.sharding.placement}));
        SHARDPLAN_TRY(shape, layout.local_shape(member));
      }
      SHARDPLAN_TRY(const Index elements, checked_product(*shape, "parameters"));
      SHARDPLAN_TRY(const Index bytes, weight_bytes(*shape, p.param.quantized, config.quantization,
                                                    p.param.dtype_bytes > 0 ? p.param.dtype_bytes : config.dtype_bytes,
                                                    p.param.input_dim));
      local[i].elements.push_back(elements);
      local[i].bytes.push_back(bytes);
    }
  }

  using sizing_detail::sized_product;
  SizeReport report;
  report.total_params = total_parameters(inventory);  // parameter_inventory checked that it fits
  const Index micro_batch[] = {parallel.seq / parallel.cp, parallel.batch};
  SHARDPLAN_TRY(const Index tokens, sized_product("tokens per micro-batch: seq / cp * batch =", micro_batch, "batch"));
  const Index h = config.hidden_size;
  const IntervalSet moe_layers_all = moe_layer_set(config);
  for (Index stage = 0; stage < parallel.pp; ++stage) {
    const PipelineStage layers = split.stage_unchecked(stage);
    const IntervalSet stage_layers = IntervalSet::range(layers.first_layer, layers.end_layer());
    for (Index t = 0; t < parallel.tp; ++t) {
      for (Index e = 0; e < parallel.ep; ++e) {
        RankMemory rank{stage, t, e};
        for (std::size_t i = 0; i < params.size(); ++i) {
          const ShardedParameter& p = params[i];
          Index copies = 0;
          if (p.param.is_per_layer()) {
            copies = intersect(p.param.layers, stage_layers).size();
          } else {
            copies = global_on_stage(p, stage, parallel.pp) ? 1 : 0;
          }
          if (p.param.experts > 0) {  // at most the group's instances, whose count the inventory checked
            copies *= p.axis == StyleAxis::ep ? experts->num_local(e) : p.param.experts;
          }
          const auto m = static_cast<std::size_t>(axis_member(p, parallel, t, e));
          SHARDPLAN_TRY(const Index elements, checked_mul(copies, local[i].elements[m], "parameters"));
          SHARDPLAN_TRY(const Index bytes, checked_mul(copies, local[i].bytes[m], "parameters"));
          SHARDPLAN_TRY(rank.params, checked_add(rank.params, elements, "parameters"));
          SHARDPLAN_TRY(rank.params_bytes, checked_add(rank.params_bytes, bytes, "parameters"));
        }
        SHARDPLAN_TRY(rank.grads_bytes, sized_product("gradients: parameters * 2 =", {rank.params, 2}, "parameters"));
        SHARDPLAN_TRY(const Index optimizer,
                      sized_product("optimizer: parameters * 12 =", {rank.params, 12}, "parameters"));
        rank.optimizer_bytes = ceil_div(optimizer, parallel.dp);
        if (tokens > 0) {
          Index per_layer = 0;
          if (parallel.sequence_parallel) {
            SHARDPLAN_TRY(const Index all, sized_product("activations: tokens * hidden_size * 34 =", {tokens, h, 34}));
            per_layer = ceil_div(all, parallel.tp);
          } else {
            SHARDPLAN_TRY(const Index whole, sized_product("activations: tokens * hidden_size * 10 =", {tokens, h, 10}));
            SHARDPLAN_TRY(const Index split_part,
                          sized_product("activations: tokens * hidden_size * 24 =", {tokens, h, 24}));
            SHARDPLAN_TRY(per_layer, checked_add(whole, ceil_div(split_part, parallel.tp), "seq"));
          }
          SHARDPLAN_TRY(rank.activation_bytes,
                        sized_product("activations: per layer * layers =", {per_layer, layers.num_layers}));
          if (parallel.tp > 1) {
            SHARDPLAN_TRY(const Index sent, sized_product("tp all-reduces: layers * 4 * (tp - 1) * tokens * "
                                                            "hidden_size * 2 =",
                                                            {layers.num_layers, 4, parallel.tp - 1, tokens, h, 2}));
            rank.tp_comm_bytes = sent / parallel.tp;
          }
          if (config.is_moe() && parallel.ep > 1) {
            const Index moe_layers = intersect(moe_layers_all, stage_layers).size();
            SHARDPLAN_TRY(const Index sent,
                          sized_product("ep all-to-alls: moe layers * 2 * tokens * top_k * hidden_size * 2 * (ep - "
                                          "1) =",
                                          {moe_layers, 2, tokens, config.num_experts_per_tok, h, 2, parallel.ep - 1}));
            rank.ep_comm_bytes = sent / parallel.ep;
          }
        }
        if (config.is_mla()) {
          SHARDPLAN_TRY(const Index latent_dim, checked_add(config.kv_lora_rank, config.qk_rope_head_dim, "kv_lora_rank"));
          const Index latent[] = {latent_dim, layers.num_layers, 2};
          SHARDPLAN_TRY(rank.kv_cache_bytes_per_token, checked_product(latent, "kv_lora_rank"));
        } else {
          const Index kv_per_rank = kv_heads_per_rank(config.num_key_value_heads, parallel.tp);
          const Index cache[] = {2, layers.num_layers, kv_per_rank, config.head_dim, 2};
          SHARDPLAN_TRY(rank.kv_cache_bytes_per_token, checked_product(cache, "head_dim"));
        }
        const Index memory[] = {rank.params_bytes, rank.grads_bytes, rank.optimizer_bytes, rank.activation_bytes};
        SHARDPLAN_CHECK(checked_sum(memory, "total_bytes"));  // so that total_bytes() cannot overflow
        report.ranks.push_back(rank);
      }
    }
  }
  return report;
}

}  // namespace shardplan
