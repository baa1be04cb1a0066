#pragma once
// `shardplan experts`: which experts of a MoE layer each expert-parallel rank holds (linear or round robin, with
// optional redundant replicas), and with --rank the router's global -> local map of that rank. A table, or JSON.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "layout_flags.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace experts {

inline constexpr FlagSpec kExpertsFlag{"--experts", "E", "experts of the MoE layer", true};
inline constexpr FlagSpec kEpFlag{"--ep", "N", "expert-parallel ranks", true};
inline constexpr FlagSpec kPlacementFlag{"--placement", "STRATEGY",
                                         "linear (default; contiguous blocks) or round_robin (r, r+N, r+2N, ...)"};
inline constexpr FlagSpec kExpertPolicyFlag =
    policy_flag("linear block sizes: balanced (default, vLLM), even (HF: E % N == 0), chunk (DTensor)");
inline constexpr FlagSpec kRedundantFlag{"--redundant", "R",
                                         "R redundant slots after the E experts, holding experts 0,1,.. (vLLM EPLB)"};
inline constexpr FlagSpec kReplicasFlag{"--replicas", "LIST",
                                        "or: the expert each redundant slot holds, e.g. 3,3,7 (hot experts)"};
inline constexpr FlagSpec kRankFlag{"--rank", "R", "show only rank R, with its global -> local expert map"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the table"};
inline constexpr FlagSpec kFlags[] = {kExpertsFlag,   kEpFlag,       kPlacementFlag, kExpertPolicyFlag,
                                      kRedundantFlag, kReplicasFlag, kRankFlag,      kJsonFlag};

// Output lists every expert (and with --rank a map over all of them): bound the counts (kMaxListed) so a typo cannot
// run for minutes or exhaust memory.
inline void check_count(Index count, const FlagSpec& flag, std::string_view what) {
  if (count > kMaxListed) {
    throw InputError(flag.name, std::to_string(count) + " " + std::string(what) + " are too many to list (at most " +
                                    std::to_string(kMaxListed) + ")");
  }
}

inline shardplan::ExpertPartition read_partition(const ParsedFlags& flags) {
  shardplan::ExpertSpec spec;
  spec.experts = parse_index(flags.require(kExpertsFlag.name), kExpertsFlag.name);
  spec.ep = parse_index(flags.require(kEpFlag.name), kEpFlag.name);
  if (const auto text = flags.get(kPlacementFlag.name)) {
    spec.strategy = unwrap(shardplan::parse_expert_strategy(*text), kPlacementFlag.name);
  }
  if (const auto text = flags.get(kExpertPolicyFlag.name)) {
    spec.policy = unwrap(shardplan::parse_split_policy(*text), kExpertPolicyFlag.name);
  }
  if (const auto text = flags.get(kRedundantFlag.name)) {
    if (flags.has(kReplicasFlag.name))
      throw InputError(kRedundantFlag.name, "give --redundant or --replicas, not both");
    spec.redundant = parse_index(*text, kRedundantFlag.name);
  }
  if (const auto text = flags.get(kReplicasFlag.name)) {
    spec.replicas = parse_index_list(*text, kReplicasFlag.name, "replicas");
  }
  auto partition = shardplan::ExpertPartition::create(std::move(spec));
  if (!partition.ok()) {
    throw blame_field(partition.error(),
                      {kExpertsFlag.name, kEpFlag.name, kExpertPolicyFlag.name, kRedundantFlag.name, kReplicasFlag.name},
                      kExpertsFlag.name);
  }
  check_count(partition->num_experts(), kExpertsFlag, "experts");
  check_count(partition->num_redundant(), flags.has(kReplicasFlag.name) ? kReplicasFlag : kRedundantFlag,
              "redundant slots");
  return std::move(partition).value();
}

/// A local expert list in a short form: consecutive runs of 3 or more as `a-b` (`0-42`), an arithmetic progression
/// of 5 or more as `a,b,...,z` (round robin: `0,6,...,252`), anything else comma-separated; `none` when empty.
inline std::string format_experts(const std::vector<Index>& ids) {
  if (ids.empty()) return "none";
  const std::size_t n = ids.size();
  if (n >= 5 && ids[1] - ids[0] > 1) {
    bool progression = true;
    for (std::size_t i = 2; i < n && progression; ++i) progression = ids[i] - ids[i - 1] == ids[1] - ids[0];
    if (progression) {
      std::string text = std::to_string(ids[0]);
      text += ',';
      text += std::to_string(ids[1]);
      text += ",...,";
      text += std::to_string(ids[n - 1]);
      return text;
    }
  }
  std::string text;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && ids[j] == ids[j - 1] + 1) ++j;
    if (!text.empty()) text += ',';
    if (j - i >= 3) {
      text += std::to_string(ids[i]);
      text += '-';
      text += std::to_string(ids[j - 1]);
    } else {
      for (std::size_t k = i; k < j; ++k) {
        if (k > i) text += ',';
        text += std::to_string(ids[k]);
      }
    }
    i = j;
  }
  return text;
}

inline void write_json(const shardplan::ExpertPartition& partition, RankSpan ranks, bool with_map, Output& out) {
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("num_experts").number(partition.num_experts());
  json.key("ep").number(partition.ep());
  json.key("placement").string(shardplan::to_string(partition.strategy()));
  json.key("policy").string(shardplan::to_string(partition.policy()));
  json.key("redundant").number(partition.num_redundant());
  json.key("physical_slots").number(partition.num_slots());
  json.key("replicas").begin_array();
  for (Index slot = partition.num_experts(); slot < partition.num_slots(); ++slot) {
    json.number(partition.expert_of_slot(slot));
  }
  json.end_array();
  json.key("ranks").begin_array();
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    const shardplan::ExpertShard shard = partition.shard_unchecked(rank);
    json.begin_object();
    json.key("rank").number(rank);
    json.key("num_local").number(shard.num_local());
    json.key("experts").begin_array();
    for (const Index expert : shard.experts) json.number(expert);
    json.end_array();
    if (partition.num_redundant() > 0) {
      json.key("slots");
      write_interval_set(json, shard.slots);
    }
    if (with_map) {
      json.key("local_of_global").begin_array();
      for (const Index local : partition.expert_map(rank).value()) json.number(local);
      json.end_array();
    }
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.end_object();
  out.write("\n");
}

inline std::vector<std::string> table_row(const shardplan::ExpertPartition& partition,
                                          const shardplan::ExpertShard& shard) {
  std::vector<std::string> row{std::to_string(shard.rank), std::to_string(shard.num_local())};
  if (partition.num_redundant() > 0) row.push_back(format_set(shard.slots));
  row.push_back(format_experts(shard.experts));
  return row;
}

inline void write_text(const shardplan::ExpertPartition& partition, RankSpan ranks, bool with_map, Output& out) {
  std::string& text = out.buffer();
  text += std::to_string(partition.num_experts());
  text += " experts";
  if (partition.num_redundant() > 0) {
    text += " + ";
    text += std::to_string(partition.num_redundant());
    text += " redundant = ";
    text += std::to_string(partition.num_slots());
    text += " slots";
  }
  text += " over ep ";
  text += std::to_string(partition.ep());
  text += "  placement ";
  text += shardplan::to_string(partition.strategy());
  text += "  policy ";
  text += shardplan::to_string(partition.policy());
  text += "\n\n";

  std::vector<std::string> header{"rank", "count"};
  if (partition.num_redundant() > 0) header.emplace_back("slots");
  header.emplace_back("experts");
  TableLayout table(header);
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    table.measure(table_row(partition, partition.shard_unchecked(rank)));
  }
  table.append_header(text);
  for (Index rank = ranks.first; rank < ranks.last; ++rank) {
    table.append_row(table_row(partition, partition.shard_unchecked(rank)), text);
    out.maybe_flush();
  }
  if (with_map) {
    // The router's view: which local position each global expert maps to on this rank.
    const std::vector<Index> map = partition.expert_map(ranks.first).value();
    text += "\nglobal -> local on rank ";
    text += std::to_string(ranks.first);
    text += ":";
    bool any = false;
    for (std::size_t expert = 0; expert < map.size(); ++expert) {
      if (map[expert] < 0) continue;
      text += ' ';
      text += std::to_string(expert);
      text += "->";
      text += std::to_string(map[expert]);
      any = true;
      out.maybe_flush();
    }
    text += any ? "\n" : " none\n";
  }
}

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::ExpertPartition partition = read_partition(flags);
  const RankSpan ranks = read_rank_span(flags.get(kRankFlag.name), kRankFlag.name, partition.ep(), kEpFlag.name,
                                        [&partition](Index rank) { return partition.expert_map(rank); });
  const bool with_map = flags.has(kRankFlag.name);
  if (flags.has(kJsonFlag.name)) {
    write_json(partition, ranks, with_map, out);
  } else {
    write_text(partition, ranks, with_map, out);
  }
  return 0;
}

}  // namespace experts

inline constexpr Command kExpertsCommand{
    "experts",
    "which experts of a MoE layer each expert-parallel rank holds",
    "Places --experts E experts on --ep N ranks. linear gives each rank a contiguous block (HF, torchtitan, vLLM's\n"
    "default), sized by --policy: balanced (the first E % N ranks hold one more; vLLM), even (E % N must be 0; HF)\n"
    "or chunk (ceil(E/N) each; DTensor Shard(0)). round_robin gives rank r the experts r, r+N, r+2N, ...\n"
    "Redundant experts (vLLM EPLB) are extra physical slots E, E+1, .. placed like experts: --redundant R fills them\n"
    "with experts 0,1,.. (vLLM's initial arrangement), --replicas 3,3,7 with the experts listed.\n"
    "Prints every rank's experts in local order (or only --rank R, with its global -> local map). --json:\n"
    "  {\"num_experts\":..,\"ep\":..,\"placement\":..,\"policy\":..,\"redundant\":..,\"physical_slots\":..,"
    "\"replicas\":[..],\n"
    "   \"ranks\":[{\"rank\":0,\"num_local\":..,\"experts\":[..]},..]}\n"
    "with \"slots\":[[b,e],..] per rank when there are redundant slots and \"local_of_global\":[..] (-1 where not\n"
    "local) with --rank.",
    experts::kFlags,
    experts::run,
};

}  // namespace shardplan_cli
