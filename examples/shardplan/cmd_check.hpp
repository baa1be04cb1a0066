#pragma once
// `shardplan check`: is this parallel layout valid for this model? Exit 0 when valid, 1 when not (an invalid plan is
// an answer, not an input error), 2 for bad input.
#include <string>

#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "model_flags.hpp"
#include "model_report.hpp"

namespace shardplan_cli {
namespace check {

inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the report"};

inline constexpr auto kFlags = [] {
  std::array<FlagSpec, std::size(kModelFlags) + 1> flags{};
  for (std::size_t i = 0; i < std::size(kModelFlags); ++i) flags[i] = kModelFlags[i];
  flags.back() = kJsonFlag;
  return flags;
}();

inline void write_sizes(JsonWriter& json, std::string_view key, const std::vector<Index>& sizes) {
  json.key(key).begin_array();
  for (const Index size : sizes) json.number(size);
  json.end_array();
}

inline std::string format_sizes(const std::vector<Index>& sizes) {
  std::string text;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(sizes[i]);
  }
  return text.empty() ? "none" : text;
}

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::ModelConfig config = read_model(flags);
  const shardplan::ParallelConfig parallel = read_parallel(flags);
  const auto user_plan = read_plan(flags, config);
  const shardplan::PlanReport report =
      unwrap_model_result(shardplan::validate_model_plan(config, parallel, user_plan ? &*user_plan : nullptr));
  std::string& text = out.buffer();
  if (flags.has(kJsonFlag.name)) {
    JsonWriter json(text);
    json.begin_object();
    write_report_json(json, config, parallel, report);
    json.key("valid_sizes").begin_object();
    write_sizes(json, "tp", report.valid_tp);
    write_sizes(json, "ep", report.valid_ep);
    write_sizes(json, "pp", report.valid_pp);
    json.end_object();
    write_sizes(json, "layers_per_stage", report.layers_per_stage);
    json.end_object();
    text += '\n';
    return exit_status(report);
  }
  append_report_text(config, parallel, report, text);
  text += "valid sizes (each alone, same policies): tp ";
  text += format_sizes(report.valid_tp);
  text += "; ep ";
  text += format_sizes(report.valid_ep);
  text += "; pp 1..";
  text += std::to_string(report.valid_pp.empty() ? 0 : report.valid_pp.back());
  text += '\n';
  if (parallel.pp > 1 && !report.layers_per_stage.empty()) {
    text += "layers per stage: ";
    text += format_sizes(report.layers_per_stage);
    text += '\n';
  }
  return exit_status(report);
}

}  // namespace check

inline constexpr Command kCheckCommand{
    "check",
    "whether a TP/EP/PP layout is valid for a model, and which sizes are",
    "Checks the model's default plan (HF transformers' TP plan, its EP plan when --ep > 1, sequence-parallel\n"
    "entries with --sp) against every validity rule: attention and KV heads, intermediate sizes per segment, experts,\n"
    "vocabulary padding, quantization blocks on per-rank shapes, sequence and context lengths, pipeline stages, the\n"
    "world size and expert-parallel borrowing. Each violation names the rule, the parameter, the numbers and a fix.\n"
    "Exit status 0 when valid, 1 when not, 2 for bad input. --json prints one object instead:\n"
    "  {\"model\":..,\"layout\":{\"tp\":..,\"ep\":..,\"etp\":..,\"pp\":..,\"dp\":..,\"cp\":..,\"world\":..},\"valid\":..,\"errors\":[{\"rule\":..,\"param\":..,\"message\":..,\"fix\":..}],\"warnings\":[..],\n"
    "   \"valid_sizes\":{\"tp\":[..],\"ep\":[..],\"pp\":[..]}}",
    check::kFlags,
    check::run,
};

}  // namespace shardplan_cli
