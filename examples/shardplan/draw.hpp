#pragma once
// A terminal picture of which ranks hold which part of a 1-d or 2-d tensor, in the spirit of
// jax.debug.visualize_array_sharding. The cut points of a dim are 0, n and every boundary of every rank's intervals
// on it, so between two neighbouring cuts each rank holds either all of the block or none of it. Each cell of the
// grid is one block and lists its index range and the ranks holding it:
//
//   +-------------+-------------+
//   | [0,2)x[0,1) | [0,2)x[1,2) |
//   |    r0,r2    |    r1,r3    |
//   +-------------+-------------+
//
// Built in two passes over the ranks, so that no rank's index sets have to be kept: add_cuts() for every rank,
// then, if the blocks are few enough to draw, add_owner() for every rank.
#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "format.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

class ShardingDrawing {
 public:
  static constexpr std::size_t kMaxBlocksPerDim = 16;
  static constexpr std::size_t kMaxWidth = 160;

  /// Only 1-d and 2-d tensors are drawn.
  [[nodiscard]] static bool supports(const shardplan::Shape& shape) { return shape.size() == 1 || shape.size() == 2; }

  /// Precondition: supports(shape).
  explicit ShardingDrawing(const shardplan::Shape& shape) {
    for (const shardplan::Index size : shape) cuts_.push_back(Cuts{{0, size}, false});
  }

  /// Pass 1: the boundaries of one rank's index sets.
  void add_cuts(const shardplan::Box& sets) {
    for (std::size_t d = 0; d < cuts_.size(); ++d) {
      for (const shardplan::Interval& interval : sets[d].intervals()) {
        add_cut(cuts_[d], interval.begin);
        add_cut(cuts_[d], interval.end);
      }
    }
  }

  /// Between the passes. Returns whether pass 2 is worth running (the blocks are few enough to draw).
  bool begin_owners() {
    for (const Cuts& cuts : cuts_) {
      if (cuts.points.size() < 2) empty_ = true;  // a dim of size 0: nothing to draw
      if (cuts.points.size() - 1 > kMaxBlocksPerDim) too_many_ = true;
    }
    if (empty_ || too_many_) return false;
    for (const Cuts& cuts : cuts_) points_.emplace_back(cuts.points.begin(), cuts.points.end());
    cells_.resize(rows() * columns());
    return true;
  }

  /// Pass 2: marks the blocks `rank` holds. Ranks must come in increasing order so each cell's list is sorted.
  void add_owner(shardplan::Index rank, const shardplan::Box& sets) {
    const std::string label = "r" + std::to_string(rank);
    const std::vector<shardplan::Interval> whole{{0, 1}};  // the single row of a 1-d drawing
    const auto& row_intervals = points_.size() == 2 ? sets[0].intervals() : whole;
    for (const shardplan::Interval& row_interval : row_intervals) {
      const auto [row_lo, row_hi] = points_.size() == 2 ? block_range(0, row_interval) : BlockRange{0, 1};
      for (const shardplan::Interval& col_interval : sets[points_.size() - 1].intervals()) {
        const auto [col_lo, col_hi] = block_range(points_.size() - 1, col_interval);
        for (std::size_t row = row_lo; row < row_hi; ++row) {
          for (std::size_t col = col_lo; col < col_hi; ++col) add_rank(cells_[row * columns() + col], label);
        }
      }
    }
  }

  /// The drawing under a `title:` line, or a one-line note saying why there is none.
  void render(std::string_view title, std::string& out) const {
    if (empty_) {
      out += "no drawing: the tensor has no elements\n";
      return;
    }
    if (too_many_) {
      out += "too many blocks to draw (";
      for (std::size_t d = 0; d < cuts_.size(); ++d) {
        if (d > 0) out += " x ";
        out += cuts_[d].overflow ? "more than " + std::to_string(kMaxTrackedCuts - 1)
                                 : std::to_string(cuts_[d].points.size() - 1);
      }
      out += "); use --json\n";
      return;
    }
    std::vector<std::string> ranges(cells_.size());
    std::vector<std::size_t> widths(columns(), 0);
    bool overflow = false;
    for (std::size_t row = 0; row < rows(); ++row) {
      for (std::size_t col = 0; col < columns(); ++col) {
        const Cell& cell = cells_[row * columns() + col];
        std::string& range = ranges[row * columns() + col];
        if (points_.size() == 2) range = format_interval(points_[0][row], points_[0][row + 1]) + "x";
        range += format_interval(points_.back()[col], points_.back()[col + 1]);
        widths[col] = std::max({widths[col], range.size() + 2, owners(cell).size() + 2});
        overflow = overflow || cell.overflow;
      }
    }
    std::size_t total = 1;
    for (const std::size_t width : widths) total += width + 1;
    if (overflow || total > kMaxWidth) {
      out += "too wide to draw (";
      out += overflow ? "more than " + std::to_string(kMaxWidth) : std::to_string(total);
      out += " columns); use --json\n";
      return;
    }
    out += title;
    out += ":\n";
    std::string border = "+";
    for (const std::size_t width : widths) border += std::string(width, '-') + "+";
    border += '\n';
    out += border;
    for (std::size_t row = 0; row < rows(); ++row) {
      std::string range_line = "|";
      std::string owner_line = "|";
      for (std::size_t col = 0; col < columns(); ++col) {
        range_line += centered(ranges[row * columns() + col], widths[col]) + "|";
        owner_line += centered(owners(cells_[row * columns() + col]), widths[col]) + "|";
      }
      out += range_line + "\n" + owner_line + "\n" + border;
    }
  }

 private:
  // Enough to report a count for any plausible layout while bounding memory for absurd ones.
  static constexpr std::size_t kMaxTrackedCuts = 4097;

  struct Cuts {
    std::set<shardplan::Index> points;
    bool overflow = false;  // stopped counting at kMaxTrackedCuts
  };

  struct Cell {
    std::string ranks;  // "r0,r3"
    bool overflow = false;
  };

  struct BlockRange {
    std::size_t lo;
    std::size_t hi;
  };

  static void add_cut(Cuts& cuts, shardplan::Index point) {
    if (cuts.points.size() < kMaxTrackedCuts) {
      cuts.points.insert(point);
    } else if (!cuts.points.contains(point)) {
      cuts.overflow = true;
    }
  }

  // Interval ends are cut points by construction, so they are found exactly.
  [[nodiscard]] BlockRange block_range(std::size_t d, const shardplan::Interval& interval) const {
    const std::vector<shardplan::Index>& points = points_[d];
    const auto lo = std::lower_bound(points.begin(), points.end(), interval.begin) - points.begin();
    const auto hi = std::lower_bound(points.begin(), points.end(), interval.end) - points.begin();
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
  }

  // A cell listing more ranks than fit on a line can never be drawn, so stop growing it.
  static void add_rank(Cell& cell, const std::string& label) {
    if (cell.overflow) return;
    if (cell.ranks.size() + 1 + label.size() > kMaxWidth) {
      cell.overflow = true;
      return;
    }
    if (!cell.ranks.empty()) cell.ranks += ',';
    cell.ranks += label;
  }

  static std::string owners(const Cell& cell) { return cell.ranks.empty() ? "-" : cell.ranks; }

  static std::string centered(const std::string& text, std::size_t width) {
    const std::size_t left = (width - text.size()) / 2;
    return std::string(left, ' ') + text + std::string(width - text.size() - left, ' ');
  }

  [[nodiscard]] std::size_t rows() const { return points_.size() == 2 ? points_[0].size() - 1 : 1; }
  [[nodiscard]] std::size_t columns() const { return points_.back().size() - 1; }

  std::vector<Cuts> cuts_;
  std::vector<std::vector<shardplan::Index>> points_;  // sorted cuts per dim, set by begin_owners()
  std::vector<Cell> cells_;                            // row-major
  bool empty_ = false;
  bool too_many_ = false;
};

}  // namespace shardplan_cli
