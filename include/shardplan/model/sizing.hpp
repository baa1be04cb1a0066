#pragma once
// Sizing: exact per-rank memory from the per-rank local shapes of every parameter, and the busiest rank.
//   parameters    local elements × bytes (quantized weights: their packed bytes plus their scales)
//   gradients     local elements × 2 (bf16)
//   optimizer     Adam in mixed precision: fp32 master + two fp32 moments = 12 bytes per local element, sharded over
//                 the data-parallel ranks that hold the same element (Megatron-LM's distributed optimizer): dp·cp
//                 for dense parameters, dp·cp·tp / (ep·etp) for routed experts (the expert data-parallel group)
//   activations   model/activations.hpp: per layer after Korthikanti et al. 2022 with the family's shapes, times the
//                 micro-batches the pipeline schedule holds on the stage; s = seq / cp
//   KV cache      per token: 2 · layers · kv heads per rank · head_dim · 2 bytes; MLA caches (kv_lora + rope) per layer
//   communication per micro-batch's forward pass, bytes each rank sends: 2 TP all-reduces of s·b·h·2 bytes per dense
//                 layer, 1 per MoE layer (2 with shared experts) (ring: 2(t-1)/t of it); per MoE layer an all-to-all dispatch + combine of s·b·top_k·h·2 bytes
//                 ((ep-1)/ep of it; s·b/tp tokens each with sequence parallelism) and, with etp > 1, an all-gather of
//                 the routed tokens over the etp group before the experts and a reduce-scatter after
//                 (2 · (etp-1)/etp · s·b·top_k·h·2)
// Ranks are (pipeline stage, tp rank, ep rank); dp replicas are identical. The first stage holds the embedding, the
// last the final norm and lm_head. Figures are computed once per rank class: the runs of tp ranks (and ep ranks)
// whose every parameter has the same local shape (sharded_parameter.hpp's breakpoints), so the work does not grow
// with tp or ep.
#include "shardplan/core/cxx20.hpp"

#include <vector>

#include "shardplan/llm/expert_placement.hpp"
#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/model/activations.hpp"
#include "shardplan/model/quantization.hpp"
#include "shardplan/model/validate.hpp"

namespace shardplan {

/// The figures of one rank class: every rank at `stage` with tp rank in [tp_rank, tp_rank + tp_ranks) and ep rank in
/// [ep_rank, ep_rank + ep_ranks) (each of them in every dp/cp replica) holds exactly these.
struct RankMemory {
  Index stage = 0;
  Index tp_rank = 0;
  Index ep_rank = 0;
  Index tp_ranks = 1;
  Index ep_ranks = 1;
  Index params = 0;  // elements
  Index params_bytes = 0;
  Index grads_bytes = 0;
  Index optimizer_bytes = 0;
  Index activation_bytes = 0;
  Index micro_batches_in_flight = 0;  // at the stage's peak (chunk micro-batches for the interleaved schedule)
  Index kv_cache_bytes_per_token = 0;
  Index tp_comm_bytes = 0;
  Index ep_comm_bytes = 0;
  Index etp_comm_bytes = 0;
  [[nodiscard]] constexpr Index total_bytes() const {
    return params_bytes + grads_bytes + optimizer_bytes + activation_bytes;
  }
  [[nodiscard]] constexpr bool holds(Index at_stage, Index tp, Index ep) const {
    return at_stage == stage && tp >= tp_rank && tp - tp_rank < tp_ranks && ep >= ep_rank && ep - ep_rank < ep_ranks;
  }
};

struct SizeReport {
  Index total_params = 0;
  std::vector<RankMemory> classes;  // every (stage, tp rank, ep rank), in classes of identical figures
  /// The class with the most bytes (the first of equals: lowest stage, tp rank, ep rank).
  [[nodiscard]] constexpr const RankMemory& busiest() const {
    const RankMemory* most = &classes.front();
    for (const RankMemory& rank : classes) {
      if (rank.total_bytes() > most->total_bytes()) most = &rank;
    }
    return *most;
  }
  /// The figures of the rank at (stage, tp rank, ep rank), or nullptr when there is none.
  [[nodiscard]] constexpr const RankMemory* find(Index stage, Index tp_rank, Index ep_rank) const {
    for (const RankMemory& rank : classes) {
      if (rank.holds(stage, tp_rank, ep_rank)) return &rank;
    }
    return nullptr;
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

namespace sizing_detail {

/// The most breakpoints a periodic split (expert weights over etp ranks that are a proper divisor of tp) may add:
/// such a layout is invalid (etp must be 1 or tp), sized anyway up to this many classes.
inline constexpr Index kMaxPeriodicBreakpoints = Index{1} << 16;

/// Adds to `out` the tp ranks where a split over `period` members (member = tp rank % period) may change: the
/// member breakpoints repeated in every period of tp.
[[nodiscard]] constexpr Status add_periodic(const std::vector<Index>& breaks, Index period, Index tp,
                                            std::vector<Index>& out) {
  if (breaks.empty()) return Ok{};  // the same shape on every member
  if (period >= tp) {
    for (const Index b : breaks) out.push_back(b);
    return Ok{};
  }
  const Index periods = ceil_div(tp, period);
  if (periods > kMaxPeriodicBreakpoints / (static_cast<Index>(breaks.size()) + 1)) {
    return make_error(ErrorCode::capacity_exceeded, "etp")
           << "etp " << period << " repeats " << periods << " times over tp " << tp
           << ", past the sizing limit of " << kMaxPeriodicBreakpoints << " rank classes (etp must be 1 or tp)";
  }
  for (Index p = 0; p < periods; ++p) {
    if (p > 0) out.push_back(p * period);
    for (const Index b : breaks) {
      if (p * period + b < tp) out.push_back(p * period + b);
    }
  }
  return Ok{};
}

/// [begin, end) runs of 0..size-1 cut at the sorted, unique breakpoints.
[[nodiscard]] constexpr std::vector<Interval> runs(std::vector<Index> breaks, Index size) {
  detail::sort_unique(breaks);
  std::vector<Interval> out;
  Index begin = 0;
  for (const Index b : breaks) {
    if (b <= begin || b >= size) continue;
    out.push_back(Interval{begin, b});
    begin = b;
  }
  out.push_back(Interval{begin, size});
  return out;
}

/// Whether a parameter is a routed expert's (its optimizer state is sharded over the expert data-parallel group).
[[nodiscard]] constexpr bool routed_expert(const ShardedParameter& p) {
  return p.param.experts > 0 || p.contains(".experts.");
}

}  // namespace sizing_detail

/// Per-rank memory of a model under a plan (the family's default when null), one entry per rank class. Invalid plans
/// are sized too (KV heads that `forbid` refuses are sized as replicated): validate_model_plan says whether they run.
[[nodiscard]] constexpr Result<SizeReport> size_plan(const ModelConfig& config, const ParallelConfig& parallel,
                                                     const Plan* plan = nullptr) {
  using sizing_detail::sized_product;
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
  SHARDPLAN_CHECK(check_schedule(config, parallel));
  SHARDPLAN_TRY(const PipelineSplit split, PipelineSplit::create(config.num_hidden_layers, parallel.pp));
  std::optional<ExpertPartition> experts;
  if (config.is_moe()) {
    SHARDPLAN_TRY(experts, expert_partition(config, parallel));
  }
  SHARDPLAN_CHECK(rules::world_product(parallel));  // so that every rank number fits

  // Rank classes: the tp ranks and ep ranks where some parameter's local shape (or expert count) changes.
  std::vector<Index> tp_breaks;
  std::vector<Index> ep_breaks;
  const Index etp = parallel.expert_tp();
  for (const ShardedParameter& p : params) {
    const std::vector<Index> axis = axis_breakpoints(p);
    if (p.axis == StyleAxis::tp) {
      SHARDPLAN_CHECK(sizing_detail::add_periodic(axis, p.is_expert() ? etp : parallel.tp, parallel.tp, tp_breaks));
    } else if (p.axis == StyleAxis::ep) {
      for (const Index b : axis) ep_breaks.push_back(b);
    }
    SHARDPLAN_CHECK(sizing_detail::add_periodic(expert_breakpoints(p), p.expert_shards, parallel.tp, tp_breaks));
  }
  if (experts) detail::split_breakpoints(experts->num_slots(), parallel.ep, ep_breaks);
  const std::vector<Interval> tp_runs = sizing_detail::runs(tp_breaks, parallel.tp);
  const std::vector<Interval> ep_runs = sizing_detail::runs(ep_breaks, parallel.ep);

  // Per stage: the layers (and instances) each parameter has there, activations and communication.
  SizeReport report;
  report.total_params = total_parameters(inventory);  // parameter_inventory checked that it fits
  const Index micro_batch[] = {parallel.seq / parallel.cp, parallel.batch};
  SHARDPLAN_TRY(const Index tokens, sized_product("tokens per micro-batch: seq / cp * batch =", micro_batch, "batch"));
  const Index h = config.hidden_size;
  const IntervalSet moe_layers_all = moe_layer_set(config);
  SHARDPLAN_TRY(const LayerActivationBytes dense_layer, layer_activation_bytes(config, parallel, false));
  SHARDPLAN_TRY(const LayerActivationBytes moe_layer, layer_activation_bytes(config, parallel, true));
  SHARDPLAN_TRY(const Index dense_bytes, layer_activations(dense_layer, tokens, parallel));
  SHARDPLAN_TRY(const Index moe_bytes, layer_activations(moe_layer, tokens, parallel));
  // Optimizer sharding: dp·cp replicas of every dense element; the expert data-parallel group for routed experts.
  SHARDPLAN_TRY(const Index dense_replicas, checked_mul(parallel.dp, parallel.cp, "dp"));
  const Index expert_pool = etp == 1 ? parallel.tp : (etp <= parallel.tp ? parallel.tp / etp : 1);
  const auto expert_group = checked_mul(dense_replicas, expert_pool);
  const Index expert_replicas =
      !expert_group.ok() ? dense_replicas : (*expert_group / parallel.ep < 1 ? 1 : *expert_group / parallel.ep);

  struct StageFigures {
    RankMemory base;               // activations, communication, KV cache
    std::vector<Index> copies;     // per parameter, instances on the stage (before experts per ep rank)
  };
  std::vector<StageFigures> stages;
  for (Index stage = 0; stage < parallel.pp; ++stage) {
    const PipelineStage layers = split.stage_unchecked(stage);
    const IntervalSet stage_layers = IntervalSet::range(layers.first_layer, layers.end_layer());
    StageFigures figures;
    RankMemory& rank = figures.base;
    rank.stage = stage;
    for (const ShardedParameter& p : params) {
      Index copies = 0;
      if (p.param.is_per_layer()) {
        copies = intersect(p.param.layers, stage_layers).size();
      } else {
        copies = global_on_stage(p, stage, parallel.pp) ? 1 : 0;
      }
      figures.copies.push_back(copies);
    }
    const Index moe_layers = intersect(moe_layers_all, stage_layers).size();
    if (tokens > 0) {
      SHARDPLAN_TRY(const Index dense_part,
                    sized_product("activations: dense layer bytes * layers =", {dense_bytes, layers.num_layers - moe_layers}));
      SHARDPLAN_TRY(const Index moe_part, sized_product("activations: moe layer bytes * layers =", {moe_bytes, moe_layers}));
      SHARDPLAN_TRY(const Index stage_bytes, checked_add(dense_part, moe_part, "seq"));
      SHARDPLAN_TRY(rank.activation_bytes, stage_activations(stage_bytes, parallel, stage));
      rank.micro_batches_in_flight = in_flight(parallel, stage);
      if (parallel.tp > 1) {
        // Two all-reduces a dense layer (attention, MLP); an MoE layer reduces its routed experts through the ep/etp
        // collectives instead, so one (attention), plus one for shared experts.
        const Index moe_reduces = config.num_shared_experts > 0 ? 2 : 1;
        const Index all_reduces = 2 * (layers.num_layers - moe_layers) + moe_reduces * moe_layers;  // <= 2^21
        SHARDPLAN_TRY(const Index sent, sized_product("tp all-reduces: all-reduces * 2 * (tp - 1) * tokens * "
                                                        "hidden_size * 2 =",
                                                        {all_reduces, 2, parallel.tp - 1, tokens, h, 2}));
        rank.tp_comm_bytes = sent / parallel.tp;
      }
      if (config.is_moe() && parallel.ep > 1) {
        const Index dispatched = parallel.sequence_parallel ? ceil_div(tokens, parallel.tp) : tokens;
        SHARDPLAN_TRY(const Index sent,
                      sized_product("ep all-to-alls: moe layers * 2 * tokens * top_k * hidden_size * 2 * (ep - "
                                      "1) =",
                                      {moe_layers, 2, dispatched, config.num_experts_per_tok, h, 2, parallel.ep - 1}));
        rank.ep_comm_bytes = sent / parallel.ep;
      }
      if (config.is_moe() && etp > 1) {
        SHARDPLAN_TRY(const Index sent,
                      sized_product("etp all-gathers and reduce-scatters: moe layers * 2 * (etp - 1) * tokens * "
                                      "top_k * hidden_size * 2 =",
                                      {moe_layers, 2, etp - 1, tokens, config.num_experts_per_tok, h, 2}));
        rank.etp_comm_bytes = sent / etp;
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
    stages.push_back(std::move(figures));
  }

  // Per (tp run, ep run): the bytes and elements of one instance of each parameter, then per stage.
  struct Local {
    Index elements = 0;
    Index bytes = 0;
    Index instances = 1;  // experts per instance copy on this ep rank (1 for a tensor without per-expert instances)
  };
  std::vector<Local> local(params.size());
  for (const Interval& tp_run : tp_runs) {
    for (const Interval& ep_run : ep_runs) {
      const Index t = tp_run.begin;
      const Index e = ep_run.begin;
      for (std::size_t i = 0; i < params.size(); ++i) {
        const ShardedParameter& p = params[i];
        const Index member = axis_member(p, sizing, t, e);
        auto shape = local_shape(p, member, sizing);
        if (!shape.ok()) {  // a layout the rules refuse (e.g. heads not divisible): size its chunked split
          SHARDPLAN_TRY(const Mesh mesh, Mesh::create(AxisSizes{p.shards}));
          SHARDPLAN_TRY(const Layout layout, Layout::create(p.param.shape, mesh, Placements{p.sharding.placement}));
          SHARDPLAN_TRY(shape, layout.local_shape(member / p.expert_shards));
        }
        SHARDPLAN_TRY(local[i].elements, checked_product(*shape, "parameters"));
        SHARDPLAN_TRY(local[i].bytes, weight_bytes(*shape, p.param.quantized, config.quantization,
                                                   p.param.dtype_bytes > 0 ? p.param.dtype_bytes : config.dtype_bytes,
                                                   p.param.input_dim));
        local[i].instances = 1;
        if (p.param.experts > 0) {  // at most the group's instances, whose count the inventory checked
          local[i].instances = p.axis == StyleAxis::ep ? experts->num_local(e) : p.param.experts;
        }
      }
      for (const StageFigures& figures : stages) {
        RankMemory rank = figures.base;
        rank.tp_rank = t;
        rank.ep_rank = e;
        rank.tp_ranks = tp_run.end - tp_run.begin;
        rank.ep_ranks = ep_run.end - ep_run.begin;
        Index expert_elements = 0;
        for (std::size_t i = 0; i < params.size(); ++i) {
          SHARDPLAN_TRY(const Index copies, checked_mul(figures.copies[i], local[i].instances, "parameters"));
          SHARDPLAN_TRY(const Index elements, checked_mul(copies, local[i].elements, "parameters"));
          SHARDPLAN_TRY(const Index bytes, checked_mul(copies, local[i].bytes, "parameters"));
          SHARDPLAN_TRY(rank.params, checked_add(rank.params, elements, "parameters"));
          SHARDPLAN_TRY(rank.params_bytes, checked_add(rank.params_bytes, bytes, "parameters"));
          if (sizing_detail::routed_expert(params[i])) expert_elements += elements;  // <= rank.params
        }
        SHARDPLAN_TRY(rank.grads_bytes, sized_product("gradients: parameters * 2 =", {rank.params, 2}, "parameters"));
        SHARDPLAN_TRY(const Index dense_state, sized_product("optimizer: dense parameters * 12 =",
                                                             {rank.params - expert_elements, 12}, "parameters"));
        SHARDPLAN_TRY(const Index expert_state,
                      sized_product("optimizer: expert parameters * 12 =", {expert_elements, 12}, "parameters"));
        rank.optimizer_bytes = ceil_div(dense_state, dense_replicas) + ceil_div(expert_state, expert_replicas);
        const Index memory[] = {rank.params_bytes, rank.grads_bytes, rank.optimizer_bytes, rank.activation_bytes};
        SHARDPLAN_CHECK(checked_sum(memory, "total_bytes"));  // so that total_bytes() cannot overflow
        report.classes.push_back(rank);
      }
    }
  }
  // Stage-major order, as ranks are numbered.
  detail::heap_sort(report.classes.data(), report.classes.size(), [](const RankMemory& a, const RankMemory& b) {
    if (a.stage != b.stage) return a.stage < b.stage;
    if (a.tp_rank != b.tp_rank) return a.tp_rank < b.tp_rank;
    return a.ep_rank < b.ep_rank;
  });
  return report;
}

}  // namespace shardplan
