#pragma once
// PlanCache: plans remembered by their request, for runtimes that redistribute the same tensors every iteration.
// Not in the umbrella header: it is the one planner header that needs <mutex> and <memory>.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "shardplan/redistribution/detail/hashing.hpp"
#include "shardplan/redistribution/planner.hpp"

namespace shardplan {

/// Plans remembered by their request: asking again returns the same plan for the cost of a hash lookup. Safe to
/// share between threads.
class PlanCache {
 public:
  [[nodiscard]] Result<std::shared_ptr<const RedistributionPlan>> plan(const Layout& from, const Layout& to, const CostModel& costs,
                                                         Index element_size, const PlanOptions& options = {}) {
    Key key{from, to, costs, element_size, options};
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      auto found = plans_.find(key);
      if (found != plans_.end()) return found->second;
    }
    RedistributionPlanner planner;
    SHARDPLAN_TRY(RedistributionPlan plan, planner.plan(from, to, costs, element_size, options));
    auto shared = std::make_shared<const RedistributionPlan>(std::move(plan));
    const std::lock_guard<std::mutex> lock(mutex_);
    return plans_.emplace(std::move(key), std::move(shared)).first->second;
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return plans_.size();
  }

 private:
  struct Key {
    Layout from;
    Layout to;
    CostModel costs;
    Index element_size;
    PlanOptions options;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const {
      using redistribution_detail::hash_mix;
      std::uint64_t seed = hash_mix(static_cast<std::uint64_t>(key.element_size), key.from.shape().size());
      for (Index size : key.from.shape()) seed = hash_mix(seed, static_cast<std::uint64_t>(size));
      for (Index size : key.from.mesh().shape()) seed = hash_mix(seed, static_cast<std::uint64_t>(size));
      seed = redistribution_detail::hash_placements(key.from.placements(), seed);
      seed = redistribution_detail::hash_placements(key.to.placements(), hash_mix(seed, 0x70));
      return static_cast<std::size_t>(hash_mix(seed, static_cast<std::uint64_t>(key.from.policy())));
    }
  };
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<const RedistributionPlan>, KeyHash> plans_;
};

}  // namespace shardplan
