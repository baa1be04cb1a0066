#pragma once
// A checkpoint's own tensors as a parameter inventory: the tensors grouped into ParameterGroups exactly as the family
// rules group theirs (the same name pattern, shape and dtype over a set of decoder layers and, for per-expert
// tensors, experts 0..E-1), so that validation, plans and sizes read the checkpoint unchanged. Set on a ModelConfig
// (attach_checkpoint), the groups replace the family rule's: a model_type without a family rule (family `other`) can
// then be checked, planned and sized as well, under a plan whose keys match its tensor names.
//
// What a tensor is, by its name (checkpoint_tensor_role):
//   parameter      everything below does not apply: a parameter as stored
//   scale          `X.weight_scale_inv` (fp8 block scales, DeepSeek-V3, Qwen3-FP8), `X.weight_scale` (per-tensor or
//                  per-channel fp8, compressed-tensors), `X_scales` beside an `X_blocks` (mxfp4): metadata of the
//                  weight `X.weight` / `X`, which is marked `quantized`; not a parameter (docs/models.md: sizing adds
//                  scale bytes from the quantization scheme)
//   module scale   `M.input_scale`, `M.k_scale`, `M.v_scale`: activation and KV-cache scales of a module; not a
//                  parameter
//   mxfp4 blocks   `X_blocks` [..., out, in/32, 16] (gpt-oss experts): the weight `X` that transformers dequantizes
//                  to [..., in, out], quantized, the model's dtype, its input dim -2 (as the gpt_oss family rule)
//   gptq           `X.qweight`, `X.qzeros`, `X.g_idx`: packed GPTQ/AWQ weights, refused (their packing depends on
//                  the method; size such a model from config.json alone)
//
// Layers and experts: in a parameter's name the first all-digit component is the decoder layer, the second the
// expert ("model.layers.3.mlp.experts.7.gate_proj.weight"); a third is refused. Tensors of a layer at or past
// num_hidden_layers are left out and counted (DeepSeek-V3's checkpoint holds its multi-token-prediction module as
// layer 61 of a 61-layer model; the family rule leaves it out too). The experts of a group must be 0..E-1 in each of
// its layers; layers with another E form another group.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/model/checkpoint.hpp"
#include "shardplan/model/config.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/parameter.hpp"
#include "shardplan/model/plan.hpp"

namespace shardplan {

enum class CheckpointTensorRole { parameter, scale, module_scale, mxfp4_blocks, gptq };

struct CheckpointTensorKind {
  CheckpointTensorRole role = CheckpointTensorRole::parameter;
  /// The parameter the tensor is or belongs to: the name itself, the weight of a scale, the module of a module
  /// scale, the dequantized weight of mxfp4 blocks.
  std::string_view parameter;
};

/// The role of the tensor `name` in `checkpoint` (see the top of this file).
[[nodiscard]] inline CheckpointTensorKind checkpoint_tensor_role(std::string_view name, const Checkpoint& checkpoint) {
  const auto strip = [name](std::string_view suffix) { return name.substr(0, name.size() - suffix.size()); };
  // The weight the scale belongs to keeps its ".weight": strip "_scale_inv" / "_scale" only.
  for (const std::string_view suffix : {".weight_scale_inv", ".weight_scale"}) {
    if (name.ends_with(suffix)) return {CheckpointTensorRole::scale, name.substr(0, name.size() - suffix.size() + 7)};
  }
  for (const std::string_view suffix : {".input_scale", ".k_scale", ".v_scale"}) {
    if (name.ends_with(suffix)) return {CheckpointTensorRole::module_scale, strip(suffix)};
  }
  if (name.ends_with("_blocks")) return {CheckpointTensorRole::mxfp4_blocks, strip("_blocks")};
  if (name.ends_with("_scales")) {
    std::string blocks(strip("_scales"));
    blocks += "_blocks";
    if (checkpoint.find(blocks).tensor != nullptr) return {CheckpointTensorRole::scale, strip("_scales")};
  }
  for (const std::string_view suffix : {".qweight", ".qzeros", ".g_idx"}) {
    if (name.ends_with(suffix)) return {CheckpointTensorRole::gptq, strip(suffix)};
  }
  return {CheckpointTensorRole::parameter, name};
}

/// The checkpoint's parameters, grouped, and what was left out.
struct CheckpointInventory {
  Inventory groups;
  Index parameter_tensors = 0;  // tensors that are parameters (mxfp4 blocks included)
  Index scale_tensors = 0;      // scales and module scales
  Index beyond_layers = 0;      // parameter tensors of layers >= num_hidden_layers, left out
  std::string first_beyond;     // the first of them by name, for messages
};

namespace checkpoint_inventory_detail {

/// ParameterGroup::pattern's capacity.
inline constexpr std::size_t kMaxPatternBytes = 112;

/// What tensors of one group share: the pattern, the shape, the stored element size and the input dim.
struct GroupKey {
  std::string pattern;
  Shape shape;
  Index element_size = 0;  // 0: the model's dtype (dequantized mxfp4)
  Index input_dim = -1;
  [[nodiscard]] std::string text() const {  // the key of the lookup table
    std::string key = pattern;
    key += '\0';
    for (const Index size : shape) key += std::to_string(size) + ",";
    key += ':' + std::to_string(element_size) + ':' + std::to_string(input_dim);
    return key;
  }
  friend bool operator<(const GroupKey& a, const GroupKey& b) {
    if (a.pattern != b.pattern) return a.pattern < b.pattern;
    if (!(a.shape == b.shape)) {
      return detail::lexicographical_compare(a.shape.begin(), a.shape.end(), b.shape.begin(), b.shape.end());
    }
    return a.element_size != b.element_size ? a.element_size < b.element_size : a.input_dim < b.input_dim;
  }
};

/// One parameter tensor: its group and its layer and expert (-1: none).
struct Instance {
  std::uint32_t key = 0;
  Index layer = -1;
  Index expert = -1;
  friend bool operator<(const Instance& a, const Instance& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.layer != b.layer ? a.layer < b.layer : a.expert < b.expert;
  }
};

/// The pattern of `name` (all-digit components replaced by `*`) into `pattern`, and its first two numbers into
/// `layer` and `expert` (-1 when absent), or an error naming the tensor.
[[nodiscard]] inline Status split_name(std::string_view name, std::string& pattern, Index& layer, Index& expert) {
  if (name.size() > kMaxPatternBytes) {
    return make_error(ErrorCode::capacity_exceeded, safetensors_detail::name_field(name))
           << "a tensor name of " << static_cast<Index>(name.size()) << " bytes, past the "
           << static_cast<Index>(kMaxPatternBytes) << " a parameter pattern holds";
  }
  pattern.clear();
  Index numbers[2] = {-1, -1};
  int count = 0;
  Status status = Ok{};
  detail::for_each_name_part(name, [&](std::string_view part, bool number, bool first) {
    if (!first) pattern += '.';
    if (!number) {
      pattern += part;
      return;
    }
    pattern += '*';
    if (!status.ok()) return;
    if (count == 2) {
      status = make_error(ErrorCode::invalid_argument, safetensors_detail::name_field(name))
               << "has a third number in its name: only a layer and an expert index are read";
    } else if ((part.size() > 1 && part[0] == '0') || part.size() > 9) {
      status = make_error(ErrorCode::invalid_argument, safetensors_detail::name_field(name))
               << "index '" << part.substr(0, 12) << "' is not a layer or expert number (leading zero or > 9 digits)";
    } else {
      Index value = 0;
      for (const char c : part) value = value * 10 + (c - '0');
      numbers[count++] = value;
    }
  });
  SHARDPLAN_CHECK(status);
  layer = numbers[0];
  expert = numbers[1];
  return Ok{};
}

/// Sort key of a finished group: embeddings first, then the layers in order, then the other globals (final norm,
/// lm_head), as the family inventories order theirs.
[[nodiscard]] inline std::pair<int, Index> group_rank(const ParameterGroup& group) {
  if (group.is_per_layer()) return {1, group.layers.front()};
  return {group.pattern.view().find("embed") != std::string_view::npos ? 0 : 2, 0};
}

}  // namespace checkpoint_inventory_detail

/// The checkpoint's parameters grouped over `num_hidden_layers` decoder layers (see the top of this file).
/// Errors name the tensor: GPTQ/AWQ packed weights, mxfp4 blocks of fewer than 3 dims, a third number in a name,
/// experts that are not 0..E-1 in a layer, a name longer than a pattern holds, a total that overflows int64.
[[nodiscard]] inline Result<CheckpointInventory> checkpoint_inventory(const Checkpoint& checkpoint,
                                                                      Index num_hidden_layers) {
  using checkpoint_inventory_detail::GroupKey;
  using checkpoint_inventory_detail::Instance;
  using safetensors_detail::name_field;
  CheckpointInventory out;
  std::vector<GroupKey> keys;
  detail::HashMap<std::string, std::uint32_t, std::hash<std::string>> key_numbers;
  std::vector<Instance> instances;
  instances.reserve(static_cast<std::size_t>(checkpoint.tensor_count()));
  detail::HashMap<std::string, bool, std::hash<std::string>> quantized;  // patterns of weights that have a scale
  std::string pattern;
  Status status = Ok{};
  checkpoint.for_each([&](const CheckpointFile&, const SafetensorsTensor& tensor) {
    if (!status.ok()) return;
    const CheckpointTensorKind kind = checkpoint_tensor_role(tensor.name, checkpoint);
    GroupKey key;
    Index layer = -1;
    Index expert = -1;
    switch (kind.role) {
      case CheckpointTensorRole::scale: {
        ++out.scale_tensors;
        status = checkpoint_inventory_detail::split_name(kind.parameter, pattern, layer, expert);
        quantized.emplace(pattern, true);
        return;
      }
      case CheckpointTensorRole::module_scale: ++out.scale_tensors; return;
      case CheckpointTensorRole::gptq:
        status = make_error(ErrorCode::invalid_argument, name_field(tensor.name))
                 << "GPTQ/AWQ packed weights are not read from a checkpoint (give config.json alone to size them)";
        return;
      case CheckpointTensorRole::mxfp4_blocks: {
        // [..., out, in / 32, 16] bytes of two 4-bit values -> the dequantized [..., in, out].
        const std::size_t rank = tensor.shape.size();
        if (rank < 3) {
          status = make_error(ErrorCode::invalid_argument, name_field(tensor.name))
                   << "mxfp4 blocks need [..., out, groups, bytes], got " << shape_text(tensor.shape);
          return;
        }
        const auto in = checked_product(Shape{tensor.shape[rank - 2], tensor.shape[rank - 1], 2});
        if (!in.ok()) {
          status = make_error(ErrorCode::overflow, name_field(tensor.name)) << "the dequantized input dim overflows";
          return;
        }
        for (std::size_t d = 0; d + 3 < rank; ++d) key.shape.push_back(tensor.shape[d]);
        key.shape.push_back(*in);
        key.shape.push_back(tensor.shape[rank - 3]);
        key.element_size = 0;
        key.input_dim = -2;
        break;
      }
      case CheckpointTensorRole::parameter:
        key.shape = tensor.shape;
        key.element_size = tensor.element_size;
        break;
    }
    status = checkpoint_inventory_detail::split_name(kind.parameter, pattern, layer, expert);
    if (!status.ok()) return;
    ++out.parameter_tensors;
    if (kind.role == CheckpointTensorRole::mxfp4_blocks) quantized.emplace(pattern, true);
    if (layer >= num_hidden_layers) {
      if (out.beyond_layers++ == 0 || tensor.name < out.first_beyond) out.first_beyond = tensor.name;
      return;
    }
    key.pattern = pattern;
    const auto [it, added] = key_numbers.emplace(key.text(), static_cast<std::uint32_t>(keys.size()));
    if (added) keys.push_back(std::move(key));
    instances.push_back(Instance{it->second, layer, expert});
  });
  SHARDPLAN_CHECK(status);
  // Groups in key order (deterministic whatever the files' order), instances by layer then expert.
  std::vector<std::uint32_t> rank_of_key(keys.size());
  {
    std::vector<std::uint32_t> order(keys.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    detail::sort_range(order, [&keys](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
    for (std::uint32_t i = 0; i < order.size(); ++i) rank_of_key[order[i]] = i;
  }
  for (Instance& instance : instances) instance.key = rank_of_key[instance.key];
  std::vector<const GroupKey*> key_at(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) key_at[rank_of_key[i]] = &keys[i];
  detail::sort_range(instances);

  // Runs of one group key, layer by layer: per-expert tensors must hold experts 0..E-1 in each layer.
  for (std::size_t begin = 0; begin < instances.size();) {
    std::size_t end = begin + 1;
    while (end < instances.size() && instances[end].key == instances[begin].key) ++end;
    const GroupKey& key = *key_at[instances[begin].key];
    const bool per_expert = instances[begin].expert >= 0;
    ParameterGroup base;
    base.pattern = FixedString<112>(key.pattern);
    base.shape = key.shape;
    base.input_dim = key.input_dim;
    base.dtype_bytes = key.element_size;
    base.quantized = quantized.contains(key.pattern);
    // (experts per layer) -> layers, in order of the experts count.
    std::vector<std::pair<Index, std::vector<Index>>> by_experts;
    for (std::size_t i = begin; i < end;) {
      std::size_t layer_end = i + 1;
      while (layer_end < end && instances[layer_end].layer == instances[i].layer) ++layer_end;
      const Index experts = per_expert ? static_cast<Index>(layer_end - i) : 0;
      for (std::size_t j = i; j < layer_end && per_expert; ++j) {
        if (instances[j].expert != static_cast<Index>(j - i)) {
          return make_error(ErrorCode::invalid_argument, "checkpoint")
                 << key.pattern << " in layer " << instances[i].layer << ": expert " << static_cast<Index>(j - i)
                 << " is missing (experts must be 0..E-1; found " << instances[j].expert << ")";
        }
      }
      auto found = detail::find_if(by_experts.begin(), by_experts.end(),
                                [experts](const auto& entry) { return entry.first == experts; });
      if (found == by_experts.end()) {
        by_experts.emplace_back(experts, std::vector<Index>{});
        found = by_experts.end() - 1;
      }
      if (instances[i].layer >= 0) found->second.push_back(instances[i].layer);
      i = layer_end;
    }
    for (auto& [experts, layers] : by_experts) {
      ParameterGroup group = base;
      group.experts = experts;
      group.layers = IntervalSet::from_indices(layers);
      out.groups.push_back(std::move(group));
    }
    begin = end;
  }
  {
    // Stably by group_rank: the positions sorted by (rank, position), then the groups moved into that order.
    std::vector<std::uint32_t> order(out.groups.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    detail::sort_range(order, [&out](std::uint32_t a, std::uint32_t b) {
      const auto rank_a = checkpoint_inventory_detail::group_rank(out.groups[a]);
      const auto rank_b = checkpoint_inventory_detail::group_rank(out.groups[b]);
      return rank_a != rank_b ? rank_a < rank_b : a < b;
    });
    std::vector<ParameterGroup> sorted;
    sorted.reserve(order.size());
    for (const std::uint32_t i : order) sorted.push_back(std::move(out.groups[i]));
    out.groups = std::move(sorted);
  }
  SHARDPLAN_CHECK(inventory_detail::checked_total(out.groups));
  return out;
}

/// Makes `config` read the checkpoint: sets config.checkpoint_groups to `inventory.groups`, after checking that
/// config.json and the checkpoint agree on the routed experts (field "num_experts": every per-expert group has
/// num_experts instances per layer). For a model_type without a family rule (family `other`), the figures the rules
/// need and config.json may name otherwise are taken from the tensors: num_experts from the per-expert groups,
/// intermediate_size from `mlp.gate_proj.weight` (or `mlp.up_proj.weight`), moe_intermediate_size from the experts'
/// `gate_proj.weight` / `w1.weight` ([out, in]: their dim 0); num_experts_per_tok must be in config.json.
[[nodiscard]] inline Status attach_checkpoint(ModelConfig& config, const CheckpointInventory& inventory) {
  if (inventory.groups.empty()) {
    return make_error(ErrorCode::invalid_argument, "checkpoint")
           << "holds no parameter tensor of the " << config.num_hidden_layers << " decoder layers or outside them";
  }
  const ParameterGroup* expert_group = nullptr;
  for (const ParameterGroup& group : inventory.groups) {
    if (group.experts == 0) continue;
    if (expert_group != nullptr && group.experts != expert_group->experts) {
      return make_error(ErrorCode::invalid_argument, "num_experts")
             << "the checkpoint has " << expert_group->experts << " experts per layer in " << expert_group->pattern
             << " and " << group.experts << " in " << group.pattern << " (one expert count per model)";
    }
    if (expert_group == nullptr) expert_group = &group;
  }
  const auto width_of = [&inventory](std::initializer_list<std::string_view> suffixes, bool experts) -> Index {
    for (const ParameterGroup& group : inventory.groups) {
      for (const std::string_view suffix : suffixes) {
        if ((group.experts > 0) == experts && group.pattern.view().ends_with(suffix) && group.shape.size() == 2) {
          return group.shape[0];
        }
      }
    }
    return 0;
  };
  if (config.family == ModelFamily::other) {
    if (config.num_experts == 0 && expert_group != nullptr) config.num_experts = expert_group->experts;
    if (config.intermediate_size == 0) config.intermediate_size = width_of({"mlp.gate_proj.weight", "mlp.up_proj.weight"}, false);
    if (config.moe_intermediate_size == 0) {
      config.moe_intermediate_size = width_of({".gate_proj.weight", ".w1.weight", ".up_proj.weight"}, true);
    }
    if (config.is_moe() && config.num_experts_per_tok == 0) {
      return make_error(ErrorCode::invalid_argument, "num_experts_per_tok")
             << "missing from config.json (the checkpoint has " << config.num_experts << " experts per layer)";
    }
    if (config.num_experts_per_tok > config.num_experts) {
      return make_error(ErrorCode::invalid_argument, "num_experts_per_tok")
             << "routes each token to " << config.num_experts_per_tok << " experts, but there are only "
             << config.num_experts;
    }
  }
  if (expert_group != nullptr && expert_group->experts != config.num_experts) {
    return make_error(ErrorCode::invalid_argument, "num_experts")
           << "config.json has " << config.num_experts << " routed experts but the checkpoint's "
           << expert_group->pattern << " has " << expert_group->experts << " per layer";
  }
  config.checkpoint_groups = inventory.groups;
  return Ok{};
}

}  // namespace shardplan
