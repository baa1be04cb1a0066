#include <gtest/gtest.h>

#include <vector>

#include "shardplan/layout/layout.hpp"
#include "shardplan/mesh/mesh_parse.hpp"

namespace shardplan {
namespace {

using Ranks = std::vector<Index>;

Mesh mesh_of(std::string_view text) {
  auto mesh = parse_mesh(text);
  EXPECT_TRUE(mesh.ok()) << (mesh.ok() ? "" : mesh.error().what());
  return *mesh;
}

std::string error_of(std::string_view text) {
  auto mesh = parse_mesh(text);
  EXPECT_FALSE(mesh.ok()) << text;
  return mesh.ok() ? "" : mesh.error().what();
}

TEST(Mesh, RowMajorCoordinates) {
  const Mesh mesh = mesh_of("4,2,3");
  EXPECT_EQ(mesh.world_size(), 24);
  EXPECT_EQ(mesh.coordinate(5).value(), (Coord{0, 1, 2}));
  EXPECT_EQ(mesh.coordinate(23).value(), (Coord{3, 1, 2}));
  EXPECT_EQ(mesh.rank(Coord{2, 0, 1}).value(), 13);
  for (Index rank = 0; rank < 24; ++rank) EXPECT_EQ(mesh.rank(*mesh.coordinate(rank)).value(), rank);
}

TEST(Mesh, GroupsAlongOneOrSeveralAxes) {
  const Mesh mesh = mesh_of("dp=2,tp=2,cp=2");
  EXPECT_EQ(mesh.group(5, 0).value(), (Ranks{1, 5}));
  EXPECT_EQ(mesh.group(5, 1).value(), (Ranks{5, 7}));
  EXPECT_EQ(mesh.group(5, 2).value(), (Ranks{4, 5}));
  EXPECT_EQ(mesh.group(5, AxisList{0, 2}).value(), (Ranks{0, 1, 4, 5}));
  // The first listed axis varies slowest.
  EXPECT_EQ(mesh.group(5, AxisList{2, 0}).value(), (Ranks{0, 4, 1, 5}));
  EXPECT_EQ(mesh.axis_index("cp").value(), 2U);
  EXPECT_EQ(mesh.axis_index("ep").error().what(), "axis: no mesh axis is named 'ep' (axes: dp tp cp)");
  EXPECT_EQ(mesh.group(5, AxisList{0, 0}).error().what(), "axes[1]: axis 0 is listed twice");
  EXPECT_EQ(mesh.group(5, 3).error().what(), "axes[0]: axis 3 is outside a 3-axis mesh");
}

TEST(Mesh, DeviceOrderIotaWithTranspose) {
  // arange(8).reshape(2,4).transpose(1,0) = [[0,4],[1,5],[2,6],[3,7]] laid out on a (4,2) mesh.
  const Mesh mesh = mesh_of("4,2 <=[2,4]T(1,0)");
  const Ranks expected_cells{0, 4, 1, 5, 2, 6, 3, 7};
  for (Index cell = 0; cell < 8; ++cell) {
    const Coord coord{cell / 2, cell % 2};
    EXPECT_EQ(mesh.rank(coord).value(), expected_cells[static_cast<std::size_t>(cell)]);
    EXPECT_EQ(mesh.coordinate(expected_cells[static_cast<std::size_t>(cell)]).value(), coord);
  }
  EXPECT_EQ(mesh.group(4, 1).value(), (Ranks{0, 4}));
  EXPECT_EQ(mesh.to_string().view(), "(4,2) <=[2,4]T(1,0)");
  EXPECT_EQ(parse_mesh(mesh.to_string().view()).value(), mesh);
}

TEST(Mesh, PrintParseRoundTrip) {
  for (std::string_view text : {"(4,2,3)", "(dp=2,tp=4)", "(8)", "(a=1,b=2,c=3,d=4) <=[4,6]T(1,0)"}) {
    const Mesh mesh = mesh_of(text);
    EXPECT_EQ(mesh.to_string().view(), text);
  }
  EXPECT_EQ(mesh_of("[dp = 2, tp = 4]"), mesh_of("dp=2,tp=4"));
}

TEST(Mesh, BadInputNamesTheFieldAndNumbers) {
  EXPECT_EQ(error_of("4,0"), "mesh[1]: axis size must be >= 1, got 0");
  EXPECT_EQ(error_of("-2"), "mesh[0]: axis size must be >= 1, got -2");
  EXPECT_EQ(error_of("dp=2,dp=4"), "mesh.names[1]: axis name 'dp' repeats axis 0");
  EXPECT_EQ(error_of("dp=2,4"), "mesh: name every axis or none: axis 1 of 'dp=2,4' differs from axis 0");
  EXPECT_EQ(error_of("=2"), "mesh.names[0]: axis name is empty");
  EXPECT_EQ(error_of("dp=2,=2"), "mesh.names[1]: axis name is empty");
  EXPECT_EQ(error_of("4,x"), "mesh: expected '=' at position 3 of '4,x', found end of text");
  EXPECT_EQ(error_of("4294967296,4294967296"), "mesh: 4294967296 * 4294967296 overflows int64");
  EXPECT_EQ(error_of("99999999999999999999"), "mesh: integer '99999999999999999999' does not fit in int64");
  EXPECT_EQ(error_of("4,2,"), "mesh: expected an integer at position 4 of '4,2,', found end of text");
  EXPECT_EQ(error_of("4,2)"), "mesh: unexpected text ')' after the mesh shape");
  EXPECT_EQ(error_of("(4,2"), "mesh: expected ')' at position 4 of '(4,2', found end of text");
  EXPECT_EQ(error_of("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"), "mesh: more than 16 axes");
  EXPECT_EQ(error_of("4,2 <=[4,4]"), "devices.reshape: covers 16 devices but the mesh has 8");
  EXPECT_EQ(error_of("4,2 <=[2,4]T(0,0)"), "devices.transpose[1]: value 0 makes the transpose not a permutation of 0..1");
  EXPECT_EQ(error_of("4,2 <=[2,4]T(0)"), "devices.transpose: has 1 entries but the reshape has 2 dims");
  EXPECT_EQ(error_of("4,2 <=[8,0]"), "devices.reshape[1]: must be >= 1, got 0");
  EXPECT_EQ(error_of("4,2 <=[8]x"), "devices: unexpected text 'x' after the device order");
}

// Up to kMaxMeshAxes (16) axes: 2^16 ranks on 16 axes of 2, numbered row-major, and a dim split over all of them.
TEST(Mesh, SixteenAxes) {
  const Mesh mesh = mesh_of("2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2");
  EXPECT_EQ(mesh.ndim(), 16U);
  EXPECT_EQ(mesh.world_size(), 65536);
  const Coord coord = mesh.coordinate(40000).value();  // 40000 = 0b1001110001000000
  const Coord expected{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(coord, expected);
  EXPECT_EQ(mesh.rank(coord).value(), 40000);
  EXPECT_EQ(mesh.group(40000, 15).value(), (std::vector<Index>{40000, 40001}));
  Placements all_split;
  for (int axis = 0; axis < 16; ++axis) all_split.push_back(Placement::shard(0));
  const Layout layout = Layout::create({65536 * 3}, mesh, all_split).value();
  const auto box = layout.local_box(40000).value();
  EXPECT_EQ(box.global_offset, Shape{120000});
  EXPECT_EQ(box.local_shape, Shape{3});
}

TEST(Mesh, ProgrammaticValidation) {
  EXPECT_EQ(Mesh::create(AxisSizes{}).error().what(), "mesh: has no axes");
  EXPECT_EQ(Mesh::create(AxisSizes{2, 2}, AxisNames{AxisName("dp"), AxisName("")}).error().what(),
            "mesh.names[1]: axis name is empty");
  EXPECT_EQ(Mesh::create(AxisSizes{2, 2}, AxisNames{AxisName("dp")}).error().what(), "mesh.names: 1 names for 2 axes");
  const Mesh mesh = mesh_of("2,3");
  EXPECT_EQ(mesh.coordinate(6).error().what(), "rank: rank 6 is outside a mesh of 6 ranks (valid: 0..5)");
  EXPECT_EQ(mesh.coordinate(-1).error().what(), "rank: rank -1 is outside a mesh of 6 ranks (valid: 0..5)");
  EXPECT_EQ(mesh.rank(Coord{1, 3}).error().what(), "coord[1]: coordinate 3 is outside axis 1 of size 3");
  EXPECT_EQ(mesh.rank(Coord{1}).error().what(), "coord: has 1 entries for a 2-axis mesh");
}

}  // namespace
}  // namespace shardplan
