#pragma once
// What `check`, `plan` and `size` say alike about a model layout: the layout evaluated (text and JSON) and the
// validation report. An invalid layout is an answer, not an input error: all three print the same diagnostics and
// exit 1 (plan and size still print their listing below them, where one exists).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.hpp"
#include "model_flags.hpp"

namespace shardplan_cli {

/// Exit status of a model command: 0 for a valid layout, 1 for an invalid one.
inline int exit_status(const shardplan::PlanReport& report) { return report.valid() ? 0 : 1; }

/// "qwen2.5-7b: tp 8, pp 2, fp8-block128": the model and the sizes above 1.
inline std::string describe_layout(const shardplan::ModelConfig& config, const shardplan::ParallelConfig& parallel) {
  std::string text(config.name.view());
  text += ": tp ";
  text += std::to_string(parallel.tp);
  for (const auto& [name, value] : {std::pair<const char*, Index>{"ep", parallel.ep}, {"etp", parallel.etp},
                                    {"pp", parallel.pp}, {"dp", parallel.dp}, {"cp", parallel.cp}}) {
    if (value > 1) {
      text += ", ";
      text += name;
      text += ' ';
      text += std::to_string(value);
    }
  }
  if (config.quantization != shardplan::Quantization::none) {
    text += ", ";
    text += shardplan::to_string(config.quantization);
  }
  return text;
}

/// "layout": the sizes evaluated, etp resolved (0 means tp) and the world tp·cp·dp·pp (the library checked that it
/// fits in int64 before any command gets here).
inline void write_layout_json(JsonWriter& json, const shardplan::ParallelConfig& parallel) {
  json.key("layout").begin_object();
  json.key("tp").number(parallel.tp);
  json.key("ep").number(parallel.ep);
  json.key("etp").number(parallel.expert_tp());
  json.key("pp").number(parallel.pp);
  json.key("dp").number(parallel.dp);
  json.key("cp").number(parallel.cp);
  json.key("world").number(parallel.tp * parallel.cp * parallel.dp * parallel.pp);
  json.end_object();
}

inline void write_diagnostics_json(JsonWriter& json, std::string_view key,
                                   const std::vector<shardplan::Diagnostic>& list) {
  json.key(key).begin_array();
  for (const shardplan::Diagnostic& d : list) {
    json.begin_object();
    json.key("rule").string(shardplan::to_string(d.rule));
    json.key("param").string(d.param.view());
    json.key("message").string(d.message.view());
    json.key("fix").string(d.fix.view());
    json.end_object();
  }
  json.end_array();
}

/// The members every model command's JSON starts with: model, layout, valid, errors, warnings.
inline void write_report_json(JsonWriter& json, const shardplan::ModelConfig& config,
                              const shardplan::ParallelConfig& parallel, const shardplan::PlanReport& report) {
  json.key("model").string(config.name.view());
  write_layout_json(json, parallel);
  json.key("valid").boolean(report.valid());
  write_diagnostics_json(json, "errors", report.errors);
  write_diagnostics_json(json, "warnings", report.warnings);
}

/// The layout line ("…: valid" or "…: INVALID") and one entry per error and warning, with its fix.
inline void append_report_text(const shardplan::ModelConfig& config, const shardplan::ParallelConfig& parallel,
                               const shardplan::PlanReport& report, std::string& text) {
  text += describe_layout(config, parallel);
  text += report.valid() ? ": valid\n" : ": INVALID\n";
  for (const auto* list : {&report.errors, &report.warnings}) {
    for (const shardplan::Diagnostic& d : *list) {
      text += list == &report.errors ? "  error   " : "  warning ";
      text += '[';
      text += shardplan::to_string(d.rule);
      text += "] ";
      if (!d.param.empty()) {
        text += d.param.view();
        text += ": ";
      }
      text += d.message.view();
      text += '\n';
      if (!d.fix.empty()) {
        text += "          fix: ";
        text += d.fix.view();
        text += '\n';
      }
    }
  }
}

/// The report plan and size print: the rules alone for a valid layout; for an invalid one, check's full report,
/// whose fixes name the valid sizes, so that the three commands print the same diagnostics.
inline shardplan::PlanReport check_rules(const shardplan::ModelConfig& config,
                                         const shardplan::ParallelConfig& parallel, const shardplan::Plan* plan) {
  shardplan::PlanReport report =
      unwrap_model_result(shardplan::validate_model_plan(config, parallel, plan, shardplan::CheckDepth::rules));
  if (report.valid()) return report;
  return unwrap_model_result(shardplan::validate_model_plan(config, parallel, plan));
}

}  // namespace shardplan_cli
