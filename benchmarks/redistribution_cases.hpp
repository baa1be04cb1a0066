#pragma once
// The redistribution requests the benchmarks time (bench_redistribution.cpp) and count instructions of
// (plan_loop.cpp): one list, so the two measure the same cases. bf16 tensors (element size 2), the default
// topology (8 devices per host).
#include <cstddef>
#include <string>

#include "shardplan/shardplan.hpp"

namespace shardplan_bench {

using shardplan::Index;

inline constexpr Index kElementSize = 2;  // bf16

struct Case {
  shardplan::AxisSizes mesh;
  shardplan::Shape shape;
  const char* from;
  const char* to;
};

// Targets (docs/performance.md): a cold plan under 1 ms for a 3-d mesh and a 3-d tensor, a cached one under 1 µs.
inline const Case kCases[] = {
    // 2-d mesh (8, 8), [8192, 8192]
    {{8, 8}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{8, 8}, {8192, 8192}, "P,S(0)", "R,R"},
    // 3-d mesh (2, 2, 2), [1024, 1024, 1024]
    {{2, 2, 2}, {1024, 1024, 1024}, "S(0),S(0),S(0)", "S(1),S(1),S(1)"},
    {{2, 2, 2}, {1024, 1024, 1024}, "_S(0,2),S(0),R", "S(0),S(0),P"},
    {{2, 2, 2}, {1024, 1024, 1024}, "P,S(0),S(1)", "S(1),S(2),R"},
    // 3-d mesh (4, 4, 4), [4096, 4096, 64]
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(0),S(0)", "S(1),S(1),S(1)"},
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(1),R", "S(1),S(0),R"},
    {{4, 4, 4}, {4096, 4096, 64}, "P,S(0),S(1)", "S(0),S(1),R"},
    {{4, 4, 4}, {4096, 4096, 64}, "S(0),S(0),S(1)", "R,S(1),S(0)"},
    // 4-d meshes
    {{2, 2, 2, 2}, {1024, 1024, 1024}, "S(0),S(0),S(0),S(0)", "S(1),S(1),S(1),S(1)"},
    {{2, 2, 2, 2}, {1024, 1024, 1024}, "P,S(0),S(1),S(2)", "S(0),S(1),S(2),R"},
    {{4, 2, 4, 2}, {4096, 4096, 64}, "S(0),S(1),S(0),S(1)", "S(1),S(0),S(1),S(0)"},
    {{4, 2, 4, 2}, {4096, 4096, 64}, "P,S(0),S(1),R", "S(0),S(0),R,S(1)"},
};

struct Request {
  shardplan::Layout from;
  shardplan::Layout to;
  shardplan::CostModel costs;
};

inline Request request_of(const Case& c) {
  using namespace shardplan;
  const Mesh mesh = Mesh::create(c.mesh).value();
  return {Layout::create(c.shape, mesh, parse_placements(c.from).value()).value(),
          Layout::create(c.shape, mesh, parse_placements(c.to).value()).value(), CostModel::create(mesh).value()};
}

/// `2x2x2 S(0),S(0),S(0)->S(1),S(1),S(1)`.
inline std::string case_name(const Case& c) {
  std::string name;
  for (std::size_t axis = 0; axis < c.mesh.size(); ++axis) {
    if (axis > 0) name += 'x';
    name += std::to_string(c.mesh[axis]);
  }
  name += ' ';
  name += c.from;
  name += "->";
  name += c.to;
  return name;
}

// Growth with the rank count: the same transpose on square meshes of 64 to 65,536 ranks, where every axis splits
// the tensor (issue 12 asks for at most 2x from 64 to 1,048,576 ranks); and a tp gather on 131,072 ranks whose
// 16-rank dp_replicate axis splits nothing (the planner walks the 8,192 combinations of the other two).
inline const Case kRankCases[] = {
    {{8, 8}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{32, 32}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{128, 128}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{256, 256}, {8192, 8192}, "S(0),S(1)", "S(1),S(0)"},
    {{16, 1024, 8}, {8192, 8192}, "R,S(0),S(1)", "R,S(0),R"},
};

}  // namespace shardplan_bench
