#pragma once
// `shardplan load --model DIR --rank R`: shard-on-read for a checkpoint. Every tensor rank R reads from the model
// directory's safetensors files under the plan (its parameters and their quantization scales), with the file, the
// local shape and the byte ranges, then the totals and the read amplification. The library computes it
// (model/checkpoint_load.hpp); this prints it.
#include <string>

#include "cmd_check.hpp"
#include "shardplan/model/checkpoint_load.hpp"

namespace shardplan_cli {
namespace load {

inline constexpr FlagSpec kRankFlag{"--rank", "R", "the rank whose reads to list (ranks are (pp, dp, cp, tp), tp fastest)",
                                    true};
inline constexpr FlagSpec kMaxGapFlag{
    "--max-gap", "BYTES", "merge reads whose gap is at most this many bytes (default 0: one read per byte range)"};
inline constexpr FlagSpec kRangesFlag{"--ranges", "N", "byte ranges listed per tensor (default 4; --json: 16)"};

inline constexpr auto kFlags = [] {
  std::array<FlagSpec, std::size(check::kFlags) + 3> flags{};
  for (std::size_t i = 0; i < std::size(check::kFlags); ++i) flags[i] = check::kFlags[i];
  flags[std::size(check::kFlags)] = kRankFlag;
  flags[std::size(check::kFlags) + 1] = kMaxGapFlag;
  flags[std::size(check::kFlags) + 2] = kRangesFlag;
  return flags;
}();

inline std::string plural(Index count, std::string_view one, std::string_view many) {
  return std::to_string(count) + " " + std::string(count == 1 ? one : many);
}

/// "256 reads of 256 bytes, 512 apart, from 1032" when regular, else the listed ranges ("8+256, 1032+256, ...").
inline std::string describe_reads(const shardplan::ReadSummary& reads) {
  if (reads.reads == 0) return "nothing to read";
  std::string text = plural(reads.bytes_needed, "byte", "bytes") + " in " + plural(reads.reads, "read", "reads");
  if (reads.reads > 1 && reads.stride > 0 && reads.listed.size() < static_cast<std::size_t>(reads.reads)) {
    return text + " of " + std::to_string(reads.length) + " bytes, " + std::to_string(reads.stride) +
           " apart, from " + std::to_string(reads.listed.front().offset);
  }
  text += ": ";
  for (std::size_t i = 0; i < reads.listed.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(reads.listed[i].offset) + "+" + std::to_string(reads.listed[i].length);
  }
  if (reads.listed.size() < static_cast<std::size_t>(reads.reads)) {
    text += ", ... (" + std::to_string(reads.reads - static_cast<Index>(reads.listed.size())) + " more)";
  }
  return text;
}

inline void write_json(const ModelInput& input, const shardplan::ParallelConfig& parallel,
                       const shardplan::PlanReport& report, Index rank, Index max_gap, const shardplan::RankLoad& load,
                       Output& out) {
  std::string& text = out.buffer();
  JsonWriter json(text);
  json.begin_object();
  write_report_json(json, input.config, parallel, report);
  json.key("rank").number(rank);
  json.key("stage").number(load.where.stage).key("tp_rank").number(load.where.tp_rank);
  json.key("ep_rank").number(load.where.ep_rank);
  json.key("max_gap").number(max_gap);
  json.key("parameters").number(load.parameters);
  json.key("tensor_count").number(static_cast<Index>(load.tensors.size()));
  json.key("files_read").number(load.files);
  json.key("files").number(static_cast<Index>(input.checkpoint->files().size()));
  json.key("bytes_needed").number(load.bytes_needed);
  json.key("bytes_read").number(load.bytes_read);
  json.key("reads").number(load.reads);
  json.key("read_amplification").decimal(load.read_amplification());
  json.key("tensors").begin_array();
  for (const shardplan::LoadedTensor& tensor : load.tensors) {
    json.begin_object();
    json.key("name").string(tensor.tensor->name);
    json.key("file").string(tensor.file->name);
    json.key("dtype").string(tensor.tensor->dtype);
    json.key("shape").begin_array();
    for (const Index size : tensor.tensor->shape) json.number(size);
    json.end_array();
    json.key("local_shape").begin_array();
    for (const Index size : tensor.local_shape) json.number(size);
    json.end_array();
    json.key("scale").boolean(tensor.scale);
    json.key("bytes_needed").number(tensor.reads.bytes_needed);
    json.key("bytes_read").number(tensor.reads.bytes_read);
    json.key("reads").number(tensor.reads.reads);
    json.key("length").number(tensor.reads.length);
    json.key("stride").number(tensor.reads.stride);
    json.key("ranges").begin_array();
    for (const shardplan::ByteRange& range : tensor.reads.listed) {
      json.begin_object().key("file_offset").number(range.offset).key("length").number(range.length).end_object();
    }
    json.end_array();
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.end_object();
  text += '\n';
}

inline int run(const ParsedFlags& flags, Output& out) {
  ModelInput input = read_model_input(flags);
  if (!input.checkpoint) {
    throw InputError(kModelFlag.name, "load reads a checkpoint: give a model directory holding " +
                                          std::string(shardplan::kSafetensorsIndexFile) + " or " +
                                          std::string(shardplan::kSafetensorsSingleFile));
  }
  const shardplan::ParallelConfig parallel = read_parallel(flags);
  const Index rank = parse_index(*flags.get(kRankFlag.name), kRankFlag.name);
  const Index max_gap = flags.has(kMaxGapFlag.name) ? parse_index(*flags.get(kMaxGapFlag.name), kMaxGapFlag.name) : 0;
  if (max_gap < 0) throw InputError(kMaxGapFlag.name, "must be >= 0, got " + std::to_string(max_gap));
  const bool as_json = flags.has(check::kJsonFlag.name);
  const Index ranges = flags.has(kRangesFlag.name) ? parse_index(*flags.get(kRangesFlag.name), kRangesFlag.name)
                                                   : (as_json ? 16 : 4);
  if (ranges < 0) throw InputError(kRangesFlag.name, "must be >= 0, got " + std::to_string(ranges));
  const auto user_plan = read_plan(flags, input.config);
  const shardplan::Plan* plan = user_plan ? &*user_plan : nullptr;
  const shardplan::PlanReport report = check_rules(input.config, parallel, plan);
  auto load = shardplan::rank_load(input.config, *input.checkpoint, parallel, rank, plan, max_gap,
                                   static_cast<std::size_t>(ranges));
  if (!load.ok()) {
    if (load.error().field == std::string_view("rank")) throw library_error(kRankFlag.name, load.error());
    // Only a layout the rules refuse cannot be listed; otherwise the input was wrong in a way the rules do not see.
    if (report.valid() || load.error().field == std::string_view("checkpoint")) {
      throw library_error(kModelFlag.name, load.error());
    }
    std::string& text = out.buffer();
    if (as_json) {  // as plan does: the diagnostics, and why there is no listing
      JsonWriter json(text);
      json.begin_object();
      write_report_json(json, input.config, parallel, report);
      json.key("rank").number(rank);
      json.key("tensors").null();
      json.key("listing_error").string(load.error().what());
      json.end_object();
      text += '\n';
    } else {
      append_report_text(input.config, parallel, report, text);
      text += "rank " + std::to_string(rank) + " cannot be listed: " + load.error().what() + "\n";
    }
    return exit_status(report);
  }
  if (as_json) {
    write_json(input, parallel, report, rank, max_gap, *load, out);
    return exit_status(report);
  }
  std::string& text = out.buffer();
  if (!report.valid()) append_report_text(input.config, parallel, report, text);
  text += describe_layout(input.config, parallel) + ", rank " + std::to_string(rank) + " (stage " +
          std::to_string(load->where.stage) + ", tp rank " + std::to_string(load->where.tp_rank) + ", ep rank " +
          std::to_string(load->where.ep_rank) + "): " + plural(static_cast<Index>(load->tensors.size()), "tensor", "tensors") +
          " for " + plural(load->parameters, "parameter", "parameters") + ", from " + std::to_string(load->files) +
          " of " + plural(static_cast<Index>(input.checkpoint->files().size()), "file", "files") + "\n";
  for (const shardplan::LoadedTensor& tensor : load->tensors) {
    std::string line = tensor.scale ? "  " : "";
    line += tensor.tensor->name;
    line += "  ";
    line += tensor.file->name;
    line += "  ";
    line += tensor.tensor->dtype;
    line += ' ';
    line += format_tuple(tensor.tensor->shape) + " -> " + format_tuple(tensor.local_shape) + "  " +
            describe_reads(tensor.reads) + "\n";
    text += line;
    out.maybe_flush();
  }
  text += "total: " + plural(load->bytes_needed, "byte", "bytes") + " needed, " +
          plural(load->bytes_read, "byte", "bytes") + " read in " + plural(load->reads, "read", "reads") +
          " (max gap " + std::to_string(max_gap) + "), read amplification " +
          format_fixed(load->read_amplification(), 2) + "\n";
  return exit_status(report);
}

}  // namespace load

inline constexpr Command kLoadCommand{
    "load",
    "what one rank reads of a checkpoint: per tensor its file, local shape and byte ranges",
    "Reads a model directory's config.json and safetensors headers (never the data) and lists, for --rank R, every\n"
    "tensor the rank reads under the plan: each parameter it holds (layers of its pipeline stage, its experts under\n"
    "ep) followed, indented, by its quantization scales (fp8 weight_scale_inv cut block by block, mxfp4 _scales),\n"
    "with the file, the stored and local shapes and the coalesced byte ranges (absolute file offsets), then the\n"
    "totals and the read amplification (bytes read / bytes needed; > 1 only with --max-gap). A run of equally long\n"
    "ranges at a fixed distance is printed as one line. An invalid layout prints check's diagnostics first and exits\n"
    "1 (its listing follows when the rank can still be listed), as plan does. --json prints one object instead:\n"
    "  {\"model\":..,\"layout\":{..},\"valid\":..,\"errors\":[..],\"warnings\":[..],\"rank\":..,\"bytes_needed\":..,\"bytes_read\":..,\"reads\":..,\"read_amplification\":..,\n"
    "   \"tensors\":[{\"name\":..,\"file\":..,\"dtype\":..,\"shape\":[..],\"local_shape\":[..],\"scale\":..,\"reads\":..,\n"
    "                \"length\":..,\"stride\":..,\"ranges\":[{\"file_offset\":..,\"length\":..},..]},..]}",
    load::kFlags,
    load::run,
};

}  // namespace shardplan_cli
