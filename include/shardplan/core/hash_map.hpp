#pragma once
// HashMap<Key, Value, Hash>: the hash map of the library's caches and name tables.
//
// Why not std::unordered_map: <unordered_map> and <unordered_set> added ~9,500 preprocessed lines to every TU that
// includes the umbrella header (the headers alone ~0.1 s of compile time), and each of the six maps the headers
// declared ~20-40 ms more of instantiations. This map has the few operations the library uses (find, emplace,
// contains, clear), with std::unordered_map's guarantee that matters here: an entry stays where it is until clear()
// (the planner keeps pointers to cached tables while it adds others). Entries live in chunks of raw storage, each
// allocated once at its full size (16, 32, 64, ... entries; a fixed array of 40 holds any size) and never moved;
// lookups go through an open-addressing table of positions (linear probing, at most half full). Raw storage rather
// than a std::vector per chunk: each vector<Entry> (reserve, emplace_back) cost another ~10 ms of compile time per
// map. Not usable in constant expressions.
#include "shardplan/core/cxx20.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace shardplan::detail {

template <class Key, class Value, class Hash>
class HashMap {
 public:
  using Entry = std::pair<const Key, Value>;

  HashMap() = default;
  // Delegates to the default constructor so that the destructor cleans up if copying an entry throws.
  HashMap(const HashMap& other) : HashMap() {
    slots_ = other.slots_;
    for (std::size_t p = 0; p < other.size_; ++p) {
      construct_next(other.at(p));
    }
  }
  HashMap(HashMap&& other) noexcept { take(other); }
  HashMap& operator=(const HashMap& other) {
    if (this != &other) *this = HashMap(other);
    return *this;
  }
  HashMap& operator=(HashMap&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }
  ~HashMap() { clear(); }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

  /// Removes every entry (references to them dangle from here on).
  void clear() {
    for (std::size_t p = 0; p < size_; ++p) at(p).~Entry();
    for (Entry*& chunk : chunks_) {
      if (chunk != nullptr) ::operator delete(chunk, std::align_val_t{alignof(Entry)});
      chunk = nullptr;
    }
    slots_.clear();
    size_ = 0;
  }

  /// The entry of `key`, or nullptr.
  [[nodiscard]] Entry* find(const Key& key) {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = slot_of(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == 0) return nullptr;
      Entry& entry = at(slots_[i] - 1);
      if (entry.first == key) return &entry;
    }
  }
  [[nodiscard]] const Entry* find(const Key& key) const { return const_cast<HashMap*>(this)->find(key); }
  [[nodiscard]] bool contains(const Key& key) const { return find(key) != nullptr; }

  /// Adds (key, value) unless `key` is present; returns the key's entry and whether it was added (as
  /// std::unordered_map::emplace does; the entry stays valid until clear()).
  template <class V>
  std::pair<Entry*, bool> emplace(const Key& key, V&& value) {
    if (Entry* found = find(key)) return {found, false};
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    Entry& entry = construct_next(key, std::forward<V>(value));
    place(slot_of(key), static_cast<std::uint32_t>(size_));
    return {&entry, true};
  }

 private:
  static constexpr std::size_t kFirstChunk = 16;  // chunk c holds kFirstChunk * 2^c entries

  // The chunk of the entry at `position`: chunk c starts at position kFirstChunk * (2^c - 1).
  [[nodiscard]] static std::size_t chunk_of(std::size_t position) {
    return static_cast<std::size_t>(std::bit_width(position / kFirstChunk + 1)) - 1;
  }

  // The caller's hash, mixed (murmur3's finaliser): the table takes its low bits, and some of the hashes combine
  // pointers or small integers.
  [[nodiscard]] std::size_t slot_of(const Key& key) const {
    auto h = static_cast<std::uint64_t>(Hash{}(key));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return static_cast<std::size_t>(h) & (slots_.size() - 1);
  }
  [[nodiscard]] Entry& at(std::size_t position) const {
    const std::size_t c = chunk_of(position);
    return chunks_[c][position - kFirstChunk * ((std::size_t{1} << c) - 1)];
  }
  // Constructs the entry at position size_ (allocating its chunk when it is the chunk's first) and counts it.
  template <class... Args>
  Entry& construct_next(Args&&... args) {
    const std::size_t c = chunk_of(size_);
    if (chunks_[c] == nullptr) {
      chunks_[c] = static_cast<Entry*>(
          ::operator new((kFirstChunk << c) * sizeof(Entry), std::align_val_t{alignof(Entry)}));
    }
    Entry* entry = ::new (static_cast<void*>(&at(size_))) Entry(std::forward<Args>(args)...);
    ++size_;
    return *entry;
  }
  void take(HashMap& other) noexcept {
    for (std::size_t c = 0; c < kChunks; ++c) {
      chunks_[c] = other.chunks_[c];
      other.chunks_[c] = nullptr;
    }
    slots_ = std::move(other.slots_);
    size_ = other.size_;
    other.slots_.clear();
    other.size_ = 0;
  }

  // `slot` is the entry's position + 1 (0 marks an empty slot).
  void place(std::size_t i, std::uint32_t slot) {
    while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = slot;
  }
  void rehash(std::size_t slot_count) {
    slots_.assign(slot_count, 0);
    for (std::size_t p = 0; p < size_; ++p) place(slot_of(at(p).first), static_cast<std::uint32_t>(p + 1));
  }

  static constexpr std::size_t kChunks = 40;  // 16 * (2^40 - 1) entries: more than the uint32 positions can number
  Entry* chunks_[kChunks] = {};
  std::vector<std::uint32_t> slots_;  // a power of two in size, or empty
  std::size_t size_ = 0;
};

}  // namespace shardplan::detail
