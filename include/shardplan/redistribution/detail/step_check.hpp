#pragma once
// What one step does to every rank, decided per tensor dim. A step on the mesh axes A turns placements X into Y;
// a rank's data before and after are boxes (one index set per dim), and the boxes of the members of a group (the
// ranks that differ only on A) are disjoint or equal. So every question the planner asks of a step — does each rank
// keep a part of its own data (a local slice)? is its new box the union of its members' (an all_gather)? is it
// inside that union (an all_to_all)? how many elements does it already hold? — splits into one question per dim,
// over the coordinates of the axes that split that dim. StepChecker answers those and caches the answers; the step
// rules (step_rules.hpp) ask it. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "shardplan/core/hash_map.hpp"
#include "shardplan/layout/dim_table.hpp"
#include "shardplan/redistribution/budget.hpp"
#include "shardplan/redistribution/detail/hashing.hpp"

namespace shardplan::redistribution_detail {

/// How one dim's sets after a step relate to the sets before it, over every coordinate of the axes involved.
struct DimRelation {
  AxisSubset axes;             // the axes splitting the dim before or after, in mesh order
  std::vector<Index> overlap;  // |after ∩ before| of the same rank, indexed by axes.index_of(coord)
  bool own_subset = true;      // every rank's new set is inside its own old set
  bool union_subset = true;    // ... inside the union of its group members' old sets
  bool union_equal = true;     // ... equal to that union

  [[nodiscard]] constexpr Index at(const Coord& coord) const {
    return overlap[static_cast<std::size_t>(axes.index_of(coord))];
  }
};

/// Tables are unique per (dim, placements on the dim), so a pair of table addresses names a pair of dim layouts.
struct RelationKey {
  const DimTable* before = nullptr;
  const DimTable* after = nullptr;
  unsigned group_axes = 0;  // bit mask of the step's axes that split the dim before
  friend constexpr bool operator==(const RelationKey&, const RelationKey&) = default;
};

struct RelationKeyHash {
  std::size_t operator()(const RelationKey& key) const {
    return static_cast<std::size_t>(hash_mix(hash_mix(hash_pointer(key.before), hash_pointer(key.after)), key.group_axes));
  }
};

/// A dim's layout in a few words: per axis 0 (does not split the dim), or the split factor (1 for S). `_S(d,1)`
/// and `S(d)` give the same sets and share a key.
struct DimKey {
  std::size_t dim = 0;
  std::array<std::uint64_t, kMaxMeshAxes> factors{};
  friend constexpr bool operator==(const DimKey&, const DimKey&) = default;

  [[nodiscard]] static constexpr DimKey of(const Placements& placements, std::size_t dim) {
    DimKey key;
    key.dim = dim;
    for (std::size_t axis = 0; axis < placements.size(); ++axis) {
      const Placement& p = placements[axis];
      if (p.is_shard() && static_cast<std::size_t>(p.dim) == dim) {
        key.factors[axis] = static_cast<std::uint64_t>(p.is_strided() ? p.split_factor : 1);
      }
    }
    return key;
  }
};

struct DimKeyHash {
  std::size_t operator()(const DimKey& key) const {
    std::uint64_t seed = key.dim;
    for (std::size_t axis = 0; axis < key.factors.size(); ++axis) {
      if (key.factors[axis] != 0) seed = hash_mix(seed, (static_cast<std::uint64_t>(axis) << 56) ^ key.factors[axis]);
    }
    return static_cast<std::size_t>(seed);
  }
};

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
    work_ = 0;
  }

  /// Intervals of the sets built and compared since reset(): the checker's share of the planner's work
  /// (budget.hpp).
  [[nodiscard]] Index work() const { return work_; }

  [[nodiscard]] const Mesh& mesh() const { return mesh_; }
  [[nodiscard]] const Shape& shape() const { return shape_; }

  /// The sets of dim `dim` under `placements`.
  [[nodiscard]] const DimTable& table(const Placements& placements, std::size_t dim) {
    const auto key = DimKey::of(placements, dim);
    if (const auto* found = tables_.find(key)) return found->second;
    DimTable sets = dim_table(shape_[dim], mesh_, placements, dim, policy_);
    for (std::size_t i = 0; i < sets.count(); ++i) {
      work_ += kTableSetWork + static_cast<Index>(sets.set(i).intervals().size());
    }
    return tables_.emplace(key, std::move(sets)).first->second;
  }

  /// How a dim changes from the sets `old_sets` to `new_sets` (both from table()) when the step's group spans
  /// `group_axes` (bit mask).
  [[nodiscard]] const DimRelation& relation(const DimTable& old_sets, const DimTable& new_sets,
                                            unsigned group_axes) {
    const unsigned group_on_dim = group_axes & old_sets.splitters.mask();
    const RelationKey key{&old_sets, &new_sets, group_on_dim};
    work_ += kRelationLookupWork;
    if (const auto* found = relations_.find(key)) return found->second;
    return relations_.emplace(key, compute_relation(old_sets, new_sets, group_on_dim)).first->second;
  }

 private:
  [[nodiscard]] DimRelation compute_relation(const DimTable& old_sets, const DimTable& new_sets,
                                             unsigned group_on_dim) {
    DimRelation relation;
    relation.axes = AxisSubset::where(mesh_.shape(), [&](std::size_t axis) {
      return old_sets.splitters.contains(axis) || new_sets.splitters.contains(axis);
    });
    relation.overlap.resize(static_cast<std::size_t>(relation.axes.size()));
    // Members of a group: the old coordinates on the group's axes vary, all others stay. The combinations that
    // agree off the members' axes form one group, whose old sets are united once.
    const AxisSubset members = AxisSubset::where(mesh_.shape(), [&](std::size_t axis) {
      return old_sets.splitters.contains(axis) && (group_on_dim & (1U << axis)) != 0;
    });
    const AxisSubset groups = AxisSubset::where(mesh_.shape(), [&](std::size_t axis) {
      return relation.axes.contains(axis) && !members.contains(axis);
    });
    // The union of each group's old sets (members' sets are disjoint on this dim, as they differ on an axis that
    // splits it), in the groups' order; a group of one is its own old set.
    united_.clear();
    if (members.size() > 1) {
      groups.for_each(Coord(mesh_.ndim(), 0), [&](Index, const Coord& base) {
        pieces_.clear();
        members.for_each(base, [&](Index, const Coord& member) {
          for (const Interval& interval : old_sets.at(member).intervals()) pieces_.push_back(interval);
        });
        united_.push_back(IntervalSet::from_intervals_in_place(pieces_));
        work_ += static_cast<Index>(1 + pieces_.size());
      });
    }
    const AxisSubset* parts[3] = {&old_sets.splitters, &new_sets.splitters, &groups};
    std::size_t combination = 0;
    const bool grouped = members.size() > 1;
    relation.axes.for_each_projected(parts, 3, [&](const Index* index) {
      const IntervalSetView before = old_sets.set(static_cast<std::size_t>(index[0]));
      const IntervalSetView after = new_sets.set(static_cast<std::size_t>(index[1]));
      const IntervalSetView united = grouped ? united_[static_cast<std::size_t>(index[2])] : before;
      // Intersections cost their intervals: _S sets have many.
      work_ += static_cast<Index>(1 + before.intervals().size() + 2 * after.intervals().size() +
                                  united.intervals().size());
      const Index overlap = intersection_size(before, after);
      relation.overlap[combination++] = overlap;
      relation.own_subset = relation.own_subset && overlap == after.size();
      if (!relation.union_subset) return;
      relation.union_subset = (grouped ? intersection_size(united, after) : overlap) == after.size();
      relation.union_equal = relation.union_equal && relation.union_subset && united.size() == after.size();
    });
    if (!relation.union_subset) relation.union_equal = false;
    return relation;
  }

  Shape shape_;
  Mesh mesh_;
  SplitPolicy policy_ = SplitPolicy::chunk;
  detail::HashMap<DimKey, DimTable, DimKeyHash> tables_;
  detail::HashMap<RelationKey, DimRelation, RelationKeyHash> relations_;
  Index work_ = 0;
  std::vector<Interval> pieces_;     // compute_relation's scratch: a group's old intervals
  std::vector<IntervalSet> united_;  // ... and each group's union
};

}  // namespace shardplan::redistribution_detail
