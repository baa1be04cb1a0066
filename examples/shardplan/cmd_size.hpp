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
    json.key("rank_classes").number(static_cast<Index>(report.classes.size()));
    json.key("busiest").begin_object();
    json.key("stage").number(busiest.stage).key("tp_rank").number(busiest.tp_rank).key("ep_rank").number(busiest.ep_rank);
    json.key("tp_ranks").number(busiest.tp_ranks).key("ep_ranks").number(busiest.ep_ranks);
    json.end_object();
    json.key("per_rank").begin_object();
    json.key("params").number(busiest.params);
    json.key("params_bytes").number(busiest.params_bytes);
    json.key("grads_bytes").number(busiest.grads_bytes);
    json.key("optimizer_bytes").number(busiest.optimizer_bytes);
    json.key("activation_bytes").number(busiest.activation_bytes);
    json.key("micro_batches_in_flight").number(busiest.micro_batches_in_flight);
    json.key("kv_cache_bytes_per_token").number(busiest.kv_cache_bytes_per_token);
    json.key("tp_comm_bytes_per_step").number(busiest.tp_comm_bytes);
    json.key("ep_comm_bytes_per_step").number(busiest.ep_comm_bytes);
    json.key("etp_comm_bytes_per_step").number(busiest.etp_comm_bytes);
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
  const std::string activations =
      parallel.seq == 0 ? std::string("activations")
                        : "activations (x" + std::to_string(busiest.micro_batches_in_flight) +
                              (parallel.virtual_stages > 1 ? " chunks)" : " micro-batches)");
  const std::pair<std::string, Index> rows[] = {
      {"parameters", busiest.params_bytes},
      {"gradients (bf16)", busiest.grads_bytes},
      {"optimizer (Adam, fp32, / dp)", busiest.optimizer_bytes},
      {activations, busiest.activation_bytes},
  };
  for (const auto& [what, bytes] : rows) {
    std::string line = "  ";
    line += what;
    line.resize(std::max<std::size_t>(line.size() + 1, 34), ' ');
    text += line + gib(bytes) + "\n";
  }
  text += "  total                           " + gib(busiest.total_bytes()) + "\n";
  text += "  KV cache per token              " + std::to_string(busiest.kv_cache_bytes_per_token) + " bytes\n";
  if (parallel.seq == 0) {
    text += "(activations and communication need --seq)\n";
  } else {
    text += "  sent per micro-batch forward     tp " + std::to_string(busiest.tp_comm_bytes) + ", ep " +
            std::to_string(busiest.ep_comm_bytes) + ", etp " + std::to_string(busiest.etp_comm_bytes) + " bytes\n";
  }
  return exit_status(check);
}

}  // namespace size

inline constexpr Command kSizeCommand{
    "size",
    "per-rank memory of a model: parameters, gradients, optimizer, activations, KV cache",
    "Sizes the model's default plan exactly from every parameter's per-rank local shape (quantized weights with\n"
    "their scales), for every (pipeline stage, tp rank, ep rank) class of ranks with the same shapes, and reports\n"
    "the busiest rank. Gradients are bf16, the optimizer Adam in mixed precision (12 bytes per parameter, sharded\n"
    "by dp*cp, routed experts by their expert data-parallel group), activations per layer after Korthikanti et al.\n"
    "with the family's shapes (flash attention unless --eager-attention; --recompute), times the micro-batches the\n"
    "pipeline schedule holds (1F1B, or interleaved with --virtual-stages; --micro-batches; needs --seq).\n"
    "An invalid layout prints check's diagnostics first and exits 1; the sizes follow (as if the rules allowed it).\n"
    "--json prints one object instead:\n"
    "  {\"model\":..,\"layout\":{..},\"valid\":..,\"errors\":[..],\"warnings\":[..],\"total_params\":..,\"busiest_rank\":..,\"rank_classes\":..,\"per_rank\":{\"params_bytes\":..,\"grads_bytes\":..,\"optimizer_bytes\":..,\n"
    "   \"activation_bytes\":..,\"kv_cache_bytes_per_token\":..,\"total_bytes\":..}}",
    size::kFlags,
    size::run,
};

}  // namespace shardplan_cli
