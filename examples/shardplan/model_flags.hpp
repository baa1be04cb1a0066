#pragma once
// The flags shared by `check`, `plan` and `size`: the model (a preset or a config.json path) and the parallel
// configuration. Each library error is blamed on the flag its field names.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "args.hpp"
#include "shardplan/llm/rank_groups.hpp"
#include "shardplan/model/checkpoint_files.hpp"
#include "shardplan/model/checkpoint_inventory.hpp"
#include "shardplan/model/config_json.hpp"
#include "shardplan/model/hf_plan_json.hpp"
#include "shardplan/model/presets.hpp"
#include "shardplan/model/rank_plan.hpp"
#include "shardplan/model/static_check.hpp"
#include "shardplan/model/user_plan.hpp"

namespace shardplan_cli {

inline constexpr FlagSpec kModelFlag{"--model", "PRESET|DIR|PATH",
                                     "a built-in model (shardplan models lists them), a model directory (config.json "
                                     "and its safetensors checkpoint) or a config.json path",
                                     true};
inline constexpr FlagSpec kModelTpFlag{"--tp", "N", "tensor-parallel size (default 1)"};
inline constexpr FlagSpec kModelEpFlag{"--ep", "N", "expert-parallel size (default 1; borrows dp*cp ranks)"};
inline constexpr FlagSpec kModelEtpFlag{"--etp", "N", "expert tensor-parallel size: 1 or tp (default tp)"};
inline constexpr FlagSpec kModelPpFlag{"--pp", "N", "pipeline stages (default 1)"};
inline constexpr FlagSpec kModelDpFlag{"--dp", "N",
                                      "data-parallel size (default: world / (tp*cp*pp) with --world, else 1; shards "
                                      "the optimizer state)"};
inline constexpr FlagSpec kModelCpFlag{"--cp", "N", "context-parallel size (default 1)"};
inline constexpr FlagSpec kWorldSizeFlag{"--world", "N",
                                        "world size tp*cp*dp*pp must equal (default: their product; without --dp, dp "
                                        "is inferred from it)"};
inline constexpr FlagSpec kKvPolicyFlag{"--kv-policy", "POLICY", "KV heads fewer than tp: forbid (default) or replicate"};
inline constexpr FlagSpec kVocabPadFlag{"--vocab-pad", "RULE", "vocabulary padding: none (default), vllm, megatron"};
inline constexpr FlagSpec kQuantFlag{"--quant", "QUANT",
                                     "override the checkpoint's quantization: none, fp8-block128, mxfp4, gptq128, "
                                     "fp8-tensor, fp8-channel"};
inline constexpr FlagSpec kExpertPolicyFlag{"--expert-policy", "POLICY",
                                            "experts over ep: even (default, HF) or balanced (vLLM, a warning)"};
inline constexpr FlagSpec kSeqFlag{"--seq", "N", "sequence length (enables the sequence rules and activations)"};
inline constexpr FlagSpec kBatchFlag{"--batch", "N", "micro-batch size (default 1)"};
inline constexpr FlagSpec kSpFlag{"--sp", "", "sequence parallelism (norms on sequence-sharded activations)"};
inline constexpr FlagSpec kDevicesPerHostFlag{"--devices-per-host", "N", "devices per host (default 8)"};
inline constexpr FlagSpec kPlanFileFlag{
    "--plan", "PATH",
    "a plan in HF's format ({\"layers.*.self_attn.q_proj\": \"colwise\", ...} or base_model_tp_plan/_ep_plan members) "
    "to use instead of the model's default plan"};
inline constexpr FlagSpec kEpPlanFlag{"--ep-plan", "MODE",
                                      "with --ep > 1: overlay (default, HF: TP plan with the EP plan on top) or replace "
                                      "(the EP plan alone, transformers 4.56-5.x)"};
inline constexpr FlagSpec kMicroBatchesFlag{"--micro-batches", "M",
                                            "micro-batches per step (default: enough to fill the pipeline, >= pp)"};
inline constexpr FlagSpec kVirtualStagesFlag{"--virtual-stages", "V",
                                             "model chunks per pipeline stage (default 1: 1F1B; > 1: interleaved)"};
inline constexpr FlagSpec kRecomputeFlag{"--recompute", "MODE",
                                         "activation recomputation: none (default), selective, full"};
inline constexpr FlagSpec kEagerAttentionFlag{"--eager-attention", "",
                                              "attention stores its softmax (default: flash attention, which does not)"};

inline constexpr FlagSpec kModelFlags[] = {kModelFlag,   kModelTpFlag,   kModelEpFlag,    kModelEtpFlag,
                                           kModelPpFlag, kModelDpFlag,   kModelCpFlag,    kWorldSizeFlag,
                                           kKvPolicyFlag, kVocabPadFlag, kQuantFlag,      kExpertPolicyFlag,
                                           kSeqFlag,     kBatchFlag,     kSpFlag,         kDevicesPerHostFlag,
                                           kPlanFileFlag, kEpPlanFlag,    kMicroBatchesFlag, kVirtualStagesFlag,
                                           kRecomputeFlag, kEagerAttentionFlag};

/// The largest config.json or plan file read: real ones are kilobytes; past this a path is a mistake (a checkpoint
/// shard, /dev/zero) and reading it would take minutes or all the memory.
inline constexpr std::uintmax_t kMaxConfigBytes = std::uintmax_t{16} << 20;

/// A config or plan file, whole. Refused before reading: a directory, anything but a regular file (a device, a
/// FIFO), and files past kMaxConfigBytes.
inline std::string read_file(std::string_view path, std::string_view flag) {
  const std::filesystem::path file_path{std::string(path)};
  std::error_code status;
  const auto type = std::filesystem::status(file_path, status).type();
  if (status || type == std::filesystem::file_type::not_found) {
    throw InputError(flag, "cannot read " + quote(path) + (status ? ": " + status.message() : std::string()));
  }
  if (type == std::filesystem::file_type::directory) {
    throw InputError(flag, quote(path) + " is a directory (give a file)");
  }
  if (type != std::filesystem::file_type::regular) throw InputError(flag, quote(path) + " is not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(file_path, status);
  if (status) throw InputError(flag, "cannot read " + quote(path) + ": " + status.message());
  if (size > kMaxConfigBytes) {
    throw InputError(flag, quote(path) + " is " + std::to_string(size) +
                               " bytes, past the limit of 16 MiB for a config or plan file");
  }
  std::ifstream file{file_path};
  if (!file) throw InputError(flag, "cannot read " + quote(path));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

/// A model read from --model: its config and, when --model is a directory holding a checkpoint, the checkpoint
/// (whose tensors are then the config's inventory: ModelConfig::checkpoint_groups).
struct ModelInput {
  shardplan::ModelConfig config;
  std::optional<shardplan::Checkpoint> checkpoint;
  shardplan::CheckpointInventory inventory;  // what the grouping counted and left out (empty without a checkpoint)
};

/// The model directory `dir`: config.json (read_file's limits) and the checkpoint beside it (headers only, their
/// sizes bounded before reading: model/checkpoint_files.hpp).
inline ModelInput read_model_directory(std::string_view dir) {
  const std::filesystem::path path{std::string(dir)};
  std::error_code status;
  if (!std::filesystem::exists(path / "config.json", status)) {
    throw InputError(kModelFlag.name, quote(dir) +
                                          " has no config.json (a model directory holds config.json and, optionally, "
                                          "its safetensors files)");
  }
  const std::string text = read_file((path / "config.json").string(), kModelFlag.name);
  ModelInput input;
  auto checkpoint = shardplan::read_checkpoint(path);
  if (!checkpoint.ok()) throw InputError(kModelFlag.name, std::string(dir) + ": " + checkpoint.error().what());
  input.checkpoint = std::move(checkpoint).value();
  // The directory's name, as the model's name ("DeepSeek-V3" for ".../DeepSeek-V3/").
  std::string name = path.lexically_normal().string();
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  name = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
  auto parsed = shardplan::model_config_from_json(text, name, input.checkpoint.has_value());
  if (!parsed.ok()) throw InputError(kModelFlag.name, std::string(dir) + "/config.json: " + parsed.error().what());
  input.config = std::move(parsed).value();
  if (input.checkpoint) {
    auto inventory = shardplan::checkpoint_inventory(*input.checkpoint, input.config.num_hidden_layers);
    if (!inventory.ok()) throw InputError(kModelFlag.name, std::string(dir) + ": " + inventory.error().what());
    input.inventory = std::move(inventory).value();
    if (const auto attached = shardplan::attach_checkpoint(input.config, input.inventory); !attached.ok()) {
      throw InputError(kModelFlag.name, std::string(dir) + ": " + attached.error().what());
    }
  }
  return input;
}

/// A preset by name, a model directory (config.json and its checkpoint), or a config.json read from a path
/// (anything else with a '/' or ending in ".json").
inline ModelInput read_model_input(const ParsedFlags& flags) {
  const std::string_view model = flags.require(kModelFlag.name);
  ModelInput input;
  std::error_code status;
  const bool looks_like_path = model.find('/') != std::string_view::npos || model.ends_with(".json");
  if (!looks_like_path && shardplan::model_preset(model).ok()) {
    input.config = shardplan::model_preset(model).value();
  } else if (std::filesystem::is_directory(std::filesystem::path{std::string(model)}, status)) {
    input = read_model_directory(model);
  } else if (!looks_like_path) {
    input.config = unwrap(shardplan::model_preset(model), kModelFlag.name);
  } else {
    const std::string text = read_file(model, kModelFlag.name);
    auto parsed = shardplan::model_config_from_json(text, model.substr(model.rfind('/') + 1));
    if (!parsed.ok()) throw InputError(kModelFlag.name, std::string(model) + ": " + parsed.error().what());
    input.config = std::move(parsed).value();
  }
  if (const auto quant = flags.get(kQuantFlag.name)) {
    input.config.quantization = unwrap(shardplan::parse_quantization(*quant), kQuantFlag.name);
  }
  return input;
}

/// The model's config (see read_model_input).
inline shardplan::ModelConfig read_model(const ParsedFlags& flags) { return std::move(read_model_input(flags).config); }

/// Sizes that do not multiply to --world are an input error here (the library reports them as the mesh rule).
inline void check_world(const shardplan::ParallelConfig& parallel) {
  if (parallel.world < 1) throw InputError(kWorldSizeFlag.name, "must be >= 1, got " + std::to_string(parallel.world));
  const Index sizes[] = {parallel.tp, parallel.cp, parallel.dp, parallel.pp};
  for (const Index size : sizes) {
    if (size < 1) return;  // reported by the library, per flag
  }
  const auto world = shardplan::checked_product(sizes);
  if (!world.ok()) return;  // reported by the library as an overflow of the world
  const Index product = *world;
  if (product != parallel.world) {
    throw InputError(kWorldSizeFlag.name, "tp*cp*dp*pp = " + std::to_string(parallel.tp) + "*" +
                                              std::to_string(parallel.cp) + "*" + std::to_string(parallel.dp) + "*" +
                                              std::to_string(parallel.pp) + " = " + std::to_string(product) +
                                              " but the world is " + std::to_string(parallel.world));
  }
}

/// dp from --world when --dp is not given: world / (tp*cp*pp), as Megatron-LM and torchtitan infer it (and as
/// `shardplan groups` does). Sizes < 1 are left to the library, which names their flag.
inline void infer_dp(shardplan::ParallelConfig& parallel) {
  if (parallel.world < 1) throw InputError(kWorldSizeFlag.name, "must be >= 1, got " + std::to_string(parallel.world));
  const shardplan::NamedSize others[] = {{"tp", parallel.tp}, {"cp", parallel.cp}, {"pp", parallel.pp}};
  for (const shardplan::NamedSize& size : others) {
    if (size.size < 1) return;
  }
  parallel.dp = unwrap(shardplan::infer_parallel_size(others, parallel.world, "dp"), kWorldSizeFlag.name);
}

inline shardplan::ParallelConfig read_parallel(const ParsedFlags& flags) {
  shardplan::ParallelConfig parallel;
  const auto read = [&flags](const FlagSpec& flag, Index& value) {
    if (const auto text = flags.get(flag.name)) value = parse_index(*text, flag.name);
  };
  const auto read_positive = [&flags, &read](const FlagSpec& flag, Index& value) {
    read(flag, value);
    if (flags.has(flag.name) && value < 1) throw InputError(flag.name, "must be >= 1, got " + std::to_string(value));
  };
  read(kModelTpFlag, parallel.tp);
  read(kModelEpFlag, parallel.ep);
  read_positive(kModelEtpFlag, parallel.etp);
  read(kModelPpFlag, parallel.pp);
  read(kModelDpFlag, parallel.dp);
  read(kModelCpFlag, parallel.cp);
  read(kWorldSizeFlag, parallel.world);
  read(kSeqFlag, parallel.seq);
  read(kBatchFlag, parallel.batch);
  read(kDevicesPerHostFlag, parallel.devices_per_host);
  read_positive(kMicroBatchesFlag, parallel.micro_batches);
  read_positive(kVirtualStagesFlag, parallel.virtual_stages);
  parallel.sequence_parallel = flags.has(kSpFlag.name);
  parallel.flash_attention = !flags.has(kEagerAttentionFlag.name);
  if (const auto text = flags.get(kRecomputeFlag.name)) {
    parallel.recompute = unwrap(shardplan::parse_recompute(*text), kRecomputeFlag.name);
  }
  if (const auto text = flags.get(kKvPolicyFlag.name)) {
    parallel.kv_policy = unwrap(shardplan::parse_short_segment_policy(*text), kKvPolicyFlag.name);
  }
  if (const auto text = flags.get(kVocabPadFlag.name)) {
    parallel.vocab_pad = unwrap(shardplan::parse_vocab_padding(*text), kVocabPadFlag.name);
  }
  if (const auto text = flags.get(kExpertPolicyFlag.name)) {
    parallel.expert_policy = unwrap(shardplan::parse_split_policy(*text), kExpertPolicyFlag.name);
    if (parallel.expert_policy == shardplan::SplitPolicy::chunk) {
      throw InputError(kExpertPolicyFlag.name, "experts split even or balanced, not chunk");
    }
  }
  if (flags.has(kWorldSizeFlag.name)) {
    if (flags.has(kModelDpFlag.name)) {
      check_world(parallel);
    } else {
      infer_dp(parallel);
    }
  }
  return parallel;
}

/// The plans of --plan (HF's format: a flat dict keeps the model's EP plan, as HF does), or the model's own.
inline shardplan::PlanSet read_plan_set(const ParsedFlags& flags, const shardplan::ModelConfig& config) {
  const auto path = flags.get(kPlanFileFlag.name);
  if (!path) return shardplan::default_plan_set(config.family);
  const std::string text = read_file(*path, kPlanFileFlag.name);
  const shardplan::Inventory inventory = unwrap(shardplan::parameter_inventory(config), kModelFlag.name);
  auto plans = shardplan::plan_set_from_json(text, inventory, shardplan::default_ep_plan(config.family), "plan");
  if (!plans.ok()) throw InputError(kPlanFileFlag.name, plans.error().what());
  return std::move(plans).value();
}

/// The plan --plan and --ep-plan give for this layout (HF's combination of the TP, EP and SP plans), or nullopt for
/// the model's default plan.
inline std::optional<shardplan::Plan> read_plan(const ParsedFlags& flags, const shardplan::ModelConfig& config) {
  if (!flags.has(kPlanFileFlag.name) && !flags.has(kEpPlanFlag.name)) return std::nullopt;
  shardplan::EpPlanMode mode = shardplan::EpPlanMode::overlay;
  if (const auto text = flags.get(kEpPlanFlag.name)) mode = unwrap(shardplan::parse_ep_plan_mode(*text), kEpPlanFlag.name);
  const shardplan::ParallelConfig parallel = read_parallel(flags);
  return shardplan::combine_plans(read_plan_set(flags, config), parallel.ep > 1, parallel.sequence_parallel, mode);
}

/// Bad sizes reported by the library (field "tp", "seq", ...) blamed on their flags.
template <class T>
T unwrap_model_result(shardplan::Result<T> result) {
  if (!result.ok()) {
    throw blame_field(result.error(),
                      {kModelTpFlag.name, kModelEpFlag.name, kModelEtpFlag.name, kModelPpFlag.name, kModelDpFlag.name,
                       kModelCpFlag.name, kWorldSizeFlag.name, kSeqFlag.name, kBatchFlag.name,
                       kDevicesPerHostFlag.name, kMicroBatchesFlag.name, kVirtualStagesFlag.name},
                      kModelFlag.name);
  }
  return std::move(result).value();
}

}  // namespace shardplan_cli
