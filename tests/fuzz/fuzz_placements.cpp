// Fuzzes the placement parser, and the layout built from whatever it accepts.
// Invariants: parsing never crashes; what parses prints canonically and re-parses to the same value; a layout on a
// small mesh either reports an error or gives every rank index sets inside the tensor, within each dim's bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "shardplan/shardplan.hpp"

using namespace shardplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_placement(text);
  const auto placements = parse_placements(text);
  if (!placements.ok()) {
    if (placements.error().message.empty()) std::abort();  // every error must say something
    return 0;
  }
  const auto printed = to_string(*placements);
  const auto reparsed = parse_placements(printed.view());
  if (!reparsed.ok() || !(*reparsed == *placements)) std::abort();

  // A small mesh with one axis per placement (sizes 1..3) and a 2-d tensor whose sizes come from the input length.
  AxisSizes mesh_shape;
  for (std::size_t i = 0; i < placements->size(); ++i) mesh_shape.push_back(static_cast<Index>(1 + (size + i) % 3));
  const auto mesh = Mesh::create(mesh_shape);
  if (!mesh.ok()) std::abort();
  const Shape shape{static_cast<Index>(size % 11), static_cast<Index>(size % 7)};
  for (SplitPolicy policy : {SplitPolicy::chunk, SplitPolicy::balanced, SplitPolicy::even}) {
    const auto layout = Layout::create(shape, *mesh, *placements, policy);
    if (!layout.ok()) continue;
    for (Index rank = 0; rank < mesh->world_size(); ++rank) {
      const Box sets = layout->index_sets(rank).value();
      const LocalBox box = layout->local_box(rank).value();
      for (std::size_t d = 0; d < shape.size(); ++d) {
        if (sets[d].size() != box.local_shape[d]) std::abort();
        if (!sets[d].empty() && (sets[d].front() < 0 || sets[d].back_end() > shape[d])) std::abort();
      }
    }
  }
  return 0;
}
