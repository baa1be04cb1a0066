#pragma once
// A fixed-capacity string usable in constant expressions.
//
// Error messages must be buildable inside constexpr code (a bad layout in a static_assert reports why), and
// libstdc++'s std::string is not usable in constant expressions under clang 14. So messages are written into a
// fixed buffer instead; text past the capacity is dropped and the string ends with "...".
//
// No <string> here (it costs ~55 ms per TU and the library needs none): str() is a template whose default,
// std::string, is only forward-declared by <string_view> (libstdc++ and libc++ declare it in <iosfwd>). Callers of
// str() include <string> themselves.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace shardplan {

template <std::size_t Capacity>
class FixedString {
 public:
  constexpr FixedString() = default;
  constexpr FixedString(std::string_view text) { append(text); }  // NOLINT: implicit by design

  constexpr FixedString& append(std::string_view text) {
    for (char c : text) push(c);
    return *this;
  }

  constexpr FixedString& append(std::int64_t value) {
    char digits[24]{};
    int count = 0;
    // Work on the negative magnitude so INT64_MIN does not overflow.
    std::int64_t rest = value < 0 ? value : -value;
    do {
      digits[count++] = static_cast<char>('0' - rest % 10);
      rest /= 10;
    } while (rest != 0);
    if (value < 0) push('-');
    while (count > 0) push(digits[--count]);
    return *this;
  }

  constexpr FixedString& append(int value) { return append(static_cast<std::int64_t>(value)); }

  template <std::size_t Other>
  constexpr FixedString& append(const FixedString<Other>& other) {
    return append(other.view());
  }

  template <class T>
  constexpr FixedString& operator<<(const T& value) {
    return append(value);
  }
  constexpr FixedString& operator<<(const char* text) { return append(std::string_view(text)); }

  [[nodiscard]] constexpr std::string_view view() const { return {data_, size_}; }
  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  /// NUL-terminated, for printf("%s") and C APIs.
  [[nodiscard]] constexpr const char* c_str() const { return data_; }
  template <class String = std::string>
  [[nodiscard]] String str() const {
    return String(view());
  }

  friend constexpr bool operator==(const FixedString& a, const FixedString& b) { return a.view() == b.view(); }
  friend constexpr bool operator==(const FixedString& a, std::string_view b) { return a.view() == b; }

 private:
  constexpr void push(char c) {
    if (size_ < Capacity) {
      data_[size_++] = c;
    } else if (!truncated_) {
      truncated_ = true;
      for (std::size_t i = Capacity - 3; i < Capacity; ++i) data_[i] = '.';
    }
  }

  // One more than the capacity: the zero-initialised tail keeps data_[size_] == '\0' (the size only grows).
  char data_[Capacity + 1]{};
  std::size_t size_ = 0;
  bool truncated_ = false;
};

}  // namespace shardplan
