#pragma once
// ParameterGroup: one parameter of a decoder layer (or of the model outside the layers), with the layers it appears
// in and, for per-expert tensors, how many experts. Inventories list groups rather than expanded names so that a
// 61-layer, 256-expert model is ~40 values that validation and sizing can walk at compile time; `plan` expands them.
#include "shardplan/core/cxx20.hpp"

#include <string_view>
#include <vector>

#include "shardplan/core/interval_set.hpp"
#include "shardplan/layout/layout.hpp"

namespace shardplan {

struct ParameterGroup {
  /// HF parameter name with `*` for the layer index and, for per-expert tensors, a second `*` for the expert index:
  /// "model.layers.*.self_attn.q_proj.weight", "model.layers.*.mlp.experts.*.gate_proj.weight", "lm_head.weight".
  FixedString<112> pattern;
  Shape shape;         // global shape of one instance
  IntervalSet layers;  // decoder layers it appears in; empty for parameters outside the layers
  Index experts = 0;   // > 0: one instance per expert (the pattern's second `*`)
  bool quantized = false;  // a linear weight the checkpoint's quantization applies to (not embeddings, norms, routers)
  Index input_dim = -1;    // the dim a linear weight reduces over: -1 for [out, in]; gpt-oss fused experts store
                           // [E, in, out], so -2 there
  Index dtype_bytes = 0;   // bytes per element as a checkpoint stores it; 0: the model's (ModelConfig::dtype_bytes)

  // The counts below are unchecked: parameter_inventory checks that they fit in int64 (inventory_detail::checked_numel).

  /// Instances: one per layer (or one), times one per expert.
  [[nodiscard]] constexpr Index instances() const {
    return (layers.empty() ? 1 : layers.size()) * (experts > 0 ? experts : 1);
  }
  [[nodiscard]] constexpr Index numel_each() const {
    Index n = 1;
    for (Index size : shape) n *= size;
    return n;
  }
  [[nodiscard]] constexpr Index numel() const { return numel_each() * instances(); }
  [[nodiscard]] constexpr bool is_bias() const {
    return pattern.view().ends_with(".bias") || pattern.view().ends_with("_bias");
  }
  [[nodiscard]] constexpr bool is_per_layer() const { return !layers.empty(); }
};

using Inventory = std::vector<ParameterGroup>;

/// Total parameter count of an inventory. Unchecked, like numel(): parameter_inventory refuses an inventory whose
/// counts or total overflow int64.
[[nodiscard]] constexpr Index total_parameters(const Inventory& inventory) {
  Index total = 0;
  for (const ParameterGroup& group : inventory) total += group.numel();
  return total;
}

}  // namespace shardplan
