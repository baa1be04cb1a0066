// Checkpoints read as models: the index reader (exact values, every error naming its field), assembling headers with
// their index (and each way they can disagree), the checkpoint's tensors grouped into an inventory that equals the
// family rule's group for group (fp8 scales, mxfp4 blocks, DeepSeek's MTP layer left out), a model_type without a
// family rule checked and sized from its tensors, and the byte ranges one rank reads (rank_load).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/checkpoint_builder.hpp"
#include "shardplan/model/checkpoint_index.hpp"
#include "shardplan/model/checkpoint_inventory.hpp"
#include "shardplan/model/checkpoint_load.hpp"
#include "shardplan/model/config_json.hpp"
#include "shardplan/model/presets.hpp"
#include "shardplan/model/sizing.hpp"

namespace shardplan {
namespace {

using testing_support::fake_checkpoint;
using testing_support::small_deepseek;
using testing_support::small_gpt_oss;
using testing_support::small_llama;
using testing_support::FakeCheckpoint;
using testing_support::parsed_files;

std::string error_text(const Error& error) { return error.what(); }

template <class T>
std::string error_of(const Result<T>& result) {
  return result.ok() ? std::string("(no error)") : error_text(result.error());
}

Checkpoint assembled(const FakeCheckpoint& fake, bool with_index = true) {
  std::optional<CheckpointIndex> index;
  if (with_index) index = read_checkpoint_index(fake.index_json()).value();
  auto checkpoint = assemble_checkpoint(std::move(index), parsed_files(fake));
  EXPECT_TRUE(checkpoint.ok()) << error_of(checkpoint);
  return std::move(checkpoint).value();
}

/// Every group of `expected` is in `actual` with the same shape, layers, experts, quantized flag and input dim.
void expect_same_groups(const Inventory& actual, const Inventory& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  for (const ParameterGroup& want : expected) {
    const ParameterGroup* got = find_group(actual, want.pattern.view());
    ASSERT_NE(got, nullptr) << want.pattern.view();
    EXPECT_EQ(got->shape, want.shape) << want.pattern.view();
    EXPECT_EQ(got->layers, want.layers) << want.pattern.view();
    EXPECT_EQ(got->experts, want.experts) << want.pattern.view();
    EXPECT_EQ(got->quantized, want.quantized) << want.pattern.view();
    EXPECT_EQ(got->input_dim, want.input_dim) << want.pattern.view();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The index

TEST(CheckpointIndex, ReadsTheMapSortedAndTheFiles) {
  const auto index = read_checkpoint_index(R"({"metadata": {"total_size": 16060522496, "total_parameters": 8030261248},
    "weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors",
                   "lm_head.weight": "model-00002-of-00002.safetensors",
                   "model.embed_tokens.weight": "model-00001-of-00002.safetensors"}})");
  ASSERT_TRUE(index.ok()) << error_of(index);
  ASSERT_EQ(index->weight_map.size(), 3U);
  EXPECT_EQ(index->files, (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                                    "model-00002-of-00002.safetensors"}));
  // In the index's order, each with its file's number in `files`.
  EXPECT_EQ(index->weight_map[0], (std::pair<std::string, std::uint32_t>{"model.norm.weight", 1}));
  EXPECT_EQ(index->weight_map[1], (std::pair<std::string, std::uint32_t>{"lm_head.weight", 1}));
  EXPECT_EQ(index->weight_map[2], (std::pair<std::string, std::uint32_t>{"model.embed_tokens.weight", 0}));
  EXPECT_EQ(index->total_size, 16060522496);
  ASSERT_NE(index->file_of("lm_head.weight"), nullptr);
  EXPECT_EQ(*index->file_of("lm_head.weight"), "model-00002-of-00002.safetensors");
  EXPECT_EQ(index->file_of("lm_head"), nullptr);
}

TEST(CheckpointIndex, EscapesAndOtherValuesTakeTheGeneralReader) {
  // An escaped name, a non-ASCII one, a float in metadata, pretty-printed: the same index either way.
  const auto index = read_checkpoint_index(
      "{\n  \"metadata\": {\"total_size\": 10, \"ratio\": 0.5, \"note\": \"caf\u00e9\"},\n"
      "  \"weight_map\": {\"a\\\"b\": \"x.safetensors\", \"\xc3\xa9\": \"y.safetensors\"}\n}");
  ASSERT_TRUE(index.ok()) << error_of(index);
  EXPECT_EQ(index->total_size, 10);
  ASSERT_EQ(index->weight_map.size(), 2U);
  EXPECT_EQ(index->weight_map[0].first, "a\"b");
  EXPECT_EQ(index->weight_map[1].first, "\xc3\xa9");
  ASSERT_NE(index->file_of("\xc3\xa9"), nullptr);
  EXPECT_EQ(*index->file_of("\xc3\xa9"), "y.safetensors");
  // Top-level keys besides metadata and weight_map are ignored.
  EXPECT_TRUE(read_checkpoint_index(R"({"format": "pt", "weight_map": {"a": "x.safetensors"}})").ok());
}

TEST(CheckpointIndex, MetadataIsOptional) {
  const auto index = read_checkpoint_index(R"({"weight_map": {"a": "x.safetensors"}})");
  ASSERT_TRUE(index.ok()) << error_of(index);
  EXPECT_FALSE(index->total_size.has_value());
  EXPECT_TRUE(read_checkpoint_index(R"({"metadata": null, "weight_map": {"a": "x.safetensors"}})").ok());
  EXPECT_TRUE(read_checkpoint_index(R"({"metadata": {}, "weight_map": {"a": "x.safetensors"}})").ok());
}

TEST(CheckpointIndex, ErrorsNameTheField) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "model.safetensors.index.json: line 1, column 1: expected a value, found end of input"},
      {"[]", "model.safetensors.index.json: expected an object, got an array"},
      {"{}", "weight_map: missing (the tensor -> file map of the index)"},
      {R"({"weight_map": []})", "weight_map: expected an object of tensor name -> file name, got an array"},
      {R"({"weight_map": {}})", "weight_map: is empty: the index names no tensor"},
      {R"({"weight_map": {"model.norm.weight": 3}})", "weight_map.model.norm.weight: expected a file name, got 3"},
      {R"({"weight_map": {"a": "../x.safetensors"}})",
       "weight_map.a: file '../x.safetensors' has a directory part (the index names files beside it)"},
      {R"({"weight_map": {"a": ".."}})", "weight_map.a: file '..' is not a file name"},
      {R"({"weight_map": {"a": ""}})", "weight_map.a: file '' is empty"},
      {R"({"weight_map": {"a": "x.bin"}})", "weight_map.a: file 'x.bin' does not end in .safetensors"},
      {R"({"metadata": 3, "weight_map": {"a": "x.safetensors"}})", "metadata: expected an object, got 3"},
      {R"({"metadata": {"total_size": -1}, "weight_map": {"a": "x.safetensors"}})",
       "metadata.total_size: expected a byte count (an integer >= 0), got -1"},
      {R"({"metadata": {"total_size": 1.5}, "weight_map": {"a": "x.safetensors"}})",
       "metadata.total_size: expected a byte count (an integer >= 0), got 1.5"},
      {R"({"metadata": {"total_size": 99999999999999999999}, "weight_map": {"a": "x.safetensors"}})",
       "metadata.total_size: integer 99999999999999999999 does not fit in int64"},
      {R"({"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}})",
       "model.safetensors.index.json: line 1, column 39: duplicate key \"a\" in an object (first at line 1, column 17)"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(error_of(read_checkpoint_index(text)), message) << text;
  // A long tensor name is cut in the field (an Error's field holds 48 bytes).
  const std::string long_name(60, 'x');
  EXPECT_EQ(error_of(read_checkpoint_index("{\"weight_map\": {\"" + long_name + "\": 1}}")),
            "weight_map." + std::string(34, 'x') + "...: expected a file name, got 1");
}

// ---------------------------------------------------------------------------------------------------------------
// Assembling headers and index

TEST(Checkpoint, FindsEveryTensorInItsFile) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 2);
  const Checkpoint checkpoint = assembled(fake);
  EXPECT_EQ(checkpoint.files().size(), 2U);
  EXPECT_EQ(checkpoint.tensor_count(), 2 + 2 * 9 + 1);  // embed, lm_head, norm; 9 per layer
  const CheckpointTensor q = checkpoint.find("model.layers.1.self_attn.q_proj.weight");
  ASSERT_NE(q.tensor, nullptr);
  EXPECT_EQ(q.file->name, "model-00002-of-00002.safetensors");
  EXPECT_EQ(q.tensor->shape, (Shape{256, 256}));
  EXPECT_EQ(checkpoint.find("model.layers.2.self_attn.q_proj.weight").tensor, nullptr);
  // Data bytes: embed and lm_head 1000 x 256, norms 256 x 5, per layer 4 x 256^2-ish projections and the MLP.
  const Index per_layer = (256 * 256 + 128 * 256 * 2 + 256 * 256 + 3 * 512 * 256) * 2;
  EXPECT_EQ(checkpoint.data_bytes(), 2 * 1000 * 256 * 2 + 256 * 2 + 2 * (per_layer + 2 * 256 * 2));
}

TEST(Checkpoint, DisagreementsWithTheIndexAreErrors) {
  const FakeCheckpoint fake = fake_checkpoint(small_llama(), 2);
  const auto index = [&fake](const std::string& edit_from, const std::string& edit_to) {
    std::string json = fake.index_json();
    json.replace(json.find(edit_from), edit_from.size(), edit_to);
    return read_checkpoint_index(json).value();
  };
  // A tensor the index places in the other file.
  EXPECT_EQ(error_of(assemble_checkpoint(index("\"lm_head.weight\": \"model-00001-of-00002.safetensors\"",
                                               "\"lm_head.weight\": \"model-00002-of-00002.safetensors\""),
                                         parsed_files(fake))),
            "checkpoint: tensor 'lm_head.weight' is in model-00001-of-00002.safetensors but the index places it in "
            "model-00002-of-00002.safetensors");
  // A tensor the index does not list.
  EXPECT_EQ(error_of(assemble_checkpoint(index("\"lm_head.weight\"", "\"lm_head.weight.old\""), parsed_files(fake))),
            "checkpoint: tensor 'lm_head.weight' of model-00001-of-00002.safetensors is not in the index's weight_map");
  // A tensor the index lists that no header holds.
  EXPECT_EQ(error_of(assemble_checkpoint(index("{\"model.", "{\"extra.weight\": \"model-00002-of-00002.safetensors\", "
                                                            "\"model."),
                                         parsed_files(fake))),
            "checkpoint: the index places tensor 'extra.weight' in model-00002-of-00002.safetensors, whose header "
            "does not hold it");
  // A file the index does not name.
  std::vector<CheckpointFile> files = parsed_files(fake);
  files[1].name = "stray.safetensors";
  EXPECT_EQ(error_of(assemble_checkpoint(read_checkpoint_index(fake.index_json()).value(), std::move(files))),
            "checkpoint: file stray.safetensors is not named by the index");
  // The same tensor in two files (no index to say which).
  FakeCheckpoint twice = fake;
  twice.files["model-00002-of-00002.safetensors"].push_back({"lm_head.weight", "BF16", Shape{2}});
  EXPECT_EQ(error_of(assemble_checkpoint(std::nullopt, parsed_files(twice))),
            "checkpoint: tensor 'lm_head.weight' is in both model-00001-of-00002.safetensors and "
            "model-00002-of-00002.safetensors");
  EXPECT_EQ(error_of(assemble_checkpoint(std::nullopt, {})), "checkpoint: has no safetensors file");
}

// ---------------------------------------------------------------------------------------------------------------
// Grouping into an inventory

TEST(CheckpointInventory, Fp8DeepSeekEqualsTheFamilyRuleAndLeavesOutTheMtpLayer) {
  const ModelConfig config = small_deepseek();
  // Layer 4 of a 4-layer model: DeepSeek-V3's checkpoint holds its MTP module there.
  const FakeCheckpoint fake = fake_checkpoint(config, 3,
                                              {{"model.layers.4.eh_proj.weight", "BF16", Shape{7168, 14336}},
                                               {"model.layers.4.enorm.weight", "BF16", Shape{7168}}});
  const Checkpoint checkpoint = assembled(fake);
  const auto inventory = checkpoint_inventory(checkpoint, config.num_hidden_layers);
  ASSERT_TRUE(inventory.ok()) << error_of(inventory);
  const Inventory family = parameter_inventory(config).value();
  expect_same_groups(inventory->groups, family);
  EXPECT_EQ(total_parameters(inventory->groups), total_parameters(family));
  EXPECT_EQ(total_parameters(family), 4'187'470'872);
  EXPECT_EQ(inventory->beyond_layers, 2);
  EXPECT_EQ(inventory->first_beyond, "model.layers.4.eh_proj.weight");
  // Every projection has a weight_scale_inv: 7 attention projections... counted per tensor.
  Index quantized_tensors = 0;
  for (const ParameterGroup& group : family) {
    if (group.quantized) quantized_tensors += group.instances();
  }
  EXPECT_EQ(inventory->scale_tensors, quantized_tensors);
  EXPECT_EQ(inventory->parameter_tensors, checkpoint.tensor_count() - quantized_tensors);
  // dtypes as stored: fp8 projections 1 byte, the rest bf16.
  EXPECT_EQ(find_group(inventory->groups, "model.layers.*.self_attn.q_b_proj.weight")->dtype_bytes, 1);
  EXPECT_EQ(find_group(inventory->groups, "model.layers.*.mlp.gate.weight")->dtype_bytes, 2);
  // The groups come embeddings first, layers in order, then the final norm (ordered by first layer, then name).
  EXPECT_EQ(inventory->groups.front().pattern.view(), "model.embed_tokens.weight");
  EXPECT_EQ(inventory->groups.back().pattern.view(), "model.norm.weight");
}

TEST(CheckpointInventory, SizesEqualTheFamilyRuleRankByRank) {
  ModelConfig config = small_deepseek();
  const Checkpoint checkpoint = assembled(fake_checkpoint(config, 2));
  ModelConfig from_checkpoint = config;
  ASSERT_TRUE(attach_checkpoint(from_checkpoint, checkpoint_inventory(checkpoint, 4).value()).ok());
  ParallelConfig parallel;
  parallel.tp = 2;
  parallel.ep = 2;
  parallel.dp = 2;
  parallel.pp = 2;
  const SizeReport family = size_plan(config, parallel).value();
  const SizeReport read = size_plan(from_checkpoint, parallel).value();
  EXPECT_EQ(read.total_params, family.total_params);
  for (Index stage = 0; stage < 2; ++stage) {
    for (Index tp_rank = 0; tp_rank < 2; ++tp_rank) {
      for (Index ep_rank = 0; ep_rank < 2; ++ep_rank) {
        const RankMemory* from_file = read.find(stage, tp_rank, ep_rank);
        const RankMemory* from_family = family.find(stage, tp_rank, ep_rank);
        ASSERT_NE(from_file, nullptr);
        ASSERT_NE(from_family, nullptr);
        EXPECT_EQ(from_file->params, from_family->params) << stage << tp_rank << ep_rank;
        EXPECT_EQ(from_file->params_bytes, from_family->params_bytes) << stage << tp_rank << ep_rank;
      }
    }
  }
  EXPECT_EQ(validate_model_plan(from_checkpoint, parallel)->valid(), validate_model_plan(config, parallel)->valid());
}

TEST(CheckpointInventory, StoredDtypesAreSizedAsStored) {
  // An f32 router in an otherwise bf16 checkpoint: 4 bytes each, where the family rule assumes the model's 2.
  ModelConfig config = small_llama();
  FakeCheckpoint fake = fake_checkpoint(config, 1);
  for (SafetensorsEntry& entry : fake.files.begin()->second) {
    if (entry.name == "model.norm.weight") entry.dtype = "F32";
  }
  const Checkpoint checkpoint = assembled(fake);
  ModelConfig read = config;
  ASSERT_TRUE(attach_checkpoint(read, checkpoint_inventory(checkpoint, 2).value()).ok());
  const SizeReport family = size_plan(config, ParallelConfig{}).value();
  const SizeReport sized = size_plan(read, ParallelConfig{}).value();
  EXPECT_EQ(sized.find(0, 0, 0)->params_bytes - family.find(0, 0, 0)->params_bytes, 256 * 2);
}

TEST(CheckpointInventory, Mxfp4BlocksAreTheDequantizedExperts) {
  const ModelConfig config = small_gpt_oss();
  const Checkpoint checkpoint = assembled(fake_checkpoint(config, 1), false);
  const auto inventory = checkpoint_inventory(checkpoint, config.num_hidden_layers);
  ASSERT_TRUE(inventory.ok()) << error_of(inventory);
  expect_same_groups(inventory->groups, parameter_inventory(config).value());
  const ParameterGroup* gate_up = find_group(inventory->groups, "model.layers.*.mlp.experts.gate_up_proj");
  ASSERT_NE(gate_up, nullptr);
  EXPECT_EQ(gate_up->shape, (Shape{4, 2880, 5760}));
  EXPECT_EQ(gate_up->dtype_bytes, 0);  // dequantized into the model's dtype
  EXPECT_EQ(inventory->scale_tensors, 4);  // gate_up and down scales of 2 layers
  EXPECT_EQ(total_parameters(inventory->groups), parameter_count(config).value());
}

TEST(CheckpointInventory, ExpertsAreGroupedOverLayersAndMustBeComplete) {
  ModelConfig config = model_preset("qwen3-30b-a3b").value();
  config.num_hidden_layers = 3;
  config.num_experts = 4;
  config.num_experts_per_tok = 2;
  FakeCheckpoint fake = fake_checkpoint(config, 1);
  {
    const auto inventory = checkpoint_inventory(assembled(fake, false), 3);
    ASSERT_TRUE(inventory.ok()) << error_of(inventory);
    const ParameterGroup* gate = find_group(inventory->groups, "model.layers.*.mlp.experts.*.gate_proj.weight");
    ASSERT_NE(gate, nullptr);
    EXPECT_EQ(gate->experts, 4);
    EXPECT_EQ(gate->layers, IntervalSet::range(0, 3));
    EXPECT_EQ(inventory->groups.size(), parameter_inventory(config)->size());
  }
  std::vector<SafetensorsEntry>& tensors = fake.files.begin()->second;
  const auto erase = [&tensors](std::string_view name) {
    tensors.erase(std::find_if(tensors.begin(), tensors.end(),
                               [name](const SafetensorsEntry& entry) { return entry.name == name; }));
  };
  FakeCheckpoint last_missing = fake;
  erase("model.layers.1.mlp.experts.1.up_proj.weight");
  EXPECT_EQ(error_of(checkpoint_inventory(assembled(fake, false), 3)),
            "checkpoint: model.layers.*.mlp.experts.*.up_proj.weight in layer 1: expert 1 is missing (experts must be "
            "0..E-1; found 2)");
  // Fewer experts in one layer (the last ones gone): a group of its own, which attach_checkpoint refuses.
  std::vector<SafetensorsEntry>& all = last_missing.files.begin()->second;
  all.erase(std::remove_if(all.begin(), all.end(),
                           [](const SafetensorsEntry& entry) {
                             return entry.name.starts_with("model.layers.2.mlp.experts.3.");
                           }),
            all.end());
  const CheckpointInventory uneven = checkpoint_inventory(assembled(last_missing, false), 3).value();
  EXPECT_EQ(uneven.groups.size(), parameter_inventory(config)->size() + 3);
  ModelConfig attached = config;
  EXPECT_EQ(error_text(attach_checkpoint(attached, uneven).error()),
            "num_experts: the checkpoint has 4 experts per layer in model.layers.*.mlp.experts.*.down_proj.weight and "
            "3 in model.layers.*.mlp.experts.*.down_proj.weight (one expert count per model)");
  // config.json and the checkpoint disagree on the experts.
  ModelConfig more = config;
  more.num_experts = 16;
  EXPECT_EQ(error_text(attach_checkpoint(more, checkpoint_inventory(assembled(fake_checkpoint(config, 1), false), 3)
                                                    .value())
                           .error()),
            "num_experts: config.json has 16 routed experts but the checkpoint's "
            "model.layers.*.mlp.experts.*.down_proj.weight has 4 per layer");
}

TEST(CheckpointInventory, NamesItCannotReadAreErrors) {
  const auto inventory_of = [](std::vector<SafetensorsEntry> tensors) {
    FakeCheckpoint fake;
    fake.files["model.safetensors"] = std::move(tensors);
    return checkpoint_inventory(assembled(fake, false), 4);
  };
  EXPECT_EQ(error_of(inventory_of({{"model.layers.0.a.1.b.2.weight", "BF16", Shape{2}}})),
            "model.layers.0.a.1.b.2.weight: has a third number in its name: only a layer and an expert index are "
            "read");
  EXPECT_EQ(error_of(inventory_of({{"model.layers.01.weight", "BF16", Shape{2}}})),
            "model.layers.01.weight: index '01' is not a layer or expert number (leading zero or > 9 digits)");
  EXPECT_EQ(error_of(inventory_of({{"model.layers.0.q_proj.qweight", "I32", Shape{2, 2}}})),
            "model.layers.0.q_proj.qweight: GPTQ/AWQ packed weights are not read from a checkpoint (give config.json "
            "alone to size them)");
  EXPECT_EQ(error_of(inventory_of({{"x_blocks", "U8", Shape{2, 16}}})),
            "x_blocks: mxfp4 blocks need [..., out, groups, bytes], got [2, 16]");
  // Only scales: no parameter at all.
  ModelConfig config = small_llama();
  EXPECT_EQ(error_text(attach_checkpoint(config, inventory_of({{"a.weight_scale", "F32", Shape{}}}).value()).error()),
            "checkpoint: holds no parameter tensor of the 2 decoder layers or outside them");
}

// ---------------------------------------------------------------------------------------------------------------
// A model_type without a family rule

constexpr std::string_view kMysteryConfig = R"({"model_type": "mystery_lm", "hidden_size": 256,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
  "intermediate_size": 512, "vocab_size": 1000})";

TEST(CheckpointInventory, UnknownModelTypeNeedsTheCheckpoint) {
  EXPECT_EQ(error_of(model_config_from_json(kMysteryConfig)),
            "model_type: unknown 'mystery_lm' (known: llama, mistral, qwen2, qwen3, mixtral, qwen3_moe, gpt_oss, "
            "deepseek_v3, gemma2, gemma3_text, phi3, qwen2_moe, deepseek_v2, glm4_moe, olmo2, granite, cohere2)");
  ModelConfig config = model_config_from_json(kMysteryConfig, "config.json", true).value();
  EXPECT_EQ(config.family, ModelFamily::other);
  EXPECT_EQ(to_string(config.family), "other");
  EXPECT_EQ(error_of(parameter_inventory(config)),
            "model_type: no family rule for this model_type: its parameters can only come from a checkpoint's "
            "tensors");
  // Its checkpoint has llama's names: the default plan (llama's keys) matches them.
  const Checkpoint checkpoint = assembled(fake_checkpoint(small_llama(), 2));
  ASSERT_TRUE(attach_checkpoint(config, checkpoint_inventory(checkpoint, 2).value()).ok());
  EXPECT_EQ(parameter_count(config).value(), parameter_count(small_llama()).value());
  ParallelConfig parallel;
  parallel.tp = 2;
  EXPECT_TRUE(validate_model_plan(config, parallel)->valid());
  parallel.tp = 4;  // 2 KV heads
  const PlanReport invalid = validate_model_plan(config, parallel).value();
  ASSERT_FALSE(invalid.valid());
  EXPECT_TRUE(invalid.has_error(Rule::kv_heads));
  EXPECT_EQ(invalid.valid_tp, (std::vector<Index>{1, 2}));
  EXPECT_EQ(size_plan(config, parallel)->total_params, parameter_count(small_llama()).value());
}

TEST(CheckpointInventory, UnknownMoeTypeTakesItsFiguresFromTheTensors) {
  ModelConfig qwen = model_preset("qwen3-30b-a3b").value();
  qwen.num_hidden_layers = 2;
  qwen.num_experts = 4;
  qwen.num_experts_per_tok = 2;
  const Checkpoint checkpoint = assembled(fake_checkpoint(qwen, 1));
  const std::string text = R"({"model_type": "mystery_moe", "hidden_size": 2048, "num_hidden_layers": 2,
    "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "vocab_size": 151936})";
  ModelConfig config = model_config_from_json(text, "config.json", true).value();
  EXPECT_EQ(error_text(attach_checkpoint(config, checkpoint_inventory(checkpoint, 2).value()).error()),
            "num_experts_per_tok: missing from config.json (the checkpoint has 4 experts per layer)");
  config = model_config_from_json(text.substr(0, text.size() - 1) + R"(, "num_experts_per_tok": 2})", "config.json",
                                  true)
               .value();
  ASSERT_TRUE(attach_checkpoint(config, checkpoint_inventory(checkpoint, 2).value()).ok());
  EXPECT_EQ(config.num_experts, 4);
  EXPECT_EQ(config.moe_intermediate_size, 768);
  EXPECT_EQ(parameter_count(config).value(), parameter_count(qwen).value());
}

// ---------------------------------------------------------------------------------------------------------------
// What a rank reads

TEST(RankLoad, ColumnAndRowSplitsOfAPlainCheckpoint) {
  ModelConfig config = small_llama();
  const Checkpoint checkpoint = assembled(fake_checkpoint(config, 1), false);
  ASSERT_TRUE(attach_checkpoint(config, checkpoint_inventory(checkpoint, 2).value()).ok());
  ParallelConfig parallel;
  parallel.tp = 2;
  const RankLoad load = rank_load(config, checkpoint, parallel, 1).value();
  EXPECT_EQ(load.parameters, 2 * 9 + 3);
  EXPECT_EQ(load.tensors.size(), 21U);
  const auto find = [&load](std::string_view name) -> const LoadedTensor& {
    for (const LoadedTensor& tensor : load.tensors) {
      if (tensor.tensor->name == name) return tensor;
    }
    ADD_FAILURE() << name;
    return load.tensors.front();
  };
  // q_proj colwise: rows 128..255 of [256, 256] bf16: one read.
  const LoadedTensor& q = find("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(q.local_shape, (Shape{128, 256}));
  EXPECT_EQ(q.reads.reads, 1);
  EXPECT_EQ(q.reads.bytes_needed, 128 * 256 * 2);
  ASSERT_EQ(q.reads.listed.size(), 1U);
  EXPECT_EQ(q.reads.listed[0], (ByteRange{q.tensor->file_offset + 128 * 512, 128 * 512}));
  // o_proj rowwise: columns 128..255 of every row: 256 reads of 256 bytes, 512 apart; 16 listed.
  const LoadedTensor& o = find("model.layers.1.self_attn.o_proj.weight");
  EXPECT_EQ(o.local_shape, (Shape{256, 128}));
  EXPECT_EQ(o.reads.reads, 256);
  EXPECT_EQ(o.reads.length, 256);
  EXPECT_EQ(o.reads.stride, 512);
  EXPECT_EQ(o.reads.listed.size(), 16U);
  EXPECT_EQ(o.reads.listed[1], (ByteRange{o.tensor->file_offset + 512 + 256, 256}));
  // The embedding splits the vocabulary: rows 500..999.
  const LoadedTensor& embed = find("model.embed_tokens.weight");
  EXPECT_EQ(embed.reads.listed[0], (ByteRange{embed.tensor->file_offset + 500 * 512, 500 * 512}));
  // Totals: half of every split tensor, all of the norms.
  const Index split = (1000 * 256 * 2 + 2 * (256 * 256 + 2 * 128 * 256 + 256 * 256 + 3 * 512 * 256)) * 2 / 2;
  EXPECT_EQ(load.bytes_needed, split + (2 * 2 + 1) * 256 * 2);
  EXPECT_EQ(load.bytes_read, load.bytes_needed);
  EXPECT_EQ(load.files, 1);
  EXPECT_DOUBLE_EQ(load.read_amplification(), 1.0);
  // Bridging the 256-byte gaps: o_proj becomes one read of 255 * 512 + 256 bytes.
  const RankLoad bridged = rank_load(config, checkpoint, parallel, 1, nullptr, 256).value();
  for (const LoadedTensor& tensor : bridged.tensors) {
    if (tensor.tensor->name != "model.layers.1.self_attn.o_proj.weight") continue;
    EXPECT_EQ(tensor.reads.reads, 1);
    EXPECT_EQ(tensor.reads.bytes_read, 255 * 512 + 256);
  }
  EXPECT_GT(bridged.read_amplification(), 1.0);
  EXPECT_EQ(error_of(rank_load(config, checkpoint, parallel, 2)),
            "rank: rank 2 is outside a world of 2 ranks (valid: 0..1)");
}

TEST(RankLoad, Fp8ScalesAreCutBlockByBlock) {
  ModelConfig config = small_deepseek();
  const Checkpoint checkpoint = assembled(fake_checkpoint(config, 2));
  ASSERT_TRUE(attach_checkpoint(config, checkpoint_inventory(checkpoint, 4).value()).ok());
  ParallelConfig parallel;
  parallel.tp = 2;
  const RankLoad load = rank_load(config, checkpoint, parallel, 1).value();
  bool seen = false;
  for (std::size_t i = 0; i + 1 < load.tensors.size(); ++i) {
    if (load.tensors[i].tensor->name != "model.layers.2.self_attn.q_b_proj.weight") continue;
    seen = true;
    const LoadedTensor& scale = load.tensors[i + 1];
    EXPECT_EQ(scale.tensor->name, "model.layers.2.self_attn.q_b_proj.weight_scale_inv");
    EXPECT_TRUE(scale.scale);
    // [24576, 1536] rows 12288.. -> scale [192, 12] rows 96..191: one read of 96 * 12 * 4 bytes.
    EXPECT_EQ(scale.local_shape, (Shape{96, 12}));
    EXPECT_EQ(scale.reads.listed[0], (ByteRange{scale.tensor->file_offset + 96 * 48, 96 * 48}));
  }
  EXPECT_TRUE(seen);
  // The routed experts of the 3 MoE layers: 8 experts x 3 projections x (weight + scale).
  Index expert_tensors = 0;
  for (const LoadedTensor& tensor : load.tensors) expert_tensors += tensor.tensor->name.find(".experts.") != std::string::npos;
  EXPECT_EQ(expert_tensors, 3 * 8 * 3 * 2);
}

TEST(RankLoad, Mxfp4ExpertsUnderExpertParallelism) {
  ModelConfig config = small_gpt_oss();
  const Checkpoint checkpoint = assembled(fake_checkpoint(config, 1), false);
  ASSERT_TRUE(attach_checkpoint(config, checkpoint_inventory(checkpoint, 2).value()).ok());
  ParallelConfig parallel;
  parallel.ep = 2;
  parallel.dp = 2;
  const RankLoad load = rank_load(config, checkpoint, parallel, 1).value();
  for (std::size_t i = 0; i < load.tensors.size(); ++i) {
    const LoadedTensor& tensor = load.tensors[i];
    if (tensor.tensor->name != "model.layers.0.mlp.experts.gate_up_proj_blocks") continue;
    // Experts 2 and 3 of [4, 5760, 90, 16]: one read of the second half.
    EXPECT_EQ(tensor.local_shape, (Shape{2, 5760, 90, 16}));
    EXPECT_EQ(tensor.reads.listed, (std::vector<ByteRange>{{tensor.tensor->file_offset + 2 * 5760 * 1440, 2 * 5760 * 1440}}));
    const LoadedTensor& scales = load.tensors[i + 1];
    EXPECT_EQ(scales.tensor->name, "model.layers.0.mlp.experts.gate_up_proj_scales");
    EXPECT_EQ(scales.local_shape, (Shape{2, 5760, 90}));
    return;
  }
  ADD_FAILURE() << "no gate_up_proj_blocks on rank 1";
}

/// The closed form of row_major_read_summary (regular regions) is a second statement of row_major_reads' coalescing:
/// both must give the same reads for every region, regular or not.
void expect_summary_matches_listing(const Shape& shape, const Box& box, Index element_size, Index gap) {
  const ReadPlan plan = row_major_reads(shape, box, element_size, 100, gap).value();
  const ReadSummary summary = row_major_read_summary(shape, box, element_size, 100, gap, 1000).value();
  EXPECT_EQ(summary.reads, static_cast<Index>(plan.reads.size()));
  EXPECT_EQ(summary.bytes_needed, plan.bytes_needed);
  EXPECT_EQ(summary.bytes_read, plan.bytes_read);
  ASSERT_EQ(summary.listed.size(), plan.reads.size());
  for (std::size_t i = 0; i < plan.reads.size(); ++i) {
    EXPECT_EQ(summary.listed[i], (ByteRange{plan.reads[i].file_offset, plan.reads[i].length}));
  }
}

TEST(RankLoad, SummaryAgreesWithTheFullListingOnRandomRegions) {
  std::mt19937_64 random(13);
  const auto below = [&random](Index n) { return static_cast<Index>(random() % static_cast<std::uint64_t>(n)); };
  for (int trial = 0; trial < 3000; ++trial) {
    Shape shape(static_cast<std::size_t>(1 + below(4)));
    Box box;
    for (Index& size : shape) {
      size = 1 + below(7);
      const Index begin = below(size);
      box.push_back(IntervalSet::range(begin, begin + 1 + below(size - begin)));
    }
    SCOPED_TRACE(::testing::Message() << "trial " << trial);
    expect_summary_matches_listing(shape, box, 1 + below(4), below(3) == 0 ? 0 : below(64));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(RankLoad, SummaryAgreesWithTheFullListing) {
  const Shape shape{6, 10, 8};
  const Box boxes[] = {
      Box{IntervalSet::range(0, 6), IntervalSet::range(2, 5), IntervalSet::range(0, 8)},
      Box{IntervalSet::range(1, 4), IntervalSet::range(0, 10), IntervalSet::range(3, 6)},
      Box{IntervalSet::range(2, 3), IntervalSet::range(0, 10), IntervalSet::range(0, 8)},
      Box{IntervalSet::range(0, 6), IntervalSet::range(0, 10), IntervalSet::range(0, 8)},
  };
  for (const Index gap : {Index{0}, Index{16}, Index{200}}) {
    for (const Box& box : boxes) expect_summary_matches_listing(shape, box, 2, gap);
  }
}

TEST(RankLoad, SummaryRefusesWhatTheListingRefuses) {
  // One check for both: a negative offset, and a regular region of a tensor whose size overflows int64 (refused
  // before any size is multiplied).
  const Shape shape{6, 10};
  const Box rows{IntervalSet::range(0, 3), IntervalSet::range(0, 10)};
  const auto negative = row_major_read_summary(shape, rows, 2, -1, 0, 10);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().what(), row_major_reads(shape, rows, 2, -1, 0).error().what());
  EXPECT_EQ(negative.error().what(), "file_offset: must be >= 0, got -1");
  const Index huge = Index{1} << 40;
  const Shape big{huge, huge};
  const Box all{IntervalSet::range(0, huge), IntervalSet::range(0, huge)};
  const auto overflow = row_major_read_summary(big, all, 1, 0, 0, 10);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().what(), row_major_reads(big, all, 1, 0, 0).error().what());
}

}  // namespace
}  // namespace shardplan
