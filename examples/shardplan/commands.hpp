#pragma once
// The subcommands of `shardplan`, in the order `shardplan --help` lists them, and how one runs: main.cpp and the
// Python module (examples/python) both run commands through here, so the module's results are the command's JSON.
#include <span>
#include <string_view>

#include "args.hpp"
#include "cmd_check.hpp"
#include "cmd_experts.hpp"
#include "cmd_groups.hpp"
#include "cmd_layers.hpp"
#include "cmd_load.hpp"
#include "cmd_models.hpp"
#include "cmd_plan.hpp"
#include "cmd_redistribute.hpp"
#include "cmd_reshard.hpp"
#include "cmd_shards.hpp"
#include "cmd_size.hpp"
#include "cmd_vocab.hpp"
#include "command.hpp"
#include "output.hpp"

namespace shardplan_cli {

inline constexpr Command kCommands[] = {
    kShardsCommand,
    kReshardCommand,
    kRedistributeCommand,
    kVocabCommand,
    kExpertsCommand,
    kLayersCommand,
    kGroupsCommand,
    kCheckCommand,
    kPlanCommand,
    kSizeCommand,
    kLoadCommand,
    kModelsCommand,
};

/// The command called `name`, or nullptr.
inline const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

/// Runs `command` with its flags `args` (everything after the command's name), writing to `out`. Returns the exit
/// status (0, or 1 for `check` on an invalid plan); bad input throws InputError before anything is written.
inline int run_command(const Command& command, std::span<const std::string_view> args, Output& out) {
  const ParsedFlags flags = parse_flags(args, command.flags, command.name);
  return command.run(flags, out);
}

}  // namespace shardplan_cli
