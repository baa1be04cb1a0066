#pragma once
// A minimal JSON writer: compact, deterministic output (no spaces, keys in call order) so that scripts and tests
// can compare it byte for byte. Appends to a caller-owned string so the caller decides when to flush.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shardplan/core/interval_set.hpp"

namespace shardplan_cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& key(std::string_view name) {
    separate();
    append_string(name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& string(std::string_view text) {
    separate();
    append_string(text);
    return *this;
  }

  JsonWriter& number(std::int64_t value) {
    separate();
    out_ += std::to_string(value);
    return *this;
  }

  /// The shortest text that reads back as `value` (`0.6007`, `19294`, `1.5e-07`); null when it is not finite, which
  /// JSON cannot represent.
  JsonWriter& decimal(double value) {
    separate();
    if (!(value - value == 0)) {  // NaN and infinities
      out_ += "null";
      return *this;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, result.ptr);
    return *this;
  }

  JsonWriter& boolean(bool value) {
    separate();
    out_ += value ? "true" : "false";
    return *this;
  }

  JsonWriter& null() {
    separate();
    out_ += "null";
    return *this;
  }

  /// Escapes quotes, backslashes and control characters; other bytes pass through (inputs are UTF-8 or ASCII).
  static void escape(std::string_view text, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : text) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: {
          const auto byte = static_cast<unsigned char>(c);
          if (byte < 0x20 || byte == 0x7f) {
            out += "\\u00";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
          } else {
            out += c;
          }
        }
      }
    }
  }

 private:
  // A comma goes before every value or key except the first in its container and a value right after its key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }

  JsonWriter& open(char bracket) {
    separate();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }

  JsonWriter& close(char bracket) {
    out_ += bracket;
    first_.pop_back();
    return *this;
  }

  void append_string(std::string_view text) {
    out_ += '"';
    escape(text, out_);
    out_ += '"';
  }

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

/// An index set as `[[begin,end],...]` (`[]` when empty).
inline void write_interval_set(JsonWriter& json, const shardplan::IntervalSet& set) {
  json.begin_array();
  for (const shardplan::Interval& interval : set.intervals()) {
    json.begin_array().number(interval.begin).number(interval.end).end_array();
  }
  json.end_array();
}

}  // namespace shardplan_cli
