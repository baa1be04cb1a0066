#pragma once
// Failure as a value: every input a user can get wrong produces an Error naming the field and the numbers.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shardplan/core/fixed_string.hpp"

namespace shardplan {

enum class ErrorCode {
  invalid_argument,   // a value is outside what the operation accepts (size <= 0, dim out of range, ...)
  out_of_range,       // a rank or coordinate outside the mesh
  overflow,           // a product or sum of sizes does not fit in int64
  parse_error,        // text that does not follow the grammar
  not_divisible,      // the `even` split policy met n % k != 0
  not_representable,  // a value has no equivalent in the requested form (e.g. a _S list with no shard order)
  capacity_exceeded,  // more tensor dims or mesh axes than the library's fixed capacity
  internal_error,     // a bug in shardplan, not bad input: a check the library makes on its own results failed
};

[[nodiscard]] constexpr std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::out_of_range: return "out_of_range";
    case ErrorCode::overflow: return "overflow";
    case ErrorCode::parse_error: return "parse_error";
    case ErrorCode::not_divisible: return "not_divisible";
    case ErrorCode::not_representable: return "not_representable";
    case ErrorCode::capacity_exceeded: return "capacity_exceeded";
    case ErrorCode::internal_error: return "internal_error";
  }
  return "unknown";
}

struct Error {
  ErrorCode code = ErrorCode::invalid_argument;
  FixedString<48> field;     // which input is wrong, e.g. "placements[1]" or "shape[0]"
  FixedString<200> message;  // what is wrong, with the numbers, e.g. "dim 3 is outside a rank-2 tensor"

  static constexpr std::size_t kTextCapacity = 256;  // field, ": " and message always fit (48 + 2 + 200)

  /// "field: message" (just the message when there is no field), the one-line form the CLI prints. NUL-terminated,
  /// so `std::printf("%s\n", error.text().c_str())` is safe; the temporary lives until the end of the statement.
  [[nodiscard]] constexpr FixedString<kTextCapacity> text() const {
    FixedString<kTextCapacity> out(field.view());
    if (!field.empty()) out.append(": ");
    return out.append(message.view());
  }

  /// text() as a std::string. A template so that this header needs no <string>: callers include it.
  template <class String = std::string>
  [[nodiscard]] String what() const {
    return String(text().view());
  }
};

/// Builds an Error; `make_error(ErrorCode::invalid_argument, "shape[0]") << "must be >= 0, got " << n`.
struct ErrorBuilder {
  Error error;
  template <class T>
  constexpr ErrorBuilder& operator<<(const T& value) {
    error.message << value;
    return *this;
  }
  constexpr ErrorBuilder& operator<<(const char* text) {
    error.message << text;
    return *this;
  }
  constexpr operator Error() const { return error; }  // NOLINT: implicit by design
};

[[nodiscard]] constexpr ErrorBuilder make_error(ErrorCode code, std::string_view field) {
  ErrorBuilder builder;
  builder.error.code = code;
  builder.error.field.append(field);
  return builder;
}

template <std::size_t N>
[[nodiscard]] constexpr ErrorBuilder make_error(ErrorCode code, const FixedString<N>& field) {
  return make_error(code, field.view());
}

/// Field names with an index, e.g. indexed_field("placements", 2) == "placements[2]".
[[nodiscard]] constexpr FixedString<48> indexed_field(std::string_view name, std::int64_t index) {
  FixedString<48> field(name);
  field << "[" << index << "]";
  return field;
}

}  // namespace shardplan
