#include <shardplan/shardplan.hpp>

#include <cstdint>

static_assert(shardplan::ceil_div(7, 2) == 4);

int main(int argc, char**) {
  // Runtime use too (argc keeps the compiler from folding everything away).
  const auto a = static_cast<std::int64_t>(6 + argc);  // 7 when run without args
  return shardplan::ceil_div(a, 2) == 4 ? 0 : 1;
}
