#pragma once
// Plan validation: every rule that decides whether a parallel layout works for a model, each violation one
// diagnostic naming the rule, the parameter pattern, the numbers and a fix; performance warnings apart; and the valid
// sizes of each parallel dim. Everything is constexpr: `static_assert(check_plan(preset, sizes)->valid())` works.
#include <vector>

#include "shardplan/llm/pipeline_split.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/sharded_parameter.hpp"

namespace shardplan {

enum class Rule {
  attention_heads,
  kv_heads,
  intermediate,
  expert_intermediate,
  shared_expert_intermediate,
  experts,
  vocabulary,
  quantization_blocks,
  sequence,
  context,
  pipeline,
  mesh,
  expert_parallel,
  // warnings
  tp_crosses_host,
  vocab_padding,
  uneven_experts,
};

[[nodiscard]] constexpr std::string_view to_string(Rule rule) {
  switch (rule) {
    case Rule::attention_heads: return "attention_heads";
    case Rule::kv_heads: return "kv_heads";
    case Rule::intermediate: return "intermediate";
    case Rule::expert_intermediate: return "expert_intermediate";
    case Rule::shared_expert_intermediate: return "shared_expert_intermediate";
    case Rule::experts: return "experts";
    case Rule::vocabulary: return "vocabulary";
    case Rule::quantization_blocks: return "quantization_blocks";
    case Rule::sequence: return "sequence";
    case Rule::context: return "context";
    case Rule::pipeline: return "pipeline";
    case Rule::mesh: return "mesh";
    case Rule::expert_parallel: return "expert_parallel";
    case Rule::tp_crosses_host: return "tp_crosses_host";
    case Rule::vocab_padding: return "vocab_padding";
    case Rule::uneven_experts: return "uneven_experts";
  }
  return "mesh";
}

struct Diagnostic {
  Rule rule = Rule::mesh;
  FixedString<112> param;    // the parameter pattern the rule is about ("" for mesh-level rules)
  FixedString<240> message;  // what is wrong, with the numbers
  FixedString<240> fix;      // what would make it valid
};

struct PlanReport {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  std::vector<Index> valid_tp;  // each dim varied alone (the others 1), with the same policies and quantization
  std::vector<Index> valid_ep;
  std::vector<Index> valid_pp;
  std::vector<Index> layers_per_stage;  // the pipeline split, when pp <= layers

  [[nodiscard]] constexpr bool valid() const { return errors.empty(); }
  [[nodiscard]] constexpr bool has_error(Rule rule) const {
    for (const Diagnostic& d : errors) {
      if (d.rule == rule) return true;
    }
    return false;
  }
};

namespace detail {

struct Diagnostics {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  constexpr FixedString<240>& add(bool error, Rule rule, std::string_view param) {
    std::vector<Diagnostic>& list = error ? errors : warnings;
    list.push_back(Diagnostic{rule, FixedString<112>(param), {}, {}});
    return list.back().message;
  }
};

[[nodiscard]] constexpr const ShardedParameter* find_parameter(const std::vector<ShardedParameter>& params,
                                                               std::string_view part) {
  for (const ShardedParameter& p : params) {
    if (p.contains(part) && !p.param.is_bias()) return &p;
  }
  return nullptr;
}

/// The per-member size of a parameter's sharded dim, or 0 when it is not sharded.
[[nodiscard]] constexpr Index sharded_size(const ShardedParameter& p) {
  if (p.axis != StyleAxis::tp || p.shards <= 1) return 0;
  return p.param.shape[static_cast<std::size_t>(p.sharding.placement.dim)];
}

[[nodiscard]] constexpr Status check_inputs(const ParallelConfig& parallel) {
  const struct {
    std::string_view name;
    Index value;
    Index minimum;
  } sizes[] = {{"tp", parallel.tp, 1},         {"ep", parallel.ep, 1},     {"etp", parallel.etp, 0},
               {"pp", parallel.pp, 1},         {"dp", parallel.dp, 1},     {"cp", parallel.cp, 1},
               {"world", parallel.world, 0},   {"seq", parallel.seq, 0},   {"batch", parallel.batch, 1},
               {"devices_per_host", parallel.devices_per_host, 1}};
  for (const auto& size : sizes) {
    if (size.value < size.minimum) {
      return make_error(ErrorCode::invalid_argument, size.name)
             << "must be >= " << size.minimum << ", got " << size.value;
    }
  }
  return Ok{};
}

/// Every rule for one parallel configuration (no fixes: check_plan adds them from the valid sizes).
[[nodiscard]] constexpr Result<Diagnostics> diagnose(const ModelConfig& config, const ParallelConfig& parallel,
                                                     const Inventory& inventory, const Plan& plan) {
  Diagnostics out;
  SHARDPLAN_TRY(const std::vector<ShardedParameter> params, shard_parameters(inventory, plan, config, parallel));
  const Index tp = parallel.tp;
  const Index etp = parallel.expert_tp();

  // Attention heads and KV heads, judged on the parameters the plan really splits.
  const ShardedParameter* q = find_parameter(params, config.is_mla() ? "self_attn.q_b_proj" : "self_attn.q_proj");
  if (q != nullptr && sharded_size(*q) > 0 && config.num_attention_heads % q->shards != 0) {
    out.add(true, Rule::attention_heads, q->param.pattern.view())
        << "total number of attention heads (" << config.num_attention_heads
        << ") must be divisible by tensor parallel size (" << q->shards << ")";
  }
  const ShardedParameter* k = find_parameter(params, "self_attn.k_proj");
  if (k != nullptr && sharded_size(*k) > 0 && config.num_key_value_heads % k->shards != 0) {
    const Index kv = config.num_key_value_heads;
    if (parallel.kv_policy == ShortSegmentPolicy::forbid) {
      out.add(true, Rule::kv_heads, k->param.pattern.view())
          << kv << " KV heads are not divisible by tp " << k->shards << " (kv policy forbid)";
    } else if (k->shards % kv != 0) {
      out.add(true, Rule::kv_heads, k->param.pattern.view())
          << kv << " KV heads: tp " << k->shards << " is neither a divisor nor a multiple of them (kv policy replicate)";
    }
  }
  // MLP widths, per segment: a fused gate_up needs I % tp, not 2I % tp.
  const auto check_width = [&](std::string_view part, Rule rule, Index width) {
    const ShardedParameter* p = find_parameter(params, part);
    if (p == nullptr || sharded_size(*p) == 0 || width % p->shards == 0) return;
    out.add(true, rule, p->param.pattern.view())
        << "intermediate size " << width << " is not divisible by " << (p->is_expert() ? "etp " : "tp ") << p->shards;
  };
  check_width("mlp.gate_proj", Rule::intermediate, config.intermediate_size);
  check_width("experts.*.gate_proj", Rule::expert_intermediate, config.moe_intermediate_size);
  check_width("experts.*.w1", Rule::expert_intermediate, config.moe_intermediate_size);
  check_width("shared_experts.gate_proj", Rule::shared_expert_intermediate,
              config.moe_intermediate_size * config.num_shared_experts);

  // Experts over ep.
  if (config.is_moe() && parallel.ep > 1 && config.num_experts % parallel.ep != 0) {
    const bool balanced = parallel.expert_policy == SplitPolicy::balanced;
    out.add(!balanced, balanced ? Rule::uneven_experts : Rule::experts, "model.layers.*.mlp.experts")
        << config.num_experts << " experts are not divisible by ep " << parallel.ep
        << (balanced ? " (balanced split: some ranks hold one more expert)" : "");
  }

  // Vocabulary under the padding rule, and heavy padding as a warning.
  for (const ShardedParameter& p : params) {
    if (!p.vocab) continue;
    const Index vocab = p.param.shape[static_cast<std::size_t>(p.sharding.placement.dim)];
    const auto partition = VocabPartition::create(VocabSpec{vocab, 0, p.shards, parallel.vocab_pad});
    if (!partition.ok()) {
      out.add(true, Rule::vocabulary, p.param.pattern.view()) << partition.error().message;
    } else if (partition->padding_rows() * 100 > vocab) {
      out.add(false, Rule::vocab_padding, p.param.pattern.view())
          << partition->padding_rows() << " padding rows on a vocabulary of " << vocab << " (more than 1%)";
    }
    break;  // embedding and lm_head share the vocabulary: one diagnostic
  }

  // Quantization blocks on every sharded per-rank dim of the quantized linear weights.
  if (config.quantization != Quantization::none) {
    for (const ShardedParameter& p : params) {
      if (!p.param.quantized || p.param.shape.size() < 2 || sharded_size(p) == 0) continue;
      auto shape = local_shape(p, 0, parallel);
      if (!shape.ok()) continue;  // reported by the head rules
      const auto rank = static_cast<Index>(shape->size());
      const Index in_axis = rank + p.param.input_dim;  // -1 for [out, in]; -2 for gpt-oss's [E, in, out]
      const Index out_axis = p.param.input_dim == -1 ? rank - 2 : rank - 1;
      const Index out_dim = (*shape)[static_cast<std::size_t>(out_axis)];
      const Index in_dim = (*shape)[static_cast<std::size_t>(in_axis)];
      const bool rowwise = p.sharding.placement.dim == in_axis;
      Index block = 128;
      bool ok = true;
      switch (config.quantization) {
        case Quantization::fp8_block128: ok = out_dim % 128 == 0 && in_dim % 128 == 0; break;
        case Quantization::mxfp4: block = 32; ok = in_dim % 32 == 0; break;
        case Quantization::gptq128: ok = !rowwise || in_dim % 128 == 0; break;
        case Quantization::none: break;
      }
      if (!ok) {
        out.add(true, Rule::quantization_blocks, p.param.pattern.view())
            << to_string(config.quantization) << ": per-rank shape (" << out_dim << ", " << in_dim
            << ") is not a multiple of the " << block << "-element blocks (global " << sharded_size(p) << " / "
            << p.shards << ")";
      }
    }
  }

  // Sequence and context parallelism.
  if (parallel.seq > 0) {
    if (parallel.sequence_parallel && parallel.seq % tp != 0) {
      out.add(true, Rule::sequence, "") << "sequence length " << parallel.seq << " is not divisible by tp " << tp
                                        << " (sequence parallelism)";
    }
    if (parallel.cp > 1 && parallel.seq % (2 * parallel.cp) != 0) {
      out.add(true, Rule::context, "") << "sequence length " << parallel.seq << " is not divisible by 2*cp = "
                                       << 2 * parallel.cp << " (load-balanced context parallelism)";
    }
  }
  // Pipeline.
  if (parallel.pp > config.num_hidden_layers) {
    out.add(true, Rule::pipeline, "model.layers.*")
        << parallel.pp << " pipeline stages for " << config.num_hidden_layers << " layers";
  }
  // Mesh: the world, and expert parallelism borrowing from dp·cp (·tp when etp = 1).
  Index world = 1;
  for (Index size : {tp, parallel.cp, parallel.dp, parallel.pp}) {
    SHARDPLAN_TRY(world, checked_mul(world, size, "world"));
  }
  if (parallel.world > 0 && world != parallel.world) {
    out.add(true, Rule::mesh, "") << "tp*cp*dp*pp = " << tp << "*" << parallel.cp << "*" << parallel.dp << "*"
                                  << parallel.pp << " = " << world << " but the world is " << parallel.world;
  }
  if (parallel.ep > 1 || parallel.etp > 0) {
    if (etp != 1 && etp != tp) {
      out.add(true, Rule::expert_parallel, "") << "etp " << etp << " must be 1 or tp (" << tp << ")";
    } else if (parallel.ep > 1) {
      const Index pool = parallel.dp * parallel.cp * (etp == 1 ? tp : 1);
      if (pool % parallel.ep != 0) {
        out.add(true, Rule::expert_parallel, "")
            << "ep " << parallel.ep << " must divide dp*cp" << (etp == 1 ? "*tp" : "") << " = " << pool
            << " (expert parallelism borrows those ranks)";
      }
    }
  }
  if (tp > parallel.devices_per_host) {
    out.add(false, Rule::tp_crosses_host, "") << "tp " << tp << " spans more than one host of "
                                              << parallel.devices_per_host << " devices";
  }
  return out;
}

/// The fix of a diagnostic about one parallel dim: the nearest valid sizes.
constexpr void suggest_sizes(FixedString<240>& fix, std::string_view dim, Index current,
                             const std::vector<Index>& valid) {
  Index below = 0;
  Index above = 0;
  for (Index size : valid) {
    if (size < current) below = size;
    if (size > current && above == 0) above = size;
  }
  fix << "use " << dim << " " << (below > 0 ? below : above);
  if (below > 0 && above > 0) fix << " or " << above;
  fix << " (valid " << dim << ":";
  for (std::size_t i = 0; i < valid.size() && i < 12; ++i) fix << " " << valid[i];
  if (valid.size() > 12) fix << " ...";
  fix << ")";
}

}  // namespace detail

/// What check_plan computes besides the diagnostics. The valid sizes re-run every rule for each candidate size, which
/// is too much work for a constant expression on large models: static_asserts use `CheckDepth::rules`.
enum class CheckDepth { rules, with_valid_sizes };

/// Checks a model under a plan (the family's default plan when `plan` is null) and parallel configuration.
/// Returns an error only for bad input (sizes < 1); an invalid plan is a report with errors.
[[nodiscard]] constexpr Result<PlanReport> check_plan(const ModelConfig& config, const ParallelConfig& parallel,
                                                      const Plan* plan = nullptr,
                                                      CheckDepth depth = CheckDepth::with_valid_sizes) {
  SHARDPLAN_CHECK(detail::check_inputs(parallel));
  SHARDPLAN_TRY(const Inventory inventory, parameter_inventory(config));
  const Plan chosen = plan_or_default(plan, config, parallel);
  SHARDPLAN_TRY(detail::Diagnostics found, detail::diagnose(config, parallel, inventory, chosen));
  PlanReport report;
  report.warnings = found.warnings;
  if (depth == CheckDepth::rules) {
    report.errors = found.errors;
    return report;
  }

  // Valid sizes of each dim alone: the same policies and quantization, the other dims 1, no world to match.
  const auto valid_alone = [&](Index ParallelConfig::*dim, Index limit) -> Result<std::vector<Index>> {
    std::vector<Index> valid;
    for (Index size = 1; size <= limit; ++size) {
      ParallelConfig alone = parallel;
      alone.tp = alone.ep = alone.pp = alone.dp = alone.cp = 1;
      alone.etp = 0;
      alone.world = 0;
      alone.seq = 0;
      alone.*dim = size;
      if (dim == &ParallelConfig::ep) alone.dp = size;  // the ranks ep borrows
      const Plan alone_plan = plan_or_default(plan, config, alone);
      SHARDPLAN_TRY(const detail::Diagnostics d, detail::diagnose(config, alone, inventory, alone_plan));
      if (d.errors.empty()) valid.push_back(size);
    }
    return valid;
  };
  SHARDPLAN_TRY(report.valid_tp, valid_alone(&ParallelConfig::tp, std::max<Index>(config.num_attention_heads, 1)));
  if (config.is_moe()) {
    SHARDPLAN_TRY(report.valid_ep, valid_alone(&ParallelConfig::ep, config.num_experts));
  } else {
    report.valid_ep = {1};
  }
  for (Index pp = 1; pp <= config.num_hidden_layers; ++pp) report.valid_pp.push_back(pp);
  if (parallel.pp <= config.num_hidden_layers) {
    SHARDPLAN_TRY(const PipelineSplit split, PipelineSplit::create(config.num_hidden_layers, parallel.pp));
    report.layers_per_stage = split.sizes();
  }

  for (Diagnostic& d : found.errors) {
    switch (d.rule) {
      case Rule::attention_heads:
      case Rule::intermediate:
      case Rule::shared_expert_intermediate:
      case Rule::vocabulary: detail::suggest_sizes(d.fix, "tp", parallel.tp, report.valid_tp); break;
      case Rule::kv_heads: {
        const Index kv = config.num_key_value_heads;
        if (parallel.kv_policy == ShortSegmentPolicy::forbid && parallel.tp % kv == 0) {
          d.fix << "--kv-policy replicate (vLLM: each KV head on tp/kv = " << parallel.tp / kv << " ranks), or ";
        }
        detail::suggest_sizes(d.fix, "tp", parallel.tp, report.valid_tp);
        break;
      }
      case Rule::expert_intermediate:
      case Rule::quantization_blocks:
        d.fix << "shard experts with ep instead (etp 1), or ";
        detail::suggest_sizes(d.fix, "tp", parallel.tp, report.valid_tp);
        break;
      case Rule::experts:
        d.fix << "--expert-policy balanced (vLLM), or ";
        detail::suggest_sizes(d.fix, "ep", parallel.ep, report.valid_ep);
        break;
      case Rule::pipeline: d.fix << "use pp <= " << config.num_hidden_layers; break;
      case Rule::sequence: d.fix << "pad the sequence to a multiple of " << parallel.tp; break;
      case Rule::context: d.fix << "pad the sequence to a multiple of " << 2 * parallel.cp; break;
      case Rule::mesh: d.fix << "choose sizes whose product is the world size"; break;
      case Rule::expert_parallel: d.fix << "choose ep dividing dp*cp (or set etp 1 to borrow tp ranks too)"; break;
      default: break;
    }
    if (d.rule == Rule::vocabulary) {
      for (VocabPadding pad : {VocabPadding::vllm, VocabPadding::megatron}) {
        if (pad == parallel.vocab_pad) continue;
        if (VocabPartition::create(VocabSpec{config.vocab_size, 0, parallel.tp, pad}).ok()) {
          d.fix = FixedString<240>("--vocab-pad ");
          d.fix << to_string(pad) << " pads it to a valid size";
          break;
        }
      }
    }
  }
  report.errors = found.errors;
  return report;
}

}  // namespace shardplan
