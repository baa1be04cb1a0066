#pragma once
// Command-line parsing for the shardplan tool: `--flag value` and `--flag=value`, strict integers, and the single
// error type every input problem turns into (main prints it as one line and exits with status 2).
#include <charconv>
#include <initializer_list>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

using shardplan::Index;

/// A problem with the command line. what() is the whole message except the "shardplan: " prefix.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  InputError(std::string_view flag, std::string_view message)
      : std::runtime_error(std::string(flag) + ": " + std::string(message)) {}
};

/// User text echoed in a message, cut short so that one bad argument cannot produce a screenful.
inline std::string shorten(std::string_view text, std::size_t max_size = 60) {
  if (text.size() <= max_size) return std::string(text);
  return std::string(text.substr(0, max_size)) + "...";
}

inline std::string quote(std::string_view text) { return "'" + shorten(text) + "'"; }

/// Whether a library field names this flag: `pad_to` is `--pad-to`, `replicas[2]` is `--replicas`.
inline bool field_is_flag(std::string_view field, std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') flag.remove_prefix(1);
  field = field.substr(0, field.find('['));
  if (field.size() != flag.size()) return false;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if ((field[i] == '_' ? '-' : field[i]) != flag[i]) return false;
  }
  return true;
}

/// A library error blamed on `flag`. The field is dropped when it only repeats the flag ("--policy: policy: ...");
/// an indexed field ("replicas[2]") is kept. An ErrorCode::internal_error is a bug, not bad input: it is thrown
/// as std::logic_error, which main reports as an internal error (exit 70).
inline InputError library_error(std::string_view flag, const shardplan::Error& error) {
  if (error.code == shardplan::ErrorCode::internal_error) throw std::logic_error(error.what());
  const bool indexed = error.field.view().find('[') != std::string_view::npos;
  if (!indexed && field_is_flag(error.field.view(), flag)) return InputError(flag, error.message.view());
  return InputError(flag, error.what());
}

/// A library error blamed on the flag its field names, among `flags`, or on `fallback` (field kept) when none does.
inline InputError blame_field(const shardplan::Error& error, std::initializer_list<std::string_view> flags,
                              std::string_view fallback) {
  for (const std::string_view flag : flags) {
    if (field_is_flag(error.field.view(), flag)) return library_error(flag, error);
  }
  return library_error(fallback, error);
}

inline Index parse_index(std::string_view text, std::string_view where);

// ---------------------------------------------------------------------------------------------------------------
// Listing one row per rank

// Output is proportional to the rows listed: past this, a command refuses up front rather than run for minutes.
inline constexpr Index kMaxListed = Index{1} << 20;

/// The ranks to show: [first, last).
struct RankSpan {
  Index first = 0;
  Index last = 0;
  [[nodiscard]] Index count() const { return last - first; }
};

/// All `count` rows, or only the one --rank names. `check_rank(rank)` returns the library's Status for that rank;
/// a listing too long to print is blamed on `count_flag`.
template <class CheckRank>
RankSpan read_rank_span(const std::optional<std::string_view>& rank_text, std::string_view rank_flag, Index count,
                        std::string_view count_flag, CheckRank check_rank) {
  if (!rank_text) {
    if (count > kMaxListed) {
      throw InputError(count_flag, std::to_string(count) + " ranks are too many to list (at most " +
                                       std::to_string(kMaxListed) + "); pick one with " + std::string(rank_flag));
    }
    return {0, count};
  }
  const Index rank = parse_index(*rank_text, rank_flag);
  if (const auto status = check_rank(rank); !status.ok()) {
    throw InputError(rank_flag, std::string(status.error().message.view()));
  }
  return {rank, rank + 1};
}

template <class T>
T unwrap(shardplan::Result<T> result, std::string_view flag) {
  if (!result.ok()) throw library_error(flag, result.error());
  return std::move(result).value();
}

// ---------------------------------------------------------------------------------------------------------------
// Integers

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// A whole decimal int64 (optional sign, nothing else). `where` prefixes the message, e.g. "--shape: shape[1]".
inline Index parse_index(std::string_view text, std::string_view where) {
  std::string_view digits = text;
  // from_chars rejects '+', which the library's own parsers accept; stay consistent with them.
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-') digits.remove_prefix(1);
  Index value = 0;
  const char* end = digits.data() + digits.size();
  const auto [stop, error] = std::from_chars(digits.data(), end, value);
  if (error == std::errc::result_out_of_range) {
    throw InputError(std::string(where) + ": integer " + quote(text) + " does not fit in int64");
  }
  if (error != std::errc{} || stop != end) {
    throw InputError(std::string(where) + ": " + quote(text) + " is not an integer");
  }
  return value;
}

/// `39,2`, `[39, 2]` or `(39,2)`; empty text (or `[]`, `()`) is the empty list. Entries are named field[i].
inline std::vector<Index> parse_index_list(std::string_view text, std::string_view flag, std::string_view field) {
  std::string_view body = trim(text);
  if (body.size() >= 2 &&
      ((body.front() == '[' && body.back() == ']') || (body.front() == '(' && body.back() == ')'))) {
    body = trim(body.substr(1, body.size() - 2));
  }
  std::vector<Index> values;
  if (body.empty()) return values;
  for (;;) {
    const std::size_t comma = body.find(',');
    const std::string_view entry = trim(body.substr(0, comma));
    const std::string where = std::string(flag) + ": " + std::string(field) + "[" + std::to_string(values.size()) + "]";
    if (entry.empty()) throw InputError(where + ": empty entry in " + quote(text));
    values.push_back(parse_index(entry, where));
    if (comma == std::string_view::npos) break;
    body.remove_prefix(comma + 1);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------------------------
// Flags

struct FlagSpec {
  std::string_view name;        // with the dashes: "--shape"
  std::string_view value_name;  // "SIZES"; empty for a switch such as --json
  std::string_view help;
  bool required = false;

  [[nodiscard]] constexpr bool takes_value() const { return !value_name.empty(); }
};

/// The flags a command was given. Switches map to an empty value.
class ParsedFlags {
 public:
  [[nodiscard]] bool has(std::string_view name) const { return values_.find(name) != values_.end(); }

  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

  /// For flags marked required: parse_flags has already refused a command line without them.
  [[nodiscard]] std::string_view require(std::string_view name) const {
    const auto value = get(name);
    if (!value) throw InputError(name, "required flag is missing");
    return *value;
  }

  void set(std::string_view name, std::string_view value) { values_.emplace(std::string(name), std::string(value)); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

inline bool is_help_flag(std::string_view arg) { return arg == "--help" || arg == "-h"; }

/// Help wins over every other problem on the line: someone typing --help wants the usage, not an error.
inline bool wants_help(std::span<const std::string_view> args) {
  for (std::string_view arg : args) {
    if (is_help_flag(arg)) return true;
  }
  return false;
}

inline std::string known_flags(std::span<const FlagSpec> specs) {
  std::string list;
  for (const FlagSpec& spec : specs) {
    if (!list.empty()) list += ", ";
    list += spec.name;
  }
  return list.empty() ? "none" : list;
}

/// Parses `args` (everything after the command name) against `specs`. Refuses unknown, repeated and value-less
/// flags, stray positional arguments and missing required flags, each with a message naming the flag.
inline ParsedFlags parse_flags(std::span<const std::string_view> args, std::span<const FlagSpec> specs,
                               std::string_view command) {
  ParsedFlags parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      throw InputError(std::string(command) + ": unexpected argument " + quote(arg) + " (flags start with --)");
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& candidate : specs) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) {
      throw InputError(shorten(name, 40),
                       "unknown flag for '" + std::string(command) + "' (known: " + known_flags(specs) + ")");
    }
    if (parsed.has(spec->name)) throw InputError(spec->name, "given more than once");
    std::string_view value;
    if (!spec->takes_value()) {
      if (equals != std::string_view::npos) throw InputError(spec->name, "takes no value, got " + quote(arg));
    } else if (equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
    } else {
      const std::string expected = "missing value (expected " + std::string(spec->value_name);
      if (i + 1 == args.size()) throw InputError(spec->name, expected + ")");
      // A value never starts with "--"; taking the next flag as the value would only produce a stranger error.
      if (args[i + 1].starts_with("--")) {
        throw InputError(spec->name, expected + ", got the flag " + quote(args[i + 1]) + ")");
      }
      value = args[++i];
    }
    parsed.set(spec->name, value);
  }
  for (const FlagSpec& spec : specs) {
    if (spec.required && !parsed.has(spec.name)) throw InputError(spec.name, "required flag is missing");
  }
  return parsed;
}

}  // namespace shardplan_cli
