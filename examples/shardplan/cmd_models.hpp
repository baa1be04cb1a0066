#pragma once
// `shardplan models`: the built-in presets.
#include <string>
#include <vector>

#include "command.hpp"
#include "json.hpp"

namespace shardplan_cli {
namespace models {

inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table"};
inline constexpr FlagSpec kValidSizesFlag{"--valid-sizes", "",
                                          "print a markdown table of every preset's valid TP, EP and PP sizes"};
inline constexpr FlagSpec kFlags[] = {kValidSizesFlag, kJsonFlag};

/// `1, 2, 4` or, for a run of every size, `1-61`.
inline std::string size_list(const std::vector<Index>& sizes) {
  if (sizes.size() > 2 && sizes.back() - sizes.front() + 1 == static_cast<Index>(sizes.size())) {
    return std::to_string(sizes.front()) + "-" + std::to_string(sizes.back());
  }
  std::string text;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(sizes[i]);
  }
  return text;
}

/// The table of docs/plans.md: default policies (KV forbid, no vocab padding, even experts), each dim alone.
inline int write_valid_sizes(std::string& text) {
  text += "| model | valid TP | valid EP | valid PP |\n| --- | --- | --- | --- |\n";
  for (const std::string_view name : shardplan::kModelPresetNames) {
    const shardplan::ModelConfig config = shardplan::model_preset(name).value();
    const shardplan::PlanReport report = shardplan::validate_model_plan(config, {}).value();
    text += "| " + std::string(name) + " | " + size_list(report.valid_tp) + " | " + size_list(report.valid_ep) +
            " | " + size_list(report.valid_pp) + " |\n";
  }
  return 0;
}

inline int run(const ParsedFlags& flags, Output& out) {
  std::string& text = out.buffer();
  if (flags.has(kValidSizesFlag.name)) return write_valid_sizes(text);
  const bool json_output = flags.has(kJsonFlag.name);
  JsonWriter json(text);
  if (json_output) json.begin_object().key("models").begin_array();
  for (const std::string_view name : shardplan::kModelPresetNames) {
    const shardplan::ModelConfig config = shardplan::model_preset(name).value();
    const Index params = shardplan::total_parameters(shardplan::parameter_inventory(config).value());
    if (json_output) {
      json.begin_object();
      json.key("name").string(name);
      json.key("model_type").string(shardplan::to_string(config.family));
      json.key("params").number(params);
      json.key("layers").number(config.num_hidden_layers);
      json.key("heads").number(config.num_attention_heads);
      json.key("kv_heads").number(config.num_key_value_heads);
      json.key("experts").number(config.num_experts);
      json.key("quantization").string(shardplan::to_string(config.quantization));
      json.end_object();
      continue;
    }
    std::string line(name);
    line.resize(18, ' ');
    line += shardplan::to_string(config.family);
    line.resize(32, ' ');
    line += std::to_string(params) + " params, " + std::to_string(config.num_hidden_layers) + " layers, heads " +
            std::to_string(config.num_attention_heads) + "/" + std::to_string(config.num_key_value_heads);
    if (config.is_moe()) line += ", " + std::to_string(config.num_experts) + " experts";
    if (config.quantization != shardplan::Quantization::none) line += ", " + std::string(shardplan::to_string(config.quantization));
    text += line + "\n";
  }
  if (json_output) {
    json.end_array().end_object();
    text += '\n';
  }
  return 0;
}

}  // namespace models

inline constexpr Command kModelsCommand{
    "models", "the built-in model presets", "Lists the presets --model accepts, with their sizes.", models::kFlags,
    models::run,
};

}  // namespace shardplan_cli
