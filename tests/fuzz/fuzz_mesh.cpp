// Fuzzes the mesh parser (shape, names, XLA device order). Invariants: never crashes; what parses prints and
// re-parses to the same mesh; rank <-> coordinate is a bijection on the first ranks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "shardplan/shardplan.hpp"

using namespace shardplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto mesh = parse_mesh(text);
  if (!mesh.ok()) {
    if (mesh.error().message.empty()) std::abort();
    return 0;
  }
  const auto reparsed = parse_mesh(mesh->to_string().view());
  if (!reparsed.ok() || !(*reparsed == *mesh)) std::abort();
  const Index checked = std::min<Index>(mesh->world_size(), 4096);
  for (Index rank = 0; rank < checked; ++rank) {
    const auto coord = mesh->coordinate(rank);
    if (!coord.ok() || mesh->rank(*coord).value() != rank) std::abort();
  }
  if (mesh->coordinate(mesh->world_size()).ok() || mesh->coordinate(-1).ok()) std::abort();
  return 0;
}
