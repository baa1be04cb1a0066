// The `shardplan` command: `shardplan <command> [flags]`. Dispatches to the subcommands listed in kCommands.
//
// Exit status: 0 on success, 2 on an input error, 70 (EX_SOFTWARE) on an internal error (a bug in shardplan: any
// exception other than InputError, OutputError and bad_alloc). Errors are one line on stderr,
// "shardplan: --flag: problem" or "shardplan: internal error: ...", and nothing on stdout; no exception leaves main.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;
constexpr int kExitInternalError = 70;  // EX_SOFTWARE in <sysexits.h>


std::string main_usage() {
  std::string text =
      "usage: shardplan <command> [flags]\n"
      "\n"
      "Plans how tensors are sharded over device meshes (PyTorch DTensor / JAX / XLA layouts).\n"
      "\n"
      "commands:\n";
  std::size_t width = 0;
  for (const Command& command : kCommands) width = std::max(width, command.name.size());
  for (const Command& command : kCommands) {
    std::string name(command.name);
    name.resize(width, ' ');
    text += "  " + name + "  " + std::string(command.summary) + "\n";
  }
  text += "\nRun 'shardplan <command> --help' for the flags of a command, 'shardplan --version' for the version.\n";
  return text;
}

/// The message goes out as exactly one line even if it echoes user text with newlines or other control characters.
void print_error(std::string_view message) {
  std::string line = "shardplan: ";
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      line += "\\x";
      line += kHex[byte >> 4];
      line += kHex[byte & 0xf];
    } else {
      line += c;
    }
  }
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

void print_stdout(const std::string& text) {
  Output out(stdout);
  out.write(text);
  out.flush();
}

int run(std::span<const std::string_view> args) {
  if (args.empty()) {
    std::fputs(main_usage().c_str(), stderr);
    return kExitError;
  }
  const std::string_view name = args.front();
  if (is_help_flag(name) || name == "help") {
    print_stdout(main_usage());
    return kExitOk;
  }
  if (name == "--version") {
    print_stdout(std::string("shardplan ") + shardplan::kVersion + "\n");
    return kExitOk;
  }
  if (const Command* command = find_command(name)) {
    const auto rest = args.subspan(1);
    if (wants_help(rest)) {
      print_stdout(command_usage(*command));
      return kExitOk;
    }
    Output out(stdout);
    const int status = run_command(*command, rest, out);
    out.flush();
    return status;
  }
  std::string known;
  for (const Command& command : kCommands) known += (known.empty() ? "" : ", ") + std::string(command.name);
  if (name.starts_with("-")) {
    throw InputError(shorten(name, 40),
                     "flags go after the command: shardplan <command> [flags] (commands: " + known + ")");
  }
  throw InputError(shorten(name, 40), "unknown command (known: " + known + ")");
}

}  // namespace
}  // namespace shardplan_cli

int main(int argc, char** argv) {
  using namespace shardplan_cli;
  try {
    const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    return run(args);
  } catch (const InputError& error) {
    print_error(error.what());
  } catch (const OutputError& error) {
    print_error(error.what());
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
  } catch (const std::exception& error) {
    print_error(std::string("internal error: ") + error.what());
    return kExitInternalError;
  } catch (...) {
    print_error("internal error");
    return kExitInternalError;
  }
  return kExitError;
}
