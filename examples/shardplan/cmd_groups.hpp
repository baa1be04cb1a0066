#pragma once
// `shardplan groups`: the rank groups of a job's parallel dims, by Megatron-LM's rules (default) or torchtitan's.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
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

namespace groups {

inline constexpr FlagSpec kWorldFlag{"--world", "N", "number of ranks", true};
inline constexpr FlagSpec kStyleFlag{"--style", "STYLE", "megatron (default) or torchtitan: whose rules and layout"};
inline constexpr FlagSpec kTpFlag{"--tp", "N", "tensor parallel size (default 1)"};
inline constexpr FlagSpec kCpFlag{"--cp", "N", "context parallel size (default 1)"};
inline constexpr FlagSpec kEpFlag{"--ep", "N", "expert parallel size (default 1)"};
inline constexpr FlagSpec kDpFlag{"--dp", "N", "megatron: data parallel size (default: world / (tp*cp*pp))"};
inline constexpr FlagSpec kPpFlag{"--pp", "N", "pipeline parallel size (default 1)"};
inline constexpr FlagSpec kEtpFlag{"--etp", "N",
                                   "expert tensor parallel size (default: tp for megatron, 1 for torchtitan)"};
inline constexpr FlagSpec kOrderFlag{"--order", "ORDER",
                                     "megatron: rank order, fastest first (default tp-cp-ep-dp-pp)"};
inline constexpr FlagSpec kDpReplicateFlag{"--dp-replicate", "N",
                                           "torchtitan: replicated data parallel size (default 1)"};
inline constexpr FlagSpec kDpShardFlag{"--dp-shard", "N",
                                       "torchtitan: sharded data parallel size (default -1: whatever is left)"};
inline constexpr FlagSpec kGroupsFlag{"--groups", "LIST",
                                      "which groups, e.g. tp,dp-cp,etp-ep (default: every dim of size > 1)"};
inline constexpr FlagSpec kRankFlag{"--rank", "R", "show only the group of each kind that holds rank R"};
inline constexpr FlagSpec kSeqLenFlag{"--seq-len", "L", "also check that sequence length L splits over tp and cp"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the tables"};
inline constexpr FlagSpec kFlags[] = {kWorldFlag,   kStyleFlag,  kTpFlag,   kCpFlag,     kEpFlag,
                                      kDpFlag,      kPpFlag,     kEtpFlag,  kOrderFlag,  kDpReplicateFlag,
                                      kDpShardFlag, kGroupsFlag, kRankFlag, kSeqLenFlag, kJsonFlag};

// Listing is linear in the ranks shown: past this many (all groups of a kind cover the world) the command refuses up
// front and suggests --rank.

/// The flag a library error is about, from the field it names ("dp_shard" -> --dp-shard, "token" -> --groups).
inline std::optional<std::string> flag_for_field(std::string_view field) {
  if (field == "token") return std::string(kGroupsFlag.name);
  for (const FlagSpec& spec : kFlags) {
    if (field_is_flag(field, spec.name)) return std::string(spec.name);
  }
  return std::nullopt;
}

/// A library error as "--flag: message"; errors about no flag in particular are blamed on --world, field and all.
inline InputError blame(const shardplan::Error& error) {
  if (const auto flag = flag_for_field(error.field.view())) return InputError(*flag, error.message.view());
  return InputError(kWorldFlag.name, error.what());
}

template <class T>
T check(shardplan::Result<T> result) {
  if (!result.ok()) throw blame(result.error());
  return std::move(result).value();
}

inline Index read_size(const ParsedFlags& flags, const FlagSpec& spec, Index fallback) {
  const auto text = flags.get(spec.name);
  return text ? parse_index(*text, spec.name) : fallback;
}

/// One kind of group to show: its name in the output and the mesh axes it stands for.
struct Kind {
  std::string name;
  shardplan::GroupAxes axes;
};

/// Whatever the style, what the writers need: a way to resolve group names, and the facts to print.
class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  virtual ~Plan() = default;
  [[nodiscard]] virtual Index world() const = 0;
  [[nodiscard]] virtual shardplan::GroupAxes axes(std::string_view token) const = 0;  // throws InputError
  [[nodiscard]] virtual std::vector<std::string> default_tokens() const = 0;
  virtual void write_json_header(JsonWriter& json) const = 0;
  virtual void write_text_header(std::string& text) const = 0;
  [[nodiscard]] virtual Index tp() const = 0;
  [[nodiscard]] virtual Index cp() const = 0;
};

inline void write_mesh_json(JsonWriter& json, std::string_view key, const shardplan::Mesh& mesh) {
  json.key(key).begin_array();
  for (const Index size : mesh.shape()) json.number(size);
  json.end_array();
  json.key(std::string(key) + "_names").begin_array();
  for (const shardplan::AxisName& name : mesh.names()) json.string(name.view());
  json.end_array();
}

class MegatronPlan final : public Plan {
 public:
  explicit MegatronPlan(shardplan::MegatronGroups groups) : groups_(std::move(groups)) {}

  [[nodiscard]] Index world() const override { return groups_.world_size(); }
  [[nodiscard]] shardplan::GroupAxes axes(std::string_view token) const override { return check(groups_.axes(token)); }
  [[nodiscard]] Index tp() const override { return groups_.sizes().tp; }
  [[nodiscard]] Index cp() const override { return groups_.sizes().cp; }

  /// The dims of size > 1 in the order's order (ep from the expert layout), then etp and edp when the expert layout
  /// is in use (ep > 1 or etp != tp).
  [[nodiscard]] std::vector<std::string> default_tokens() const override {
    std::vector<std::string> tokens;
    const shardplan::MegatronSizes& s = groups_.sizes();
    for (const shardplan::MegatronDim dim : groups_.order()) {
      const bool expert = dim == shardplan::MegatronDim::ep;
      if ((expert ? groups_.expert() : groups_.dense()).size(dim) > 1) tokens.emplace_back(shardplan::to_string(dim));
    }
    if (s.ep > 1 || s.etp != s.tp) {
      if (s.etp > 1) tokens.emplace_back("etp");
      if (groups_.expert_dp() > 1) tokens.emplace_back("edp");
    }
    return tokens;
  }

  void write_json_header(JsonWriter& json) const override {
    const shardplan::MegatronSizes& s = groups_.sizes();
    json.key("order").string(shardplan::to_string(groups_.order()).view());
    json.key("style").string("megatron");
    json.key("world").number(s.world);
    json.key("sizes").begin_object();
    json.key("tp").number(s.tp).key("cp").number(s.cp).key("ep").number(s.ep).key("dp").number(s.dp);
    json.key("pp").number(s.pp).key("etp").number(s.etp).key("edp").number(groups_.expert_dp());
    json.end_object();
    write_mesh_json(json, "mesh", groups_.mesh());
    write_mesh_json(json, "expert_mesh", groups_.expert_mesh());
  }

  void write_text_header(std::string& text) const override {
    const shardplan::MegatronSizes& s = groups_.sizes();
    text += "megatron order ";
    text += shardplan::to_string(groups_.order()).view();
    text += ", world ";
    text += std::to_string(s.world);
    text += "\nsizes  tp=" + std::to_string(s.tp) + " cp=" + std::to_string(s.cp) + " ep=" + std::to_string(s.ep) +
            " dp=" + std::to_string(s.dp) + " pp=" + std::to_string(s.pp) + "  expert: etp=" + std::to_string(s.etp) +
            " edp=" + std::to_string(groups_.expert_dp());
    text += "\nmesh ";
    text += groups_.mesh().to_string().view();
    text += "  expert mesh ";
    text += groups_.expert_mesh().to_string().view();
    text += "\n";
  }

 private:
  shardplan::MegatronGroups groups_;
};

class TorchtitanPlan final : public Plan {
 public:
  explicit TorchtitanPlan(shardplan::TorchtitanDims dims) : dims_(std::move(dims)) {}

  [[nodiscard]] Index world() const override { return dims_.world_size(); }
  [[nodiscard]] shardplan::GroupAxes axes(std::string_view token) const override { return check(dims_.axes(token)); }
  [[nodiscard]] Index tp() const override { return dims_.sizes().tp; }
  [[nodiscard]] Index cp() const override { return dims_.sizes().cp; }

  /// Every name whose groups have more than one rank, skipping names that stand for the same mesh axes as one
  /// already listed (with dp_replicate = 1, dp is dp_shard).
  [[nodiscard]] std::vector<std::string> default_tokens() const override {
    std::vector<std::string_view> names{"pp", "dp_replicate", "dp_shard", "cp", "tp", "dp", "dp_shard_cp", "dp_cp"};
    if (dims_.ep_enabled()) names.insert(names.end(), {"ep", "dp_shard_mod_ep", "dp_shard_in_ep"});
    std::vector<std::string> tokens;
    std::vector<shardplan::AxisList> seen;
    for (const std::string_view name : names) {
      const shardplan::GroupAxes selected = check(dims_.axes(name));
      if (selected.group_size() == 1) continue;
      bool repeated = false;
      for (const shardplan::AxisList& other : seen) repeated = repeated || other == selected.axes;
      if (repeated) continue;
      seen.push_back(selected.axes);
      tokens.emplace_back(name);
    }
    return tokens;
  }

  void write_json_header(JsonWriter& json) const override {
    const shardplan::TorchtitanSizes& s = dims_.sizes();
    json.key("style").string("torchtitan");
    json.key("world").number(s.world);
    json.key("sizes").begin_object();
    json.key("dp_replicate").number(s.dp_replicate).key("dp_shard").number(s.dp_shard);
    json.key("cp").number(s.cp).key("tp").number(s.tp).key("pp").number(s.pp);
    json.key("ep").number(s.ep).key("etp").number(s.etp);
    if (dims_.ep_enabled()) {
      json.key("dp_shard_mod_ep").number(dims_.dp_shard_mod_ep()).key("dp_shard_in_ep").number(dims_.dp_shard_in_ep());
    }
    json.end_object();
    write_mesh_json(json, "mesh", dims_.mesh());
    if (const auto ep_mesh = dims_.ep_mesh()) write_mesh_json(json, "ep_mesh", *ep_mesh);
  }

  void write_text_header(std::string& text) const override {
    const shardplan::TorchtitanSizes& s = dims_.sizes();
    text += "torchtitan, world " + std::to_string(s.world);
    text += "\nsizes  dp_replicate=" + std::to_string(s.dp_replicate) + " dp_shard=" + std::to_string(s.dp_shard) +
            " cp=" + std::to_string(s.cp) + " tp=" + std::to_string(s.tp) + " pp=" + std::to_string(s.pp) +
            " ep=" + std::to_string(s.ep) + " etp=" + std::to_string(s.etp);
    if (dims_.ep_enabled()) {
      text += "  dp_shard = dp_shard_mod_ep*dp_shard_in_ep = " + std::to_string(dims_.dp_shard_mod_ep()) + "*" +
              std::to_string(dims_.dp_shard_in_ep());
    }
    text += "\nmesh ";
    text += dims_.mesh().to_string().view();
    if (const auto ep_mesh = dims_.ep_mesh()) {
      text += "  ep mesh ";
      text += ep_mesh->to_string().view();
    }
    text += "\n";
  }

 private:
  shardplan::TorchtitanDims dims_;
};

inline std::unique_ptr<Plan> read_megatron(const ParsedFlags& flags, Index world) {
  for (const FlagSpec* spec : {&kDpReplicateFlag, &kDpShardFlag}) {
    if (flags.has(spec->name)) {
      throw InputError(spec->name, "is a torchtitan flag (use --style torchtitan); megatron takes --dp");
    }
  }
  shardplan::MegatronSizes sizes;
  sizes.world = world;
  sizes.tp = read_size(flags, kTpFlag, 1);
  sizes.cp = read_size(flags, kCpFlag, 1);
  sizes.ep = read_size(flags, kEpFlag, 1);
  sizes.dp = read_size(flags, kDpFlag, shardplan::kInferSize);
  sizes.pp = read_size(flags, kPpFlag, 1);
  sizes.etp = read_size(flags, kEtpFlag, shardplan::kInferSize);
  const std::string_view order = flags.get(kOrderFlag.name).value_or(shardplan::kMegatronDefaultOrder);
  return std::make_unique<MegatronPlan>(check(shardplan::MegatronGroups::create(sizes, order)));
}

inline std::unique_ptr<Plan> read_torchtitan(const ParsedFlags& flags, Index world) {
  for (const FlagSpec* spec : {&kDpFlag, &kOrderFlag}) {
    if (flags.has(spec->name)) {
      throw InputError(spec->name, "is a megatron flag; torchtitan takes --dp-replicate and --dp-shard");
    }
  }
  shardplan::TorchtitanSizes sizes;
  sizes.world = world;
  sizes.dp_replicate = read_size(flags, kDpReplicateFlag, 1);
  sizes.dp_shard = read_size(flags, kDpShardFlag, shardplan::kInferSize);
  sizes.cp = read_size(flags, kCpFlag, 1);
  sizes.tp = read_size(flags, kTpFlag, 1);
  sizes.pp = read_size(flags, kPpFlag, 1);
  sizes.ep = read_size(flags, kEpFlag, 1);
  sizes.etp = read_size(flags, kEtpFlag, 1);
  return std::make_unique<TorchtitanPlan>(check(shardplan::TorchtitanDims::create(sizes)));
}

inline std::unique_ptr<Plan> read_plan(const ParsedFlags& flags) {
  const Index world = parse_index(flags.require(kWorldFlag.name), kWorldFlag.name);
  const std::string_view style = flags.get(kStyleFlag.name).value_or("megatron");
  if (style == "megatron") return read_megatron(flags, world);
  if (style == "torchtitan") return read_torchtitan(flags, world);
  throw InputError(kStyleFlag.name, "unknown style " + quote(style) + " (known: megatron, torchtitan)");
}

/// The kinds to show: --groups (comma-separated, each checked now so that no output is written before an error) or
/// the style's default list.
inline std::vector<Kind> read_kinds(const ParsedFlags& flags, const Plan& plan) {
  std::vector<std::string> tokens;
  if (const auto text = flags.get(kGroupsFlag.name)) {
    std::string_view rest = trim(*text);
    for (;;) {
      const std::size_t comma = rest.find(',');
      const std::string token(trim(rest.substr(0, comma)));
      if (token.empty()) throw InputError(kGroupsFlag.name, "empty entry in " + quote(*text));
      for (const std::string& seen : tokens) {
        if (seen == token) throw InputError(kGroupsFlag.name, quote(token) + " is listed twice");
      }
      tokens.push_back(token);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  } else {
    tokens = plan.default_tokens();
  }
  std::vector<Kind> kinds;
  for (std::string& token : tokens) {
    shardplan::GroupAxes axes = plan.axes(token);
    kinds.push_back({std::move(token), std::move(axes)});
  }
  return kinds;
}

inline std::optional<Index> read_rank(const ParsedFlags& flags, const Plan& plan) {
  const auto text = flags.get(kRankFlag.name);
  if (!text) return std::nullopt;
  const Index rank = parse_index(*text, kRankFlag.name);
  if (rank < 0 || rank >= plan.world()) {
    throw InputError(kRankFlag.name, "rank " + std::to_string(rank) + " is outside a world of " +
                                         std::to_string(plan.world()) + " ranks (valid: 0.." +
                                         std::to_string(plan.world() - 1) + ")");
  }
  return rank;
}

inline std::optional<Index> read_seq_len(const ParsedFlags& flags, const Plan& plan) {
  const auto text = flags.get(kSeqLenFlag.name);
  if (!text) return std::nullopt;
  const Index seq_len = parse_index(*text, kSeqLenFlag.name);
  const shardplan::Status status = shardplan::check_sequence_length(seq_len, plan.tp(), plan.cp());
  if (!status.ok()) throw blame(status.error());
  return seq_len;
}

inline void check_limits(const std::vector<Kind>& kinds, const Plan& plan, std::optional<Index> rank) {
  for (const Kind& kind : kinds) {
    const Index listed = rank ? kind.axes.group_size() : plan.world();
    if (listed > kMaxListed) {
      std::string message =
          std::to_string(listed) + " ranks are too many to list (at most " + std::to_string(kMaxListed) + ")";
      if (rank) {
        message += ": a ";
        message += kind.name;
        message += " group is that large";
      } else {
        message += "; pick one with --rank";
      }
      throw InputError(kWorldFlag.name, message);
    }
  }
}

/// The groups of one kind to print: all of them, or the one that holds `rank`.
struct Listing {
  Index first_index = 0;  // the position of the first group listed among all groups of the kind
  shardplan::RankGroups groups;
};

inline Listing list_groups(const Kind& kind, std::optional<Index> rank) {
  Listing listing;
  if (!rank) {
    listing.groups = check(kind.axes.groups());
    return listing;
  }
  listing.first_index = check(kind.axes.group_index(*rank));
  listing.groups.group_size = kind.axes.group_size();
  listing.groups.ranks = check(kind.axes.group(*rank));
  return listing;
}

inline void write_json(const Plan& plan, const std::vector<Kind>& kinds, std::optional<Index> rank,
                       std::optional<Index> seq_len, Output& out) {
  JsonWriter json(out.buffer());
  json.begin_object();
  plan.write_json_header(json);
  if (seq_len) {
    json.key("seq_len").number(*seq_len);
    json.key("seq_len_divisor").number(check(shardplan::sequence_length_divisor(plan.tp(), plan.cp())));
  }
  if (rank) json.key("rank").number(*rank);
  json.key("groups").begin_object();
  for (const Kind& kind : kinds) {
    const Listing listing = list_groups(kind, rank);
    json.key(kind.name).begin_array();
    for (Index g = 0; g < listing.groups.count(); ++g) {
      json.begin_array();
      for (const Index member : listing.groups[g]) json.number(member);
      json.end_array();
      out.maybe_flush();
    }
    json.end_array();
  }
  json.end_object();
  if (rank) {
    json.key("group_index").begin_object();
    for (const Kind& kind : kinds) json.key(kind.name).number(check(kind.axes.group_index(*rank)));
    json.end_object();
  }
  json.end_object();
  out.write("\n");
}

inline void write_text(const Plan& plan, const std::vector<Kind>& kinds, std::optional<Index> rank,
                       std::optional<Index> seq_len, Output& out) {
  std::string& text = out.buffer();
  plan.write_text_header(text);
  if (seq_len) {
    text += "seq_len " + std::to_string(*seq_len) + " is a multiple of " +
            std::to_string(check(shardplan::sequence_length_divisor(plan.tp(), plan.cp()))) + "\n";
  }
  if (kinds.empty()) text += "\nevery dim has size 1: each rank is its own group\n";
  for (const Kind& kind : kinds) {
    const Listing listing = list_groups(kind, rank);
    const Index count = kind.axes.group_count();
    const Index size = kind.axes.group_size();
    text += '\n';
    text += kind.name;
    text += ": " + std::to_string(count) + (count == 1 ? " group of " : " groups of ") + std::to_string(size) +
            (size == 1 ? " rank" : " ranks");
    if (rank) text += ", the one holding rank " + std::to_string(*rank);
    text += "\n";
    TableLayout table({"group", "ranks"});
    const auto row = [&](Index g) {
      std::string ranks;
      for (const Index member : listing.groups[g]) {
        if (!ranks.empty()) ranks += ' ';
        ranks += std::to_string(member);
      }
      return std::vector<std::string>{std::to_string(listing.first_index + g), ranks};
    };
    for (Index g = 0; g < listing.groups.count(); ++g) table.measure(row(g));
    table.append_header(text);
    for (Index g = 0; g < listing.groups.count(); ++g) {
      table.append_row(row(g), text);
      out.maybe_flush();
    }
  }
}

inline int run(const ParsedFlags& flags, Output& out) {
  const std::unique_ptr<Plan> plan = read_plan(flags);
  const std::vector<Kind> kinds = read_kinds(flags, *plan);
  const std::optional<Index> rank = read_rank(flags, *plan);
  const std::optional<Index> seq_len = read_seq_len(flags, *plan);
  check_limits(kinds, *plan, rank);
  if (flags.has(kJsonFlag.name)) {
    write_json(*plan, kinds, rank, seq_len, out);
  } else {
    write_text(*plan, kinds, rank, seq_len, out);
  }
  return 0;
}

}  // namespace groups

inline constexpr Command kGroupsCommand{
    "groups",
    "which ranks form the tp/cp/ep/dp/pp groups of a training job",
    "Lists the rank groups of each parallel dim (the ranks that run one collective together), by Megatron-LM's\n"
    "RankGenerator (default) or torchtitan's ParallelDims (--style torchtitan). Megatron lays ranks out in --order,\n"
    "fastest first: with tp-cp-ep-dp-pp the mesh is (pp,dp,ep,cp,tp), row-major. Dense groups: tp, cp, dp, pp\n"
    "and combinations (dp-cp, tp-pp, ...); the expert layout (tp = etp, ep, dp = edp = world/(etp*ep*pp), cp = 1)\n"
    "gives ep, etp, edp (and etp-ep, ...). torchtitan's mesh is (pp,dp_replicate,dp_shard,cp,tp) without size-1\n"
    "dims; with ep > 1, dp_shard splits into dp_shard_mod_ep*dp_shard_in_ep and ep groups are dp_shard_in_ep*cp\n"
    "(*tp when etp = 1). torchtitan names: the dims, dp, dp_shard_cp, dp_cp, ep, dp_shard_mod_ep, dp_shard_in_ep.\n"
    "Each group lists its ranks increasing; groups are listed by their first rank. --json prints\n"
    "  {\"order\":\"tp-cp-ep-dp-pp\",\"style\":\"megatron\",\"world\":..,\"sizes\":{..},"
    "\"mesh\":[..],\"mesh_names\":[..],\n"
    "   \"expert_mesh\":[..],\"expert_mesh_names\":[..],\"groups\":{\"tp\":[[0,1],[2,3],..],..}}\n"
    "(torchtitan: no order; ep_mesh when ep > 1; with --rank: \"rank\" and \"group_index\":{\"tp\":i,..}).",
    groups::kFlags,
    groups::run,
};

}  // namespace shardplan_cli
