#pragma once
// The text of an IntervalSet: `[0,2)U[5,6)`, `{}` when empty (what `shardplan shards` prints per dim).
//
// append_text writes to anything with append(std::string_view) (a FixedString, a std::string, or {fmt}'s buffer in
// shardplan/fmt.hpp), so every form prints the same text and only the FixedString form has a length limit.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/interval_set.hpp"

namespace shardplan {

template <class Out>
constexpr void append_text(Out& out, const IntervalSet& set) {
  if (set.empty()) {
    out.append(std::string_view("{}"));
    return;
  }
  bool first = true;
  for (const Interval& interval : set.intervals()) {
    out.append(std::string_view(first ? "[" : "U["));
    first = false;
    out.append(FixedString<48>().append(interval.begin).append(std::string_view(",")).append(interval.end).view());
    out.append(std::string_view(")"));
  }
}

/// append_text into a FixedString: a set too long for it ends in "...".
[[nodiscard]] constexpr FixedString<512> to_string(const IntervalSet& set) {
  FixedString<512> out;
  append_text(out, set);
  return out;
}

}  // namespace shardplan
