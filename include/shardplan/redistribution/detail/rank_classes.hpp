#pragma once
// Per-rank figures that are products over the tensor's dims of per-dim figures (a box's size, its overlap with
// another box, ...), for every rank, without walking the ranks. A dim's figures depend only on the coordinates of
// the few mesh axes that split it in the layouts compared. Dims whose axes overlap form a component, walked
// together over the combinations of its axes; each component keeps only its distinct figures (a handful: full
// chunks, a short chunk, empty ones), and the ranks' figures are the products of one choice per component, since
// components depend on disjoint axes and every choice is some rank's. The step rules' busiest receiver and the
// estimate's lacks are maxima over these products. Internal to the planner.
#include "shardplan/core/cxx20.hpp"

#include <array>
#include <cstddef>
#include <vector>

#include "shardplan/core/shape.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/mesh/axis_subset.hpp"

namespace shardplan::redistribution_detail {

template <std::size_t N>
using Figures = std::array<Index, N>;

/// The distinct products of N per-dim figures over every rank. Keeps its scratch between calls.
template <std::size_t N>
class RankClasses {
 public:
  /// Calls visit(figures) once per distinct combination of the components' figures (every rank's figures are
  /// among them, and each visited one is some rank's). Dim d's figures are figures(d, indices), `indices[j]` being
  /// the index of the rank's coordinates in *parts[d * P + j]. Returns the combinations walked and visited: the
  /// work done, for the search's budget.
  template <std::size_t P, class DimFigures, class Visit>
  constexpr Index for_each(const AxisSizes& mesh_shape, std::size_t ndim, const AxisSubset* const* parts,
                           DimFigures&& figures, Visit&& visit) {
    static_assert(P * kMaxTensorRank <= kMaxProjections, "a component follows P subsets per dim");
    // Components: dims joined while their axes overlap.
    unsigned dim_axes[kMaxTensorRank]{};
    for (std::size_t d = 0; d < ndim; ++d) {
      for (std::size_t j = 0; j < P; ++j) dim_axes[d] |= parts[d * P + j]->mask();
    }
    std::size_t component_of[kMaxTensorRank]{};
    unsigned component_axes[kMaxTensorRank]{};
    std::size_t components = 0;
    std::size_t folded = 0;  // components emptied into another
    for (std::size_t d = 0; d < ndim; ++d) {
      std::size_t joined = components;
      for (std::size_t c = 0; c < components; ++c) {
        if ((component_axes[c] & dim_axes[d]) == 0) continue;
        if (joined == components) {
          joined = c;
          continue;
        }
        // d links two components: fold c into `joined`.
        component_axes[joined] |= component_axes[c];
        component_axes[c] = 0;
        ++folded;
        for (std::size_t e = 0; e < d; ++e) {
          if (component_of[e] == c) component_of[e] = joined;
        }
      }
      if (joined == components) ++components;
      component_of[d] = joined;
      component_axes[joined] |= dim_axes[d];
    }
    // A component's figures at one combination of its axes: the product over its dims.
    const auto product_of = [&](const std::size_t* dims, std::size_t count, const Index* index) {
      Figures<N> product;
      product.fill(1);
      for (std::size_t i = 0; i < count; ++i) {
        const Figures<N> dim = figures(dims[i], index + i * P);
        for (std::size_t k = 0; k < N; ++k) product[k] *= dim[k];
      }
      return product;
    };
    const auto axes_of = [&](unsigned mask) {
      return AxisSubset::where(mesh_shape, [&](std::size_t axis) { return (mask & (1U << axis)) != 0; });
    };
    // One component (every dim in it): its figures are the ranks' figures, visited as the walk finds them.
    if (folded + 1 == components) {
      std::size_t all[kMaxTensorRank];
      for (std::size_t d = 0; d < ndim; ++d) all[d] = d;
      const AxisSubset axes = axes_of(component_axes[component_of[0]]);
      axes.for_each_projected(parts, ndim * P, [&](const Index* index) { visit(product_of(all, ndim, index)); });
      return axes.size();
    }
    // Each component's distinct figures, one after another in `figures_`.
    figures_.clear();
    std::size_t begin[kMaxTensorRank + 1]{};
    std::size_t used = 0;
    Index work = 0;
    for (std::size_t c = 0; c < components; ++c) {
      std::size_t dims[kMaxTensorRank];
      std::size_t count = 0;
      const AxisSubset* component_parts[kMaxProjections];
      for (std::size_t d = 0; d < ndim; ++d) {
        if (component_of[d] != c) continue;
        for (std::size_t j = 0; j < P; ++j) component_parts[count * P + j] = parts[d * P + j];
        dims[count++] = d;
      }
      if (count == 0) continue;  // folded into another
      begin[used] = figures_.size();
      const AxisSubset axes = axes_of(component_axes[c]);
      work += axes.size();
      axes.for_each_projected(component_parts, count * P,
                              [&](const Index* index) { figures_.push_back(product_of(dims, count, index)); });
      auto* first = figures_.data() + begin[used];
      auto* last = figures_.data() + figures_.size();
      detail::sort_range(first, last, [](const Figures<N>& a, const Figures<N>& b) { return a < b; });
      auto* kept = first;
      for (auto* it = first; it != last; ++it) {
        if (it == first || !(*it == *(kept - 1))) *kept++ = *it;
      }
      figures_.resize(static_cast<std::size_t>(kept - figures_.data()));
      ++used;
    }
    begin[used] = figures_.size();
    // Every choice of one figure per component, like an odometer.
    std::size_t choice[kMaxTensorRank]{};
    for (std::size_t c = 0; c < used; ++c) choice[c] = begin[c];
    while (true) {
      Figures<N> product;
      product.fill(1);
      for (std::size_t c = 0; c < used; ++c) {
        for (std::size_t k = 0; k < N; ++k) product[k] *= figures_[choice[c]][k];
      }
      visit(product);
      ++work;
      std::size_t c = used;
      while (c-- > 0) {
        if (++choice[c] < begin[c + 1]) break;
        choice[c] = begin[c];
      }
      if (c == static_cast<std::size_t>(-1)) return work;
    }
  }

 private:
  std::vector<Figures<N>> figures_;
};

}  // namespace shardplan::redistribution_detail
