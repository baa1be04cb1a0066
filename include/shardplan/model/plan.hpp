#pragma once
// Plans: parameter-name patterns mapped to styles, resolved the way HF transformers resolves its tp_plan
// (`_get_parameter_tp_plan` in transformers' distributed/tensor_parallel.py): the exact name (with its layer number),
// then its module (the name without its last component: `x.weight` falls back to `x`), then the name with `*` for
// every all-digit component, then that name's module. A `*` in a key stands for one index, never for a name part.
// Each family ships a TP plan, an EP plan (MoE families) and sequence-parallel entries, modelled on the frameworks'
// own; PlanSet and combine_plans put them together as HF does.
#include "shardplan/core/cxx20.hpp"

#include <optional>
#include <string_view>
#include <vector>

#include "shardplan/model/config.hpp"
#include "shardplan/model/plan_style.hpp"

namespace shardplan {

using ParameterName = FixedString<112>;

struct PlanEntry {
  ParameterName key;  // "model.layers.*.self_attn.q_proj", "lm_head", "model.layers.3.mlp.gate_proj.weight"
  PlanStyle style = PlanStyle::replicate;
};

using Plan = std::vector<PlanEntry>;

namespace detail {

/// Calls visit(part, is_number, is_first) for each '.'-separated part of a parameter name, in order. A part is a
/// number when it is all digits (HF's replace_layer_number_by_wildcard rule: digits inside a part, as in `w1`, are
/// not): the one rule by which generic names and the checkpoint's layer and expert indices are read.
template <class Visit>
constexpr void for_each_name_part(std::string_view name, Visit&& visit) {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    bool digits = !part.empty();
    for (char c : part) digits = digits && c >= '0' && c <= '9';
    visit(part, digits, start == 0);
    start = end + 1;
  }
}

/// `name` with every number part replaced by `*` ("layers.12.mlp.experts.7.w1" -> "layers.*.mlp.experts.*.w1").
[[nodiscard]] constexpr ParameterName generic_name(std::string_view name) {
  ParameterName out;
  for_each_name_part(name, [&](std::string_view part, bool number, bool first) {
    if (!first) out << ".";
    out << (number ? std::string_view("*") : part);
  });
  return out;
}

[[nodiscard]] constexpr std::string_view module_of(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}

[[nodiscard]] constexpr const PlanEntry* find_entry(const Plan& plan, std::string_view key) {
  if (key.empty()) return nullptr;
  for (const PlanEntry& entry : plan) {
    if (entry.key.view() == key) return &entry;
  }
  return nullptr;
}

}  // namespace detail

/// The style `plan` gives the parameter `name` (a concrete name like "model.layers.3.mlp.up_proj.weight" or a
/// pattern with `*`), or nullopt when no entry applies. HF's order: exact name, exact module, generic name, generic
/// module; a per-layer key therefore wins over a wildcard one, whether it names the module or the `.weight`.
[[nodiscard]] constexpr std::optional<PlanStyle> resolve_style(const Plan& plan, std::string_view name) {
  const ParameterName generic = detail::generic_name(name);
  for (const std::string_view key : {name, detail::module_of(name), generic.view(), detail::module_of(generic.view())}) {
    if (const PlanEntry* entry = detail::find_entry(plan, key)) return entry->style;
  }
  return std::nullopt;
}

/// Whether a plan key applies to a parameter pattern (keys with numbers match the pattern's `*` positions).
[[nodiscard]] constexpr bool key_matches(std::string_view key, std::string_view pattern) {
  const ParameterName generic = detail::generic_name(key);
  return generic.view() == pattern || generic.view() == detail::module_of(pattern);
}

/// The routed-expert modules of an MoE family, named as HF transformers names them: the router, the expert
/// projections that produce features (gate, up) and those that reduce them (down). Empty router: a dense family.
struct MoeModules {
  std::string_view router;
  std::vector<std::string_view> column;
  std::vector<std::string_view> row;
  bool fused_experts = false;  // gpt-oss: one [E, ...] tensor per projection instead of one per expert
};

[[nodiscard]] constexpr MoeModules moe_modules(ModelFamily family) {
  switch (family) {
    case ModelFamily::mixtral:
      return {"model.layers.*.block_sparse_moe.gate",
              {"model.layers.*.block_sparse_moe.experts.*.w1", "model.layers.*.block_sparse_moe.experts.*.w3"},
              {"model.layers.*.block_sparse_moe.experts.*.w2"}};
    case ModelFamily::qwen3_moe:
    case ModelFamily::deepseek_v3:
    case ModelFamily::qwen2_moe:
    case ModelFamily::deepseek_v2:
    case ModelFamily::glm4_moe:
      return {"model.layers.*.mlp.gate",
              {"model.layers.*.mlp.experts.*.gate_proj", "model.layers.*.mlp.experts.*.up_proj"},
              {"model.layers.*.mlp.experts.*.down_proj"}};
    case ModelFamily::gpt_oss:
      return {"model.layers.*.mlp.router",
              {"model.layers.*.mlp.experts.gate_up_proj", "model.layers.*.mlp.experts.gate_up_proj_bias"},
              {"model.layers.*.mlp.experts.down_proj", "model.layers.*.mlp.experts.down_proj_bias"},
              true};
    default: return {};
  }
}

/// The default tensor-parallel plan of a family, as HF transformers ships it (`base_model_tp_plan` plus `lm_head`).
/// Embeddings and lm_head shard the vocabulary, so the vocabulary rules apply.
[[nodiscard]] constexpr Plan default_tp_plan(ModelFamily family) {
  Plan plan{
      {ParameterName("model.embed_tokens"), PlanStyle::embedding_rowwise},
      {ParameterName("lm_head"), PlanStyle::colwise_gather_output},
  };
  const auto add = [&plan](std::string_view key, PlanStyle style) { plan.push_back({ParameterName(key), style}); };
  if (is_mla_family(family)) {
    // MLA: the low-rank down projections are replicated (HF: mla_kv_a_proj keeps the kv_a weight whole), the up
    // projections, and q_proj when q_lora_rank is null (DeepSeek-V2-Lite), split by head.
    add("model.layers.*.self_attn.q_proj", PlanStyle::colwise);
    add("model.layers.*.self_attn.q_a_proj", PlanStyle::replicate);
    add("model.layers.*.self_attn.kv_a_proj_with_mqa", PlanStyle::replicate);
    add("model.layers.*.self_attn.q_b_proj", PlanStyle::colwise);
    add("model.layers.*.self_attn.kv_b_proj", PlanStyle::colwise);
  } else if (family == ModelFamily::phi3) {
    // HF gathers the fused qkv output (its slicing needs every head), so o_proj splits a replicated input.
    add("model.layers.*.self_attn.qkv_proj", PlanStyle::colwise_gather_output);
  } else if (family == ModelFamily::olmo2) {
    // HF gathers q/k/v: olmo2's q/k norms run over the whole projection.
    add("model.layers.*.self_attn.q_proj", PlanStyle::colwise_gather_output);
    add("model.layers.*.self_attn.k_proj", PlanStyle::colwise_gather_output);
    add("model.layers.*.self_attn.v_proj", PlanStyle::colwise_gather_output);
  } else {
    add("model.layers.*.self_attn.q_proj", PlanStyle::colwise);
    add("model.layers.*.self_attn.k_proj", PlanStyle::colwise);
    add("model.layers.*.self_attn.v_proj", PlanStyle::colwise);
  }
  const bool attention_gathered = family == ModelFamily::phi3 || family == ModelFamily::olmo2;
  add("model.layers.*.self_attn.o_proj", attention_gathered ? PlanStyle::rowwise_split_input : PlanStyle::rowwise);
  if (family == ModelFamily::qwen3 || family == ModelFamily::qwen3_moe) {
    add("model.layers.*.self_attn.q_norm", PlanStyle::replicated_with_grad_allreduce);
    add("model.layers.*.self_attn.k_norm", PlanStyle::replicated_with_grad_allreduce);
  }
  if (family == ModelFamily::gpt_oss) add("model.layers.*.self_attn.sinks", PlanStyle::local_colwise);
  // Dense MLPs (every layer of a dense model, the dense layers of an MoE model).
  if (family == ModelFamily::phi3) {
    // HF gathers the fused [gate; up] output (its `chunk` needs both halves whole).
    add("model.layers.*.mlp.gate_up_proj", PlanStyle::colwise_gather_output);
    add("model.layers.*.mlp.down_proj", PlanStyle::rowwise_split_input);
  } else {
    add("model.layers.*.mlp.gate_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.up_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.down_proj", PlanStyle::rowwise);
  }
  const MoeModules moe = moe_modules(family);
  if (moe.fused_experts) {
    // HF shards gpt-oss experts whole (grouped_gemm over the expert dim) even in its TP plan.
    add(moe.router, PlanStyle::ep_router);
    for (std::string_view key : moe.column) add(key, PlanStyle::grouped_gemm);
    for (std::string_view key : moe.row) add(key, PlanStyle::grouped_gemm);
  } else if (!moe.router.empty()) {
    add(moe.router, PlanStyle::replicate);
    for (std::string_view key : moe.column) add(key, PlanStyle::colwise);
    for (std::string_view key : moe.row) add(key, PlanStyle::rowwise);
  }
  if (is_mla_family(family)) {  // glm4_moe's HF plan leaves its shared experts whole
    add("model.layers.*.mlp.shared_experts.gate_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.shared_experts.up_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.shared_experts.down_proj", PlanStyle::rowwise);
  }
  if (family == ModelFamily::qwen2_moe) {  // as HF's qwen3_next writes it; shared_expert_gate [1, h] stays whole
    add("model.layers.*.mlp.shared_expert.gate_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.shared_expert.up_proj", PlanStyle::colwise);
    add("model.layers.*.mlp.shared_expert.down_proj", PlanStyle::rowwise);
  }
  return plan;
}

/// The expert-parallel plan of an MoE family (empty for dense ones): whole experts over the ep ranks, the router
/// replicated and masked to the local experts. Applied on top of the TP plan when ep > 1 (its entries win).
[[nodiscard]] constexpr Plan default_ep_plan(ModelFamily family) {
  Plan plan;
  const MoeModules moe = moe_modules(family);
  if (moe.router.empty()) return plan;
  plan.push_back({ParameterName(moe.router), PlanStyle::ep_router});
  for (std::string_view key : moe.column) plan.push_back({ParameterName(key), PlanStyle::grouped_gemm});
  for (std::string_view key : moe.row) plan.push_back({ParameterName(key), PlanStyle::grouped_gemm});
  return plan;
}

/// Sequence-parallel entries: the norms run on sequence-sharded activations (parameters stay replicated).
[[nodiscard]] constexpr Plan sequence_parallel_entries() {
  return Plan{{ParameterName("model.layers.*.input_layernorm"), PlanStyle::sequence_parallel},
              {ParameterName("model.layers.*.post_attention_layernorm"), PlanStyle::sequence_parallel},
              {ParameterName("model.norm"), PlanStyle::sequence_parallel}};
}

/// The plans of one model, as HF keeps them: `_tp_plan` (base_model_tp_plan under `model.`, plus `lm_head`),
/// `_ep_plan` and `_sp_plan`. Keys are absolute ("model.layers.*.self_attn.q_proj", "lm_head").
struct PlanSet {
  Plan tp;
  Plan ep;  // empty: the model has no EP plan (ep > 1 then changes no style)
  Plan sp;  // empty: no SP plan (the TP plan is used with sequence parallelism too)
};

/// How the EP plan combines with the TP (or SP) plan when ep > 1.
enum class EpPlanMode {
  /// HF's resolve_parallel_plan (transformers' distributed/tensor_parallel.py), the default: the TP plan with the EP
  /// plan on top (the EP entry wins on a shared key), and the TP plan's expert-TP entries (`moe_tp_gate_up_colwise`,
  /// `moe_tp_down_rowwise` on a `.gate_up_proj` / `.down_proj` key) dropped.
  overlay,
  /// transformers 4.56-5.x, where `model.tp_plan` returns `_ep_plan` once expert parallelism is on: the EP plan alone,
  /// attention and dense MLPs replicated.
  replace,
};

[[nodiscard]] constexpr std::string_view to_string(EpPlanMode mode) {
  return mode == EpPlanMode::replace ? "replace" : "overlay";
}

[[nodiscard]] constexpr Result<EpPlanMode> parse_ep_plan_mode(std::string_view text) {
  if (text == "overlay") return EpPlanMode::overlay;
  if (text == "replace") return EpPlanMode::replace;
  return make_error(ErrorCode::parse_error, "ep_plan") << "expected overlay or replace, got '" << text.substr(0, 40)
                                                       << "'";
}

/// The one plan a layout uses, HF's way: the SP plan when sequence parallelism is on and the model has one, else the
/// TP plan; with ep > 1 the EP plan combined with it as `mode` says. Keys stay unique, the winning entry kept.
[[nodiscard]] constexpr Plan combine_plans(const PlanSet& plans, bool expert_parallel, bool sequence_parallel,
                                           EpPlanMode mode = EpPlanMode::overlay) {
  const Plan& base = sequence_parallel && !plans.sp.empty() ? plans.sp : plans.tp;
  if (!expert_parallel || plans.ep.empty()) return base;
  Plan plan = plans.ep;  // first: find_entry takes the first entry with a key, so the EP entries win
  if (mode == EpPlanMode::replace) return plan;
  for (const PlanEntry& entry : base) {
    const std::string_view key = entry.key.view();
    const bool expert_tp = (entry.style == PlanStyle::moe_tp_gate_up_colwise ||
                            entry.style == PlanStyle::moe_tp_down_rowwise) &&
                           (key.ends_with(".gate_up_proj") || key.ends_with(".down_proj"));
    if (!expert_tp && detail::find_entry(plans.ep, key) == nullptr) plan.push_back(entry);
  }
  return plan;
}

/// A family's built-in plans: the TP plan, the EP plan (MoE families) and an SP plan that is the TP plan with the
/// norms on sequence-sharded activations.
[[nodiscard]] constexpr PlanSet default_plan_set(ModelFamily family) {
  PlanSet plans{default_tp_plan(family), default_ep_plan(family), default_tp_plan(family)};
  for (const PlanEntry& entry : sequence_parallel_entries()) plans.sp.push_back(entry);
  return plans;
}

/// The plan shardplan validates by default: the TP plan, with the EP plan's entries on top when ep > 1 and the
/// sequence-parallel entries when asked for.
[[nodiscard]] constexpr Plan default_plan(ModelFamily family, bool expert_parallel, bool sequence_parallel,
                                          EpPlanMode mode = EpPlanMode::overlay) {
  return combine_plans(default_plan_set(family), expert_parallel, sequence_parallel, mode);
}

}  // namespace shardplan
