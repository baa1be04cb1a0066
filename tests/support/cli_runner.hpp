#pragma once
// Runs the built `shardplan` binary (SHARDPLAN_CLI_PATH) for the CLI tests and parses its JSON: exit status, stdout
// and stderr are captured separately; the fixture `Cli` has the checks every command shares.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef SHARDPLAN_CLI_PATH
#define SHARDPLAN_CLI_PATH ""
#endif

namespace shardplan_cli_test {

// ---------------------------------------------------------------------------------------------------------------
// Running the binary

struct RunResult {
  bool exited = false;  // false: killed by a signal (a crash)
  int status = -1;      // exit status when exited
  std::string out;
  std::string err;
};

inline std::string slurp(std::FILE* file) {
  std::rewind(file);  // the child shared the file offset and left it at the end
  std::string text;
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, count);
  return text;
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

/// fork/exec with an argv vector (no shell, so arguments need no quoting); stdout and stderr go to temp files.
inline RunResult run_cli(const std::vector<std::string>& args) {
  RunResult result;
  const File out(std::tmpfile());
  const File err(std::tmpfile());
  if (!out || !err) {
    ADD_FAILURE() << "tmpfile failed";
    return result;
  }
  std::vector<std::string> storage{SHARDPLAN_CLI_PATH};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return result;
  }
  if (pid == 0) {
    const int null_in = open("/dev/null", O_RDONLY);
    if (null_in >= 0) dup2(null_in, 0);
    dup2(fileno(out.get()), 1);
    dup2(fileno(err.get()), 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  result.exited = WIFEXITED(status);
  result.status = result.exited ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.out = slurp(out.get());
  result.err = slurp(err.get());
  return result;
}

inline std::string describe(const std::vector<std::string>& args) {
  std::string text = "shardplan";
  for (const std::string& arg : args) text += " '" + arg + "'";
  return text;
}

inline std::size_t count_lines(std::string_view text) {
  std::size_t lines = 0;
  for (const char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// A minimal JSON parser: enough to check structure and values of the command's output.

struct Json {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool boolean = false;
  std::int64_t number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::string> keys;  // object members in document order (a vector of pairs would need Json complete)
  std::vector<Json> values;

  [[nodiscard]] const Json& operator[](std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return values[i];
    }
    static const Json missing;
    ADD_FAILURE() << "missing key " << key;
    return missing;
  }
  [[nodiscard]] const Json& operator[](std::size_t i) const {
    static const Json missing;
    if (i >= array.size()) {
      ADD_FAILURE() << "index " << i << " outside an array of " << array.size();
      return missing;
    }
    return array[i];
  }
  [[nodiscard]] bool has(std::string_view key) const {
    for (const std::string& name : keys) {
      if (name == key) return true;
    }
    return false;
  }
  [[nodiscard]] std::vector<std::int64_t> ints() const {
    std::vector<std::int64_t> values;
    for (const Json& item : array) values.push_back(item.number);
    return values;
  }
  /// [[b,e],...] as pairs.
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::int64_t>> intervals() const {
    std::vector<std::pair<std::int64_t, std::int64_t>> values;
    for (const Json& item : array) values.emplace_back(item[0].number, item[1].number);
    return values;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  /// The document, which must be one value followed only by whitespace. Sets ok() false on any syntax error.
  Json parse() {
    Json value = parse_value();
    skip_spaces();
    if (pos_ != text_.size()) fail("trailing text");
    return value;
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  void fail(const std::string& what) {
    if (ok_) error_ = what + " at " + std::to_string(pos_);
    ok_ = false;
    pos_ = text_.size();
  }
  void skip_spaces() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool accept(char c) {
    skip_spaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  bool accept_word(std::string_view word) {
    skip_spaces();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  std::string parse_string() {
    expect('"');
    std::string out;
    while (ok_ && pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in a string");
      if (c == '\\' && pos_ < text_.size()) {
        const char escaped = text_[pos_++];
        switch (escaped) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'u': {
            if (pos_ + 4 > text_.size()) fail("short \\u escape");
            c = static_cast<char>(std::stoi(std::string(text_.substr(pos_, 4)), nullptr, 16));
            pos_ += 4;
            break;
          }
          default: c = escaped;
        }
      }
      out += c;
    }
    expect('"');
    return out;
  }
  Json parse_value() {
    Json value;
    skip_spaces();
    if (!ok_ || pos_ == text_.size()) {
      fail("expected a value");
      return value;
    }
    const char c = text_[pos_];
    if (c == '{') {
      value.kind = Json::Kind::object;
      ++pos_;
      if (accept('}')) return value;
      do {
        value.keys.push_back(parse_string());
        expect(':');
        value.values.push_back(parse_value());
      } while (ok_ && accept(','));
      expect('}');
    } else if (c == '[') {
      value.kind = Json::Kind::array;
      ++pos_;
      if (accept(']')) return value;
      do {
        value.array.push_back(parse_value());
      } while (ok_ && accept(','));
      expect(']');
    } else if (c == '"') {
      value.kind = Json::Kind::string;
      value.string = parse_string();
    } else if (accept_word("null")) {
      value.kind = Json::Kind::null;
    } else if (accept_word("true") || accept_word("false")) {
      value.kind = Json::Kind::boolean;
      value.boolean = text_[pos_ - 1] == 'e' && text_[pos_ - 2] == 'u';
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      value.kind = Json::Kind::number;
      const std::size_t start = pos_;
      if (c == '-') ++pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      value.number = std::stoll(std::string(text_.substr(start, pos_ - start)));
    } else {
      fail("unexpected character");
    }
    return value;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------------------------
// Fixture

class Cli : public testing::Test {
 protected:
  void SetUp() override {
    if (std::strlen(SHARDPLAN_CLI_PATH) == 0) GTEST_SKIP() << "SHARDPLAN_CLI_PATH is empty: the CLI was not built";
  }

  /// Runs a command that must succeed with nothing on stderr; returns stdout.
  static std::string run_ok(const std::vector<std::string>& args) {
    const RunResult result = run_cli(args);
    EXPECT_TRUE(result.exited) << describe(args) << " was killed by signal " << -result.status;
    EXPECT_EQ(result.status, 0) << describe(args) << "\nstderr: " << result.err;
    EXPECT_EQ(result.err, "") << describe(args);
    return result.out;
  }

  /// Runs a --json command and parses its output.
  static Json run_json(std::vector<std::string> args) {
    args.push_back("--json");
    const std::string out = run_ok(args);
    EXPECT_TRUE(out.ends_with("\n")) << describe(args);
    EXPECT_EQ(count_lines(out), 1u) << describe(args);
    JsonParser parser(out);
    Json json = parser.parse();
    EXPECT_TRUE(parser.ok()) << describe(args) << ": " << parser.error() << "\n" << out;
    return json;
  }

  /// An input error: status 2, nothing on stdout, one line on stderr starting "shardplan: <flag>: ".
  /// Returns the stderr line for further checks.
  static std::string expect_input_error(const std::vector<std::string>& args, const std::string& flag) {
    const RunResult result = run_cli(args);
    EXPECT_TRUE(result.exited) << describe(args) << " was killed by signal " << -result.status;
    EXPECT_EQ(result.status, 2) << describe(args);
    EXPECT_EQ(result.out, "") << describe(args);
    EXPECT_EQ(count_lines(result.err), 1u) << describe(args) << "\nstderr: " << result.err;
    EXPECT_TRUE(result.err.ends_with("\n")) << describe(args);
    EXPECT_TRUE(result.err.starts_with("shardplan: " + flag + ": ")) << describe(args) << "\nstderr: " << result.err;
    return result.err;
  }
};

}  // namespace shardplan_cli_test
