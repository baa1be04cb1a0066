#pragma once
// `shardplan vocab`: which token ids (and how many padding rows) each tensor-parallel rank's slice of the embedding
// or LM head holds, under the none, vllm or megatron padding rule. A table, or JSON.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace vocab {

inline constexpr FlagSpec kVocabFlag{"--vocab", "V", "original vocabulary size: token ids 0..V-1", true};
inline constexpr FlagSpec kAddedFlag{"--added", "A",
                                     "added tokens, ids V..V+A-1 (e.g. LoRA extra vocab); vllm pads them separately"};
inline constexpr FlagSpec kTpFlag{"--tp", "N", "tensor-parallel ranks the rows are split over", true};
inline constexpr FlagSpec kPadFlag{"--pad", "RULE", "none, vllm or megatron", true};
inline constexpr FlagSpec kPadToFlag{
    "--pad-to", "M", "vllm: pad each part to a multiple of M (default 64); megatron: M * tp (default 128)"};
inline constexpr FlagSpec kRankFlag{"--rank", "R", "show only rank R"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table"};
inline constexpr FlagSpec kFlags[] = {kVocabFlag, kAddedFlag, kTpFlag, kPadFlag, kPadToFlag, kRankFlag, kJsonFlag};


inline shardplan::VocabPartition read_partition(const ParsedFlags& flags) {
  shardplan::VocabSpec spec;
  spec.vocab = parse_index(flags.require(kVocabFlag.name), kVocabFlag.name);
  if (const auto added = flags.get(kAddedFlag.name)) spec.added = parse_index(*added, kAddedFlag.name);
  spec.tp = parse_index(flags.require(kTpFlag.name), kTpFlag.name);
  spec.pad = unwrap(shardplan::parse_vocab_padding(flags.require(kPadFlag.name)), kPadFlag.name);
  if (const auto pad_to = flags.get(kPadToFlag.name)) spec.pad_to = parse_index(*pad_to, kPadToFlag.name);
  auto partition = shardplan::VocabPartition::create(spec);
  if (!partition.ok()) {
    throw blame_field(partition.error(),
                      {kVocabFlag.name, kAddedFlag.name, kTpFlag.name, kPadFlag.name, kPadToFlag.name}, kVocabFlag.name);
  }
  return std::move(partition).value();
}

inline void write_json(const shardplan::VocabPartition& partition, RankSpan ranks, Output& out) {
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("vocab").number(partition.vocab());
  json.key("added").number(partition.added());
  json.key("tp").number(partition.tp());
  json.key("pad").string(shardplan::to_string(partition.pad()));
  json.key("pad_to");
  if (partition.pad() == shardplan::VocabPadding::none) {
    json.null();
  } else {
    json.number(partition.pad_to());
  }
  json.key("padded_vocab").number(partition.padded_vocab());
  json.key("rows_per_rank").number(partition.rows_per_rank());
  json.key("padding_rows").number(partition.padding_rows());
  if (partition.pad() == shardplan::VocabPadding::vllm) {
    json.key("padded_original").number(partition.padded_original());
    json.key("padded_added").number(partition.padded_added());
  }
  json.key("ranks").begin_array();
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const shardplan::VocabShard shard = partition.shard_unchecked(rank);
    json.begin_object();
    json.key("rank").number(rank);
    json.key("tokens");
    write_interval_set(json, shard.tokens);
    json.key("padding_rows").number(shard.padding());
    json.key("padding");
    write_interval_set(json, shard.padding_rows);
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.end_object();
  out.write("\n");
}

/// `vocab 1010 + 16 added  tp 2  pad vllm (each part to a multiple of 64)` and the sizes.
inline std::string summary(const shardplan::VocabPartition& partition) {
  std::string text = "vocab ";
  text += std::to_string(partition.vocab());
  if (partition.added() > 0) {
    text += " + ";
    text += std::to_string(partition.added());
    text += " added";
  }
  text += "  tp ";
  text += std::to_string(partition.tp());
  text += "  pad ";
  text += shardplan::to_string(partition.pad());
  switch (partition.pad()) {
    case shardplan::VocabPadding::none: break;
    case shardplan::VocabPadding::vllm:
      text += " (each part to a multiple of ";
      text += std::to_string(partition.pad_to());
      text += ")";
      break;
    case shardplan::VocabPadding::megatron:
      text += " (to a multiple of ";
      text += std::to_string(partition.pad_to());
      text += " x tp = ";
      text += std::to_string(partition.pad_to() * partition.tp());
      text += ")";
      break;
  }
  text += "\n";
  text += std::to_string(partition.padded_vocab());
  text += " rows";
  if (partition.padded_added() > 0) {
    text += " = ";
    text += std::to_string(partition.padded_original());
    text += " original + ";
    text += std::to_string(partition.padded_added());
    text += " added";
  }
  text += ", ";
  text += std::to_string(partition.rows_per_rank());
  text += " per rank, ";
  text += std::to_string(partition.padding_rows());
  text += partition.padding_rows() == 1 ? " padding row\n" : " padding rows\n";
  return text;
}

inline std::vector<std::string> table_row(const shardplan::VocabShard& shard) {
  return {std::to_string(shard.rank), format_set(shard.tokens), std::to_string(shard.tokens.size()),
          std::to_string(shard.padding()), format_set(shard.padding_rows)};
}

inline void write_text(const shardplan::VocabPartition& partition, RankSpan ranks, Output& out) {
  std::string& text = out.buffer();
  text += summary(partition);
  text += "\n";
  TableLayout table({"rank", "tokens", "real", "padding", "padding_rows"});
  for (Index rank = ranks.first; rank < ranks.last; ++rank) table.measure(table_row(partition.shard_unchecked(rank)));
  table.append_header(text);
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    table.append_row(table_row(partition.shard_unchecked(rank)), text);
    out.maybe_flush();
  }
}

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::VocabPartition partition = read_partition(flags);
  const RankSpan ranks = read_rank_span(flags.get(kRankFlag.name), kRankFlag.name, partition.tp(), kTpFlag.name,
                                        [&partition](Index rank) { return partition.shard(rank); });
  if (flags.has(kJsonFlag.name)) {
    write_json(partition, ranks, out);
  } else {
    write_text(partition, ranks, out);
  }
  return 0;
}

}  // namespace vocab

inline constexpr Command kVocabCommand{
    "vocab",
    "which token ids each tensor-parallel rank's vocabulary rows hold, padding included",
    "Splits the rows of a vocabulary (embedding, LM head) over --tp ranks after padding it by a framework's rule:\n"
    "  none      (V + A) % tp must be 0\n"
    "  vllm      original and added tokens each padded to a multiple of 64 and split separately: a rank holds its\n"
    "            slice of the original rows, then its slice of the added rows, real tokens first in each\n"
    "  megatron  padded to a multiple of 128 * tp, padding rows at the end (on the last ranks)\n"
    "Prints, for every rank (or only --rank R), the token ids it holds as [begin,end) ranges in local row order, and\n"
    "its padding rows (count and local row ranges). --json prints one object instead:\n"
    "  {\"vocab\":..,\"added\":..,\"tp\":..,\"pad\":..,\"pad_to\":..,\"padded_vocab\":..,\"rows_per_rank\":..,"
    "\"padding_rows\":..,\n"
    "   \"ranks\":[{\"rank\":0,\"tokens\":[[b,e],..],\"padding_rows\":..,\"padding\":[[b,e],..]},..]}",
    vocab::kFlags,
    vocab::run,
};

}  // namespace shardplan_cli
