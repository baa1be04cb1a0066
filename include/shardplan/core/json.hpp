#pragma once
// A strict RFC 8259 JSON reader, usable in constant expressions (a config parsed inside a static_assert).
//
// Strict means: one top-level value with nothing after it; no comments, trailing commas, leading zeros, NaN or
// Infinity; strings must be valid UTF-8 (RFC 8259 §8.1) with control characters escaped, and \u escapes must pair
// surrogates; an object must not repeat a key (RFC 8259 leaves duplicates to the reader: configs that repeat a key
// are ambiguous, so we refuse them); nesting is limited to kJsonMaxDepth containers, an error rather than a stack
// overflow. There is no size limit: memory is proportional to the input, callers that read files bound their size.
//
// Values: strings are decoded UTF-8 in a std::vector<char> (libstdc++'s std::string is not constexpr under clang 14).
// An integer that fits int64 stays an exact integer; any other number (a fraction, an exponent, an integer beyond
// int64) is a double, kept with its source text for error messages. The double is correctly rounded, the same in
// constant evaluation and at run time: when the significand (without trailing zeros) is <= 2^53 and the decimal
// exponent within +-22, by one IEEE operation on exact operands (this covers what configs hold: 1e-05, 500000.0,
// 0.02); other numbers by std::from_chars at run time, and in a constant expression they are an error rather than a
// subtly different value. Numbers too large for a double are an error; too small ones round to 0. "-0" is the
// integer 0.
//
// Errors are ErrorCode::parse_error naming the 1-based line and column (in bytes; lines end at '\n').
#include "shardplan/core/cxx20.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/sorting.hpp"

namespace shardplan {

enum class JsonKind { null, boolean, integer, number, string, array, object };

/// The kind as type errors name it: "an integer", "a string", "null".
[[nodiscard]] constexpr std::string_view to_string(JsonKind kind) {
  switch (kind) {
    case JsonKind::null: return "null";
    case JsonKind::boolean: return "a boolean";
    case JsonKind::integer: return "an integer";
    case JsonKind::number: return "a number";
    case JsonKind::string: return "a string";
    case JsonKind::array: return "an array";
    case JsonKind::object: return "an object";
  }
  return "null";
}

/// Arrays and objects nested deeper than this are an error.
inline constexpr std::size_t kJsonMaxDepth = 128;

struct JsonMember;
namespace json_detail {
class Parser;
}  // namespace json_detail

class JsonValue {
 public:
  constexpr JsonValue() = default;  // null
  // Factories. (Defined after JsonMember: a JsonValue can only be created or destroyed once that is complete.)
  [[nodiscard]] static constexpr JsonValue boolean(bool value);
  [[nodiscard]] static constexpr JsonValue integer(Index value);
  /// `text`: the number as written, for error messages (optional).
  [[nodiscard]] static constexpr JsonValue number(double value, std::string_view text = {});
  [[nodiscard]] static constexpr JsonValue string(std::string_view text);
  [[nodiscard]] static constexpr JsonValue array(std::vector<JsonValue> items);
  [[nodiscard]] static constexpr JsonValue object(std::vector<JsonMember> members);

  [[nodiscard]] constexpr JsonKind kind() const { return kind_; }
  [[nodiscard]] constexpr bool is_null() const { return kind_ == JsonKind::null; }
  [[nodiscard]] constexpr bool is_bool() const { return kind_ == JsonKind::boolean; }
  [[nodiscard]] constexpr bool is_int() const { return kind_ == JsonKind::integer; }
  /// An integer or a double.
  [[nodiscard]] constexpr bool is_number() const { return is_int() || kind_ == JsonKind::number; }
  [[nodiscard]] constexpr bool is_string() const { return kind_ == JsonKind::string; }
  [[nodiscard]] constexpr bool is_array() const { return kind_ == JsonKind::array; }
  [[nodiscard]] constexpr bool is_object() const { return kind_ == JsonKind::object; }

  // Unchecked access. Precondition: the kind matches (as_double: is_number()).
  [[nodiscard]] constexpr bool as_bool() const { return int_ != 0; }
  [[nodiscard]] constexpr Index as_int() const { return int_; }
  [[nodiscard]] constexpr double as_double() const { return is_int() ? static_cast<double>(int_) : double_; }
  [[nodiscard]] constexpr std::string_view as_string() const { return {text_.data(), text_.size()}; }
  /// A double's source text ("" when built by number() without one).
  [[nodiscard]] constexpr std::string_view number_text() const { return as_string(); }
  [[nodiscard]] constexpr const std::vector<JsonValue>& items() const { return items_; }
  [[nodiscard]] constexpr const std::vector<JsonMember>& members() const { return members_; }
  /// Elements of an array or members of an object; 0 otherwise.
  [[nodiscard]] constexpr std::size_t size() const;

  /// The member named `key` (the only one: keys are unique), or nullptr when absent or this is not an object.
  [[nodiscard]] constexpr const JsonValue* find(std::string_view key) const;
  [[nodiscard]] constexpr bool contains(std::string_view key) const { return find(key) != nullptr; }

  // Checked lookups: the member `key`, or an error "key: missing" / "key: expected an integer, got "4096"". The error
  // names `field` when given (a path such as "quantization_config.quant_method"), else the key.
  [[nodiscard]] constexpr Result<const JsonValue*> get(std::string_view key, std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<bool> get_bool(std::string_view key, std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<Index> get_int(std::string_view key, std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<double> get_double(std::string_view key, std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<std::string_view> get_string(std::string_view key, std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<std::span<const JsonValue>> get_array(std::string_view key,
                                                                       std::string_view field = {}) const;
  [[nodiscard]] constexpr Result<const JsonValue*> get_object(std::string_view key, std::string_view field = {}) const;

  // Checked conversions of this value; errors name `field`. An integer beyond int64 is an ErrorCode::overflow.
  [[nodiscard]] constexpr Result<bool> bool_value(std::string_view field) const {
    if (is_bool()) return as_bool();
    return type_error(field, JsonKind::boolean);
  }
  [[nodiscard]] constexpr Result<Index> int_value(std::string_view field) const {
    if (is_int()) return int_;
    if (kind_ == JsonKind::number && number_text().find_first_of(".eE") == std::string_view::npos &&
        !number_text().empty()) {
      return make_error(ErrorCode::overflow, field) << "integer " << describe() << " does not fit in int64";
    }
    return type_error(field, JsonKind::integer);
  }
  [[nodiscard]] constexpr Result<double> double_value(std::string_view field) const {
    if (is_number()) return as_double();
    return type_error(field, JsonKind::number);
  }
  [[nodiscard]] constexpr Result<std::string_view> string_value(std::string_view field) const {
    if (is_string()) return as_string();
    return type_error(field, JsonKind::string);
  }
  [[nodiscard]] constexpr Result<std::span<const JsonValue>> array_value(std::string_view field) const {
    // (pointer, size): std::span's range constructor costs ~10 ms of compile time per element type.
    if (is_array()) return std::span<const JsonValue>(items_.data(), items_.size());
    return type_error(field, JsonKind::array);
  }
  [[nodiscard]] constexpr Result<const JsonValue*> object_value(std::string_view field) const {
    if (is_object()) return this;
    return type_error(field, JsonKind::object);
  }

  /// Short text for messages: `null`, `true`, `4096`, `3.5`, `"bf16"` (truncated), `an array`, `an object`.
  [[nodiscard]] constexpr FixedString<48> describe() const {
    FixedString<48> out;
    switch (kind_) {
      case JsonKind::boolean: return out.append(as_bool() ? "true" : "false");
      case JsonKind::integer: return out.append(int_);
      case JsonKind::number: return out.append(text_.empty() ? "a number" : number_text().substr(0, 40));
      case JsonKind::string: {
        const std::string_view text = as_string();
        return out.append("\"").append(text.substr(0, 36)).append(text.size() > 36 ? "...\"" : "\"");
      }
      default: return out.append(to_string(kind_));
    }
  }

  /// Same kind and value; doubles compare by value (1.50 == 1.5), objects member by member in document order.
  friend constexpr bool operator==(const JsonValue& a, const JsonValue& b);

 private:
  friend class json_detail::Parser;  // moves decoded strings in instead of copying them

  static constexpr JsonValue scalar(JsonKind kind, Index i, double d);
  [[nodiscard]] constexpr ErrorBuilder type_error(std::string_view field, JsonKind expected) const {
    return make_error(ErrorCode::invalid_argument, field) << "expected " << to_string(expected) << ", got "
                                                          << describe();
  }

  JsonKind kind_ = JsonKind::null;
  Index int_ = 0;           // integer, or boolean as 0/1
  double double_ = 0;       // number
  std::vector<char> text_;  // string: decoded UTF-8; number: its source text
  std::vector<JsonValue> items_;
  std::vector<JsonMember> members_;  // in document order
};

struct JsonMember {
  std::vector<char> name;  // decoded UTF-8
  JsonValue value;
  [[nodiscard]] constexpr std::string_view key() const { return {name.data(), name.size()}; }
  friend constexpr bool operator==(const JsonMember&, const JsonMember&) = default;
};

constexpr JsonValue JsonValue::scalar(JsonKind kind, Index i, double d) {
  JsonValue v;
  v.kind_ = kind;
  v.int_ = i;
  v.double_ = d;
  return v;
}
constexpr JsonValue JsonValue::boolean(bool value) { return scalar(JsonKind::boolean, value ? 1 : 0, 0); }
constexpr JsonValue JsonValue::integer(Index value) { return scalar(JsonKind::integer, value, 0); }
constexpr JsonValue JsonValue::number(double value, std::string_view text) {
  JsonValue v = scalar(JsonKind::number, 0, value);
  v.text_.assign(text.begin(), text.end());
  return v;
}
constexpr JsonValue JsonValue::string(std::string_view text) {
  JsonValue v = scalar(JsonKind::string, 0, 0);
  v.text_.assign(text.begin(), text.end());
  return v;
}
constexpr JsonValue JsonValue::array(std::vector<JsonValue> items) {
  JsonValue v = scalar(JsonKind::array, 0, 0);
  v.items_ = std::move(items);
  return v;
}
constexpr JsonValue JsonValue::object(std::vector<JsonMember> members) {
  JsonValue v = scalar(JsonKind::object, 0, 0);
  v.members_ = std::move(members);
  return v;
}

constexpr std::size_t JsonValue::size() const {
  return is_array() ? items_.size() : is_object() ? members_.size() : 0;
}

constexpr const JsonValue* JsonValue::find(std::string_view key) const {
  for (const JsonMember& member : members_) {
    if (member.key() == key) return &member.value;
  }
  return nullptr;
}

constexpr Result<const JsonValue*> JsonValue::get(std::string_view key, std::string_view field) const {
  if (field.empty()) field = key;
  if (!is_object()) return type_error(field, JsonKind::object);
  if (const JsonValue* value = find(key)) return value;
  return make_error(ErrorCode::invalid_argument, field) << "missing";
}

constexpr Result<bool> JsonValue::get_bool(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->bool_value(field.empty() ? key : field);
}
constexpr Result<Index> JsonValue::get_int(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->int_value(field.empty() ? key : field);
}
constexpr Result<double> JsonValue::get_double(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->double_value(field.empty() ? key : field);
}
constexpr Result<std::string_view> JsonValue::get_string(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->string_value(field.empty() ? key : field);
}
constexpr Result<std::span<const JsonValue>> JsonValue::get_array(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->array_value(field.empty() ? key : field);
}
constexpr Result<const JsonValue*> JsonValue::get_object(std::string_view key, std::string_view field) const {
  SHARDPLAN_TRY(const JsonValue* value, get(key, field));
  return value->object_value(field.empty() ? key : field);
}

constexpr bool operator==(const JsonValue& a, const JsonValue& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case JsonKind::null: return true;
    case JsonKind::boolean:
    case JsonKind::integer: return a.int_ == b.int_;
    case JsonKind::number: return a.double_ == b.double_;
    case JsonKind::string: return a.text_ == b.text_;
    case JsonKind::array: return a.items_ == b.items_;
    case JsonKind::object: return a.members_ == b.members_;
  }
  return false;
}

namespace json_detail {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// "0x0A" for bytes, "\uD800" for escapes.
constexpr FixedString<8> hex(unsigned value, int digits, std::string_view prefix = "0x") {
  FixedString<8> out(prefix);
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out.append(std::string_view(&"0123456789ABCDEF"[(value >> shift) & 0xF], 1));
  }
  return out;
}

/// Powers of ten that are exact doubles.
inline constexpr double kExactPowersOf10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                              1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

class Parser {
 public:
  constexpr Parser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  constexpr Result<JsonValue> document() {
    SHARDPLAN_TRY(JsonValue value, parse_value(0));
    skip_spaces();
    if (pos_ != text_.size()) {
      return error_at(pos_) << "expected end of input after the top-level value, found " << found();
    }
    return value;
  }

 private:
  constexpr void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  [[nodiscard]] constexpr char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  [[nodiscard]] constexpr bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  [[nodiscard]] constexpr unsigned byte(std::size_t at) const { return static_cast<unsigned char>(text_[at]); }

  /// "line L, column C" of a byte offset. Computed only for errors, so parsing does not track lines.
  [[nodiscard]] constexpr FixedString<48> location(std::size_t position) const {
    const std::string_view before = text_.substr(0, position);
    const auto line = static_cast<Index>(detail::count(before.begin(), before.end(), '\n')) + 1;
    const std::size_t newline = before.rfind('\n');
    const auto column = static_cast<Index>(newline == std::string_view::npos ? position + 1 : position - newline);
    FixedString<48> out;
    out << "line " << line << ", column " << column;
    return out;
  }
  /// "line L, column C: ", ready for the rest of the message.
  [[nodiscard]] constexpr ErrorBuilder error_at(std::size_t position) const {
    return make_error(ErrorCode::parse_error, name_) << location(position) << ": ";
  }

  /// What is at pos_: "end of input", a word ('True', 'NaN'), a character ('}'), or a byte (byte 0x0A).
  [[nodiscard]] constexpr FixedString<32> found() const {
    FixedString<32> out;
    if (pos_ == text_.size()) return out.append("end of input");
    const auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    std::size_t end = pos_;
    while (end < text_.size() && end - pos_ < 16 && is_letter(text_[end])) ++end;
    if (end == pos_ && byte(pos_) > 0x20 && byte(pos_) < 0x7F) end = pos_ + 1;
    if (end == pos_) return out.append("byte ").append(hex(byte(pos_), 2));
    return out.append("'").append(text_.substr(pos_, end - pos_)).append("'");
  }

  constexpr Result<JsonValue> parse_value(std::size_t depth) {
    skip_spaces();
    const char c = peek();
    if ((c == '[' || c == '{') && depth == kJsonMaxDepth) {
      return error_at(pos_) << "arrays and objects nested deeper than " << static_cast<Index>(kJsonMaxDepth);
    }
    if (c == '[') return parse_array(depth);
    if (c == '{') return parse_object(depth);
    if (c == '"') {
      SHARDPLAN_TRY(std::vector<char> text, parse_string());
      JsonValue value = JsonValue::scalar(JsonKind::string, 0, 0);
      value.text_ = std::move(text);
      return value;
    }
    if (c == '-' || is_digit(c)) return parse_number();
    constexpr std::string_view kLiterals[] = {"true", "false", "null"};
    for (const std::string_view literal : kLiterals) {
      if (text_.substr(pos_, literal.size()) == literal) {
        pos_ += literal.size();
        return literal == "null" ? JsonValue() : JsonValue::boolean(literal == "true");
      }
    }
    return error_at(pos_) << "expected a value, found " << found();
  }

  constexpr Result<JsonValue> parse_array(std::size_t depth) {
    ++pos_;  // '['
    std::vector<JsonValue> items;
    skip_spaces();
    if (at(']')) {
      ++pos_;
      return JsonValue::array(std::move(items));
    }
    while (true) {
      SHARDPLAN_TRY(JsonValue item, parse_value(depth + 1));
      items.push_back(std::move(item));
      skip_spaces();
      if (at(']')) break;
      if (!at(',')) return error_at(pos_) << "expected ',' or ']' after an array element, found " << found();
      ++pos_;
      skip_spaces();
      if (at(']')) return error_at(pos_) << "expected a value after ',' in an array, found ']' (a trailing comma)";
    }
    ++pos_;
    return JsonValue::array(std::move(items));
  }

  constexpr Result<JsonValue> parse_object(std::size_t depth) {
    ++pos_;  // '{'
    std::vector<JsonMember> members;
    std::vector<std::size_t> key_positions;
    skip_spaces();
    if (at('}')) {
      ++pos_;
      return JsonValue::object(std::move(members));
    }
    while (true) {
      if (!at('"')) {
        return error_at(pos_) << (members.empty() ? "expected a string key or '}'" : "expected a string key after ','")
                              << " in an object, found " << found();
      }
      key_positions.push_back(pos_);
      SHARDPLAN_TRY(std::vector<char> key, parse_string());
      skip_spaces();
      if (!at(':')) return error_at(pos_) << "expected ':' after an object key, found " << found();
      ++pos_;
      SHARDPLAN_TRY(JsonValue value, parse_value(depth + 1));
      members.push_back(JsonMember{std::move(key), std::move(value)});
      skip_spaces();
      if (at('}')) break;
      if (!at(',')) return error_at(pos_) << "expected ',' or '}' after an object member, found " << found();
      ++pos_;
      skip_spaces();
      if (at('}')) {
        return error_at(pos_) << "expected a string key after ',' in an object, found '}' (a trailing comma)";
      }
    }
    ++pos_;
    SHARDPLAN_CHECK(check_unique_keys(members, key_positions));
    return JsonValue::object(std::move(members));
  }

  /// Sorting makes this O(n log n): a fuzzer's object with 10^5 members must not take 10^10 comparisons.
  /// Reports the first repeated key in document order.
  constexpr Status check_unique_keys(const std::vector<JsonMember>& members,
                                     const std::vector<std::size_t>& positions) const {
    std::vector<std::size_t> order;  // not order(n): clang 14 rejects libstdc++'s value-initialisation in constexpr
    order.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) order.push_back(i);
    detail::sort_range(order, [&](std::size_t a, std::size_t b) {
      return members[a].key() != members[b].key() ? members[a].key() < members[b].key() : a < b;
    });
    std::size_t repeat = members.size();
    std::size_t first = 0;
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (members[order[i]].key() == members[order[i - 1]].key() && order[i] < repeat) {
        repeat = order[i];
        first = order[i - 1];
      }
    }
    if (repeat == members.size()) return Ok{};
    return error_at(positions[repeat]) << "duplicate key \"" << members[repeat].key().substr(0, 40)
                                       << "\" in an object (first at " << location(positions[first]) << ")";
  }

  /// At '"'. Decodes escapes; the result is valid UTF-8.
  constexpr Result<std::vector<char>> parse_string() {
    const std::size_t open = pos_++;
    std::vector<char> out;
    while (true) {
      if (pos_ == text_.size()) {
        return error_at(pos_) << "expected '\"' to close the string opened at " << location(open)
                              << ", found end of input";
      }
      const unsigned c = byte(pos_);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        SHARDPLAN_CHECK(parse_escape(out));
      } else if (c < 0x20) {
        return error_at(pos_) << "control character " << hex(c, 2) << " must be escaped in a string";
      } else if (c < 0x80) {
        out.push_back(text_[pos_++]);
      } else {
        SHARDPLAN_TRY(const std::size_t length, utf8_sequence_length());
        out.insert(out.end(), text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                   text_.begin() + static_cast<std::ptrdiff_t>(pos_ + length));
        pos_ += length;
      }
    }
  }

  /// The length of the well-formed UTF-8 sequence at pos_ (Unicode Table 3-7: no overlongs, no surrogates, at most
  /// U+10FFFF), or an error.
  constexpr Result<std::size_t> utf8_sequence_length() const {
    const unsigned lead = byte(pos_);
    std::size_t length = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    if (lead >= 0xE0 && lead <= 0xEF) length = 3;
    if (lead >= 0xF0 && lead <= 0xF4) length = 4;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    bool valid = length > 0 && pos_ + length <= text_.size();
    for (std::size_t i = 1; valid && i < length; ++i) {
      const unsigned next = byte(pos_ + i);
      valid = i == 1 ? (next >= lo && next <= hi) : (next >= 0x80 && next <= 0xBF);
    }
    if (valid) return length;
    return error_at(pos_) << "invalid UTF-8 in a string: sequence starting with byte " << hex(lead, 2);
  }

  constexpr Status parse_escape(std::vector<char>& out) {
    const std::size_t start = pos_++;  // '\\'
    const char c = peek();
    constexpr std::string_view kFrom = "\"\\/bfnrt";
    constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
    if (const std::size_t i = kFrom.find(c); c != '\0' && i != std::string_view::npos) {
      out.push_back(kTo[i]);
      ++pos_;
      return Ok{};
    }
    if (c != 'u') return error_at(start) << "invalid escape in a string: '\\' followed by " << found();
    ++pos_;
    SHARDPLAN_TRY(unsigned code, hex4());
    if (code >= 0xDC00 && code <= 0xDFFF) {
      return error_at(start) << hex(code, 4, "\\u") << " is a low surrogate without a high one";
    }
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") {
        return error_at(start) << hex(code, 4, "\\u") << " is a high surrogate not followed by a \\u low surrogate";
      }
      pos_ += 2;
      SHARDPLAN_TRY(const unsigned low, hex4());
      if (low < 0xDC00 || low > 0xDFFF) {
        return error_at(start) << hex(code, 4, "\\u") << " is a high surrogate followed by " << hex(low, 4, "\\u")
                               << ", not by a low surrogate";
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    // UTF-8: a lead byte carrying the top bits, then 6 bits per continuation byte.
    const int continuations = code < 0x80 ? 0 : code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
    constexpr unsigned kLead[] = {0x00, 0xC0, 0xE0, 0xF0};
    out.push_back(static_cast<char>(kLead[continuations] | (code >> (6 * continuations))));
    for (int i = continuations - 1; i >= 0; --i) out.push_back(static_cast<char>(0x80 | ((code >> (6 * i)) & 0x3F)));
    return Ok{};
  }

  constexpr Result<unsigned> hex4() {
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      const unsigned digit = is_digit(c)               ? static_cast<unsigned>(c - '0')
                             : (c >= 'a' && c <= 'f') ? static_cast<unsigned>(c - 'a' + 10)
                             : (c >= 'A' && c <= 'F') ? static_cast<unsigned>(c - 'A' + 10)
                                                      : 16;
      if (digit == 16) return error_at(pos_) << "expected 4 hex digits after '\\u', found " << found();
      value = value * 16 + digit;
      ++pos_;
    }
    return value;
  }

  constexpr Result<JsonValue> parse_number() {
    const std::size_t start = pos_;
    if (at('-')) ++pos_;
    if (!is_digit(peek())) return error_at(pos_) << "expected a digit after '-', found " << found();
    if (at('0')) {
      ++pos_;
      if (is_digit(peek())) return error_at(pos_) << "numbers must not have leading zeros, found " << found();
    }
    bool integral = true;
    while (is_digit(peek())) ++pos_;
    if (at('.')) {
      ++pos_;
      integral = false;
      if (!is_digit(peek())) return error_at(pos_) << "expected a digit after '.', found " << found();
      while (is_digit(peek())) ++pos_;
    }
    if (at('e') || at('E')) {
      ++pos_;
      integral = false;
      if (at('+') || at('-')) ++pos_;
      if (!is_digit(peek())) return error_at(pos_) << "expected a digit in the exponent, found " << found();
      while (is_digit(peek())) ++pos_;
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    if (integral) {
      if (const std::optional<Index> value = to_int64(token)) return JsonValue::integer(*value);
    }
    SHARDPLAN_TRY(const double value, to_double(token, start));
    return JsonValue::number(value, token);
  }

  /// A validated integer token, or nullopt beyond int64. Accumulates negatively so that INT64_MIN fits.
  static constexpr std::optional<Index> to_int64(std::string_view token) {
    const bool negative = token.front() == '-';
    Index value = 0;
    for (char c : token.substr(negative ? 1 : 0)) {
      if (!push_digit_negative(value, Index{c - '0'})) {
        return std::nullopt;
      }
    }
    if (negative) return value;
    if (value == std::numeric_limits<Index>::min()) return std::nullopt;
    return -value;
  }

  /// A validated number token as the correctly rounded double (see the header comment).
  constexpr Result<double> to_double(std::string_view token, std::size_t start) const {
    const bool negative = token.front() == '-';
    std::uint64_t significand = 0;  // the first 19 significant digits
    Index digits = 0;               // of them
    Index exponent = 0;             // value ~ significand * 10^exponent
    bool dropped = false;           // a nonzero digit beyond the 19th
    bool fraction = false;
    std::size_t i = negative ? 1 : 0;
    for (; i < token.size() && (is_digit(token[i]) || token[i] == '.'); ++i) {
      if (token[i] == '.') {
        fraction = true;
      } else if (digits < 19 && (digits > 0 || token[i] != '0')) {
        significand = significand * 10 + static_cast<std::uint64_t>(token[i] - '0');
        ++digits;
        exponent -= fraction ? 1 : 0;
      } else {
        dropped = dropped || token[i] != '0';
        exponent += (digits > 0 && !fraction) ? 1 : (digits == 0 && fraction) ? -1 : 0;
      }
    }
    if (i < token.size()) {  // 'e' or 'E'
      const bool minus = token[++i] == '-';
      if (token[i] == '-' || token[i] == '+') ++i;
      Index e = 0;
      // Clamped far beyond any double, but not so far that the digits of a huge token could outweigh it.
      for (; i < token.size(); ++i) e = detail::min<Index>(e * 10 + (token[i] - '0'), Index{1} << 56);
      exponent += minus ? -e : e;
    }
    if (significand == 0) return negative ? -0.0 : 0.0;
    while (significand % 10 == 0) {  // 1000000000000000000000 is 1e21: exact on the fast path
      significand /= 10;
      --digits;
      ++exponent;
    }
    if (!dropped && significand <= (std::uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
      const auto exact = static_cast<double>(significand);
      const double magnitude = exponent < 0 ? exact / kExactPowersOf10[-exponent] : exact * kExactPowersOf10[exponent];
      return negative ? -magnitude : magnitude;
    }
    if (std::is_constant_evaluated()) {
      return error_at(start) << "number " << token.substr(0, 40)
                             << " needs run-time conversion (more than 2^53 or an exponent beyond 22)";
    }
    double value = 0;
    const auto [end, status] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (status == std::errc::result_out_of_range && digits + exponent <= 0) return negative ? -0.0 : 0.0;
    if (status != std::errc() || end != token.data() + token.size()) {
      return error_at(start) << "number " << token.substr(0, 40) << " is outside the range of a double";
    }
    return value;
  }

  std::string_view text_;
  std::string_view name_;
  std::size_t pos_ = 0;
};

}  // namespace json_detail

/// Parses one JSON document. Errors are ErrorCode::parse_error with field `name` and a message
/// "line L, column C: expected ..., found ...".
[[nodiscard]] constexpr Result<JsonValue> parse_json(std::string_view text, std::string_view name = "json") {
  return json_detail::Parser(text, name).document();
}

}  // namespace shardplan
