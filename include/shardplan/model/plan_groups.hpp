#pragma once
// Per-layer plan keys on parameter groups. A plan may give one layer its own style — HF's
// `"model.layers.0.mlp.down_proj": "replicate"` next to `"model.layers.*.mlp.down_proj": "rowwise"` — while an
// inventory lists a parameter once for a set of layers. Resolving a plan therefore splits each group's layer set by
// the style its layers resolve to, so that validation, sizing and listings see every layer's true style. The work is
// proportional to the number of per-layer keys, not to the number of layers.
#include "shardplan/core/cxx20.hpp"

#include <optional>
#include <string_view>
#include <vector>

#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/model/parameter.hpp"
#include "shardplan/model/plan.hpp"

namespace shardplan {

/// A parameter group (or the part of its layers that share a style) with the style the plan gives it.
struct ResolvedGroup {
  ParameterGroup param;
  std::optional<PlanStyle> style;  // nullopt: no plan entry applies (replicated)
};

namespace detail {

/// The `.`-separated component `index` of `name`, empty past the end.
[[nodiscard]] constexpr std::string_view name_component(std::string_view name, std::size_t index) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    const std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
  const std::size_t end = name.find('.', start);
  return name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

/// Which component of a group pattern is the layer index: its first `*` ("model.layers.*.mlp" -> 2); -1 for none.
[[nodiscard]] constexpr Index layer_component(std::string_view pattern) {
  Index index = 0;
  for (std::size_t start = 0;; ++index) {
    const std::size_t end = pattern.find('.', start);
    if (pattern.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start) == "*") {
      return index;
    }
    if (end == std::string_view::npos) return -1;
    start = end + 1;
  }
}

/// A non-negative number written in decimal digits, or -1 (empty, other characters, or past 18 digits).
[[nodiscard]] constexpr Index parse_layer_number(std::string_view text) {
  if (text.empty() || text.size() > 18) return -1;
  Index value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

/// `pattern` with its first `*` (the layer index) replaced by `layer`.
[[nodiscard]] constexpr ParameterName with_layer(std::string_view pattern, Index layer) {
  const std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) return ParameterName(pattern);
  ParameterName name(pattern.substr(0, star));
  name << layer << pattern.substr(star + 1);
  return name;
}

}  // namespace detail

/// The layer a plan key names for a group pattern ("model.layers.3.mlp.down_proj" for
/// "model.layers.*.mlp.down_proj.weight" -> 3), or -1 when the key does not apply to the pattern or uses `*` there.
[[nodiscard]] constexpr Index key_layer(std::string_view key, std::string_view pattern) {
  if (!key_matches(key, pattern)) return -1;
  const Index position = detail::layer_component(pattern);
  if (position < 0) return -1;
  return detail::parse_layer_number(detail::name_component(key, static_cast<std::size_t>(position)));
}

/// The layers of `group` that some key of `plan` names by number.
[[nodiscard]] constexpr IntervalSet layers_named(const Plan& plan, const ParameterGroup& group) {
  std::vector<Index> layers;
  for (const PlanEntry& entry : plan) {
    const Index layer = key_layer(entry.key.view(), group.pattern.view());
    if (layer >= 0 && group.layers.contains(layer)) layers.push_back(layer);
  }
  return IntervalSet::from_indices(layers);
}

/// Every group of `inventory` with its style under `plan`, a group split into one group per distinct style when
/// per-layer keys give some of its layers another style (ordered by their first layer, so that a group without
/// per-layer keys stays one group, in inventory order).
[[nodiscard]] constexpr std::vector<ResolvedGroup> resolve_groups(const Inventory& inventory, const Plan& plan) {
  std::vector<ResolvedGroup> out;
  out.reserve(inventory.size());
  for (const ParameterGroup& group : inventory) {
    const std::optional<PlanStyle> generic_style = resolve_style(plan, group.pattern.view());
    const IntervalSet named = group.is_per_layer() ? layers_named(plan, group) : IntervalSet{};
    if (named.empty()) {
      out.push_back(ResolvedGroup{group, generic_style});
      continue;
    }
    // One part per distinct style: the layers no key names take the wildcard style.
    struct Part {
      std::optional<PlanStyle> style;
      IntervalSet layers;
    };
    std::vector<Part> parts;
    const auto add = [&parts](std::optional<PlanStyle> style, const IntervalSet& layers) {
      if (layers.empty()) return;
      for (Part& part : parts) {
        if (part.style == style) {
          part.layers = unite(part.layers, layers);
          return;
        }
      }
      parts.push_back(Part{style, layers});
    };
    add(generic_style, subtract(group.layers, named));
    for (const Interval& run : named.intervals()) {
      for (Index layer = run.begin; layer < run.end; ++layer) {
        const ParameterName name = detail::with_layer(group.pattern.view(), layer);
        add(resolve_style(plan, name.view()), IntervalSet::range(layer, layer + 1));
      }
    }
    detail::heap_sort(parts.data(), parts.size(),
                      [](const Part& a, const Part& b) { return a.layers.front() < b.layers.front(); });
    for (const Part& part : parts) {
      ResolvedGroup resolved{group, part.style};
      resolved.param.layers = part.layers;
      out.push_back(resolved);
    }
  }
  return out;
}

}  // namespace shardplan
