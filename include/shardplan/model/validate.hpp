#pragma once
// Plan validation: runs every rule of model/plan_rules.hpp (each violation one diagnostic naming the rule, the
// parameter pattern, the numbers and a fix; performance warnings apart) and finds the valid sizes of each parallel
// dim. Everything is constexpr: `static_assert(validate_model_plan(preset, sizes)->valid())` works.
#include "shardplan/core/cxx20.hpp"

#include <vector>

#include "shardplan/llm/pipeline_split.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/plan_rules.hpp"
#include "shardplan/model/sharded_parameter.hpp"

namespace shardplan {

struct PlanReport {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  std::vector<Index> valid_tp;  // each dim varied alone (the others 1), with the same policies and quantization,
                                // up to kMaxSearchedSize
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
};

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

/// Every rule of kRules, in table order, for one parallel configuration (no fixes: validate_model_plan adds them
/// from the valid sizes).
[[nodiscard]] constexpr Result<Diagnostics> diagnose(const ModelConfig& config, const ParallelConfig& parallel,
                                                     const Inventory& inventory, const Plan& plan) {
  Diagnostics out;
  SHARDPLAN_TRY(const std::vector<ShardedParameter> params, shard_parameters(inventory, plan, config, parallel));
  const rules::RuleInput input{config, parallel, params};
  for (const RuleSpec& rule : kRules) {
    rules::Findings found(rule.id, rule.severity == Severity::error ? out.errors : out.warnings);
    SHARDPLAN_CHECK(rule.check(input, found));
  }
  return out;
}

}  // namespace detail

/// The valid sizes are searched up to this size of each dim (a model with more heads or experts, far beyond any
/// published one, gets its lists cut there): each candidate re-runs every rule, at a cost linear in its size.
inline constexpr Index kMaxSearchedSize = 1024;

/// What validate_model_plan computes besides the diagnostics. The valid sizes re-run every rule for each candidate size, which
/// is too much work for a constant expression on large models: static_asserts use `CheckDepth::rules`.
enum class CheckDepth { rules, with_valid_sizes };

/// Checks a model under a plan (the family's default plan when `plan` is null) and parallel configuration.
/// Returns an error only for bad input (sizes < 1); an invalid plan is a report with errors.
[[nodiscard]] constexpr Result<PlanReport> validate_model_plan(const ModelConfig& config, const ParallelConfig& parallel,
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
    for (Index size = 1; size <= (kMaxSearchedSize < limit ? kMaxSearchedSize : limit); ++size) {
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
  SHARDPLAN_TRY(report.valid_tp, valid_alone(&ParallelConfig::tp, (config.num_attention_heads < 1 ? Index{1} : config.num_attention_heads)));
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

  const rules::FixInput fix_input{config, parallel, report.valid_tp, report.valid_ep};
  for (Diagnostic& d : found.errors) SHARDPLAN_CHECK(rule_spec(d.rule).fix(fix_input, d.fix));
  report.errors = found.errors;
  return report;
}

}  // namespace shardplan
