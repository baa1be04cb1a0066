#pragma once
// `shardplan plan --rank R`: every parameter rank R holds, layers and experts expanded, with its style, placement,
// local shape and index sets.
#include <string>

#include "cmd_check.hpp"

namespace shardplan_cli {
namespace plan {

inline constexpr FlagSpec kRankFlag{"--rank", "R", "the rank to list (default 0; ranks are (pp, dp, cp, tp), tp fastest)"};

inline constexpr FlagSpec kPrintPlanFlag{"--print-plan", "",
                                         "print the model's plans (or --plan's) in HF's format instead of a rank"};

inline constexpr auto kFlags = [] {
  std::array<FlagSpec, std::size(check::kFlags) + 2> flags{};
  for (std::size_t i = 0; i < std::size(check::kFlags); ++i) flags[i] = check::kFlags[i];
  flags[std::size(check::kFlags)] = kRankFlag;
  flags.back() = kPrintPlanFlag;
  return flags;
}();

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::ModelConfig config = read_model(flags);
  if (flags.has(kPrintPlanFlag.name)) {  // JSON either way: the plan is a JSON document
    const shardplan::Inventory inventory = unwrap(shardplan::parameter_inventory(config), kModelFlag.name);
    out.buffer() += shardplan::hf_plan_json(shardplan::plans_for_model(read_plan_set(flags, config), inventory)) + "\n";
    return 0;
  }
  const shardplan::ParallelConfig parallel = read_parallel(flags);
  const Index rank = flags.has(kRankFlag.name) ? parse_index(*flags.get(kRankFlag.name), kRankFlag.name) : 0;
  const auto user_plan = read_plan(flags, config);
  const shardplan::Plan* plan = user_plan ? &*user_plan : nullptr;
  const shardplan::PlanReport report = check_rules(config, parallel, plan);
  auto listed = shardplan::rank_parameters(config, parallel, rank, plan);
  if (!listed.ok()) {
    if (listed.error().field == std::string_view("rank")) throw library_error(kRankFlag.name, listed.error());
    if (listed.error().code == shardplan::ErrorCode::capacity_exceeded) {  // the listing limit, checked up front
      throw library_error(kModelFlag.name, listed.error());
    }
    // Only a layout the rules refuse cannot be listed; otherwise the input was wrong in a way the rules do not see.
    if (report.valid()) throw library_error(kModelFlag.name, listed.error());
  }
  std::string& text = out.buffer();
  if (flags.has(check::kJsonFlag.name)) {
    JsonWriter json(text);
    json.begin_object();
    write_report_json(json, config, parallel, report);
    json.key("rank").number(rank);
    if (!listed.ok()) {
      json.key("params").null();
      json.key("listing_error").string(listed.error().what());
      json.end_object();
      text += '\n';
      return exit_status(report);
    }
    json.key("params").begin_array();
    for (const shardplan::RankParameter& p : *listed) {
      json.begin_object();
      json.key("name").string(p.name.view());
      json.key("shape").begin_array();
      for (const Index size : p.shape) json.number(size);
      json.end_array();
      json.key("style");
      if (p.style) {
        json.string(shardplan::to_string(*p.style));
      } else {
        json.null();
      }
      json.key("placements").begin_array().string(p.placement.to_string().view()).end_array();
      json.key("local_shape").begin_array();
      for (const Index size : p.local_shape) json.number(size);
      json.end_array();
      json.key("intervals").begin_array();
      for (const shardplan::IntervalSet& set : p.sets) write_interval_set(json, set);
      json.end_array();
      json.end_object();
      out.maybe_flush();
    }
    json.end_array();
    json.end_object();
    text += '\n';
    return exit_status(report);
  }
  if (!report.valid()) append_report_text(config, parallel, report, text);
  if (!listed.ok()) {
    text += "rank " + std::to_string(rank) + " cannot be listed: " + listed.error().what() + "\n";
    return exit_status(report);
  }
  text += describe_layout(config, parallel) + ", rank " + std::to_string(rank) + ": " +
          std::to_string(listed->size()) + " parameters\n";
  for (const shardplan::RankParameter& p : *listed) {
    std::string line = std::string(p.name.view());
    line.resize(std::max<std::size_t>(line.size() + 2, 64), ' ');
    line += format_tuple(p.shape) + " -> " + format_tuple(p.local_shape);
    line += "  ";
    line += p.style ? shardplan::to_string(*p.style) : std::string_view("(no plan entry)");
    line += ' ';
    line += p.placement.to_string().view();
    text += line + "\n";
    out.maybe_flush();
  }
  return exit_status(report);
}

}  // namespace plan

inline constexpr Command kPlanCommand{
    "plan",
    "every parameter a rank holds, with its style, placement and local shape",
    "Lists, for --rank R (default 0), every parameter of the model that rank holds under its default plan, layers\n"
    "and experts expanded, with the plan style, the placement on the style's mesh axis, the local shape and the\n"
    "index sets. An invalid layout prints check's diagnostics first and exits 1 (its listing follows when the\n"
    "rank can still be listed). --json prints one object instead:\n"
    "  {\"model\":..,\"layout\":{..},\"valid\":..,\"errors\":[..],\"warnings\":[..],\"rank\":..,\n"
    "   \"params\":[{\"name\":..,\"shape\":[..],\"style\":..,\"placements\":[..],\"local_shape\":[..],\"intervals\":[..]},..]}\n"
    "--print-plan prints the model's plans (or those of --plan) as HF writes them, one JSON object:\n"
    "  {\"base_model_tp_plan\":{\"layers.*.self_attn.q_proj\":\"colwise\",..},\"base_model_ep_plan\":{..},\"_tp_plan\":{..}}",
    plan::kFlags,
    plan::run,
};

}  // namespace shardplan_cli
