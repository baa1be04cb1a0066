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
#include <vector>

#include "shardplan/llm/expert_placement.hpp"
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

/// Bytes of a local weight of `shape` stored with `quantization` (`dtype_bytes` when unquantized).
/// `input_dim` is the dim the weight reduces over (-1 for [out, in], -2 for gpt-oss's [E, in, out]).
[[nodiscard]] constexpr Index weight_bytes(const Shape& shape, bool quantized, Quantization quantization,
                                           Index dtype_bytes, Index input_dim = -1) {
  Index numel = 1;
  for (Index size : shape) numel *= size;
  if (!quantized || quantization == Quantization::none || shape.size() < 2) return numel * dtype_bytes;
  const auto rank = static_cast<Index>(shape.size());
  const Index in = shape[static_cast<std::size_t>(rank + input_dim)];
  const Index rows = numel / (in == 0 ? 1 : in);  // every dim but the input one
  const Index out = shape[static_cast<std::size_t>(input_dim == -1 ? rank - 2 : rank - 1)];
  switch (quantization) {
    case Quantization::fp8_block128:  // 1 byte each, an fp32 scale per 128x128 block
      return numel + ceil_div(out, 128) * ceil_div(in, 128) * (rows / (out == 0 ? 1 : out)) * 4;
    case Quantization::mxfp4:  // 4 bits each, a 1-byte e8m0 scale per 32 along the input
      return ceil_div(numel, 2) + rows * ceil_div(in, 32);
    case Quantization::gptq128:  // 4 bits each, per group of 128 inputs an fp16 scale and a 4-bit zero
      return ceil_div(numel, 2) + rows * ceil_div(in, 128) * 2 + ceil_div(rows * ceil_div(in, 128), 2);
    case Quantization::none: break;
  }
  return numel * dtype_bytes;
}

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
      Index elements = 1;
      for (Index size : *shape) elements *= size;
      local[i].elements.push_back(elements);
      local[i].bytes.push_back(
          weight_bytes(*shape, p.param.quantized, config.quantization, config.dtype_bytes, p.param.input_dim));
    }
  }

  SizeReport report;
  report.total_params = total_parameters(inventory);
  const Index etp = parallel.expert_tp();
  const Index tokens = parallel.seq / parallel.cp * parallel.batch;
  const Index h = config.hidden_size;
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
            const bool last = p.contains("lm_head") || p.param.pattern.view().starts_with("model.norm");
            copies = (last ? stage == parallel.pp - 1 : stage == 0) ? 1 : 0;
          }
          if (p.param.experts > 0) {
            copies *= p.axis == StyleAxis::ep ? experts->num_local(e) : p.param.experts;
          }
          Index member = 0;
          if (p.axis == StyleAxis::tp) member = p.is_expert() ? t % etp : t;
          if (p.axis == StyleAxis::ep) member = p.param.experts > 0 ? 0 : e;
          const auto m = static_cast<std::size_t>(member);
          rank.params += copies * local[i].elements[m];
          rank.params_bytes += copies * local[i].bytes[m];
        }
        rank.grads_bytes = rank.params * 2;
        rank.optimizer_bytes = ceil_div(rank.params * 12, parallel.dp);
        if (tokens > 0) {
          const Index per_layer = parallel.sequence_parallel ? ceil_div(tokens * h * 34, parallel.tp)
                                                             : tokens * h * 10 + ceil_div(tokens * h * 24, parallel.tp);
          rank.activation_bytes = per_layer * layers.num_layers;
          if (parallel.tp > 1) rank.tp_comm_bytes = layers.num_layers * 2 * 2 * (parallel.tp - 1) * tokens * h * 2 /
                                                    parallel.tp;
          if (config.is_moe() && parallel.ep > 1) {
            Index moe_layers = 0;
            for (Index layer = layers.first_layer; layer < layers.end_layer(); ++layer) {
              moe_layers += config.is_moe_layer(layer) ? 1 : 0;
            }
            rank.ep_comm_bytes = moe_layers * 2 * tokens * config.num_experts_per_tok * h * 2 * (parallel.ep - 1) /
                                 parallel.ep;
          }
        }
        if (config.is_mla()) {
          rank.kv_cache_bytes_per_token = (config.kv_lora_rank + config.qk_rope_head_dim) * layers.num_layers * 2;
        } else {
          const Index kv = config.num_key_value_heads;
          const Index kv_per_rank = kv % parallel.tp == 0 ? kv / parallel.tp : 1;
          rank.kv_cache_bytes_per_token = 2 * layers.num_layers * kv_per_rank * config.head_dim * 2;
        }
        report.ranks.push_back(rank);
      }
    }
  }
  return report;
}

}  // namespace shardplan
