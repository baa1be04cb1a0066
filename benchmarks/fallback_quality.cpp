// How good are the plans the redistribution planner gives when its search budget runs out? Random requests on
// meshes of 5 to 8 axes (half change one or two axes, half any), planned with the default budget; for those that
// run out, a budget 4x larger tries to prove the optimum, and the plan given is compared with it (modelled time).
// Prints one summary line. Not a Google Benchmark: the figure is a ratio, not a time.
//   build/benchmarks/shardplan_fallback_quality [requests, default 100]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "shardplan/shardplan.hpp"

namespace {

using shardplan::Index;

/// SplitMix64: the same requests on every platform.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  Index uniform(Index lo, Index hi) {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return lo + static_cast<Index>(z % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

shardplan::Placements random_placements(Random& random, std::size_t axes, Index ndim) {
  shardplan::Placements placements;
  for (std::size_t axis = 0; axis < axes; ++axis) {
    const Index roll = random.uniform(0, 99);
    const Index dim = random.uniform(0, ndim - 1);
    if (roll < 35) {
      placements.push_back(shardplan::Placement::shard(dim));
    } else if (roll < 70) {
      placements.push_back(shardplan::Placement::strided_shard(dim, random.uniform(1, 4)));
    } else {
      placements.push_back(roll < 88 ? shardplan::Placement::replicate() : shardplan::Placement::partial());
    }
  }
  return placements;
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 100;
  Random random(20261207);
  int exhausted = 0;
  int proven_later = 0;
  double ratio_sum = 0;
  double ratio_worst = 0;
  double seconds_worst = 0;
  std::string slowest;
  for (int i = 0; i < requests; ++i) {
    shardplan::AxisSizes sizes;
    Index world = 1;
    for (Index axes = random.uniform(5, 8); axes > 0; --axes) {
      const Index size = world > 64 ? 1 : random.uniform(1, 3);
      sizes.push_back(size);
      world *= size;
    }
    const shardplan::Mesh mesh = shardplan::Mesh::create(sizes).value();
    shardplan::Shape shape;
    const Index ndim = random.uniform(1, 3);
    for (Index d = 0; d < ndim; ++d) shape.push_back(random.uniform(1, 9) * (random.uniform(0, 1) == 1 ? 64 : 1));
    const shardplan::Placements source = random_placements(random, mesh.ndim(), ndim);
    shardplan::Placements target = random_placements(random, mesh.ndim(), ndim);
    if (random.uniform(0, 1) == 1) {
      const shardplan::Placements changed = target;
      target = source;
      for (Index n = random.uniform(1, 2); n > 0; --n) {
        const auto axis = static_cast<std::size_t>(random.uniform(0, static_cast<Index>(target.size()) - 1));
        target[axis] = changed[axis];
      }
    }
    for (std::size_t axis = 0; axis < target.size(); ++axis) {
      if (target[axis].is_partial() && !source[axis].is_replicate() && !(source[axis] == target[axis])) {
        target[axis] = shardplan::Placement::replicate();
      }
    }
    const auto from = shardplan::Layout::create(shape, mesh, source);
    const auto to = shardplan::Layout::create(shape, mesh, target);
    if (!from.ok() || !to.ok()) continue;
    const shardplan::CostModel costs = shardplan::CostModel::create(mesh).value();
    const auto start = std::chrono::steady_clock::now();
    const auto plan = shardplan::plan_redistribution(*from, *to, costs, 2);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > seconds_worst) {
      seconds_worst = seconds;
      slowest = "--shape " + std::string(shardplan::shape_text(shape).view()) + " --mesh " +
                std::string(mesh.to_string().view()) + " --from '" + std::string(to_string(source).view()) +
                "' --to '" + std::string(to_string(target).view()) + "'";
    }
    if (!plan.ok()) {
      std::printf("request %d: %s\n", i, plan.error().what().c_str());
      return 1;
    }
    if (plan->optimal) continue;
    ++exhausted;
    shardplan::PlanOptions larger;
    larger.max_work = 4 * shardplan::kPlannerWork;
    const auto best = shardplan::plan_redistribution(*from, *to, costs, 2, larger);
    if (!best.ok() || !best->optimal || best->time_us <= 0) continue;
    ++proven_later;
    const double ratio = plan->time_us / best->time_us;
    ratio_sum += ratio;
    ratio_worst = std::max(ratio_worst, ratio);
  }
  std::printf(
      "%d requests on 5-8 axis meshes: %d ran out of the default budget (slowest plan %.2f s); a 4x budget proved "
      "the optimum of %d of those: the plans given take %.2fx its modelled time on average, %.2fx at worst\n",
      requests, exhausted, seconds_worst, proven_later, proven_later > 0 ? ratio_sum / proven_later : 0.0,
      ratio_worst);
  std::printf("slowest: %s\n", slowest.c_str());
  return 0;
}
