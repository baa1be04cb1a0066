#pragma once
// The text of a Box: each dim's IntervalSet as core/interval_set_text.hpp writes it, dims joined by `x`, dim 0 first:
//   `[0,2)x[0,4)`          a 2-d block
//   `[0,2)U[4,6)x[0,4)`    dim 0 holds two runs (`U` joins the runs of one dim, `x` the dims)
//   `[0,2)x{}`             nothing held on dim 1 (an empty box)
//   `()`                   a 0-d box (a scalar)
// These are the per-dim sets of `shardplan shards`, on one line.
//
// append_text writes to anything with append(std::string_view) (a FixedString, a std::string, or {fmt}'s buffer in
// shardplan/fmt.hpp), so every form prints the same text and only the FixedString form has a length limit.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string_view>

#include "shardplan/core/box.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/interval_set_text.hpp"

namespace shardplan {

template <class Out>
constexpr void append_text(Out& out, const Box& box) {
  if (box.ndim() == 0) {
    out.append(std::string_view("()"));
    return;
  }
  for (std::size_t d = 0; d < box.ndim(); ++d) {
    if (d > 0) out.append(std::string_view("x"));
    append_text(out, box[d]);
  }
}

/// append_text into a FixedString: a box too long for it ends in "...".
[[nodiscard]] constexpr FixedString<512> to_string(const Box& box) {
  FixedString<512> out;
  append_text(out, box);
  return out;
}

}  // namespace shardplan
