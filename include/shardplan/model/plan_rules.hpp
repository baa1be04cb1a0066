#pragma once
// The plan validity rules, one row each in `kRules`: the rule's id, its name (what `shardplan check` and its JSON
// print), whether it is an error or a warning, the check that finds its violations, the fix an error suggests and the
// function a failing static_assert names (static_check.hpp). validate.hpp runs the checks in table order and adds the
// fixes; to_string(Rule) reads the names. A new rule is an id at the end of `Rule` and its row in `kRules` (a
// static_assert below holds the two in step); nothing else lists rules.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/llm/vocab_padding.hpp"
#include "shardplan/model/quantization.hpp"
#include "shardplan/model/sharded_parameter.hpp"

namespace shardplan {

/// In the order the checks run (errors and warnings are reported in this order, each in its own list).
enum class Rule {
  attention_heads,
  kv_heads,
  intermediate,
  expert_intermediate,
  shared_expert_intermediate,
  experts,
  uneven_experts,  // warning
  vocabulary,
  vocab_padding,   // warning
  quantization_blocks,
  sequence,
  context,
  pipeline,
  mesh,
  expert_parallel,
  tp_crosses_host,  // warning; keep last, or update kLastRule
};
inline constexpr Rule kLastRule = Rule::tp_crosses_host;

struct Diagnostic {
  Rule rule = Rule::mesh;
  FixedString<112> param;    // the parameter pattern the rule is about ("" for mesh-level rules)
  FixedString<240> message;  // what is wrong, with the numbers
  FixedString<240> fix;      // what would make it valid
};

namespace plan_errors {
// What a failing static_assert(require_valid_plan(...)) names. Deliberately not constexpr: calling one is what makes
// the assertion fail, and the compiler's error names the function ("call to non-'constexpr' function 'void
// shardplan::plan_errors::attention_heads_not_divisible_by_tp()'").
// NOLINTBEGIN: the names are the message.
inline void invalid_input_sizes() {}
inline void attention_heads_not_divisible_by_tp() {}
inline void kv_heads_not_divisible_by_tp_under_the_kv_policy() {}
inline void intermediate_size_not_divisible_by_tp() {}
inline void expert_intermediate_size_not_divisible_by_etp() {}
inline void shared_expert_intermediate_size_not_divisible_by_tp() {}
inline void experts_not_divisible_by_ep() {}
inline void vocabulary_not_divisible_under_the_padding_rule() {}
inline void quantization_blocks_cut_by_the_per_rank_shapes() {}
inline void sequence_length_not_divisible() {}
inline void more_pipeline_stages_than_layers() {}
inline void parallel_sizes_do_not_multiply_to_the_world() {}
inline void expert_parallel_cannot_borrow_its_ranks() {}
// NOLINTEND
}  // namespace plan_errors

namespace rules {

/// What every check reads: the model, the sizes, and its parameters resolved against the plan.
struct RuleInput {
  const ModelConfig& config;
  const ParallelConfig& parallel;
  const std::vector<ShardedParameter>& params;
};

/// What a fix reads besides the model and sizes: the valid sizes of each dim alone.
struct FixInput {
  const ModelConfig& config;
  const ParallelConfig& parallel;
  const std::vector<Index>& valid_tp;
  const std::vector<Index>& valid_ep;
};

/// Where one rule's check writes its violations (one Diagnostic each, the rule filled in).
class Findings {
 public:
  constexpr Findings(Rule rule, std::vector<Diagnostic>& list) : rule_(rule), list_(&list) {}
  /// A new violation about `param`; returns its message to write the numbers into.
  constexpr FixedString<240>& add(std::string_view param) {
    list_->push_back(Diagnostic{rule_, FixedString<112>(param), {}, {}});
    return list_->back().message;
  }

 private:
  Rule rule_;
  std::vector<Diagnostic>* list_;
};

[[nodiscard]] constexpr const ShardedParameter* find_parameter(const std::vector<ShardedParameter>& params,
                                                               std::string_view part) {
  // Per-layer plan keys can split one parameter into groups with different styles: judge the most split one.
  const auto tp_shards = [](const ShardedParameter& p) { return p.axis == StyleAxis::tp ? p.shards : Index{1}; };
  const ShardedParameter* found = nullptr;
  for (const ShardedParameter& p : params) {
    if (p.contains(part) && !p.param.is_bias() && (found == nullptr || tp_shards(p) > tp_shards(*found))) found = &p;
  }
  return found;
}

/// The global size of a parameter's tp-sharded dim, or 0 when it is not sharded over tp.
[[nodiscard]] constexpr Index sharded_size(const ShardedParameter& p) {
  if (p.axis != StyleAxis::tp || p.shards <= 1) return 0;
  return p.param.shape[static_cast<std::size_t>(p.sharding.placement.dim)];
}

// ---------------------------------------------------------------------------------------------------------------
// Checks: each appends its own rule's violations. Attention, KV heads and widths are judged on the parameters the
// plan really splits, so a user plan that keeps attention replicated passes the head rules.

/// The first parameter matching one of `parts`, in that order of preference.
[[nodiscard]] constexpr const ShardedParameter* find_first(const std::vector<ShardedParameter>& params,
                                                           std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) {
    if (const ShardedParameter* p = find_parameter(params, part)) return p;
  }
  return nullptr;
}

// The query heads are split by q_proj, MLA's q_b_proj (or its q_proj without q compression), or the q segment of a
// fused qkv_proj (phi3); the KV heads by k_proj or the fused k and v segments.
constexpr Status check_attention_heads(const RuleInput& in, Findings& found) {
  const ShardedParameter* q =
      find_first(in.params, {"self_attn.q_b_proj", "self_attn.q_proj", "self_attn.qkv_proj"});
  if (q != nullptr && sharded_size(*q) > 0 && in.config.num_attention_heads % q->shards != 0) {
    found.add(q->param.pattern.view()) << "total number of attention heads (" << in.config.num_attention_heads
                                       << ") must be divisible by tensor parallel size (" << q->shards << ")";
  }
  return Ok{};
}

constexpr Status check_kv_heads(const RuleInput& in, Findings& found) {
  const ShardedParameter* k = find_first(in.params, {"self_attn.k_proj", "self_attn.qkv_proj"});
  if (k == nullptr || sharded_size(*k) == 0) return Ok{};
  const Index kv = in.config.num_key_value_heads;
  const KvHeadSplit split = kv_head_split(kv, k->shards);
  if (split == KvHeadSplit::divided) return Ok{};
  if (in.parallel.kv_policy == ShortSegmentPolicy::forbid) {
    found.add(k->param.pattern.view()) << kv << " KV heads are not divisible by tp " << k->shards
                                       << " (kv policy forbid)";
  } else if (split == KvHeadSplit::invalid) {
    found.add(k->param.pattern.view()) << kv << " KV heads: tp " << k->shards
                                       << " is neither a divisor nor a multiple of them (kv policy replicate)";
  }
  return Ok{};
}

/// An MLP width per segment: a fused gate_up needs I % tp, not 2I % tp.
constexpr void check_width(const RuleInput& in, Findings& found, std::string_view part, Index width) {
  const ShardedParameter* p = find_parameter(in.params, part);
  if (p == nullptr) return;
  const bool etp_split = p->expert_shards > 1;  // experts ep spreads, each split over etp (Megatron-LM)
  const Index shards = etp_split ? p->expert_shards : p->shards;
  if ((!etp_split && sharded_size(*p) == 0) || width % shards == 0) return;
  found.add(p->param.pattern.view()) << "intermediate size " << width << " is not divisible by "
                                     << (p->is_expert() ? "etp " : "tp ") << shards;
}

constexpr Status check_intermediate(const RuleInput& in, Findings& found) {
  check_width(in, found, "mlp.gate_proj", in.config.intermediate_size);
  check_width(in, found, "mlp.gate_up_proj", in.config.intermediate_size);  // phi3's fused [gate; up]: per segment
  return Ok{};
}

constexpr Status check_expert_intermediate(const RuleInput& in, Findings& found) {
  check_width(in, found, "experts.*.gate_proj", in.config.moe_intermediate_size);
  check_width(in, found, "experts.*.w1", in.config.moe_intermediate_size);
  return Ok{};
}

constexpr Status check_shared_expert_intermediate(const RuleInput& in, Findings& found) {
  SHARDPLAN_TRY(const Index width,
                checked_mul(in.config.moe_intermediate_size, in.config.num_shared_experts, "num_shared_experts"));
  check_width(in, found, "shared_experts.gate_proj", width);
  check_width(in, found, "shared_expert.gate_proj", in.config.shared_expert_intermediate_size);  // qwen2_moe
  return Ok{};
}

[[nodiscard]] constexpr bool experts_uneven(const RuleInput& in) {
  return in.config.is_moe() && in.parallel.ep > 1 && in.config.num_experts % in.parallel.ep != 0;
}

constexpr Status check_experts(const RuleInput& in, Findings& found) {
  if (experts_uneven(in) && in.parallel.expert_policy != SplitPolicy::balanced) {
    found.add("model.layers.*.mlp.experts") << in.config.num_experts << " experts are not divisible by ep "
                                            << in.parallel.ep;
  }
  return Ok{};
}

constexpr Status check_uneven_experts(const RuleInput& in, Findings& found) {
  if (experts_uneven(in) && in.parallel.expert_policy == SplitPolicy::balanced) {
    found.add("model.layers.*.mlp.experts") << in.config.num_experts << " experts are not divisible by ep "
                                            << in.parallel.ep << " (balanced split: some ranks hold one more expert)";
  }
  return Ok{};
}

/// The first vocabulary-split parameter: embedding and lm_head share the vocabulary, so one diagnostic.
[[nodiscard]] constexpr const ShardedParameter* vocab_parameter(const std::vector<ShardedParameter>& params) {
  for (const ShardedParameter& p : params) {
    if (p.vocab) return &p;
  }
  return nullptr;
}

[[nodiscard]] constexpr Index vocab_rows(const ShardedParameter& p) {
  return p.param.shape[static_cast<std::size_t>(p.sharding.placement.dim)];
}

constexpr Status check_vocabulary(const RuleInput& in, Findings& found) {
  const ShardedParameter* p = vocab_parameter(in.params);
  if (p == nullptr) return Ok{};
  const auto partition = VocabPartition::create(VocabSpec{vocab_rows(*p), 0, p->shards, in.parallel.vocab_pad});
  if (!partition.ok()) found.add(p->param.pattern.view()) << partition.error().message;
  return Ok{};
}

constexpr Status check_vocab_padding(const RuleInput& in, Findings& found) {
  const ShardedParameter* p = vocab_parameter(in.params);
  if (p == nullptr) return Ok{};
  const Index vocab = vocab_rows(*p);
  const auto partition = VocabPartition::create(VocabSpec{vocab, 0, p->shards, in.parallel.vocab_pad});
  if (partition.ok() && partition->padding_rows() > vocab / 100) {  // padding·100 > vocab, without the product
    found.add(p->param.pattern.view()) << partition->padding_rows() << " padding rows on a vocabulary of " << vocab
                                       << " (more than 1%)";
  }
  return Ok{};
}

/// Every sharded per-rank dim of the quantized linear weights must keep the scheme's blocks whole.
constexpr Status check_quantization_blocks(const RuleInput& in, Findings& found) {
  if (in.config.quantization == Quantization::none) return Ok{};
  const QuantizationScheme& scheme = quantization_scheme(in.config.quantization);
  for (const ShardedParameter& p : in.params) {
    const bool etp_split = p.expert_shards > 1;
    if (!p.param.quantized || p.param.shape.size() < 2 || (sharded_size(p) == 0 && !etp_split)) continue;
    const auto shape = local_shape(p, 0, in.parallel);
    if (!shape.ok()) continue;  // reported by the head rules
    const auto rank = static_cast<Index>(shape->size());
    const Index in_axis = rank + p.param.input_dim;  // -1 for [out, in]; -2 for gpt-oss's [E, in, out]
    const Index out_axis = p.param.input_dim == -1 ? rank - 2 : rank - 1;
    const Index out_dim = (*shape)[static_cast<std::size_t>(out_axis)];
    const Index in_dim = (*shape)[static_cast<std::size_t>(in_axis)];
    const Index split_dim = etp_split ? p.expert_dim : p.sharding.placement.dim;
    const bool rowwise = split_dim == in_axis;
    if (!keeps_quantization_blocks(scheme, out_dim, in_dim, rowwise)) {
      const Index global = etp_split ? p.param.shape[static_cast<std::size_t>(p.expert_dim)] : sharded_size(p);
      found.add(p.param.pattern.view()) << scheme.name << ": per-rank shape (" << out_dim << ", " << in_dim
                                        << ") is not a multiple of the " << scheme.in_block
                                        << "-element blocks (global " << global << " / "
                                        << (etp_split ? p.expert_shards : p.shards) << ")";
    }
  }
  return Ok{};
}

constexpr Status check_sequence(const RuleInput& in, Findings& found) {
  const ParallelConfig& parallel = in.parallel;
  if (parallel.seq > 0 && parallel.sequence_parallel && parallel.seq % parallel.tp != 0) {
    found.add("") << "sequence length " << parallel.seq << " is not divisible by tp " << parallel.tp
                  << " (sequence parallelism)";
  }
  return Ok{};
}

/// Load-balanced context parallelism cuts the sequence into 2·cp chunks.
[[nodiscard]] constexpr Result<Index> context_chunks(Index cp) {
  const Result<Index> chunks = checked_mul(2, cp);
  if (chunks.ok()) return chunks;
  return make_error(ErrorCode::overflow, "cp") << "2*cp = 2 * " << cp
                                               << " overflows int64 (load-balanced context parallelism)";
}

constexpr Status check_context(const RuleInput& in, Findings& found) {
  const ParallelConfig& parallel = in.parallel;
  if (parallel.seq == 0 || parallel.cp <= 1) return Ok{};
  SHARDPLAN_TRY(const Index chunks, context_chunks(parallel.cp));
  if (parallel.seq % chunks != 0) {
    found.add("") << "sequence length " << parallel.seq << " is not divisible by 2*cp = " << chunks
                  << " (load-balanced context parallelism)";
  }
  return Ok{};
}

constexpr Status check_pipeline(const RuleInput& in, Findings& found) {
  if (in.parallel.pp > in.config.num_hidden_layers) {
    found.add("model.layers.*") << in.parallel.pp << " pipeline stages for " << in.config.num_hidden_layers
                                << " layers";
  }
  return Ok{};
}

/// tp·cp·dp·pp, overflow-checked (field "world").
[[nodiscard]] constexpr Result<Index> world_product(const ParallelConfig& parallel) {
  const Index sizes[] = {parallel.tp, parallel.cp, parallel.dp, parallel.pp};
  return checked_product(sizes, "world");
}

constexpr Status check_mesh(const RuleInput& in, Findings& found) {
  const ParallelConfig& parallel = in.parallel;
  SHARDPLAN_TRY(const Index world, world_product(parallel));
  if (parallel.world > 0 && world != parallel.world) {
    found.add("") << "tp*cp*dp*pp = " << parallel.tp << "*" << parallel.cp << "*" << parallel.dp << "*"
                  << parallel.pp << " = " << world << " but the world is " << parallel.world;
  }
  return Ok{};
}

/// Expert parallelism borrows its ranks from dp·cp (·tp when etp = 1).
constexpr Status check_expert_parallel(const RuleInput& in, Findings& found) {
  const ParallelConfig& parallel = in.parallel;
  if (parallel.ep <= 1 && parallel.etp <= 0) return Ok{};
  const Index tp = parallel.tp;
  const Index etp = parallel.expert_tp();
  if (etp != 1 && etp != tp) {
    found.add("") << "etp " << etp << " must be 1 or tp (" << tp << ")";
    return Ok{};
  }
  if (parallel.ep <= 1) return Ok{};
  const Index lenders[] = {parallel.dp, parallel.cp, etp == 1 ? tp : 1};
  SHARDPLAN_TRY(const Index pool, checked_product(lenders, "world"));
  if (pool % parallel.ep != 0) {
    found.add("") << "ep " << parallel.ep << " must divide dp*cp" << (etp == 1 ? "*tp" : "") << " = " << pool
                  << " (expert parallelism borrows those ranks)";
  }
  return Ok{};
}

constexpr Status check_tp_crosses_host(const RuleInput& in, Findings& found) {
  if (in.parallel.tp > in.parallel.devices_per_host) {
    found.add("") << "tp " << in.parallel.tp << " spans more than one host of " << in.parallel.devices_per_host
                  << " devices";
  }
  return Ok{};
}

// ---------------------------------------------------------------------------------------------------------------
// Fixes: appended to an error's (empty) fix.

/// The nearest valid sizes of one parallel dim.
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

constexpr Status fix_tp(const FixInput& in, FixedString<240>& fix) {
  suggest_sizes(fix, "tp", in.parallel.tp, in.valid_tp);
  return Ok{};
}

constexpr Status fix_kv_heads(const FixInput& in, FixedString<240>& fix) {
  const Index kv = in.config.num_key_value_heads;
  if (in.parallel.kv_policy == ShortSegmentPolicy::forbid &&
      kv_head_split(kv, in.parallel.tp) == KvHeadSplit::replicated) {
    fix << "--kv-policy replicate (vLLM: each KV head on tp/kv = " << ranks_per_kv_head(kv, in.parallel.tp)
        << " ranks), or ";
  }
  return fix_tp(in, fix);
}

constexpr Status fix_experts_by_ep(const FixInput& in, FixedString<240>& fix) {
  fix << "shard experts with ep instead (etp 1), or ";
  return fix_tp(in, fix);
}

constexpr Status fix_experts(const FixInput& in, FixedString<240>& fix) {
  fix << "--expert-policy balanced (vLLM), or ";
  suggest_sizes(fix, "ep", in.parallel.ep, in.valid_ep);
  return Ok{};
}

/// Another padding rule that makes the vocabulary valid at this tp, else the nearest valid tp.
constexpr Status fix_vocabulary(const FixInput& in, FixedString<240>& fix) {
  for (VocabPadding pad : {VocabPadding::vllm, VocabPadding::megatron}) {
    if (pad == in.parallel.vocab_pad) continue;
    if (VocabPartition::create(VocabSpec{in.config.vocab_size, 0, in.parallel.tp, pad}).ok()) {
      fix << "--vocab-pad " << to_string(pad) << " pads it to a valid size";
      return Ok{};
    }
  }
  return fix_tp(in, fix);
}

constexpr Status fix_sequence(const FixInput& in, FixedString<240>& fix) {
  fix << "pad the sequence to a multiple of " << in.parallel.tp;
  return Ok{};
}

constexpr Status fix_context(const FixInput& in, FixedString<240>& fix) {
  SHARDPLAN_TRY(const Index chunks, context_chunks(in.parallel.cp));
  fix << "pad the sequence to a multiple of " << chunks;
  return Ok{};
}

constexpr Status fix_pipeline(const FixInput& in, FixedString<240>& fix) {
  fix << "use pp <= " << in.config.num_hidden_layers;
  return Ok{};
}

constexpr Status fix_mesh(const FixInput&, FixedString<240>& fix) {
  fix << "choose sizes whose product is the world size";
  return Ok{};
}

constexpr Status fix_expert_parallel(const FixInput&, FixedString<240>& fix) {
  fix << "choose ep dividing dp*cp (or set etp 1 to borrow tp ranks too)";
  return Ok{};
}

}  // namespace rules

enum class Severity { error, warning };

/// One rule. Errors have a fix and a compile-time name; warnings have neither (they never fail a plan).
struct RuleSpec {
  Rule id = Rule::mesh;
  std::string_view name;
  Severity severity = Severity::error;
  Status (*check)(const rules::RuleInput&, rules::Findings&) = nullptr;
  Status (*fix)(const rules::FixInput&, FixedString<240>&) = nullptr;
  void (*compile_error)() = nullptr;
};

inline constexpr RuleSpec kRules[] = {
    {Rule::attention_heads, "attention_heads", Severity::error, rules::check_attention_heads, rules::fix_tp,
     plan_errors::attention_heads_not_divisible_by_tp},
    {Rule::kv_heads, "kv_heads", Severity::error, rules::check_kv_heads, rules::fix_kv_heads,
     plan_errors::kv_heads_not_divisible_by_tp_under_the_kv_policy},
    {Rule::intermediate, "intermediate", Severity::error, rules::check_intermediate, rules::fix_tp,
     plan_errors::intermediate_size_not_divisible_by_tp},
    {Rule::expert_intermediate, "expert_intermediate", Severity::error, rules::check_expert_intermediate,
     rules::fix_experts_by_ep, plan_errors::expert_intermediate_size_not_divisible_by_etp},
    {Rule::shared_expert_intermediate, "shared_expert_intermediate", Severity::error,
     rules::check_shared_expert_intermediate, rules::fix_tp,
     plan_errors::shared_expert_intermediate_size_not_divisible_by_tp},
    {Rule::experts, "experts", Severity::error, rules::check_experts, rules::fix_experts,
     plan_errors::experts_not_divisible_by_ep},
    {Rule::uneven_experts, "uneven_experts", Severity::warning, rules::check_uneven_experts, nullptr, nullptr},
    {Rule::vocabulary, "vocabulary", Severity::error, rules::check_vocabulary, rules::fix_vocabulary,
     plan_errors::vocabulary_not_divisible_under_the_padding_rule},
    {Rule::vocab_padding, "vocab_padding", Severity::warning, rules::check_vocab_padding, nullptr, nullptr},
    {Rule::quantization_blocks, "quantization_blocks", Severity::error, rules::check_quantization_blocks,
     rules::fix_experts_by_ep, plan_errors::quantization_blocks_cut_by_the_per_rank_shapes},
    {Rule::sequence, "sequence", Severity::error, rules::check_sequence, rules::fix_sequence,
     plan_errors::sequence_length_not_divisible},
    {Rule::context, "context", Severity::error, rules::check_context, rules::fix_context,
     plan_errors::sequence_length_not_divisible},
    {Rule::pipeline, "pipeline", Severity::error, rules::check_pipeline, rules::fix_pipeline,
     plan_errors::more_pipeline_stages_than_layers},
    {Rule::mesh, "mesh", Severity::error, rules::check_mesh, rules::fix_mesh,
     plan_errors::parallel_sizes_do_not_multiply_to_the_world},
    {Rule::expert_parallel, "expert_parallel", Severity::error, rules::check_expert_parallel,
     rules::fix_expert_parallel, plan_errors::expert_parallel_cannot_borrow_its_ranks},
    {Rule::tp_crosses_host, "tp_crosses_host", Severity::warning, rules::check_tp_crosses_host, nullptr, nullptr},
};

namespace rules {
/// Row i is Rule i, for every Rule; every row has a check; errors have a fix and a compile-time name, warnings
/// neither.
[[nodiscard]] constexpr bool table_complete() {
  if (std::size(kRules) != static_cast<std::size_t>(kLastRule) + 1) return false;
  for (std::size_t i = 0; i < std::size(kRules); ++i) {
    const RuleSpec& rule = kRules[i];
    const bool error = rule.severity == Severity::error;
    if (rule.id != static_cast<Rule>(i) || rule.name.empty() || rule.check == nullptr) return false;
    if (error != (rule.fix != nullptr) || error != (rule.compile_error != nullptr)) return false;
  }
  return true;
}
}  // namespace rules
static_assert(rules::table_complete(), "kRules: one row per Rule, in enum order; errors with a fix and a name");

/// The row of `rule`. Precondition: a Rule enumerator.
[[nodiscard]] constexpr const RuleSpec& rule_spec(Rule rule) { return kRules[static_cast<std::size_t>(rule)]; }

[[nodiscard]] constexpr std::string_view to_string(Rule rule) { return rule_spec(rule).name; }

}  // namespace shardplan
