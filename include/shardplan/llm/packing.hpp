#pragma once
// How fused weights pack their logical tensors ("components") along one dim, and which rows of each component a
// rank holds. Three packings occur in real checkpoints:
//   stacked      [gate; up], [q; k; v]: components back to back; sharded as segments (each split on its own).
//   interleaved  gpt-oss gate_up: rows alternate gate, up, gate, up, ...; a contiguous split whose local size is a
//                multiple of the component count is already right (one segment, unit = component count).
//   grouped QKV  Megatron-LM: [q_g0, k_g0, v_g0, q_g1, ...] per query group; a contiguous split by whole groups is
//                right (one segment, unit = one group's rows).
// `segmented_dim()` says how to shard the fused dim; `component_rows()` maps a rank's rows of the fused dim back to
// the rows of each component.
#include "shardplan/core/cxx20.hpp"

#include <string_view>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/llm/segmented_dim.hpp"

namespace shardplan {

enum class PackingKind { stacked, interleaved, grouped_qkv };

using ComponentName = FixedString<16>;

class Packing {
 public:
  /// Components back to back, e.g. stacked({"q","k","v"}, {8192,1024,1024}, 128).
  [[nodiscard]] static constexpr Result<Packing> stacked(const std::vector<ComponentName>& names,
                                                         const std::vector<Index>& sizes, Index unit = 1) {
    if (names.size() != sizes.size() || names.empty()) {
      return make_error(ErrorCode::invalid_argument, "packing")
             << static_cast<Index>(names.size()) << " names for " << static_cast<Index>(sizes.size()) << " sizes";
    }
    Packing packing(PackingKind::stacked, names);
    packing.sizes_ = sizes;
    packing.unit_ = unit;
    return packing.validated();
  }

  /// `names.size()` components of `rows_each` rows, stored interleaved row by row.
  [[nodiscard]] static constexpr Result<Packing> interleaved(const std::vector<ComponentName>& names, Index rows_each) {
    if (names.size() < 2) {
      return make_error(ErrorCode::invalid_argument, "packing") << "interleaving needs at least 2 components";
    }
    Packing packing(PackingKind::interleaved, names);
    SHARDPLAN_TRY(const Index total, checked_mul(rows_each, static_cast<Index>(names.size()), "packing"));
    packing.sizes_ = {total};
    packing.unit_ = static_cast<Index>(names.size());
    return packing.validated();
  }

  /// Megatron-LM's fused QKV: `groups` query groups (= KV heads), each [q heads of the group; k; v] of head_dim rows.
  [[nodiscard]] static constexpr Result<Packing> grouped_qkv(Index query_heads, Index groups, Index head_dim) {
    if (query_heads < 1 || groups < 1 || head_dim < 1 || query_heads % groups != 0) {
      return make_error(ErrorCode::invalid_argument, "packing")
             << "grouped QKV needs query heads (" << query_heads << ") a positive multiple of the groups (" << groups
             << ") and head_dim >= 1 (" << head_dim << ")";
    }
    Packing packing(PackingKind::grouped_qkv, {ComponentName("q"), ComponentName("k"), ComponentName("v")});
    packing.query_rows_per_group_ = query_heads / groups * head_dim;
    packing.head_dim_ = head_dim;
    SHARDPLAN_TRY(packing.unit_, checked_add(packing.query_rows_per_group_, 2 * head_dim, "packing"));
    SHARDPLAN_TRY(const Index total, checked_mul(packing.unit_, groups, "packing"));
    packing.sizes_ = {total};
    return packing.validated();
  }

  [[nodiscard]] constexpr PackingKind kind() const { return kind_; }
  [[nodiscard]] constexpr const std::vector<ComponentName>& names() const { return names_; }
  /// Rows of the fused dim.
  [[nodiscard]] constexpr Index size() const {
    Index total = 0;
    for (Index size : sizes_) total += size;
    return total;
  }

  /// How to shard the fused dim `dim` (segments and unit) with SegmentedLayout.
  [[nodiscard]] constexpr SegmentedDim segmented_dim(Index dim) const { return SegmentedDim{dim, sizes_, unit_}; }

  /// For each component, the rows of that component (in its own 0-based indices) among `rows` of the fused dim.
  [[nodiscard]] constexpr std::vector<IntervalSet> component_rows(const IntervalSet& rows) const {
    std::vector<IntervalSet> out(names_.size());
    switch (kind_) {
      case PackingKind::stacked: {
        Index offset = 0;
        for (std::size_t c = 0; c < sizes_.size(); ++c) {
          out[c] = intersect(rows, IntervalSet::range(offset, offset + sizes_[c])).shifted(-offset);
          offset += sizes_[c];
        }
        break;
      }
      case PackingKind::interleaved: {
        const auto n = static_cast<Index>(names_.size());
        for (const Interval& interval : rows.intervals()) {
          for (Index c = 0; c < n; ++c) {
            // Rows r in [begin, end) with r % n == c are component rows ceil((begin - c) / n) .. floor((end-1-c) / n).
            const Index first = ceil_div(detail::max<Index>(interval.begin - c, 0), n);
            const Index last = interval.end - 1 - c < 0 ? -1 : (interval.end - 1 - c) / n;
            out[static_cast<std::size_t>(c)] = unite(out[static_cast<std::size_t>(c)], IntervalSet::range(first, last + 1));
          }
        }
        break;
      }
      case PackingKind::grouped_qkv: {
        const Index q = query_rows_per_group_;
        for (const Interval& interval : rows.intervals()) {
          for (Index group = interval.begin / unit_; group * unit_ < interval.end; ++group) {
            const Index base = group * unit_;
            const Index part_begin[3] = {base, base + q, base + q + head_dim_};
            const Index part_size[3] = {q, head_dim_, head_dim_};
            for (std::size_t c = 0; c < 3; ++c) {
              const Index lo = detail::max(interval.begin, part_begin[c]);
              const Index hi = detail::min(interval.end, part_begin[c] + part_size[c]);
              if (lo >= hi) continue;
              const Index component_base = group * part_size[c] - part_begin[c];
              out[c] = unite(out[c], IntervalSet::range(lo + component_base, hi + component_base));
            }
          }
        }
        break;
      }
    }
    return out;
  }

 private:
  constexpr Packing(PackingKind kind, std::vector<ComponentName> names) : kind_(kind), names_(std::move(names)) {}

  [[nodiscard]] constexpr Result<Packing> validated() const {
    if (unit_ < 1) return make_error(ErrorCode::invalid_argument, "packing.unit") << "must be >= 1, got " << unit_;
    Index total = 0;
    for (std::size_t j = 0; j < sizes_.size(); ++j) {
      if (sizes_[j] < 1 || sizes_[j] % unit_ != 0) {
        return make_error(ErrorCode::invalid_argument, indexed_field("packing.sizes", static_cast<Index>(j)))
               << "size " << sizes_[j] << " must be a positive multiple of the unit " << unit_;
      }
      SHARDPLAN_TRY(total, checked_add(total, sizes_[j], "packing.sizes"));
    }
    return *this;
  }

  PackingKind kind_;
  std::vector<ComponentName> names_;
  std::vector<Index> sizes_;
  Index unit_ = 1;
  Index query_rows_per_group_ = 0;  // grouped_qkv
  Index head_dim_ = 0;              // grouped_qkv
};

}  // namespace shardplan
