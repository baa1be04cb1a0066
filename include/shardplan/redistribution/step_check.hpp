#pragma once
// What one step does to every rank, decided per tensor dim. A step on the mesh axes A turns placements X into Y;
// a rank's data before and after are boxes (one index set per dim), and the boxes of the members of a group (the
// ranks that differ only on A) are disjoint or equal. So every question the planner asks of a step — does each rank
// keep a part of its own data (a local slice)? is its new box the union of its members' (an all_gather)? is it
// inside that union (an all_to_all)? how many elements does it already hold? — splits into one question per dim,
// over the coordinates of the axes that split that dim. StepChecker answers those and caches the answers.
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "shardplan/redistribution/layout_tables.hpp"

namespace shardplan {

namespace redistribution_detail {

[[nodiscard]] constexpr std::uint64_t hash_mix(std::uint64_t seed, std::uint64_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

/// Hashes exactly the fields Placement's operator== compares.
[[nodiscard]] constexpr std::uint64_t hash_placements(const Placements& placements, std::uint64_t seed = 0) {
  for (const Placement& p : placements) {
    seed = hash_mix(seed, static_cast<std::uint64_t>(p.kind));
    if (p.is_shard()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.dim));
    if (p.is_strided()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.split_factor));
    if (p.is_partial()) seed = hash_mix(seed, static_cast<std::uint64_t>(p.op));
  }
  return seed;
}

struct PlacementsHash {
  std::size_t operator()(const Placements& placements) const {
    return static_cast<std::size_t>(hash_placements(placements));
  }
};

/// The placements that matter to one dim's sets: the axes splitting `dim` keep theirs, every other axis reads R.
[[nodiscard]] constexpr Placements restrict_to_dim(const Placements& placements, std::size_t dim) {
  Placements out;
  for (const Placement& p : placements) {
    out.push_back(p.is_shard() && static_cast<std::size_t>(p.dim) == dim ? p : Placement::replicate());
  }
  return out;
}

/// How one dim's sets after a step relate to the sets before it, over every coordinate of the axes involved.
struct DimRelation {
  AxisList axes;  // the axes splitting the dim before or after, in mesh order
  StaticVector<Index, kMaxMeshAxes> axis_sizes;
  std::vector<Index> overlap;  // |after ∩ before| of the same rank, per combination of the coordinates on `axes`
  bool own_subset = true;      // every rank's new set is inside its own old set
  bool union_subset = true;    // ... inside the union of its group members' old sets
  bool union_equal = true;     // ... equal to that union

  [[nodiscard]] constexpr std::size_t combo(const Coord& coord) const {
    std::size_t index = 0;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      index = index * static_cast<std::size_t>(axis_sizes[i]) + static_cast<std::size_t>(coord[axes[i]]);
    }
    return index;
  }
};

struct RelationKey {
  std::size_t dim = 0;
  Placements before;  // restricted to the dim
  Placements after;
  unsigned group_axes = 0;  // bit mask of the step's axes that split the dim before
  friend constexpr bool operator==(const RelationKey&, const RelationKey&) = default;
};

struct RelationKeyHash {
  std::size_t operator()(const RelationKey& key) const {
    std::uint64_t seed = hash_mix(key.dim, key.group_axes);
    seed = hash_placements(key.before, seed);
    return static_cast<std::size_t>(hash_placements(key.after, hash_mix(seed, 0x51ed)));
  }
};

struct DimKey {
  std::size_t dim = 0;
  Placements placements;  // restricted to the dim
  friend constexpr bool operator==(const DimKey&, const DimKey&) = default;
};

struct DimKeyHash {
  std::size_t operator()(const DimKey& key) const {
    return static_cast<std::size_t>(hash_placements(key.placements, key.dim));
  }
};

}  // namespace redistribution_detail

/// The sets of every placement list the planner visits, and the per-dim relations between them, for one tensor
/// shape, mesh and split policy. Tables and relations are computed once and shared by every state that has the same
/// placements on a dim. References returned stay valid until reset().
class StepChecker {
 public:
  void reset(const Shape& shape, const Mesh& mesh, SplitPolicy policy) {
    shape_ = shape;
    mesh_ = mesh;
    policy_ = policy;
    tables_.clear();
    relations_.clear();
  }

  [[nodiscard]] const Mesh& mesh() const { return mesh_; }
  [[nodiscard]] const Shape& shape() const { return shape_; }

  /// The sets of dim `dim` under `placements`.
  [[nodiscard]] const DimSets& table(const Placements& placements, std::size_t dim) {
    redistribution_detail::DimKey key{dim, redistribution_detail::restrict_to_dim(placements, dim)};
    auto found = tables_.find(key);
    if (found != tables_.end()) return found->second;
    DimSets sets = dim_sets(shape_[dim], mesh_, key.placements, dim, policy_);
    return tables_.emplace(std::move(key), std::move(sets)).first->second;
  }

  /// How dim `dim` changes from `before` to `after` when the step's group spans `group_axes` (bit mask).
  [[nodiscard]] const redistribution_detail::DimRelation& relation(const Placements& before, const Placements& after,
                                                                    std::size_t dim, unsigned group_axes) {
    using redistribution_detail::restrict_to_dim;
    const DimSets& old_sets = table(before, dim);
    const DimSets& new_sets = table(after, dim);
    unsigned group_on_dim = 0;
    for (std::size_t axis : old_sets.axes) group_on_dim |= group_axes & (1U << axis);
    redistribution_detail::RelationKey key{dim, restrict_to_dim(before, dim), restrict_to_dim(after, dim),
                                           group_on_dim};
    auto found = relations_.find(key);
    if (found != relations_.end()) return found->second;
    return relations_.emplace(std::move(key), compute_relation(old_sets, new_sets, group_on_dim)).first->second;
  }

 private:
  [[nodiscard]] redistribution_detail::DimRelation compute_relation(const DimSets& old_sets, const DimSets& new_sets,
                                                                     unsigned group_on_dim) const {
    redistribution_detail::DimRelation relation;
    for (std::size_t axis = 0; axis < mesh_.ndim(); ++axis) {
      bool used = false;
      for (std::size_t a : old_sets.axes) used = used || a == axis;
      for (std::size_t a : new_sets.axes) used = used || a == axis;
      if (used) {
        relation.axes.push_back(axis);
        relation.axis_sizes.push_back(mesh_.size(axis));
      }
    }
    Index combos = 1;
    for (Index size : relation.axis_sizes) combos *= size;
    relation.overlap.resize(static_cast<std::size_t>(combos));
    // Members of a group: the old coordinates on the group's axes vary, all others stay.
    AxisList members_axes;
    Index members = 1;
    for (std::size_t axis : old_sets.axes) {
      if ((group_on_dim & (1U << axis)) != 0) {
        members_axes.push_back(axis);
        members *= mesh_.size(axis);
      }
    }
    Coord coord(mesh_.ndim(), 0);
    for (Index combo = 0; combo < combos; ++combo) {
      Index rest = combo;
      for (std::size_t i = relation.axes.size(); i-- > 0;) {
        coord[relation.axes[i]] = rest % relation.axis_sizes[i];
        rest /= relation.axis_sizes[i];
      }
      const IntervalSet& before = old_sets.at(coord);
      const IntervalSet& after = new_sets.at(coord);
      const Index overlap = intersection_size(before, after);
      relation.overlap[static_cast<std::size_t>(combo)] = overlap;
      relation.own_subset = relation.own_subset && overlap == after.size();
      if (!relation.union_subset) continue;
      if (members == 1) {
        relation.union_subset = overlap == after.size();
        relation.union_equal = relation.union_equal && relation.union_subset && before.size() == after.size();
        continue;
      }
      // Members' old sets are disjoint on this dim (they differ on an axis that splits it), so sizes add up.
      Coord member = coord;
      Index union_size = 0;
      Index covered = 0;
      for (Index m = 0; m < members; ++m) {
        Index left = m;
        for (std::size_t i = members_axes.size(); i-- > 0;) {
          member[members_axes[i]] = left % mesh_.size(members_axes[i]);
          left /= mesh_.size(members_axes[i]);
        }
        const IntervalSet& theirs = old_sets.at(member);
        union_size += theirs.size();
        covered += intersection_size(theirs, after);
      }
      relation.union_subset = covered == after.size();
      relation.union_equal = relation.union_equal && relation.union_subset && union_size == after.size();
    }
    if (!relation.union_subset) relation.union_equal = false;
    return relation;
  }

  [[nodiscard]] static constexpr Index intersection_size(const IntervalSet& a, const IntervalSet& b) {
    Index size = 0;
    for_each_intersection(a, b, [&](const Interval& piece) { size += piece.size(); });
    return size;
  }

  Shape shape_;
  Mesh mesh_;
  SplitPolicy policy_ = SplitPolicy::chunk;
  std::unordered_map<redistribution_detail::DimKey, DimSets, redistribution_detail::DimKeyHash> tables_;
  std::unordered_map<redistribution_detail::RelationKey, redistribution_detail::DimRelation,
                     redistribution_detail::RelationKeyHash>
      relations_;
};

}  // namespace shardplan
