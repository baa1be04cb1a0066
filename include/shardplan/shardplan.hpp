#pragma once
// Umbrella header: everything shardplan offers, except the {fmt} formatters (shardplan/fmt.hpp), file I/O
// (resharding/safetensors_file.hpp, model/checkpoint_files.hpp), the thread-safe plan cache
// (redistribution/plan_cache.hpp) and the planner's internals (redistribution/detail/): no <filesystem>, <fstream>,
// <iostream>, <thread> or <mutex> reaches a TU from here.
// Layers, lowest first:
//   core/    integer math, errors, interval sets, split policies, a JSON reader
//   mesh/    meshes, device orders
//   layout/  placements, layouts (per-rank index sets), shard order
//   llm/     fused and LLM-specific partitions: segmented dims, packings, vocab padding, experts, pipeline, groups
//   redistribution/  least-cost collective plans between two layouts on one mesh, their per-rank exchanges, and an
//            in-memory executor that proves them
//   resharding/  transfer maps between any two layouts, DCP chunks, byte ranges in row-major files, safetensors
//   model/   model configs and inventories (from a family rule or a checkpoint's own tensors), plans, validation,
//            sizing, what a rank reads of a checkpoint
#include "shardplan/core/cxx20.hpp"

#include "shardplan/version.hpp"

#include "shardplan/core/box.hpp"
#include "shardplan/core/box_text.hpp"
#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/dtype.hpp"
#include "shardplan/core/error.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/interval_set.hpp"
#include "shardplan/core/interval_set_text.hpp"
#include "shardplan/core/json.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/core/shape.hpp"
#include "shardplan/core/split_policy.hpp"
#include "shardplan/core/static_vector.hpp"
#include "shardplan/core/text_scanner.hpp"

#include "shardplan/mesh/axis_subset.hpp"
#include "shardplan/mesh/device_order.hpp"
#include "shardplan/mesh/mesh.hpp"
#include "shardplan/mesh/mesh_parse.hpp"

#include "shardplan/layout/dim_table.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/layout/layout_text.hpp"
#include "shardplan/layout/placement.hpp"
#include "shardplan/layout/placement_parse.hpp"
#include "shardplan/layout/shard_order.hpp"
#include "shardplan/layout/work_bound.hpp"

#include "shardplan/llm/expert_placement.hpp"
#include "shardplan/llm/kv_heads.hpp"
#include "shardplan/llm/megatron_groups.hpp"
#include "shardplan/llm/packing.hpp"
#include "shardplan/llm/parallel_dims.hpp"
#include "shardplan/llm/pipeline_split.hpp"
#include "shardplan/llm/rank_groups.hpp"
#include "shardplan/llm/segmented_dim.hpp"
#include "shardplan/llm/vocab_padding.hpp"

#include "shardplan/redistribution/budget.hpp"
#include "shardplan/redistribution/cost_model.hpp"
#include "shardplan/redistribution/cost_model_parse.hpp"
#include "shardplan/redistribution/exchange.hpp"
#include "shardplan/redistribution/executor.hpp"
#include "shardplan/redistribution/lower_bound.hpp"
#include "shardplan/redistribution/plan.hpp"
#include "shardplan/redistribution/planner.hpp"
#include "shardplan/redistribution/request_check.hpp"

#include "shardplan/resharding/byte_ranges.hpp"
#include "shardplan/resharding/chunk_list.hpp"
#include "shardplan/resharding/limits.hpp"
#include "shardplan/resharding/region_index.hpp"
#include "shardplan/resharding/safetensors.hpp"
#include "shardplan/resharding/shard_list.hpp"
#include "shardplan/resharding/transfer_map.hpp"

#include "shardplan/model/activations.hpp"
#include "shardplan/model/checkpoint.hpp"
#include "shardplan/model/checkpoint_index.hpp"
#include "shardplan/model/checkpoint_inventory.hpp"
#include "shardplan/model/checkpoint_load.hpp"
#include "shardplan/model/config.hpp"
#include "shardplan/model/config_json.hpp"
#include "shardplan/model/hf_plan_json.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/parallel.hpp"
#include "shardplan/model/parameter.hpp"
#include "shardplan/model/plan.hpp"
#include "shardplan/model/plan_groups.hpp"
#include "shardplan/model/plan_rules.hpp"
#include "shardplan/model/plan_style.hpp"
#include "shardplan/model/presets.hpp"
#include "shardplan/model/quantization.hpp"
#include "shardplan/model/rank_plan.hpp"
#include "shardplan/model/sharded_parameter.hpp"
#include "shardplan/model/sizing.hpp"
#include "shardplan/model/static_check.hpp"
#include "shardplan/model/user_plan.hpp"
#include "shardplan/model/validate.hpp"
