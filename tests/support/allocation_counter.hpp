#pragma once
// Replaces the global operator new with one that counts calls, so tests and benchmarks can show that a path does
// not allocate. Include it in exactly one translation unit of a program.
#include <atomic>
#include <cstdlib>
#include <new>

namespace shardplan::testing_support {
inline std::atomic<long> g_allocations{0};
}  // namespace shardplan::testing_support

// noinline: keeps GCC from pairing the inlined malloc with the sized delete (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t size) {
  shardplan::testing_support::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The array forms too: libstdc++'s default new[] calls operator new, but a sanitizer runtime's does not.
[[gnu::noinline]] void* operator new[](std::size_t size) { return ::operator new(size); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms (std::stable_sort's temporary buffer uses them): a sanitizer runtime's would allocate with its own
// bookkeeping, which the free() above then reports as a mismatch.
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  shardplan::testing_support::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
