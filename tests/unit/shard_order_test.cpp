// Shard order <-> placements: exact examples (those of the spec and docs/layouts.md), errors, and property tests
// against brute force: round trips, representability decided by trying every order, and nested splitting (the
// natural meaning of an order) against the library's composition when every split is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {

namespace {

using testing_support::List;
using testing_support::Random;
using testing_support::to_list;

Mesh make_mesh(std::string_view text) {
  auto mesh = parse_mesh(text);
  EXPECT_TRUE(mesh.ok()) << text << ": " << (mesh.ok() ? "" : mesh.error().what());
  return mesh.ok() ? *mesh : Mesh{};
}

Placements make_placements(std::string_view text) {
  auto placements = parse_placements(text);
  EXPECT_TRUE(placements.ok()) << text << ": " << (placements.ok() ? "" : placements.error().what());
  return placements.ok() ? *placements : Placements{};
}

Mesh mesh_of(const List& sizes) {
  AxisSizes shape;
  for (Index size : sizes) shape.push_back(size);
  auto mesh = Mesh::create(shape);
  EXPECT_TRUE(mesh.ok()) << (mesh.ok() ? "" : mesh.error().what());
  return mesh.ok() ? *mesh : Mesh{};
}

ShardOrder order_of(const std::vector<std::vector<std::size_t>>& dims) {
  ShardOrder order;
  for (const auto& axes : dims) {
    AxisList list;
    for (std::size_t axis : axes) list.push_back(axis);
    order.dims.push_back(list);
  }
  return order;
}

std::string text(const ShardOrder& order) {
  std::string out = "{";
  for (std::size_t d = 0; d < order.dims.size(); ++d) {
    if (d > 0) out += " ";
    out += std::to_string(d) + ":[";
    for (std::size_t p = 0; p < order.dims[d].size(); ++p) {
      if (p > 0) out += ",";
      out += std::to_string(order.dims[d][p]);
    }
    out += "]";
  }
  return out + "}";
}

std::string text(const Placements& placements) { return to_string(placements).str(); }

std::string text(const List& values) { return testing_support::to_text(values); }

/// The spec's conversion rule, written independently: the axis at position p gets the product of the sizes of the
/// axes before it whose mesh index is greater.
Index expected_split_factor(const std::vector<std::size_t>& axes, std::size_t p, const List& mesh) {
  Index sf = 1;
  for (std::size_t q = 0; q < p; ++q) {
    if (axes[q] > axes[p]) sf *= mesh[axes[q]];
  }
  return sf;
}

/// Nested splitting, materialised: dim d's list is chunk-split by the first axis of its order, the piece at the
/// rank's coordinate is chunk-split by the next axis, and so on.
List nested_split(Index n, const std::vector<std::size_t>& axes, const List& mesh, const List& coord) {
  List list(static_cast<std::size_t>(n));
  std::iota(list.begin(), list.end(), Index{0});
  for (std::size_t axis : axes) {
    const auto size = static_cast<Index>(list.size());
    const Index k = mesh[axis];
    const Index c = (size + k - 1) / k;
    const Index start = std::min(coord[axis] * c, size);
    const Index count = std::clamp(size - coord[axis] * c, Index{0}, c);
    list = List(list.begin() + start, list.begin() + start + count);
  }
  return list;
}

/// Row-major coordinate of a rank, computed independently of Mesh.
List unravel(Index rank, const List& mesh) {
  List coord(mesh.size(), 0);
  for (std::size_t axis = mesh.size(); axis-- > 0;) {
    coord[axis] = rank % mesh[axis];
    rank /= mesh[axis];
  }
  return coord;
}

Index product(const List& values) {
  Index p = 1;
  for (Index v : values) p *= v;
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Exact examples
// ---------------------------------------------------------------------------------------------------------------

// FSDP2 after TP: `[_S(0,2), S(0)]` on (dp=2, tp=2) is "dim 0 split by (tp, dp)".
TEST(ShardOrder, FsdpAfterTpIsTpThenDp) {
  const Mesh mesh = make_mesh("dp=2,tp=2");
  const Placements placements = make_placements("_S(0,2),S(0)");
  const auto order = to_shard_order(placements, mesh, 1);
  ASSERT_TRUE(order.ok()) << order.error().what();
  EXPECT_EQ(*order, order_of({{1, 0}}));
  EXPECT_EQ(to_string(*order, mesh), "{0:[tp,dp]}");
  const auto back = to_placements(*order, mesh);
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(*back, placements);
  EXPECT_EQ(text(*back), "_S(0,2),S(0)");
}

TEST(ShardOrder, PlainShardsInMeshOrder) {
  const Mesh mesh = make_mesh("2,3");
  const auto order = to_shard_order(make_placements("S(0),S(0)"), mesh, 1);
  ASSERT_TRUE(order.ok()) << order.error().what();
  EXPECT_EQ(*order, order_of({{0, 1}}));
  EXPECT_EQ(to_string(*order, mesh), "{0:[0,1]}");
  EXPECT_EQ(text(to_placements(*order, mesh).value()), "S(0),S(0)");
}

TEST(ShardOrder, NotRepresentableNamesThePlacement) {
  const Mesh mesh = make_mesh("4,2,3");
  for (Index ndim : {1, 2}) {
    const auto order = to_shard_order(make_placements("S(0),_S(0,2),S(0)"), mesh, ndim);
    ASSERT_FALSE(order.ok());
    EXPECT_EQ(order.error().code, ErrorCode::not_representable);
    EXPECT_EQ(order.error().field.str(), "placements[1]");
    EXPECT_NE(order.error().message.view().find("_S(0,2)"), std::string_view::npos) << order.error().what();
    // The exact text docs/layouts.md quotes.
    EXPECT_EQ(order.error().what(),
              "placements[1]: _S(0,2) has no shard order: split factor 2 is not a product of the leading sizes of the "
              "later axes sharding dim 0 (possible: 1 3)");
  }
}

TEST(ShardOrder, SeveralDimsAndNegativeDims) {
  const Mesh mesh = make_mesh("2,2,3");
  // axis 2 splits dim 0 first; axis 1 comes after it (sf 3); axis 0 splits dim 1 (written -1).
  const auto order = to_shard_order(make_placements("S(-1),_S(0,3),S(0)"), mesh, 2);
  ASSERT_TRUE(order.ok()) << order.error().what();
  EXPECT_EQ(*order, order_of({{2, 1}, {0}}));
  EXPECT_EQ(to_string(*order, mesh), "{0:[2,1],1:[0]}");
  EXPECT_EQ(text(to_placements(*order, mesh).value()), "S(1),_S(0,3),S(0)");
  // Dims that nothing splits stay empty and are omitted from the text.
  const auto wide = to_shard_order(make_placements("R,P,S(2)"), mesh, 4);
  ASSERT_TRUE(wide.ok()) << wide.error().what();
  EXPECT_EQ(*wide, order_of({{}, {}, {2}, {}}));
  EXPECT_EQ(to_string(*wide, mesh), "{2:[2]}");
}

TEST(ShardOrder, ThreeAxesOnOneDim) {
  const Mesh mesh = make_mesh("4,2,2");
  // Order (2,1,0): axis 2 first (sf 1), axis 1 after axis 2 (sf 2), axis 0 after both (sf 4).
  const auto placements = to_placements(order_of({{2, 1, 0}}), mesh);
  ASSERT_TRUE(placements.ok()) << placements.error().what();
  EXPECT_EQ(text(*placements), "_S(0,4),_S(0,2),S(0)");
  // Order (1,0,2): axis 1 first, axis 0 after axis 1 (sf 2), axis 2 after both but both have lower indices (sf 1).
  EXPECT_EQ(text(to_placements(order_of({{1, 0, 2}}), mesh).value()), "_S(0,2),S(0),S(0)");
  EXPECT_EQ(to_shard_order(make_placements("_S(0,2),S(0),S(0)"), mesh, 1).value(), order_of({{1, 0, 2}}));
}

// Size-1 axes split nothing, so the order is ambiguous; the inverse puts them as early as possible.
TEST(ShardOrder, SizeOneAxesGoFirst) {
  const Mesh mesh = make_mesh("2,1");
  const auto placements = to_placements(order_of({{1, 0}}), mesh);
  ASSERT_TRUE(placements.ok()) << placements.error().what();
  EXPECT_EQ(text(*placements), "S(0),S(0)");  // sf of axis 0 is the size of axis 1: 1
  const auto order = to_shard_order(*placements, mesh, 1);
  ASSERT_TRUE(order.ok()) << order.error().what();
  EXPECT_EQ(*order, order_of({{0, 1}}));
  EXPECT_EQ(to_placements(*order, mesh).value(), *placements);
}

TEST(ShardOrder, UnshardedAxesKeepTheirPlacement) {
  const Mesh mesh = make_mesh("2,2,2");
  const Placements unsharded = make_placements("P(max),R,P(avg)");
  const auto placements = to_placements(order_of({{}, {1}}), mesh, unsharded);
  ASSERT_TRUE(placements.ok()) << placements.error().what();
  EXPECT_EQ(text(*placements), "P(max),S(1),P(avg)");
  EXPECT_EQ(to_shard_order(*placements, mesh, 2).value(), order_of({{}, {1}}));
}

// The order form of a Layout: its placements are normalised already.
TEST(ShardOrder, OfALayout) {
  const Mesh mesh = make_mesh("dp=2,tp=2");
  const auto layout = Layout::create(Shape{8, 6}, mesh, make_placements("_S(-2,2),S(0)"));
  ASSERT_TRUE(layout.ok()) << layout.error().what();
  const auto order = shard_order(*layout);
  ASSERT_TRUE(order.ok()) << order.error().what();
  EXPECT_EQ(*order, order_of({{1, 0}, {}}));
  EXPECT_EQ(to_string(*order, mesh), "{0:[tp,dp]}");

  const auto tangled = Layout::create(Shape{24}, make_mesh("4,2,3"), make_placements("S(0),_S(0,2),S(0)"));
  ASSERT_TRUE(tangled.ok()) << tangled.error().what();  // a fine layout, only without an order form
  const auto none = shard_order(*tangled);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::not_representable);
  EXPECT_EQ(none.error().field.str(), "placements[1]");
}

TEST(ShardOrder, ToPlacementsErrors) {
  const Mesh mesh = make_mesh("2,2,3");
  {  // an axis outside the mesh
    const auto result = to_placements(order_of({{0, 3}}), mesh);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::out_of_range);
    EXPECT_EQ(result.error().field.str(), "shard_order[0]");
    EXPECT_NE(result.error().message.view().find("mesh axis 3"), std::string_view::npos) << result.error().what();
  }
  {  // an axis twice in one dim
    const auto result = to_placements(order_of({{1, 1}}), mesh);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "shard_order[0]");
  }
  {  // an axis splitting two dims
    const auto result = to_placements(order_of({{2}, {0, 2}}), mesh);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "shard_order[1]");
    EXPECT_NE(result.error().message.view().find("mesh axis 2"), std::string_view::npos) << result.error().what();
  }
  {  // a Partial base on an axis the order uses
    const auto result = to_placements(order_of({{2, 1}}), mesh, make_placements("R,P(sum),R"));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements[1]");
    EXPECT_NE(result.error().message.view().find("Partial"), std::string_view::npos) << result.error().what();
  }
  {  // a base of the wrong length
    const auto result = to_placements(order_of({{0}}), mesh, make_placements("R,R"));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements");
  }
  {  // a base that shards on an axis the order does not use
    const auto result = to_placements(order_of({{0}}), mesh, make_placements("R,S(0),R"));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements[1]");
  }
}

TEST(ShardOrder, ToShardOrderErrors) {
  const Mesh mesh = make_mesh("2,2");
  {
    const auto result = to_shard_order(make_placements("S(0)"), mesh, 1);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements");
  }
  {
    const auto result = to_shard_order(make_placements("R,S(2)"), mesh, 2);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements[1]");
  }
  {
    const auto result = to_shard_order(make_placements("S(-3),R"), mesh, 2);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().field.str(), "placements[0]");
  }
  {
    Placements placements{Placement::strided_shard(0, 0), Placement::replicate()};
    const auto result = to_shard_order(placements, mesh, 1);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field.str(), "placements[0]");
  }
  {  // _S with a factor no order produces, on a dim with a single later axis
    const auto result = to_shard_order(make_placements("_S(0,3),S(0)"), mesh, 1);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::not_representable);
    EXPECT_EQ(result.error().field.str(), "placements[0]");
    EXPECT_NE(result.error().message.view().find("(possible: 1 2)"), std::string_view::npos) << result.error().what();
  }
}

// Placement's operator== ignores split_factor for a plain Shard ("the fields that matter for the kind"), and Layout
// ignores it too. to_shard_order must then give equal placement lists equal orders; it reads split_factor whatever
// the kind, so a Shard whose (unused) split_factor field is not 1 is ordered as if it were _S.
TEST(ShardOrder, PlainShardIgnoresItsSplitFactorField) {
  const Mesh mesh = make_mesh("2,2");
  Placement odd_shard = Placement::shard(0);
  odd_shard.split_factor = 2;  // not used by a Shard
  const Placements odd{odd_shard, Placement::shard(0)};
  const Placements plain = make_placements("S(0),S(0)");
  ASSERT_EQ(odd, plain);
  // The layouts agree...
  const auto odd_layout = Layout::create(Shape{8}, mesh, odd);
  const auto plain_layout = Layout::create(Shape{8}, mesh, plain);
  ASSERT_TRUE(odd_layout.ok() && plain_layout.ok());
  for (Index rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(odd_layout->index_sets(rank).value(), plain_layout->index_sets(rank).value()) << "rank " << rank;
  }
  // ...so must the orders.
  const auto odd_order = to_shard_order(odd, mesh, 1);
  const auto plain_order = to_shard_order(plain, mesh, 1);
  ASSERT_TRUE(plain_order.ok()) << plain_order.error().what();
  ASSERT_TRUE(odd_order.ok()) << odd_order.error().what();
  EXPECT_EQ(*odd_order, *plain_order) << "got " << text(*odd_order) << " for " << text(odd) << ", want "
                                      << text(*plain_order);
}

// docs/layouts.md: with uneven sizes nested splitting and composition differ. n=18 on (4,2,2), order (2,1,0).
TEST(ShardOrder, UnevenCounterexampleFromTheDocs) {
  const Mesh mesh = make_mesh("4,2,2");
  const ShardOrder order = order_of({{2, 1, 0}});
  const auto placements = to_placements(order, mesh);
  ASSERT_TRUE(placements.ok()) << placements.error().what();
  EXPECT_EQ(text(*placements), "_S(0,4),_S(0,2),S(0)");
  const auto layout = Layout::create(Shape{18}, mesh, *placements);
  ASSERT_TRUE(layout.ok()) << layout.error().what();
  const Index rank = mesh.rank(Coord{0, 0, 1}).value();
  ASSERT_EQ(rank, 1);
  const Box sets = layout->index_sets(rank).value();
  EXPECT_EQ(to_list(sets[0]), (List{10, 11}));  // composition
  EXPECT_EQ(sets[0], IntervalSet::range(10, 12));
  EXPECT_EQ(nested_split(18, {2, 1, 0}, {4, 2, 2}, {0, 0, 1}), (List{9, 10}));  // nested splitting
  EXPECT_EQ(layout->local_box(rank).value().global_offset, Shape{10});
}

// ---------------------------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------------------------

struct RandomOrder {
  List mesh;
  Index ndim = 1;
  std::vector<std::vector<std::size_t>> dims;
};

RandomOrder random_order(Random& rng, Index max_world) {
  RandomOrder r;
  do {
    r.mesh.assign(static_cast<std::size_t>(rng.uniform(1, 4)), 1);
    for (Index& size : r.mesh) size = rng.uniform(1, 6);
  } while (product(r.mesh) > max_world);
  r.ndim = rng.uniform(1, 3);
  r.dims.assign(static_cast<std::size_t>(r.ndim), {});
  for (std::size_t axis = 0; axis < r.mesh.size(); ++axis) {
    const Index dim = rng.uniform(-1, r.ndim - 1);  // -1: the axis splits nothing
    if (dim >= 0) r.dims[static_cast<std::size_t>(dim)].push_back(axis);
  }
  for (auto& axes : r.dims) rng.shuffle(axes);
  return r;
}

TEST(ShardOrderProperty, RandomOrdersRoundTrip) {
  Random rng(0x0de50001);
  Index exact_round_trips = 0;
  Index with_size_one = 0;
  for (int i = 0; i < 3000; ++i) {
    const RandomOrder r = random_order(rng, 1296);
    const Mesh mesh = mesh_of(r.mesh);
    const ShardOrder order = order_of(r.dims);
    Placements unsharded;
    if (rng.percent(50)) {
      for (std::size_t axis = 0; axis < r.mesh.size(); ++axis) {
        unsharded.push_back(rng.percent(50) ? Placement::replicate()
                                            : Placement::partial(static_cast<ReduceOp>(rng.uniform(0, 4))));
      }
      // the order's axes must not be Partial in the base
      for (const auto& axes : r.dims) {
        for (std::size_t axis : axes) unsharded[axis] = Placement::replicate();
      }
    }
    const auto placements = to_placements(order, mesh, unsharded);
    ASSERT_TRUE(placements.ok()) << placements.error().what() << " for " << text(order);
    // The placements, by the spec's rule.
    Placements want = unsharded;
    if (want.empty()) want = Placements(r.mesh.size(), Placement::replicate());
    bool size_one = false;
    for (std::size_t d = 0; d < r.dims.size(); ++d) {
      for (std::size_t p = 0; p < r.dims[d].size(); ++p) {
        const Index sf = expected_split_factor(r.dims[d], p, r.mesh);
        want[r.dims[d][p]] = sf == 1 ? Placement::shard(static_cast<Index>(d))
                                     : Placement::strided_shard(static_cast<Index>(d), sf);
        size_one = size_one || r.mesh[r.dims[d][p]] == 1;
      }
    }
    ASSERT_EQ(*placements, want) << text(*placements) << " vs " << text(want) << " for " << text(order) << " on "
                                 << text(r.mesh);

    const auto again = to_shard_order(*placements, mesh, r.ndim);
    ASSERT_TRUE(again.ok()) << again.error().what() << " for " << text(*placements);
    ASSERT_EQ(again->dims.size(), r.dims.size());
    for (std::size_t d = 0; d < r.dims.size(); ++d) {  // the same axes split each dim, whatever their order
      List got(again->dims[d].begin(), again->dims[d].end());
      List expected(r.dims[d].begin(), r.dims[d].end());
      std::sort(got.begin(), got.end());
      std::sort(expected.begin(), expected.end());
      ASSERT_EQ(got, expected) << "dim " << d << " of " << text(*again) << " for " << text(order);
    }
    if (!size_one) {
      ASSERT_EQ(*again, order) << text(*again) << " for " << text(order) << " on " << text(r.mesh);
      ++exact_round_trips;
    } else {
      ++with_size_one;
    }
    // placements -> order -> placements is always the identity.
    const auto placements_again = to_placements(*again, mesh, unsharded);
    ASSERT_TRUE(placements_again.ok()) << placements_again.error().what();
    ASSERT_EQ(*placements_again, *placements) << text(*placements_again) << " for " << text(order) << " on "
                                              << text(r.mesh);
  }
  std::printf("[ stats    ] %lld exact round trips, %lld with size-1 axes\n", static_cast<long long>(exact_round_trips),
              static_cast<long long>(with_size_one));
  EXPECT_GT(exact_round_trips, 1000);
  EXPECT_GT(with_size_one, 300);
}

/// Whether some order of `axes` (the mesh axes sharding one dim) gives each axis the wanted split factor.
bool some_order_fits(std::vector<std::size_t> axes, const std::vector<Index>& wanted_by_axis, const List& mesh) {
  std::sort(axes.begin(), axes.end());
  do {
    bool fits = true;
    for (std::size_t p = 0; p < axes.size() && fits; ++p) {
      fits = expected_split_factor(axes, p, mesh) == wanted_by_axis[axes[p]];
    }
    if (fits) return true;
  } while (std::next_permutation(axes.begin(), axes.end()));
  return false;
}

TEST(ShardOrderProperty, RandomPlacementListsMatchBruteForce) {
  Random rng(0x0de50002);
  Index representable = 0;
  Index refused = 0;
  for (int i = 0; i < 4000; ++i) {
    List mesh_sizes(static_cast<std::size_t>(rng.uniform(1, 4)));
    for (Index& size : mesh_sizes) size = rng.uniform(1, 6);
    const Mesh mesh = mesh_of(mesh_sizes);
    const Index ndim = rng.uniform(1, 3);
    const std::size_t naxes = mesh_sizes.size();
    // Kinds and dims first, then split factors: half of them a product of sizes of later axes on the same dim
    // (often representable), half anything in 1..8.
    std::vector<Index> dim_of(naxes, -1);  // normalised dim, -1 for R/P
    Placements placements;
    for (std::size_t axis = 0; axis < naxes; ++axis) {
      const Index roll = rng.uniform(0, 99);
      if (roll < 15) {
        placements.push_back(Placement::replicate());
      } else if (roll < 25) {
        placements.push_back(Placement::partial());
      } else {
        const Index dim = rng.uniform(-ndim, ndim - 1);
        dim_of[axis] = dim < 0 ? dim + ndim : dim;
        placements.push_back(Placement::shard(dim));
      }
    }
    for (std::size_t axis = 0; axis < naxes; ++axis) {
      if (dim_of[axis] < 0 || rng.percent(40)) continue;  // stays S (or R/P)
      Index sf = 1;
      if (rng.percent(50)) {
        for (std::size_t later = axis + 1; later < naxes; ++later) {
          if (dim_of[later] == dim_of[axis] && rng.percent(60)) sf *= mesh_sizes[later];
        }
      } else {
        sf = rng.uniform(1, 8);
      }
      placements[axis] = Placement::strided_shard(placements[axis].dim, sf);
    }

    // Brute force: every dim needs some order of its axes that reproduces every split factor.
    std::vector<Index> wanted(naxes, 1);
    std::vector<bool> dim_fits(static_cast<std::size_t>(ndim), true);
    for (Index d = 0; d < ndim; ++d) {
      std::vector<std::size_t> axes;
      for (std::size_t axis = 0; axis < naxes; ++axis) {
        if (dim_of[axis] == d) {
          axes.push_back(axis);
          wanted[axis] = placements[axis].is_strided() ? placements[axis].split_factor : 1;
        }
      }
      dim_fits[static_cast<std::size_t>(d)] = some_order_fits(axes, wanted, mesh_sizes);
    }
    const bool fits = std::all_of(dim_fits.begin(), dim_fits.end(), [](bool b) { return b; });

    const auto order = to_shard_order(placements, mesh, ndim);
    if (!fits) {
      ++refused;
      ASSERT_FALSE(order.ok()) << text(placements) << " on " << text(mesh_sizes) << " has no order, but got "
                               << text(*order);
      EXPECT_EQ(order.error().code, ErrorCode::not_representable) << order.error().what();
      // The named placement shards a dim that has no order, and the message quotes it.
      const std::string field = order.error().field.str();
      ASSERT_EQ(field.rfind("placements[", 0), 0u) << field;
      const auto axis = static_cast<std::size_t>(std::stoll(field.substr(11)));
      ASSERT_LT(axis, naxes) << field;
      ASSERT_GE(dim_of[axis], 0) << order.error().what();
      EXPECT_FALSE(dim_fits[static_cast<std::size_t>(dim_of[axis])]) << order.error().what();
      EXPECT_NE(order.error().message.view().find(placements[axis].to_string().view()), std::string_view::npos)
          << order.error().what();
      continue;
    }
    ++representable;
    ASSERT_TRUE(order.ok()) << text(placements) << " on " << text(mesh_sizes) << ": " << order.error().what();
    // Every sharding axis appears exactly once, under its own dim.
    ASSERT_EQ(order->dims.size(), static_cast<std::size_t>(ndim));
    std::vector<int> seen(naxes, 0);
    for (std::size_t d = 0; d < order->dims.size(); ++d) {
      for (std::size_t axis : order->dims[d]) {
        ASSERT_LT(axis, naxes);
        ++seen[axis];
        ASSERT_EQ(dim_of[axis], static_cast<Index>(d)) << text(*order) << " for " << text(placements);
      }
    }
    for (std::size_t axis = 0; axis < naxes; ++axis) ASSERT_EQ(seen[axis], dim_of[axis] >= 0 ? 1 : 0);
    // Back to exactly the same placements (dims normalised; _S(d,1) is S(d)); R/P come from the base.
    const auto back = to_placements(*order, mesh, placements);
    ASSERT_TRUE(back.ok()) << back.error().what();
    Placements want = placements;
    for (std::size_t axis = 0; axis < naxes; ++axis) {
      if (dim_of[axis] < 0) continue;
      want[axis] = wanted[axis] == 1 ? Placement::shard(dim_of[axis])
                                     : Placement::strided_shard(dim_of[axis], wanted[axis]);
    }
    ASSERT_EQ(*back, want) << text(*back) << " vs " << text(want) << " via " << text(*order) << " on "
                           << text(mesh_sizes);
  }
  std::printf("[ stats    ] %lld representable, %lld refused\n", static_cast<long long>(representable),
              static_cast<long long>(refused));
  EXPECT_GT(representable, 1000);
  EXPECT_GT(refused, 500);
}

// When every split along the order is exact, nested splitting (the order's meaning) equals the library's
// composition of the converted placements, for every rank and every policy.
TEST(ShardOrderProperty, NestedSplittingEqualsCompositionWhenExact) {
  Random rng(0x0de50003);
  Index ranks = 0;
  for (int i = 0; i < 600; ++i) {
    const RandomOrder r = random_order(rng, i % 20 == 0 ? 1296 : 36);
    const Mesh mesh = mesh_of(r.mesh);
    const ShardOrder order = order_of(r.dims);
    Shape shape;
    for (const auto& axes : r.dims) {
      Index divisor = 1;
      for (std::size_t axis : axes) divisor *= r.mesh[axis];
      const Index multiple = rng.uniform(0, std::max<Index>(1, 96 / divisor));
      shape.push_back(divisor * multiple);
    }
    const auto placements = to_placements(order, mesh);
    ASSERT_TRUE(placements.ok()) << placements.error().what();
    for (SplitPolicy policy : {SplitPolicy::chunk, SplitPolicy::balanced, SplitPolicy::even}) {
      const auto layout = Layout::create(shape, mesh, *placements, policy);
      ASSERT_TRUE(layout.ok()) << layout.error().what() << " for " << text(*placements);
      for (Index rank = 0; rank < product(r.mesh); ++rank) {
        const List coord = unravel(rank, r.mesh);
        const auto sets = layout->index_sets(rank);
        ASSERT_TRUE(sets.ok()) << sets.error().what();
        for (std::size_t d = 0; d < r.dims.size(); ++d) {
          ASSERT_EQ(to_list((*sets)[d]), nested_split(shape[d], r.dims[d], r.mesh, coord))
              << "rank " << rank << " coord " << text(coord) << " dim " << d << " (size " << shape[d] << ") order "
              << text(order) << " placements " << text(*placements) << " policy " << to_string(policy);
        }
        ++ranks;
      }
    }
  }
  std::printf("[ stats    ] %lld rank x policy checks\n", static_cast<long long>(ranks));
  EXPECT_GT(ranks, 10000);
}

}  // namespace
}  // namespace shardplan
