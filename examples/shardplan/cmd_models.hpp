#pragma once
// `shardplan models`: the built-in presets.
#include <string>

#include "command.hpp"
#include "json.hpp"

namespace shardplan_cli {
namespace models {

inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table"};
inline constexpr FlagSpec kFlags[] = {kJsonFlag};

inline int run(const ParsedFlags& flags, Output& out) {
  std::string& text = out.buffer();
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
