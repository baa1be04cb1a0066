#pragma once
// A tiny constexpr scanner for the library's text forms (placements, meshes, device orders): whitespace skipping,
// literal tokens, identifiers and overflow-checked integers, with positions for error messages.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <limits>
#include <string_view>

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

class TextScanner {
 public:
  constexpr TextScanner(std::string_view text, std::string_view field) : text_(text), field_(field) {}

  constexpr void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  [[nodiscard]] constexpr bool at_end() {
    skip_spaces();
    return pos_ == text_.size();
  }
  [[nodiscard]] constexpr char peek() {
    skip_spaces();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  /// Consumes `token` (after optional spaces) when it is next; otherwise consumes nothing.
  constexpr bool accept(std::string_view token) {
    skip_spaces();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  [[nodiscard]] constexpr Status expect(std::string_view token) {
    if (accept(token)) return Ok{};
    return error() << "expected '" << token << "' at position " << static_cast<Index>(pos_) << " of '"
                   << text_.substr(0, 60) << "', found " << describe_next();
  }

  /// A list's optional opening bracket, `[` or `(`: consumed when next. Returns the bracket that must close the list,
  /// '\0' when there is none.
  constexpr char open_list() {
    const char open = peek();
    if (open != '[' && open != '(') return '\0';
    ++pos_;
    return open == '[' ? ']' : ')';
  }
  /// The closing bracket open_list() returned, if there is one.
  [[nodiscard]] constexpr Status close_list(char close) {
    if (close == '\0') return Ok{};
    return expect(std::string_view(&close, 1));
  }

  /// Letters, digits and underscores, starting with a letter or underscore. Empty when none is next.
  constexpr std::string_view identifier() {
    skip_spaces();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_identifier_char(text_[pos_], pos_ == start)) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  /// An optionally signed decimal integer that fits in int64.
  [[nodiscard]] constexpr Result<Index> integer() {
    skip_spaces();
    const std::size_t start = pos_;
    bool negative = false;
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) {
      negative = text_[pos_] == '-';
      ++pos_;
    }
    if (pos_ == text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      pos_ = start;
      return error() << "expected an integer at position " << static_cast<Index>(start) << " of '"
                     << text_.substr(0, 60) << "', found " << describe_next();
    }
    Index value = 0;  // accumulated negatively so that INT64_MIN parses
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const Index digit = text_[pos_] - '0';
      if (!push_digit_negative(value, digit)) {
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
        return make_error(ErrorCode::overflow, field_)
               << "integer '" << text_.substr(start, (pos_ - start < 40 ? pos_ - start : std::size_t{40}))
               << "' does not fit in int64";
      }
      ++pos_;
    }
    if (!negative) {
      if (value == std::numeric_limits<Index>::min()) {
        return make_error(ErrorCode::overflow, field_)
               << "integer '" << text_.substr(start, pos_ - start) << "' does not fit in int64";
      }
      value = -value;
    }
    return value;
  }

  [[nodiscard]] constexpr std::size_t position() const { return pos_; }
  [[nodiscard]] constexpr std::string_view field() const { return field_; }
  [[nodiscard]] constexpr std::string_view text() const { return text_; }
  [[nodiscard]] constexpr std::string_view rest() const { return text_.substr(pos_); }

  /// A parse error for this field, ready for `<< "details"`.
  [[nodiscard]] constexpr ErrorBuilder error() const { return make_error(ErrorCode::parse_error, field_); }

  /// "'x'" for the next character, or "end of text".
  [[nodiscard]] constexpr FixedString<24> describe_next() {
    skip_spaces();
    FixedString<24> out;
    if (pos_ == text_.size()) return out.append("end of text");
    return out.append("'").append(text_.substr(pos_, 1)).append("'");
  }

 private:
  static constexpr bool is_identifier_char(char c, bool first) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return letter || (!first && c >= '0' && c <= '9');
  }

  std::string_view text_;
  std::string_view field_;
  std::size_t pos_ = 0;
};

}  // namespace shardplan
