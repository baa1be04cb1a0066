#pragma once
// Plain-ASCII text forms used by the readable output: tuples `(39,2)`, index sets `[2,3)U[5,6)`, and a table whose
// columns are sized from the widest cell.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

/// `value` with `decimals` digits after the point (printf's %.Nf), however many digits it has before it: the text is
/// measured first, never cut to a buffer's size (1e299 has 300 digits).
inline std::string format_fixed(double value, int decimals) {
  const int size = std::snprintf(nullptr, 0, "%.*f", decimals, value);
  if (size <= 0) return "?";
  std::string text(static_cast<std::size_t>(size) + 1, '\0');
  std::snprintf(text.data(), text.size(), "%.*f", decimals, value);
  text.resize(static_cast<std::size_t>(size));
  return text;
}

/// `(39,2)`; `()` for a scalar's shape or offset.
template <class Range>
std::string format_tuple(const Range& values) {
  std::string out = "(";
  bool first = true;
  for (const auto value : values) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(value);
  }
  return out + ")";
}

inline std::string format_interval(shardplan::Index begin, shardplan::Index end) {
  return "[" + std::to_string(begin) + "," + std::to_string(end) + ")";
}

/// `[0,2)U[5,6)`; `{}` when the set is empty: the library's text (core/interval_set_text.hpp), without its
/// FixedString length limit.
inline std::string format_set(const shardplan::IntervalSet& set) {
  std::string out;
  shardplan::append_text(out, set);
  return out;
}

/// Column widths for rows printed later, one at a time. Columns are separated by two spaces; the last column is not
/// padded so lines carry no trailing spaces.
class TableLayout {
 public:
  explicit TableLayout(std::vector<std::string> header) : header_(std::move(header)), widths_(header_.size(), 0) {
    measure(header_);
  }

  void measure(const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths_.size(); ++i) widths_[i] = std::max(widths_[i], row[i].size());
  }

  void append_header(std::string& out) const { append_row(header_, out); }

  /// Column 0 is right-aligned (it holds ranks), the rest left-aligned.
  void append_row(const std::vector<std::string>& row, std::string& out) const {
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::size_t width = i < widths_.size() ? widths_[i] : 0;
      const std::size_t pad = width > row[i].size() ? width - row[i].size() : 0;
      if (i > 0) out += "  ";
      if (i == 0) out.append(pad, ' ');
      out += row[i];
      if (i > 0 && i + 1 < row.size()) out.append(pad, ' ');
    }
    out += '\n';
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::size_t> widths_;
};

}  // namespace shardplan_cli
