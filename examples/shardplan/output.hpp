#pragma once
// Buffered stdout. Commands validate all input before writing anything, so an input error never leaves partial
// output behind; after that, output is flushed in chunks so that listing a large mesh does not hold it all in memory.
// The Python module (examples/python) runs commands into a string instead of a file.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shardplan_cli {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Output {
 public:
  explicit Output(std::FILE* file) : file_(file) {}
  /// Collects everything written in `*text` (flush appends to it).
  explicit Output(std::string* text) : text_(text) {}

  /// The pending text; writers append to it directly and call maybe_flush() at convenient points.
  [[nodiscard]] std::string& buffer() { return buffer_; }

  void write(std::string_view text) {
    buffer_ += text;
    maybe_flush();
  }

  void maybe_flush() {
    if (buffer_.size() >= kChunk) flush();
  }

  void flush() {
    if (text_ != nullptr) {
      *text_ += buffer_;
      buffer_.clear();
      return;
    }
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      throw OutputError("writing the output failed");
    }
    buffer_.clear();
    if (std::fflush(file_) != 0) throw OutputError("writing the output failed");
  }

 private:
  static constexpr std::size_t kChunk = 1 << 16;
  std::FILE* file_ = nullptr;
  std::string* text_ = nullptr;
  std::string buffer_;
};

}  // namespace shardplan_cli
