#pragma once
// `shardplan layers`: which decoder layers each pipeline stage runs, by vLLM's rule or an explicit --split list.
// A table, or JSON.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace layers {

inline constexpr FlagSpec kLayersFlag{"--layers", "L", "decoder layers of the model", true};
inline constexpr FlagSpec kPpFlag{"--pp", "N", "pipeline stages", true};
inline constexpr FlagSpec kSplitFlag{"--split", "LIST",
                                     "explicit layers per stage, e.g. 15,16,15,15 (N entries >= 1 summing to L)"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table"};
inline constexpr FlagSpec kFlags[] = {kLayersFlag, kPpFlag, kSplitFlag, kJsonFlag};

inline constexpr Index kMaxListedStages = Index{1} << 20;

/// The flag a PipelineSplit error is about, judged by the field it names.
inline InputError split_error(const shardplan::Error& error) {
  const std::string_view field = error.field.view();
  if (field.starts_with("split")) return library_error(kSplitFlag.name, error);  // keeps "split[i]: "
  if (field == "pp") return InputError(kPpFlag.name, error.message.view());
  return InputError(kLayersFlag.name, error.message.view());
}

inline shardplan::PipelineSplit read_split(const ParsedFlags& flags) {
  const Index layers = parse_index(flags.require(kLayersFlag.name), kLayersFlag.name);
  const Index stages = parse_index(flags.require(kPpFlag.name), kPpFlag.name);
  std::optional<std::vector<Index>> sizes;
  if (const auto text = flags.get(kSplitFlag.name)) sizes = parse_index_list(*text, kSplitFlag.name, "split");
  auto split = sizes ? shardplan::PipelineSplit::from_sizes(layers, stages, *sizes)
                     : shardplan::PipelineSplit::create(layers, stages);
  if (!split.ok()) throw split_error(split.error());
  if (split->num_stages() > kMaxListedStages) {
    throw InputError(kPpFlag.name, std::to_string(split->num_stages()) + " stages are too many to list (at most " +
                                       std::to_string(kMaxListedStages) + ")");
  }
  return std::move(split).value();
}

inline void write_json(const shardplan::PipelineSplit& split, Output& out) {
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("layers").number(split.num_layers());
  json.key("pp").number(split.num_stages());
  json.key("rule").string(split.is_explicit() ? "explicit" : "vllm");
  json.key("stages").begin_array();
  for (Index s = 0; s < split.num_stages(); ++s) {
    const shardplan::PipelineStage stage = split.stage_unchecked(s);
    json.begin_object();
    json.key("stage").number(s);
    json.key("first_layer").number(stage.first_layer);
    json.key("num_layers").number(stage.num_layers);
    json.key("end_layer").number(stage.end_layer());
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.end_object();
  out.write("\n");
}

/// How the layers were split, in words: `vllm rule: 15 per stage, the 1 extra layer on stage 2`.
inline std::string describe_rule(const shardplan::PipelineSplit& split) {
  if (split.is_explicit()) return "explicit split";
  const Index base = split.num_layers() / split.num_stages();
  const Index extra = split.num_layers() % split.num_stages();
  std::string text = "vllm rule: ";
  text += std::to_string(base);
  text += " per stage";
  if (extra == 0) return text;
  const Index last = split.num_stages() - 2;  // extra layers sit on stages [last - extra + 1, last]
  if (extra == 1) {
    text += ", the 1 extra layer on stage ";
    text += std::to_string(last);
  } else {
    text += ", the ";
    text += std::to_string(extra);
    text += " extra layers on stages ";
    text += std::to_string(last - extra + 1);
    text += '-';
    text += std::to_string(last);
  }
  return text + " (before the last, walking backwards)";
}

inline void write_text(const shardplan::PipelineSplit& split, Output& out) {
  std::string& text = out.buffer();
  text += std::to_string(split.num_layers());
  text += " layers over pp ";
  text += std::to_string(split.num_stages());
  text += "  ";
  text += describe_rule(split);
  text += "\n\n";
  TableLayout table({"stage", "layers", "count"});
  const auto row = [&](Index s) {
    const shardplan::PipelineStage stage = split.stage_unchecked(s);
    return std::vector<std::string>{std::to_string(s), format_interval(stage.first_layer, stage.end_layer()),
                                    std::to_string(stage.num_layers)};
  };
  for (Index s = 0; s < split.num_stages(); ++s) table.measure(row(s));
  table.append_header(text);
  for (Index s = 0; s < split.num_stages(); ++s) {
    table.append_row(row(s), text);
    out.maybe_flush();
  }
}

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::PipelineSplit split = read_split(flags);
  if (flags.has(kJsonFlag.name)) {
    write_json(split, out);
  } else {
    write_text(split, out);
  }
  return 0;
}

}  // namespace layers

inline constexpr Command kLayersCommand{
    "layers",
    "which decoder layers each pipeline stage runs",
    "Splits --layers L decoder layers over --pp N pipeline stages. By default vLLM's rule: every stage gets L / N\n"
    "and the L % N extra layers go to the stages just before the last, walking backwards (the last stage, which\n"
    "also runs the LM head, never gets one): 61 over 4 -> 15,15,16,15. --split gives the sizes explicitly (vLLM's\n"
    "VLLM_PP_LAYER_PARTITION): N entries, each >= 1, summing to L. --json prints one object instead:\n"
    "  {\"layers\":..,\"pp\":..,\"rule\":\"vllm\"|\"explicit\",\n"
    "   \"stages\":[{\"stage\":0,\"first_layer\":0,\"num_layers\":..,\"end_layer\":..},..]}",
    layers::kFlags,
    layers::run,
};

}  // namespace shardplan_cli
