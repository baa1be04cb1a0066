#pragma once
// What a subcommand is to the dispatcher in main.cpp: a name, help text, its flags and a function to run.
// A new subcommand adds a header defining one of these and lists it in main.cpp's command table.
#include <algorithm>
#include <span>
#include <string>
#include <string_view>

#include "args.hpp"
#include "output.hpp"

namespace shardplan_cli {

struct Command {
  std::string_view name;
  std::string_view summary;      // one line in `shardplan --help`
  std::string_view description;  // the paragraph under the synopsis in `shardplan <name> --help`
  std::span<const FlagSpec> flags;
  /// Runs with flags already checked against `flags` (required ones present). Throws InputError for bad values,
  /// before writing anything. Returns the exit status.
  int (*run)(const ParsedFlags& flags, Output& out);
};

/// `usage: shardplan shards --shape SIZES ... [--json]`, the description and one line per flag.
inline std::string command_usage(const Command& command) {
  std::string text = "usage: shardplan " + std::string(command.name);
  for (const FlagSpec& flag : command.flags) {
    std::string item(flag.name);
    if (flag.takes_value()) item += " " + std::string(flag.value_name);
    text += flag.required ? " " + item : " [" + item + "]";
  }
  text += "\n\n" + std::string(command.description) + "\n\nflags:\n";
  std::size_t width = std::string_view("-h, --help").size();
  for (const FlagSpec& flag : command.flags) {
    width = std::max(width, flag.name.size() + (flag.takes_value() ? flag.value_name.size() + 1 : 0));
  }
  const auto add_line = [&](std::string left, std::string_view help) {
    left.resize(width, ' ');
    text += "  ";
    text += left;
    text += "  ";
    text += help;
    text += '\n';
  };
  for (const FlagSpec& flag : command.flags) {
    std::string left(flag.name);
    if (flag.takes_value()) {
      // Appended piecewise: GCC 12's -Wrestrict misfires on `" " + std::string(...)` at -O2.
      left += ' ';
      left += flag.value_name;
    }
    add_line(std::move(left), flag.help);
  }
  add_line("-h, --help", "show this help");
  text += "\nFlags take their value as `--flag value` or `--flag=value`. Input errors exit with status 2.\n";
  return text;
}

}  // namespace shardplan_cli
