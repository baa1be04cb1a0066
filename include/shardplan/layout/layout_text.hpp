#pragma once
// The text of a Layout, as the headline of `shardplan shards`:
//   shape (10)  mesh (2,2)  placements S(0),_S(0,2)  policy chunk
// The shape is a tuple like the mesh here (shape_text's "[10]" is the form used inside error messages).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>

#include "shardplan/core/fixed_string.hpp"
#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// Writes to anything with append(std::string_view) (see interval_set_text.hpp).
template <class Out>
constexpr void append_text(Out& out, const Layout& layout) {
  FixedString<1024> text("shape (");
  for (std::size_t d = 0; d < layout.shape().size(); ++d) {
    if (d > 0) text << ",";
    text << layout.shape()[d];
  }
  text << ")  mesh " << layout.mesh().to_string() << "  placements " << to_string(layout.placements())
       << "  policy " << to_string(layout.policy());
  out.append(text.view());
}

[[nodiscard]] constexpr FixedString<1024> to_string(const Layout& layout) {
  FixedString<1024> out;
  append_text(out, layout);
  return out;
}

}  // namespace shardplan
