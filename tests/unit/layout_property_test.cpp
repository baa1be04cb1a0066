// Property tests: the library against brute-force references that materialise everything.
//
//  * Layout: a reference that follows the composition algorithm of the spec literally on explicit index lists
//    (std::vector<Index> per tensor dim, its own split formulas, never the library's split_piece), compared for
//    EVERY rank of ~10,000 random cases (all three split policies, R/P/S/_S mixes, negative dims, meshes with and
//    without a device order); plus the invariants of the spec checked on the library's own output, axis by axis.
//  * Mesh: coordinate()/rank()/group() against a materialised arange(N).reshape(R).transpose(P) table.
//  * IntervalSet: every operation (including select, the one-sweep multi-slice) against std::set.
//  * split_piece: every n in 0..200, k in 1..20 against a simulation of the policies, and n near INT64_MAX
//    against __int128 arithmetic.
//
// Everything is deterministic (fixed seeds, own uniform sampling on std::mt19937_64 so the cases do not depend on
// the standard library's distributions).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {

namespace {

__extension__ typedef __int128 Int128;  // NOLINT: __extension__ keeps -Wpedantic quiet about __int128

using testing_support::List;
using testing_support::Random;
using testing_support::to_list;
using testing_support::to_text;

List to_list(const Coord& coord) { return List(coord.begin(), coord.end()); }

Coord to_coord(const List& values) {
  Coord coord;
  for (Index v : values) coord.push_back(v);
  return coord;
}

AxisSizes to_axis_sizes(const List& values) {
  AxisSizes sizes;
  for (Index v : values) sizes.push_back(v);
  return sizes;
}

/// The normal form every IntervalSet must keep: non-empty intervals, sorted, disjoint and coalesced (no two
/// neighbours touch), and size() equal to the number of indices.
::testing::AssertionResult is_normal_form(const IntervalSet& set) {
  Index count = 0;
  const auto& intervals = set.intervals();
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    if (intervals[i].begin >= intervals[i].end) {
      return ::testing::AssertionFailure() << "interval " << i << " [" << intervals[i].begin << ","
                                           << intervals[i].end << ") is empty";
    }
    if (i > 0 && intervals[i - 1].end >= intervals[i].begin) {
      return ::testing::AssertionFailure() << "intervals " << i - 1 << " and " << i << " overlap or touch: ["
                                           << intervals[i - 1].begin << "," << intervals[i - 1].end << ") ["
                                           << intervals[i].begin << "," << intervals[i].end << ")";
    }
    count += intervals[i].end - intervals[i].begin;
  }
  if (count != set.size()) {
    return ::testing::AssertionFailure() << "size() is " << set.size() << " but the intervals hold " << count;
  }
  if (set.empty() != (count == 0)) return ::testing::AssertionFailure() << "empty() disagrees with the intervals";
  return ::testing::AssertionSuccess();
}

/// Whether `set` holds exactly the indices of `list`, in that order (no allocation: this runs for every rank).
bool holds_exactly(const IntervalSet& set, const List& list) {
  std::size_t position = 0;
  for (const Interval& interval : set.intervals()) {
    for (Index i = interval.begin; i < interval.end; ++i) {
      if (position == list.size() || list[position] != i) return false;
      ++position;
    }
  }
  return position == list.size();
}

bool strictly_increasing(const List& values) {
  return std::adjacent_find(values.begin(), values.end(), [](Index a, Index b) { return a >= b; }) == values.end();
}

// ---------------------------------------------------------------------------------------------------------------
// Reference split policies, written from the spec's formulas (the library's split_piece is never called here)
// ---------------------------------------------------------------------------------------------------------------

struct RefPiece {
  Index start = 0;
  Index size = 0;
};

RefPiece ref_piece(Index n, Index k, Index i, SplitPolicy policy) {
  switch (policy) {
    case SplitPolicy::chunk: {
      const Index c = (n + k - 1) / k;
      return {std::min(i * c, n), std::clamp(n - i * c, Index{0}, c)};
    }
    case SplitPolicy::balanced: {
      const Index q = n / k;
      const Index r = n % k;
      return {i * q + std::min(i, r), q + (i < r ? 1 : 0)};
    }
    case SplitPolicy::even: return {i * (n / k), n / k};
  }
  return {};
}

// ---------------------------------------------------------------------------------------------------------------
// Random cases and the materialising reference
// ---------------------------------------------------------------------------------------------------------------

struct GenPlacement {
  PlacementKind kind = PlacementKind::replicate;
  Index dim = 0;  // as written: may be negative
  Index split_factor = 1;
  ReduceOp op = ReduceOp::sum;
};

struct Case {
  List shape;
  List mesh;
  std::vector<GenPlacement> placements;
  SplitPolicy policy = SplitPolicy::chunk;
  List reshape;    // device order; empty = none
  List transpose;  //
};

Index product(const List& values) {
  Index p = 1;
  for (Index v : values) p *= v;
  return p;
}

Placements to_placements(const std::vector<GenPlacement>& gen) {
  Placements placements;
  for (const GenPlacement& g : gen) {
    switch (g.kind) {
      case PlacementKind::replicate: placements.push_back(Placement::replicate()); break;
      case PlacementKind::shard: placements.push_back(Placement::shard(g.dim)); break;
      case PlacementKind::strided_shard: placements.push_back(Placement::strided_shard(g.dim, g.split_factor)); break;
      case PlacementKind::partial: placements.push_back(Placement::partial(g.op)); break;
    }
  }
  return placements;
}

std::string describe(const Case& c) {
  std::string out = "shape=" + to_text(c.shape) + " mesh=" + to_text(c.mesh);
  if (!c.reshape.empty()) out += " devices=[" + to_text(c.reshape) + "]T" + to_text(c.transpose);
  out += " placements=" + to_string(to_placements(c.placements)).str();
  out += " policy=" + std::string(to_string(c.policy));
  return out;
}

Index normalized(Index dim, std::size_t rank) { return dim < 0 ? dim + static_cast<Index>(rank) : dim; }

/// The composition algorithm of the spec, on explicit lists.
struct Composition {
  std::vector<List> lists;        // per tensor dim, in local order
  Index first_inexact_axis = -1;  // first mesh axis whose split (any of them) has a remainder
};

/// Applies mesh axis `axis` to `lists` for a rank whose coordinate on that axis is `i`.
void apply_axis(const Case& c, std::size_t axis, Index i, Composition& out) {
  const GenPlacement& p = c.placements[axis];
  if (p.kind != PlacementKind::shard && p.kind != PlacementKind::strided_shard) return;  // R, P: nothing
  const auto d = static_cast<std::size_t>(normalized(p.dim, c.shape.size()));
  const List& current = out.lists[d];
  const Index k = c.mesh[axis];
  const auto n = static_cast<Index>(current.size());
  auto note = [&](Index items, Index parts) {
    if (items % parts != 0 && out.first_inexact_axis < 0) out.first_inexact_axis = static_cast<Index>(axis);
  };
  List kept;
  auto take = [&](Index from, Index count) {
    kept.insert(kept.end(), current.begin() + from, current.begin() + from + count);
  };
  if (p.kind == PlacementKind::shard) {
    note(n, k);
    const RefPiece piece = ref_piece(n, k, i, c.policy);
    take(piece.start, piece.size);
  } else {
    note(n, p.split_factor);
    for (Index j = 0; j < p.split_factor; ++j) {
      const RefPiece outer = ref_piece(n, p.split_factor, j, SplitPolicy::chunk);  // always chunk
      note(outer.size, k);
      const RefPiece inner = ref_piece(outer.size, k, i, c.policy);
      take(outer.start + inner.start, inner.size);
    }
  }
  out.lists[d] = std::move(kept);
}

/// Every dim's full list [0, n_d).
Composition start_composition(const Case& c) {
  Composition out;
  for (Index n : c.shape) {
    List all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), Index{0});
    out.lists.push_back(std::move(all));
  }
  return out;
}

/// Applies mesh axes 0..axes-1 (all of them by default) for the rank at `coord`.
Composition compose(const Case& c, const List& coord, std::size_t axes = static_cast<std::size_t>(-1)) {
  Composition out = start_composition(c);
  for (std::size_t axis = 0; axis < c.placements.size() && axis < axes; ++axis) apply_axis(c, axis, coord[axis], out);
  return out;
}

/// Odometer step over `extents`, last entry fastest.
void advance(List& index, const List& extents) {
  for (std::size_t j = index.size(); j-- > 0;) {
    if (++index[j] < extents[j]) return;
    index[j] = 0;
  }
}

Index ravel(const List& index, const List& extents) {
  Index flat = 0;
  for (std::size_t j = 0; j < index.size(); ++j) flat = flat * extents[j] + index[j];
  return flat;
}

/// Materialised mesh: every cell's coordinate and the rank at every cell,
/// i.e. arange(N).reshape(R).transpose(P) read in row-major order.
struct MeshTable {
  std::vector<List> cell_coords;
  List cell_to_rank;
  List rank_to_cell;
};

MeshTable materialise(const Case& c) {
  MeshTable table;
  const Index world = product(c.mesh);
  List coord(c.mesh.size(), 0);
  for (Index cell = 0; cell < world; ++cell) {
    table.cell_coords.push_back(coord);
    advance(coord, c.mesh);
  }
  if (c.reshape.empty()) {
    for (Index cell = 0; cell < world; ++cell) table.cell_to_rank.push_back(cell);
  } else {
    // The transposed array has extents R[P[j]]; its element at index t is arange's element at s with s[P[j]] = t[j].
    List transposed_extents;
    for (Index axis : c.transpose) transposed_extents.push_back(c.reshape[static_cast<std::size_t>(axis)]);
    List t(c.reshape.size(), 0);
    for (Index cell = 0; cell < world; ++cell) {
      List s(c.reshape.size(), 0);
      for (std::size_t j = 0; j < t.size(); ++j) s[static_cast<std::size_t>(c.transpose[j])] = t[j];
      table.cell_to_rank.push_back(ravel(s, c.reshape));
      advance(t, transposed_extents);
    }
  }
  table.rank_to_cell.assign(static_cast<std::size_t>(world), -1);
  for (Index cell = 0; cell < world; ++cell) {
    const Index rank = table.cell_to_rank[static_cast<std::size_t>(cell)];
    if (rank >= 0 && rank < world) table.rank_to_cell[static_cast<std::size_t>(rank)] = cell;
  }
  return table;
}

/// Random reshape dims (1..max_dims of them, some may be 1) whose product is `world`, and a random permutation.
void random_device_order(Random& rng, Case& c, Index max_dims = 4) {
  const Index world = product(c.mesh);
  List primes;
  Index rest = world;
  for (Index p = 2; p <= rest; ++p) {
    while (rest % p == 0) {
      primes.push_back(p);
      rest /= p;
    }
  }
  c.reshape.assign(static_cast<std::size_t>(rng.uniform(1, max_dims)), 1);
  for (Index p : primes) c.reshape[rng.index(c.reshape.size())] *= p;
  c.transpose.resize(c.reshape.size());
  std::iota(c.transpose.begin(), c.transpose.end(), Index{0});
  rng.shuffle(c.transpose);
}

Case random_case(Random& rng, SplitPolicy policy, Index max_world, bool with_devices) {
  Case c;
  c.policy = policy;
  const Index ndim = rng.uniform(1, 3);
  for (Index d = 0; d < ndim; ++d) {
    // Under `even`, favour sizes with many divisors so that a fair share of the cases is accepted.
    static constexpr Index kFriendly[] = {0, 1, 2, 4, 6, 8, 12, 16, 24, 32, 36, 48, 60, 64};
    if (policy == SplitPolicy::even && rng.percent(60)) {
      c.shape.push_back(kFriendly[rng.index(std::size(kFriendly))]);
    } else if (rng.percent(50)) {
      c.shape.push_back(rng.uniform(0, 16));  // small sizes: more empty shards, cheaper cases
    } else {
      c.shape.push_back(rng.uniform(0, 64));
    }
  }
  do {
    c.mesh.assign(static_cast<std::size_t>(rng.uniform(1, 4)), 1);
    for (Index& size : c.mesh) size = rng.uniform(1, 6);
  } while (product(c.mesh) > max_world);
  for (std::size_t axis = 0; axis < c.mesh.size(); ++axis) {
    GenPlacement p;
    const Index roll = rng.uniform(0, 99);
    if (roll < 15) {
      p.kind = PlacementKind::replicate;
    } else if (roll < 25) {
      p.kind = PlacementKind::partial;
      p.op = static_cast<ReduceOp>(rng.uniform(0, 4));
    } else if (roll < 60) {
      p.kind = PlacementKind::shard;
    } else {
      p.kind = PlacementKind::strided_shard;
      p.split_factor = rng.uniform(1, 4);
    }
    p.dim = rng.uniform(-ndim, ndim - 1);
    c.placements.push_back(p);
  }
  if (with_devices) random_device_order(rng, c);
  return c;
}

struct Stats {
  Index cases = 0;
  Index ranks = 0;
  Index accepted = 0;
  Index rejected_even = 0;
  Index with_devices = 0;
  Index with_strided = 0;
  Index non_contiguous_sets = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// The checks of one case
// ---------------------------------------------------------------------------------------------------------------

void check_mesh(const Case& c, const Mesh& mesh, const MeshTable& table) {
  const Index world = product(c.mesh);
  ASSERT_EQ(mesh.world_size(), world);
  // The materialised table is a bijection between cells and ranks.
  List sorted = table.cell_to_rank;
  std::sort(sorted.begin(), sorted.end());
  List expected(static_cast<std::size_t>(world));
  std::iota(expected.begin(), expected.end(), Index{0});
  ASSERT_EQ(sorted, expected) << "the reference table is not a permutation";
  for (Index cell = 0; cell < world; ++cell) {
    const List& coord = table.cell_coords[static_cast<std::size_t>(cell)];
    const Index rank = table.cell_to_rank[static_cast<std::size_t>(cell)];
    const auto got_rank = mesh.rank(to_coord(coord));
    ASSERT_TRUE(got_rank.ok()) << got_rank.error().what();
    EXPECT_EQ(*got_rank, rank) << "rank at coordinate " << to_text(coord);
    const auto got_coord = mesh.coordinate(rank);
    ASSERT_TRUE(got_coord.ok()) << got_coord.error().what();
    EXPECT_EQ(to_list(*got_coord), coord) << "coordinate of rank " << rank;
    // Inverse in both directions, through the library alone.
    EXPECT_EQ(mesh.rank(*got_coord).value(), rank);
  }
  const auto outside = mesh.coordinate(world);
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, ErrorCode::out_of_range);
  EXPECT_EQ(mesh.coordinate(-1).error().code, ErrorCode::out_of_range);
  List bad(c.mesh.size(), 0);
  bad.back() = c.mesh.back();
  EXPECT_EQ(mesh.rank(to_coord(bad)).error().code, ErrorCode::out_of_range);
}

/// Along a Shard/_S axis the members' sets on `d` are disjoint and unite to `before`.
::testing::AssertionResult partitions(const std::vector<List>& parts, const List& before) {
  List all;
  for (const List& part : parts) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) {
    return ::testing::AssertionFailure() << "members' sets overlap";
  }
  if (all != before) {
    return ::testing::AssertionFailure() << "members' sets unite to " << to_text(all) << " instead of "
                                         << to_text(before);
  }
  return ::testing::AssertionSuccess();
}

void check_case(const Case& c, Stats& stats) {
  ++stats.cases;
  const Index world = product(c.mesh);
  const std::size_t naxes = c.mesh.size();
  const std::size_t ndim = c.shape.size();
  std::optional<DeviceOrder> devices;
  if (!c.reshape.empty()) {
    ++stats.with_devices;
    auto order = DeviceOrder::create(to_axis_sizes(c.reshape), to_axis_sizes(c.transpose), world);
    ASSERT_TRUE(order.ok()) << order.error().what();
    devices = *order;
  }
  const auto mesh_result = Mesh::create(to_axis_sizes(c.mesh), {}, devices);
  ASSERT_TRUE(mesh_result.ok()) << mesh_result.error().what();
  const Mesh& mesh = *mesh_result;
  const MeshTable table = materialise(c);
  check_mesh(c, mesh, table);
  if (::testing::Test::HasFailure()) return;

  auto coord_of_rank = [&](Index rank) -> const List& {
    return table.cell_coords[static_cast<std::size_t>(table.rank_to_cell[static_cast<std::size_t>(rank)])];
  };

  // The reference, for every prefix of the axes: levels[a] holds the lists after axes 0..a-1 for every coord[0..a-1]
  // (row-major; later coordinates do not matter yet), each level derived from the previous one by the next axis.
  // levels[naxes] holds every cell's final lists.
  std::vector<std::vector<Composition>> levels{{start_composition(c)}};
  for (std::size_t a = 0; a < naxes; ++a) {
    std::vector<Composition> next;
    for (const Composition& parent : levels[a]) {
      for (Index j = 0; j < c.mesh[a]; ++j) {
        next.push_back(parent);
        apply_axis(c, a, j, next.back());
      }
    }
    levels.push_back(std::move(next));
  }
  auto reference = [&](Index rank) -> const Composition& {
    return levels[naxes][static_cast<std::size_t>(table.rank_to_cell[static_cast<std::size_t>(rank)])];
  };
  // The shared tree is the per-coordinate algorithm: spot-check it against a straight composition.
  ASSERT_EQ(reference(world - 1).lists, compose(c, coord_of_rank(world - 1)).lists);
  const Index first_inexact_axis = reference(0).first_inexact_axis;
  for (Index rank = 1; rank < world; ++rank) {
    // Exactness of every split is the same on every rank's path (the spec's "equivalently any rank's").
    ASSERT_EQ(reference(rank).first_inexact_axis, first_inexact_axis) << "rank " << rank;
  }

  Shape shape;
  for (Index n : c.shape) shape.push_back(n);
  const Placements placements = to_placements(c.placements);
  const auto layout_result = Layout::create(shape, mesh, placements, c.policy);
  if (c.policy == SplitPolicy::even && first_inexact_axis >= 0) {
    ++stats.rejected_even;
    ASSERT_FALSE(layout_result.ok()) << "an inexact split at mesh axis " << first_inexact_axis
                                     << " must be refused under `even`";
    EXPECT_EQ(layout_result.error().code, ErrorCode::not_divisible) << layout_result.error().what();
    EXPECT_EQ(layout_result.error().field.str(), "placements[" + std::to_string(first_inexact_axis) + "]")
        << layout_result.error().what();
    return;
  }
  ASSERT_TRUE(layout_result.ok()) << layout_result.error().what();
  ++stats.accepted;
  const Layout& layout = *layout_result;

  // Normalised placements, contiguity flag.
  bool strided = false;
  ASSERT_EQ(layout.placements().size(), naxes);
  for (std::size_t axis = 0; axis < naxes; ++axis) {
    const GenPlacement& g = c.placements[axis];
    const Placement& p = layout.placements()[axis];
    EXPECT_EQ(p.kind, g.kind);
    if (p.is_shard()) {
      EXPECT_EQ(p.dim, normalized(g.dim, ndim)) << "axis " << axis;
    }
    if (p.is_strided()) {
      EXPECT_EQ(p.split_factor, g.split_factor);
      strided = true;
    }
  }
  EXPECT_EQ(layout.is_contiguous(), !strided);
  if (strided) ++stats.with_strided;

  // 1. Every rank: index sets (normal form, equal to the materialised reference) and local box.
  std::vector<Box> finals;  // by rank
  for (Index rank = 0; rank < world; ++rank) {
    ++stats.ranks;
    const List& coord = coord_of_rank(rank);
    const std::vector<List>& want = reference(rank).lists;
    auto sets = layout.index_sets(rank);
    ASSERT_TRUE(sets.ok()) << sets.error().what();
    ASSERT_EQ(sets->ndim(), ndim);
    Shape want_shape;
    Shape want_offset;
    for (std::size_t d = 0; d < ndim; ++d) {
      const IntervalSet& set = (*sets)[d];
      ASSERT_TRUE(is_normal_form(set)) << "rank " << rank << " coord " << to_text(coord) << " dim " << d;
      if (!holds_exactly(set, want[d])) {
        ASSERT_EQ(to_list(set), want[d]) << "rank " << rank << " coord " << to_text(coord) << " dim " << d;
      }
      // Local order is increasing global order: the composition itself produces sorted lists.
      ASSERT_TRUE(strictly_increasing(want[d])) << "rank " << rank << " dim " << d << ": " << to_text(want[d]);
      want_shape.push_back(static_cast<Index>(want[d].size()));
      want_offset.push_back(want[d].empty() ? c.shape[d] : want[d].front());
      if (set.intervals().size() > 1) ++stats.non_contiguous_sets;
    }
    const auto box = layout.local_box(rank);
    ASSERT_TRUE(box.ok()) << box.error().what();
    EXPECT_EQ(box->local_shape, want_shape) << "rank " << rank << " coord " << to_text(coord);
    EXPECT_EQ(box->global_offset, want_offset) << "rank " << rank << " coord " << to_text(coord);
    if (rank == 0 || rank == world - 1) {  // thin wrappers of local_box / index_sets: two ranks are enough
      EXPECT_EQ(layout.local_shape(rank).value(), want_shape) << "rank " << rank;
      EXPECT_EQ(layout.global_offset(rank).value(), want_offset) << "rank " << rank;
      EXPECT_EQ(layout.local_box_at(to_coord(coord)), *box) << "rank " << rank;
      EXPECT_EQ(layout.index_sets_at(to_coord(coord)), *sets) << "rank " << rank;
    }
    finals.push_back(std::move(*sets));
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_EQ(layout.index_sets(world).error().code, ErrorCode::out_of_range);
  EXPECT_EQ(layout.local_box(-1).error().code, ErrorCode::out_of_range);

  // 2. Every rank and axis: mesh.group against the materialised table; then, once per group, the members' final
  //    sets: identical along R and P, disjoint on the sharded dim along S and _S (later axes only narrow them).
  for (std::size_t axis = 0; axis < naxes; ++axis) {
    const Placement& p = layout.placements()[axis];
    for (Index rank = 0; rank < world; ++rank) {
      List coord = coord_of_rank(rank);
      const bool first = coord[axis] == 0;
      List members;
      for (Index j = 0; j < c.mesh[axis]; ++j) {
        coord[axis] = j;
        members.push_back(table.cell_to_rank[static_cast<std::size_t>(ravel(coord, c.mesh))]);
      }
      const auto group = mesh.group(rank, axis);
      ASSERT_TRUE(group.ok()) << group.error().what();
      ASSERT_EQ(*group, members) << "group of rank " << rank << " along axis " << axis;
      if (!first) continue;
      const Box& sets0 = finals[static_cast<std::size_t>(members[0])];
      List all;
      for (Index member : members) {
        const Box& sets = finals[static_cast<std::size_t>(member)];
        if (!p.is_shard()) {
          ASSERT_EQ(sets, sets0) << "ranks " << member << " and " << members[0] << " along R/P axis " << axis;
          continue;
        }
        const List part = to_list(sets[static_cast<std::size_t>(p.dim)]);
        all.insert(all.end(), part.begin(), part.end());
      }
      std::sort(all.begin(), all.end());
      ASSERT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
          << "final sets overlap in the group of rank " << rank << " along axis " << axis;
    }
  }

  // 3. Axis by axis, on the library's prefix layouts (axes 0..a kept, later axes R). The sets after axes 0..a-1
  //    depend only on coord[0..a-1], so every prefix coordinate is visited once: its sets must equal the
  //    reference's, and axis a must split them among its members as the spec says: along R and P every member keeps
  //    the parent's sets; along S(d) / _S(d, sf) the other dims are untouched and the members' sets on d are
  //    disjoint and unite to the parent's (nothing lost, nothing duplicated).
  Placements truncated = placements;
  for (Placement& placement : truncated) placement = Placement::replicate();
  std::vector<Box> parents;  // the library's sets after axes 0..a-1, indexed like levels[a]
  {
    const auto none = Layout::create(shape, mesh, truncated, c.policy);
    ASSERT_TRUE(none.ok()) << none.error().what();
    parents.push_back(none->index_sets_at(Coord(naxes, 0)));
    for (std::size_t d = 0; d < ndim; ++d) ASSERT_EQ(parents[0][d], IntervalSet::range(0, c.shape[d]));
  }
  for (std::size_t a = 0; a < naxes; ++a) {
    truncated[a] = placements[a];
    const bool last = a + 1 == naxes;  // the last level is the full layout: reuse the per-rank sets from step 1
    const auto prefix_layout = last ? layout_result : Layout::create(shape, mesh, truncated, c.policy);
    ASSERT_TRUE(prefix_layout.ok()) << "prefix " << a << ": " << prefix_layout.error().what();
    const Placement& p = prefix_layout->placements()[a];
    const Index k = c.mesh[a];
    List prefix_extents(naxes, 1);  // an odometer over axes 0..a-1 only
    std::copy(c.mesh.begin(), c.mesh.begin() + static_cast<std::ptrdiff_t>(a), prefix_extents.begin());
    List coord(naxes, 0);  // coord[0..a-1] walks the prefix, coord[a] the members, the rest stays 0
    std::vector<Box> children;
    for (std::size_t parent = 0; parent < parents.size(); ++parent) {
      const Box& before = parents[parent];
      std::vector<List> parts;
      for (Index j = 0; j < k; ++j) {
        coord[a] = j;
        const std::size_t child = parent * static_cast<std::size_t>(k) + static_cast<std::size_t>(j);
        Box computed;
        if (!last) computed = prefix_layout->index_sets_at(to_coord(coord));
        const Box& sets = last ? finals[static_cast<std::size_t>(table.cell_to_rank[child])] : computed;
        const Composition& want = levels[a + 1][child];
        for (std::size_t d = 0; d < ndim; ++d) {
          ASSERT_TRUE(is_normal_form(sets[d])) << "coord " << to_text(coord) << " dim " << d << " after axis " << a;
          if (!holds_exactly(sets[d], want.lists[d])) {
            ASSERT_EQ(to_list(sets[d]), want.lists[d]) << "coord " << to_text(coord) << " dim " << d << " after axis "
                                                       << a;
          }
          if (!p.is_shard() || static_cast<Index>(d) != p.dim) {
            ASSERT_EQ(sets[d], before[d]) << "coord " << to_text(coord) << ": axis " << a << " ("
                                          << p.to_string().view() << ") changed dim " << d;
          } else {
            parts.push_back(to_list(sets[d]));
          }
        }
        if (!last) children.push_back(std::move(computed));
      }
      if (p.is_shard()) {
        ASSERT_TRUE(partitions(parts, to_list(before[static_cast<std::size_t>(p.dim)])))
            << "coord " << to_text(coord) << ": axis " << a << " (" << p.to_string().view() << ") on dim " << p.dim;
      }
      coord[a] = 0;
      advance(coord, prefix_extents);  // the next prefix coordinate, in row-major order
    }
    parents = std::move(children);
  }
}

void run_cases(std::uint64_t seed, SplitPolicy policy, Index count, Stats& stats) {
  Random rng(seed);
  for (Index i = 0; i < count; ++i) {
    // Most meshes are kept small to bound the runtime (sizes are still drawn from 1..6, the product is capped):
    // <= 8 ranks, but every 4th case up to 12, every 20th up to 48 and every 100th the full 6^4.
    const Index max_world = i % 100 == 0 ? 1296 : i % 20 == 0 ? 48 : i % 4 == 0 ? 12 : 8;
    const bool with_devices = rng.percent(30);
    const Case c = random_case(rng, policy, max_world, with_devices);
    check_case(c, stats);
    if (::testing::Test::HasFailure()) FAIL() << "case #" << i << " (seed " << seed << "): " << describe(c);
  }
}

void report(const char* name, const Stats& stats) {
  std::printf("[ stats    ] %s: %lld cases, %lld accepted (%lld ranks), %lld refused by even, %lld with a device "
              "order, %lld with _S, %lld non-contiguous rank sets\n",
              name, static_cast<long long>(stats.cases), static_cast<long long>(stats.accepted),
              static_cast<long long>(stats.ranks), static_cast<long long>(stats.rejected_even),
              static_cast<long long>(stats.with_devices), static_cast<long long>(stats.with_strided),
              static_cast<long long>(stats.non_contiguous_sets));
}

TEST(LayoutProperty, ChunkMatchesMaterialisedComposition) {
  Stats stats;
  run_cases(0x5eed0001, SplitPolicy::chunk, 4000, stats);
  report("chunk", stats);
  EXPECT_EQ(stats.cases, 4000);
}

TEST(LayoutProperty, BalancedMatchesMaterialisedComposition) {
  Stats stats;
  run_cases(0x5eed0002, SplitPolicy::balanced, 3000, stats);
  report("balanced", stats);
  EXPECT_EQ(stats.cases, 3000);
}

TEST(LayoutProperty, EvenMatchesMaterialisedCompositionOrRefuses) {
  Stats stats;
  run_cases(0x5eed0003, SplitPolicy::even, 3000, stats);
  report("even", stats);
  EXPECT_EQ(stats.cases, 3000);
  // Both outcomes must actually be exercised.
  EXPECT_GT(stats.accepted, 500);
  EXPECT_GT(stats.rejected_even, 500);
}

// The reference itself, on the spec's worked example, so that a broken reference cannot pass silently.
TEST(LayoutProperty, ReferenceReproducesTheDocumentedExample) {
  Case c;
  c.shape = {18};
  c.mesh = {4, 2, 2};
  c.placements = {{PlacementKind::strided_shard, 0, 4, ReduceOp::sum},
                  {PlacementKind::strided_shard, 0, 2, ReduceOp::sum},
                  {PlacementKind::shard, 0, 1, ReduceOp::sum}};
  // 18 in 4 chunks of 5,5,5,3; each over 4 shards (2,2,1,0 and 1,1,1,0): member 0 keeps 2,2,2,1.
  EXPECT_EQ(compose(c, {0, 0, 1}, 1).lists[0], (List{0, 1, 5, 6, 10, 11, 15}));
  EXPECT_EQ(compose(c, {0, 0, 1}, 2).lists[0], (List{0, 1, 10, 11}));
  const Composition ref = compose(c, {0, 0, 1});
  EXPECT_EQ(ref.lists[0], (List{10, 11}));
  EXPECT_EQ(ref.first_inexact_axis, 0);  // 18 over 4 chunks
}

// ---------------------------------------------------------------------------------------------------------------
// Mesh with device orders, beyond what the layout cases exercise: larger worlds, up to 8 reshape dims, groups over
// several axes.
// ---------------------------------------------------------------------------------------------------------------

TEST(MeshDeviceOrderProperty, CoordinateAndRankMatchMaterialisedTable) {
  Random rng(0x5eed0004);
  for (int i = 0; i < 400; ++i) {
    Case c;
    do {
      c.mesh.assign(static_cast<std::size_t>(rng.uniform(1, 4)), 1);
      for (Index& size : c.mesh) size = rng.uniform(1, 6);
    } while (product(c.mesh) > 400);
    random_device_order(rng, c, static_cast<Index>(kMaxMeshAxes));
    auto order = DeviceOrder::create(to_axis_sizes(c.reshape), to_axis_sizes(c.transpose), product(c.mesh));
    ASSERT_TRUE(order.ok()) << order.error().what();
    const auto mesh = Mesh::create(to_axis_sizes(c.mesh), {}, *order);
    ASSERT_TRUE(mesh.ok()) << mesh.error().what();
    const MeshTable table = materialise(c);
    check_mesh(c, *mesh, table);
    // Groups over several axes, in a random order (the first listed varies slowest), for (up to) 16 ranks spread
    // over the mesh: a group costs O(world) here, so every rank of a large mesh would be quadratic.
    List axes(c.mesh.size());
    std::iota(axes.begin(), axes.end(), Index{0});
    rng.shuffle(axes);
    axes.resize(static_cast<std::size_t>(rng.uniform(0, static_cast<Index>(axes.size()))));
    AxisList axis_list;
    List extents;
    for (Index axis : axes) {
      axis_list.push_back(static_cast<std::size_t>(axis));
      extents.push_back(c.mesh[static_cast<std::size_t>(axis)]);
    }
    const Index stride = std::max<Index>(1, product(c.mesh) / 16);
    for (Index rank = 0; rank < product(c.mesh); rank += stride) {
      List coord = table.cell_coords[static_cast<std::size_t>(table.rank_to_cell[static_cast<std::size_t>(rank)])];
      List members;
      List along(axes.size(), 0);
      for (Index member = 0; member < product(extents); ++member) {
        for (std::size_t j = 0; j < axes.size(); ++j) coord[static_cast<std::size_t>(axes[j])] = along[j];
        members.push_back(table.cell_to_rank[static_cast<std::size_t>(ravel(coord, c.mesh))]);
        advance(along, extents);
      }
      const auto group = mesh->group(rank, axis_list);
      ASSERT_TRUE(group.ok()) << group.error().what();
      ASSERT_EQ(*group, members) << "rank " << rank << " axes " << to_text(axes);
    }
    if (HasFailure()) FAIL() << "case #" << i << ": " << describe(c);
  }
}

// A hand-checked table, so that the materialisation itself is pinned: [2,3]T(1,0) on a (3,2) mesh is
// arange(6).reshape(2,3).T = [[0,3],[1,4],[2,5]].
TEST(MeshDeviceOrderProperty, MaterialisedTableOfAKnownOrder) {
  Case c;
  c.mesh = {3, 2};
  c.reshape = {2, 3};
  c.transpose = {1, 0};
  EXPECT_EQ(materialise(c).cell_to_rank, (List{0, 3, 1, 4, 2, 5}));
  const auto mesh = parse_mesh("3,2 <=[2,3]T(1,0)");
  ASSERT_TRUE(mesh.ok()) << mesh.error().what();
  check_mesh(c, *mesh, materialise(c));
}

// ---------------------------------------------------------------------------------------------------------------
// IntervalSet against std::set
// ---------------------------------------------------------------------------------------------------------------

std::set<Index> random_set(Random& rng) {
  std::set<Index> out;
  const Index base = rng.uniform(-20, 20);
  const Index width = rng.uniform(0, 48);
  if (rng.percent(50)) {
    const Index density = rng.uniform(0, 100);
    for (Index i = base; i < base + width; ++i) {
      if (rng.uniform(0, 99) < density) out.insert(i);
    }
  } else {  // runs: intervals of random lengths separated by random gaps (often of length 0 or 1)
    Index i = base;
    while (i < base + width) {
      const Index run = rng.uniform(0, 6);
      for (Index j = 0; j < run; ++j) out.insert(i + j);
      i += run + rng.uniform(0, 3);
    }
  }
  return out;
}

List as_list(const std::set<Index>& set) { return List(set.begin(), set.end()); }

/// The set as indices in a random order with random duplicates.
List scrambled(Random& rng, const std::set<Index>& set) {
  List out(set.begin(), set.end());
  const std::size_t extra = out.empty() ? 0 : rng.index(out.size() + 1);
  for (std::size_t i = 0; i < extra; ++i) out.push_back(out[rng.index(out.size())]);
  rng.shuffle(out);
  return out;
}

/// The set as a random list of intervals covering exactly it: overlapping, unordered, with empty ones mixed in.
std::vector<Interval> random_cover(Random& rng, const std::set<Index>& set) {
  std::vector<Interval> out;
  List values = as_list(set);
  std::size_t i = 0;
  while (i < values.size()) {
    std::size_t j = i + 1;
    while (j < values.size() && values[j] == values[j - 1] + 1) ++j;
    // the run values[i..j) = [values[i], values[j-1]+1); cover it with 1..3 overlapping sub-intervals
    const Index lo = values[i];
    const Index hi = values[j - 1] + 1;
    const Index mid = rng.uniform(lo, hi);
    out.push_back({lo, std::max(mid, std::min(lo + 1, hi))});
    out.push_back({std::max(lo, mid - rng.uniform(0, 2)), hi});
    if (rng.percent(30)) out.push_back({lo, hi});
    i = j;
  }
  if (rng.percent(50)) out.push_back({5, 5});
  if (rng.percent(30)) out.push_back({7, 3});  // begin > end: empty
  rng.shuffle(out);
  return out;
}

TEST(IntervalSetProperty, OperationsMatchStdSet) {
  Random rng(0x5eed0005);
  constexpr int kIterations = 1500;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    const std::set<Index> a = random_set(rng);
    const std::set<Index> b = random_set(rng);
    const IntervalSet sa = IntervalSet::from_indices(scrambled(rng, a));
    const IntervalSet sb = IntervalSet::from_indices(scrambled(rng, b));
    ASSERT_TRUE(is_normal_form(sa));
    ASSERT_TRUE(is_normal_form(sb));
    ASSERT_EQ(to_list(sa), as_list(a));
    ASSERT_EQ(to_list(sb), as_list(b));
    ASSERT_EQ(sa.size(), static_cast<Index>(a.size()));

    const IntervalSet covered = IntervalSet::from_intervals(random_cover(rng, a));
    ASSERT_TRUE(is_normal_form(covered));
    ASSERT_EQ(covered, sa) << "from_intervals and from_indices disagree on " << to_text(as_list(a));
    EXPECT_EQ(sa == sb, a == b);

    std::set<Index> want;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(want, want.end()));
    const IntervalSet both = intersect(sa, sb);
    ASSERT_TRUE(is_normal_form(both));
    ASSERT_EQ(to_list(both), as_list(want)) << to_text(as_list(a)) << " & " << to_text(as_list(b));

    want.clear();
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::inserter(want, want.end()));
    const IntervalSet either = unite(sa, sb);
    ASSERT_TRUE(is_normal_form(either));
    ASSERT_EQ(to_list(either), as_list(want)) << to_text(as_list(a)) << " | " << to_text(as_list(b));

    want.clear();
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(want, want.end()));
    const IntervalSet only_a = subtract(sa, sb);
    ASSERT_TRUE(is_normal_form(only_a));
    ASSERT_EQ(to_list(only_a), as_list(want)) << to_text(as_list(a)) << " - " << to_text(as_list(b));

    // contains / global_to_local over the whole neighbourhood, local_to_global over every position.
    const List elements = as_list(a);
    List contained;
    List local;
    List want_local;
    for (Index i = -25; i < 75; ++i) {
      if (sa.contains(i)) contained.push_back(i);
      local.push_back(sa.global_to_local(i));
      const auto it = std::lower_bound(elements.begin(), elements.end(), i);
      want_local.push_back(it != elements.end() && *it == i ? static_cast<Index>(it - elements.begin()) : -1);
    }
    ASSERT_EQ(contained, elements);
    ASSERT_EQ(local, want_local);
    List global;
    for (Index position = 0; position < sa.size(); ++position) global.push_back(sa.local_to_global(position));
    ASSERT_EQ(global, elements);

    // slice: a few random position ranges, plus the whole set and the empty slice at the end.
    for (int s = 0; s < 4; ++s) {
      Index first = rng.uniform(0, sa.size());
      Index last = rng.uniform(0, sa.size());
      if (s == 0) {
        first = 0;
        last = sa.size();
      } else if (s == 1) {
        first = last = sa.size();
      }
      if (first > last) std::swap(first, last);
      const IntervalSet part = sa.slice(first, last);
      ASSERT_TRUE(is_normal_form(part));
      ASSERT_EQ(to_list(part), List(elements.begin() + first, elements.begin() + last))
          << to_text(elements) << " slice [" << first << "," << last << ")";
    }

    // select: sorted, disjoint ranges of positions (some adjacent, some empty) in one sweep.
    std::vector<Interval> ranges;
    List selected;
    for (Index position = rng.uniform(0, 3); position <= sa.size();) {
      const Index end = std::min(sa.size(), position + rng.uniform(0, 4));
      ranges.push_back({position, end});
      selected.insert(selected.end(), elements.begin() + position, elements.begin() + end);
      position = end + rng.uniform(0, 3);
    }
    const IntervalSet picked = sa.select(ranges);
    ASSERT_TRUE(is_normal_form(picked));
    ASSERT_EQ(to_list(picked), selected) << to_text(elements) << " select " << ranges.size() << " ranges";

    const Index delta = rng.uniform(-30, 30);
    List moved;
    for (Index v : elements) moved.push_back(v + delta);
    const IntervalSet shifted = sa.shifted(delta);
    ASSERT_TRUE(is_normal_form(shifted));
    ASSERT_EQ(to_list(shifted), moved);

    const Index lo = rng.uniform(-10, 10);
    const Index hi = rng.uniform(-10, 10);
    const IntervalSet range = IntervalSet::range(lo, hi);
    ASSERT_TRUE(is_normal_form(range));
    List span;
    for (Index i = lo; i < hi; ++i) span.push_back(i);
    ASSERT_EQ(to_list(range), span);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// split_piece against a simulation of each policy, and near INT64_MAX against __int128
// ---------------------------------------------------------------------------------------------------------------

/// Items are handed out one shard at a time: chunk fills each shard to ceil(n/k) before the next, balanced gives
/// the first n % k shards one extra, even gives each n / k.
std::vector<RefPiece> simulate(Index n, Index k, SplitPolicy policy) {
  std::vector<RefPiece> out;
  Index next = 0;
  for (Index i = 0; i < k; ++i) {
    Index want = 0;
    switch (policy) {
      case SplitPolicy::chunk: {
        Index c = 0;
        while (c * k < n) ++c;  // ceil(n / k) by counting
        want = std::min(c, n - next);
        break;
      }
      case SplitPolicy::balanced: want = n / k + (i < n % k ? 1 : 0); break;
      case SplitPolicy::even: want = n / k; break;
    }
    out.push_back({next, want});
    next += want;
  }
  return out;
}

TEST(SplitPieceProperty, EverySmallSplitMatchesTheSimulation) {
  Index splits = 0;
  for (SplitPolicy policy : {SplitPolicy::chunk, SplitPolicy::balanced, SplitPolicy::even}) {
    for (Index n = 0; n <= 200; ++n) {
      for (Index k = 1; k <= 20; ++k) {
        const Status status = check_split(n, k, policy);
        if (policy == SplitPolicy::even && n % k != 0) {
          ASSERT_FALSE(status.ok()) << n << " over " << k;
          ASSERT_EQ(status.error().code, ErrorCode::not_divisible);
          continue;
        }
        ASSERT_TRUE(status.ok()) << n << " over " << k << ": " << status.error().what();
        const std::vector<RefPiece> want = simulate(n, k, policy);
        List starts;
        List sizes;
        List want_starts;
        List want_sizes;
        Index total = 0;
        Index expected_start = 0;
        for (Index i = 0; i < k; ++i) {
          const Piece piece = split_piece(n, k, i, policy);
          ++splits;
          starts.push_back(piece.start);
          sizes.push_back(piece.size);
          want_starts.push_back(want[static_cast<std::size_t>(i)].start);
          want_sizes.push_back(want[static_cast<std::size_t>(i)].size);
          // Contiguity and non-negativity, independent of the simulation.
          ASSERT_EQ(piece.start, expected_start) << to_string(policy) << " " << n << " over " << k << " shard " << i;
          ASSERT_GE(piece.size, 0);
          ASSERT_EQ(piece.end(), piece.start + piece.size);
          expected_start += piece.size;
          total += piece.size;
          // The spec's closed forms.
          const RefPiece formula = ref_piece(n, k, i, policy);
          ASSERT_EQ(piece.start, formula.start) << to_string(policy) << " " << n << " over " << k << " shard " << i;
          ASSERT_EQ(piece.size, formula.size) << to_string(policy) << " " << n << " over " << k << " shard " << i;
        }
        ASSERT_EQ(total, n) << to_string(policy) << " " << n << " over " << k;
        ASSERT_EQ(starts, want_starts) << to_string(policy) << " " << n << " over " << k;
        ASSERT_EQ(sizes, want_sizes) << to_string(policy) << " " << n << " over " << k;
        const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
        if (policy != SplitPolicy::chunk) {
          ASSERT_LE(*hi - *lo, 1) << to_string(policy) << " " << n << " over " << k;
        }
        ASSERT_TRUE(std::is_sorted(sizes.rbegin(), sizes.rend())) << "sizes never grow";
      }
    }
  }
  Index refused = 0;  // shards of the `even` splits that have a remainder, skipped above
  for (Index n = 0; n <= 200; ++n) {
    for (Index k = 1; k <= 20; ++k) refused += n % k != 0 ? k : 0;
  }
  EXPECT_EQ(splits, 3 * 201 * 210 - refused);
}

Int128 clamp128(Int128 v, Int128 lo, Int128 hi) { return v < lo ? lo : v > hi ? hi : v; }

/// Checks shard i of n over k against exact (128-bit) arithmetic.
::testing::AssertionResult matches_wide(Index n, Index k, Index i, SplitPolicy policy, const Piece& piece) {
  Int128 start = 0;
  Int128 size = 0;
  const Int128 wn = n;
  const Int128 wk = k;
  const Int128 wi = i;
  if (policy == SplitPolicy::chunk) {
    const Int128 c = (wn + wk - 1) / wk;
    start = wi * c < wn ? wi * c : wn;
    size = clamp128(wn - wi * c, 0, c);
  } else if (policy == SplitPolicy::balanced) {
    start = wi * (wn / wk) + (wi < wn % wk ? wi : wn % wk);
    size = wn / wk + (wi < wn % wk ? 1 : 0);
  } else {
    start = wi * (wn / wk);
    size = wn / wk;
  }
  if (piece.start != start || piece.size != size) {
    return ::testing::AssertionFailure()
           << to_string(policy) << " shard " << i << " of " << n << " over " << k << ": got {" << piece.start << ", "
           << piece.size << "}, want {" << static_cast<Index>(start) << ", " << static_cast<Index>(size) << "}";
  }
  return ::testing::AssertionSuccess();
}

TEST(SplitPieceProperty, HugeCountsDoNotOverflow) {
  constexpr Index kMax = std::numeric_limits<Index>::max();
  Random rng(0x5eed0006);
  List ns = {kMax, kMax - 1, kMax - 2, kMax - 12345, Index{1} << 62, (Index{1} << 62) + 1, (Index{3} << 61) - 1,
             kMax / 2, kMax / 3 + 7};
  for (int i = 0; i < 8; ++i) ns.push_back(kMax - rng.uniform(0, Index{1} << 40));
  List ks = {1, 2, 3, 5, 7, 64, 1000, 4095, (Index{1} << 20) + 7, (Index{1} << 31) - 1, (Index{1} << 32) + 1,
             Index{1} << 40, kMax / 3, kMax / 2, kMax - 1, kMax};
  for (int i = 0; i < 8; ++i) ks.push_back(rng.uniform(2, kMax));
  Index checked = 0;
  for (Index n : ns) {
    List ks_for_n = ks;
    ks_for_n.push_back(n);
    ks_for_n.push_back(n - 1);
    ks_for_n.push_back(n / 2 + 1);
    for (Index k : ks_for_n) {
      for (SplitPolicy policy : {SplitPolicy::chunk, SplitPolicy::balanced}) {
        if (k <= 4096) {
          // Every shard: contiguous from 0, sizes sum to exactly n (summed in 128 bits).
          Int128 total = 0;
          Index expected_start = 0;
          for (Index i = 0; i < k; ++i) {
            const Piece piece = split_piece(n, k, i, policy);
            ASSERT_TRUE(matches_wide(n, k, i, policy, piece));
            ASSERT_EQ(piece.start, expected_start) << n << " over " << k << " shard " << i;
            expected_start = piece.start + piece.size;
            total += piece.size;
            ++checked;
          }
          ASSERT_TRUE(total == Int128{n}) << to_string(policy) << " " << n << " over " << k;
          continue;
        }
        // Too many shards to walk: the first and last shards, and those around where chunk's shards run out.
        const Int128 c = (Int128{n} + k - 1) / k;
        const Int128 boundary = Int128{n} / c;  // may be n itself: stay in 128 bits until clamped
        List samples = {0, 1, 2, k - 3, k - 2, k - 1};
        for (int delta = -2; delta <= 2; ++delta) {
          if (boundary + delta >= 0 && boundary + delta < k) samples.push_back(static_cast<Index>(boundary + delta));
        }
        for (int r = 0; r < 6; ++r) samples.push_back(rng.uniform(0, k - 1));
        for (Index i : samples) {
          if (i < 0 || i >= k) continue;
          const Piece piece = split_piece(n, k, i, policy);
          ASSERT_TRUE(matches_wide(n, k, i, policy, piece));
          ASSERT_GE(piece.size, 0);
          ASSERT_LE(piece.start, n);
          ASSERT_LE(piece.size, n - piece.start);
          if (i + 1 < k) {
            const Piece next = split_piece(n, k, i + 1, policy);
            ASSERT_EQ(next.start, piece.start + piece.size) << n << " over " << k << " shard " << i;
          }
          ++checked;
        }
        EXPECT_EQ(split_piece(n, k, 0, policy).start, 0);
        const Piece last = split_piece(n, k, k - 1, policy);
        EXPECT_EQ(last.start + last.size, n) << to_string(policy) << " " << n << " over " << k;
      }
    }
  }
  // Even splits of huge exact multiples.
  for (Index k : List{1, 2, 3, 7, 1 << 20, Index{1} << 40}) {
    const Index n = (kMax / k) * k;
    ASSERT_TRUE(check_split(n, k, SplitPolicy::even).ok());
    for (Index i : List{0, k / 2, k - 1}) {
      ASSERT_TRUE(matches_wide(n, k, i, SplitPolicy::even, split_piece(n, k, i, SplitPolicy::even)));
    }
  }
  EXPECT_GT(checked, 10000);
}

}  // namespace
}  // namespace shardplan
