#pragma once
// Hashes for the planner's tables: placement lists, and pairs of table addresses. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>

#include "shardplan/layout/placement.hpp"

namespace shardplan::redistribution_detail {

[[nodiscard]] constexpr std::uint64_t hash_mix(std::uint64_t seed, std::uint64_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

/// An address as a hash input: the planner's tables are unique per dim layout, so their addresses name them.
[[nodiscard]] inline std::uint64_t hash_pointer(const void* address) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(address));
}

/// Hashes exactly the fields Placement's operator== compares.
[[nodiscard]] constexpr std::uint64_t hash_placements(const Placements& placements, std::uint64_t seed = 0) {
  for (const Placement& p : placements) {
    seed = hash_mix(seed, static_cast<std::uint64_t>(p.kind));
    if (p.is_shard()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.dim));
    if (p.is_strided()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.split_factor));
    if (p.is_partial()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.op));
  }
  return seed;
}

/// hash_mix's result spread over every bit (MurmurHash3's 64-bit finaliser): hash_mix keeps small inputs in the
/// low bits, where the search's table of up to 10^6 placement lists would chain.
[[nodiscard]] constexpr std::uint64_t hash_finish(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

struct PlacementsHash {
  std::size_t operator()(const Placements& placements) const {
    return static_cast<std::size_t>(hash_finish(hash_placements(placements)));
  }
};

struct PointerHash {
  std::size_t operator()(const void* address) const {
    return static_cast<std::size_t>(hash_finish(hash_pointer(address)));
  }
};

}  // namespace shardplan::redistribution_detail
