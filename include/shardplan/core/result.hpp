#pragma once
// Result<T>: a value or an Error, usable in constant expressions (std::expected is C++23).
//
// Reading the value of an error stops the program with the error's text at run time (like absl::StatusOr::value())
// and does not compile in constant evaluation.
//
// No <memory>: std::construct_at lives there and the header costs ~160 ms per TU. The value or the error sits in a
// union whose constructors pick the member, so construction and copies need no construct_at. Assignment between
// two values or two errors assigns the member; only an assignment that turns a value into an error or back
// re-creates the union with placement new, which constant evaluation refuses (nothing in the library does it
// there; std::variant would allow it but costs ~0.7 s more in the umbrella header's TU).
#include "shardplan/core/cxx20.hpp"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "shardplan/core/error.hpp"

namespace shardplan {

namespace result_detail {

/// Out of line and cold, so that the checked accessors stay small enough to inline.
[[noreturn, gnu::cold, gnu::noinline]] inline void die_on_error(const char* accessor, const Error& error) {
  std::fprintf(stderr, "shardplan: Result::%s on an error: %s\n", accessor, error.text().c_str());
  std::fflush(stderr);
  std::abort();
}

[[noreturn, gnu::cold, gnu::noinline]] inline void die_on_value() {
  std::fputs("shardplan: Result::error() on a value\n", stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace result_detail

template <class T>
class [[nodiscard]] Result {
 public:
  constexpr Result(const T& value) : ok_(true), storage_(std::in_place, value) {}  // NOLINT: implicit by design
  constexpr Result(T&& value) : ok_(true), storage_(std::in_place, std::move(value)) {}  // NOLINT
  constexpr Result(const Error& error) : ok_(false), storage_(error) {}  // NOLINT
  constexpr Result(const ErrorBuilder& builder) : Result(builder.error) {}  // NOLINT

  constexpr Result(const Result& other) : ok_(other.ok_), storage_(copy_of(other)) {}
  constexpr Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : ok_(other.ok_), storage_(move_of(other)) {}
  constexpr Result& operator=(Result other) {
    if constexpr (std::is_move_assignable_v<T>) {
      if (ok_ && other.ok_) {
        storage_.value = std::move(other.storage_.value);
        return *this;
      }
    }
    if (!ok_ && !other.ok_) {
      storage_.error = other.storage_.error;
      return *this;
    }
    destroy();
    ::new (static_cast<void*>(&storage_)) Storage(move_of(other));  // run time only, see the top of the file
    ok_ = other.ok_;
    return *this;
  }
  constexpr ~Result() { destroy(); }

  [[nodiscard]] constexpr bool ok() const { return ok_; }
  constexpr explicit operator bool() const { return ok_; }

  // Precondition: ok(). On an error the program prints "shardplan: Result::value() on an error: <field: message>"
  // and aborts; in constant evaluation the call of the non-constexpr die_on_error does not compile.
  [[nodiscard]] constexpr const T& value() const& { return checked("value()"); }
  [[nodiscard]] constexpr T& value() & { return checked("value()"); }
  // By value, not T&&: `const auto& sets = layout.index_sets(r).value();` must not dangle.
  [[nodiscard]] constexpr T value() && { return std::move(checked("value()")); }
  constexpr const T& operator*() const& { return checked("operator*"); }
  constexpr T& operator*() & { return checked("operator*"); }
  constexpr const T* operator->() const { return &checked("operator->"); }
  constexpr T* operator->() { return &checked("operator->"); }

  // Precondition: !ok(). On a value the program aborts (constant evaluation: does not compile).
  [[nodiscard]] constexpr const Error& error() const {
    if (ok_) result_detail::die_on_value();
    return storage_.error;
  }

 private:
  union Storage {
    template <class U>
    constexpr Storage(std::in_place_t, U&& v) : value(std::forward<U>(v)) {}
    constexpr explicit Storage(const Error& e) : error(e) {}
    constexpr ~Storage() {}  // Result destroys the active member
    T value;
    Error error;
  };

  // Returned as prvalues, so they initialise storage_ directly (guaranteed elision: Storage needs no copy).
  static constexpr Storage copy_of(const Result& other) {
    if (other.ok_) return Storage(std::in_place, other.storage_.value);
    return Storage(other.storage_.error);
  }
  static constexpr Storage move_of(Result& other) {
    if (other.ok_) return Storage(std::in_place, std::move(other.storage_.value));
    return Storage(other.storage_.error);
  }

  constexpr const T& checked(const char* accessor) const {
    if (!ok_) result_detail::die_on_error(accessor, storage_.error);
    return storage_.value;
  }
  constexpr T& checked(const char* accessor) {
    if (!ok_) result_detail::die_on_error(accessor, storage_.error);
    return storage_.value;
  }

  constexpr void destroy() {
    if (ok_) {
      storage_.value.~T();
    } else {
      storage_.error.~Error();
    }
  }

  bool ok_;
  Storage storage_;
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
