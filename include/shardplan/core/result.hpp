#pragma once
// Result<T>: a value or an Error, usable in constant expressions (std::expected is C++23).
#include <memory>
#include <type_traits>
#include <utility>

#include "shardplan/core/error.hpp"

namespace shardplan {

template <class T>
class [[nodiscard]] Result {
 public:
  constexpr Result(const T& value) : ok_(true), value_(value) {}  // NOLINT: implicit by design
  constexpr Result(T&& value) : ok_(true), value_(std::move(value)) {}  // NOLINT
  constexpr Result(const Error& error) : ok_(false), error_(error) {}  // NOLINT
  constexpr Result(const ErrorBuilder& builder) : Result(builder.error) {}  // NOLINT

  constexpr Result(const Result& other) : ok_(other.ok_) {
    if (ok_) {
      std::construct_at(&value_, other.value_);
    } else {
      std::construct_at(&error_, other.error_);
    }
  }
  constexpr Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(other.ok_) {
    if (ok_) {
      std::construct_at(&value_, std::move(other.value_));
    } else {
      std::construct_at(&error_, other.error_);
    }
  }
  constexpr Result& operator=(Result other) {
    destroy();
    std::construct_at(this, std::move(other));
    return *this;
  }
  constexpr ~Result() { destroy(); }

  [[nodiscard]] constexpr bool ok() const { return ok_; }
  constexpr explicit operator bool() const { return ok_; }

  // Precondition: ok(). Checked in constant evaluation (reading the inactive member does not compile).
  [[nodiscard]] constexpr const T& value() const& { return value_; }
  [[nodiscard]] constexpr T& value() & { return value_; }
  // By value, not T&&: `const auto& sets = layout.index_sets(r).value();` must not dangle.
  [[nodiscard]] constexpr T value() && { return std::move(value_); }
  constexpr const T& operator*() const& { return value_; }
  constexpr T& operator*() & { return value_; }
  constexpr const T* operator->() const { return &value_; }
  constexpr T* operator->() { return &value_; }

  // Precondition: !ok().
  [[nodiscard]] constexpr const Error& error() const { return error_; }

 private:
  constexpr void destroy() {
    if (ok_) {
      std::destroy_at(&value_);
    } else {
      std::destroy_at(&error_);
    }
  }

  bool ok_;
  union {
    T value_;
    Error error_;
  };
};

/// Result for operations that return nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace shardplan

/// Propagates an error: `SHARDPLAN_TRY(auto n, checked_mul(a, b));` — keeps call sites flat. It expands to several
/// statements (it declares a variable), so never use it as the body of an unbraced `if`.
#define SHARDPLAN_CONCAT_INNER(a, b) a##b
#define SHARDPLAN_CONCAT(a, b) SHARDPLAN_CONCAT_INNER(a, b)
#define SHARDPLAN_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                        \
  if (!tmp.ok()) return tmp.error();        \
  decl = std::move(tmp).value()
#define SHARDPLAN_TRY(decl, expr) SHARDPLAN_TRY_IMPL(SHARDPLAN_CONCAT(shardplan_try_, __LINE__), decl, expr)
#define SHARDPLAN_CHECK(expr)                                     \
  do {                                                            \
    if (auto shardplan_status = (expr); !shardplan_status.ok()) { \
      return shardplan_status.error();                            \
    }                                                             \
  } while (false)
