#pragma once
// `shardplan size`: per-rank memory of a model under a parallel layout, exact from every parameter's local shape.
#include <string>

#include "cmd_check.hpp"

namespace shardplan_cli {
namespace size {

inline constexpr auto kFlags = check::kFlags;

/// bytes / 2^30 with two decimals, rounded down; whole GiB and the remainder apart, so that no product overflows.
inline std::string gib(Index bytes) {
  constexpr Index kGiB = Index{1} << 30;
  std::string text = std::to_string(bytes / kGiB) + ".";
  const Index rest = bytes % kGiB * 100 / kGiB;
  if (rest < 10) text += '0';
  text += std::to_string(rest);
  return text + " GiB";
}

inline int run(const ParsedFlags& flags, Output& out) {
  const shardplan::ModelConfig config = read_model(flags);
  const shardplan::ParallelConfig parallel = read_parallel(flags);
  const auto user_plan = read_plan(flags, config);
  const shardplan::Plan* plan = user_plan ? &*user_plan : nullptr;
  const shardplan::SizeReport report = unwrap_model_result(shardplan::size_plan(config, parallel, plan));
  const shardplan::PlanReport check = check_rules(config, parallel, plan);
  const shardplan::RankMemory& busiest = report.busiest();
  // The busiest (stage, tp rank, ep rank) as a global rank: the first dp/cp replica that has that ep rank (below the
  // world size, which size_plan checked fits in int64).
  const Index ep_borrow = parallel.expert_tp() == 1 ? busiest.ep_rank / parallel.tp : busiest.ep_rank;
  const Index busiest_rank = (busiest.stage * parallel.dp * parallel.cp + ep_borrow) * parallel.tp + busiest.tp_rank;
  std::string& text = out.buffer();
  if (flags.has(check::kJsonFlag.name)) {
    JsonWriter json(text);
    json.begin_object();
    write_report_json(json, config, parallel, check);
    json.key("total_params").number(report.total_params);
    json.key("busiest_rank").number(busiest_rank);
    json.key("busiest").begin_object();
    json.key("stage").number(busiest.stage).key("tp_rank").number(busiest.tp_rank).key("ep_rank").number(busiest.ep_rank);
    json.end_object();
    json.key("per_rank").begin_object();
    json.key("params").number(busiest.params);
    json.key("params_bytes").number(busiest.params_bytes);
    json.key("grads_bytes").number(busiest.grads_bytes);
    json.key("optimizer_bytes").number(busiest.optimizer_bytes);
    json.key("activation_bytes").number(busiest.activation_bytes);
    json.key("kv_cache_bytes_per_token").number(busiest.kv_cache_bytes_per_token);
    json.key("tp_comm_bytes_per_step").number(busiest.tp_comm_bytes);
    json.key("ep_comm_bytes_per_step").number(busiest.ep_comm_bytes);
    json.key("total_bytes").number(busiest.total_bytes());
    json.end_object();
    json.end_object();
    text += '\n';
    return exit_status(check);
  }
  if (!check.valid()) append_report_text(config, parallel, check, text);
  text += describe_layout(config, parallel) + "\n";
  text += std::to_string(report.total_params) + " parameters; busiest rank " + std::to_string(busiest_rank) +
          " (stage " + std::to_string(busiest.stage) + ", tp rank " + std::to_string(busiest.tp_rank) + ", ep rank " +
          std::to_string(busiest.ep_rank) + "):\n";
  const std::pair<const char*, Index> rows[] = {
      {"parameters", busiest.params_bytes},
      {"gradients (bf16)", busiest.grads_bytes},
      {"optimizer (Adam, fp32, / dp)", busiest.optimizer_bytes},
      {"activations", busiest.activation_bytes},
  };
  for (const auto& [what, bytes] : rows) {
    std::string line = "  ";
    line += what;
    line.resize(34, ' ');
    text += line + gib(bytes) + "\n";
  }
  text += "  total                           " + gib(busiest.total_bytes()) + "\n";
  text += "  KV cache per token              " + std::to_string(busiest.kv_cache_bytes_per_token) + " bytes\n";
  if (parallel.seq == 0) text += "(activations and communication need --seq)\n";
  return exit_status(check);
}

}  // namespace size

inline constexpr Command kSizeCommand{
    "size",
    "per-rank memory of a model: parameters, gradients, optimizer, activations, KV cache",
    "Sizes the model's default plan exactly from every parameter's per-rank local shape (quantized weights with\n"
    "their scales), for every (pipeline stage, tp rank, ep rank), and reports the busiest rank. Gradients are bf16,\n"
    "the optimizer Adam in mixed precision (12 bytes per parameter, sharded by --dp), activations per layer after\n"
    "Korthikanti et al. with flash attention (needs --seq). An invalid layout prints check's diagnostics first\n"
    "and exits 1; the sizes follow (as if the rules allowed it). --json prints one object instead:\n"
    "  {\"model\":..,\"layout\":{..},\"valid\":..,\"errors\":[..],\"warnings\":[..],\"total_params\":..,\"busiest_rank\":..,\"per_rank\":{\"params_bytes\":..,\"grads_bytes\":..,\"optimizer_bytes\":..,\n"
    "   \"activation_bytes\":..,\"kv_cache_bytes_per_token\":..,\"total_bytes\":..}}",
    size::kFlags,
    size::run,
};

}  // namespace shardplan_cli
