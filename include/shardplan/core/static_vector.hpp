#pragma once
// StaticVector<T, N>: a vector with inline storage and a fixed capacity. Shapes, coordinates and placement lists
// live in these so the per-rank path never allocates and everything works in constant expressions.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <utility>

namespace shardplan {

template <class T, std::size_t N>
class StaticVector {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  // At run time the unused tail stays uninitialised (zeroing and copying all N slots would dominate the per-rank
  // path); in constant evaluation every slot must be initialised, so there it is.
  constexpr StaticVector() {
    if (std::is_constant_evaluated()) {
      for (T& slot : data_) slot = T{};
    }
  }
  constexpr StaticVector(const StaticVector& other) : StaticVector() { assign(other); }
  constexpr StaticVector(StaticVector&& other) noexcept(std::is_nothrow_move_assignable_v<T>) : StaticVector() {
    take(other);
  }
  constexpr StaticVector& operator=(const StaticVector& other) {
    if (this != &other) assign(other);
    return *this;
  }
  constexpr StaticVector& operator=(StaticVector&& other) noexcept(std::is_nothrow_move_assignable_v<T>) {
    if (this != &other) take(other);
    return *this;
  }
  /// Precondition: init.size() <= N (excess elements are dropped).
  constexpr StaticVector(std::initializer_list<T> init) : StaticVector() {
    for (const T& value : init) push_back(value);
  }
  constexpr explicit StaticVector(std::size_t count, const T& value = T{}) : StaticVector() {
    for (std::size_t i = 0; i < count; ++i) push_back(value);
  }
  /// From a std::span<const T> or anything that converts to one (a std::vector<T>, an array). A template whose first
  /// constraint leaves StaticVector out: with a plain std::span<const T> parameter every copy of a StaticVector<T>
  /// would ask whether it converts to a span, a ranges-concept check that cost ~20 ms of compile time per T.
  template <class Values>
    requires(!std::is_same_v<std::remove_cvref_t<Values>, StaticVector>) &&
            std::is_convertible_v<const Values&, std::span<const T>>
  constexpr explicit StaticVector(const Values& values) : StaticVector() {
    for (const T& value : std::span<const T>(values)) push_back(value);
  }

  static constexpr std::size_t capacity() { return N; }
  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr bool full() const { return size_ == N; }

  /// Returns false (and changes nothing) when full.
  constexpr bool push_back(const T& value) {
    if (size_ == N) return false;
    data_[size_++] = value;
    return true;
  }
  constexpr bool push_back(T&& value) {
    if (size_ == N) return false;
    data_[size_++] = std::move(value);
    return true;
  }
  /// Precondition: count <= N. New elements are value-initialised.
  constexpr void resize(std::size_t count) {
    for (std::size_t i = size_; i < count; ++i) data_[i] = T{};
    size_ = count;
  }
  constexpr void pop_back() { --size_; }
  constexpr void clear() { size_ = 0; }

  constexpr T& operator[](std::size_t i) { return data_[i]; }
  constexpr const T& operator[](std::size_t i) const { return data_[i]; }
  constexpr T& back() { return data_[size_ - 1]; }
  constexpr const T& back() const { return data_[size_ - 1]; }

  constexpr T* begin() { return data_; }
  constexpr T* end() { return data_ + size_; }
  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + size_; }
  constexpr T* data() { return data_; }
  constexpr const T* data() const { return data_; }
  constexpr std::span<const T> span() const { return {data_, size_}; }

  friend constexpr bool operator==(const StaticVector& a, const StaticVector& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i) {
      if (!(a.data_[i] == b.data_[i])) return false;
    }
    return true;
  }

 private:
  constexpr void assign(const StaticVector& other) {
    for (std::size_t i = 0; i < other.size_; ++i) data_[i] = other.data_[i];
    size_ = other.size_;
  }
  constexpr void take(StaticVector& other) {
    for (std::size_t i = 0; i < other.size_; ++i) data_[i] = std::move(other.data_[i]);
    size_ = other.size_;
  }

  T data_[N];
  std::size_t size_ = 0;
};

}  // namespace shardplan
