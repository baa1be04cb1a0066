// Sizing: expert tensor parallelism, rank classes, activations per pipeline schedule and recomputation, and the fp8
// quantization formats, with exact per-rank figures worked out by hand.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "shardplan/shardplan.hpp"

namespace {

using namespace shardplan;

ModelConfig preset(std::string_view name) { return model_preset(name).value(); }

// ---------------------------------------------------------------------------------------------------------------
// Expert tensor parallelism

// Mixtral-8x7B (h 4096, 32 layers, 32 heads, 8 KV heads of 128, vocab 32000, 8 experts of 3 × 4096 × 14336) at
// tp 8, dp 8, ep 8 (world 64). Per rank, at tp 8:
//   embed_tokens, lm_head  32000 × 4096 / 8 = 16,384,000 each; model.norm 4,096
//   per layer: q, o        4096 × 4096 / 8 = 2,097,152 each; k, v 1024 × 4096 / 8 = 524,288 each (5,242,880)
//              norms       2 × 4,096 = 8,192; router 8 × 4096 = 32,768 (whole on every rank)
//              experts     8 / ep 8 = 1 expert of w1, w2, w3:
//                etp 8:    3 × 4096 × 14336 / 8 = 22,020,096 (Megatron splits each expert over its tp group)
//                etp 1:    3 × 4096 × 14336    = 176,160,768 (whole; ep borrows the tp ranks)
//   etp 8: 32 × (5,242,880 + 8,192 + 32,768 + 22,020,096) + 2 × 16,384,000 + 4,096 = 906,498,048
//   etp 1: 32 × (5,242,880 + 8,192 + 32,768 + 176,160,768) + 2 × 16,384,000 + 4,096 = 5,838,999,552
TEST(SizingExpertTp, MixtralEtp8SplitsEveryExpert) {
  const ModelConfig mixtral = preset("mixtral-8x7b");
  const ParallelConfig etp8{.tp = 8, .ep = 8, .etp = 8, .dp = 8};
  const ParallelConfig etp1{.tp = 8, .ep = 8, .etp = 1, .dp = 8};
  const SizeReport split = size_plan(mixtral, etp8).value();
  const SizeReport whole = size_plan(mixtral, etp1).value();
  ASSERT_EQ(split.classes.size(), 1U);  // every rank holds the same shapes
  EXPECT_EQ(split.classes[0].tp_ranks, 8);
  EXPECT_EQ(split.classes[0].ep_ranks, 8);
  EXPECT_EQ(split.busiest().params, 906498048);
  EXPECT_EQ(whole.busiest().params, 5838999552);
  EXPECT_EQ(split.busiest().params_bytes, 2 * Index{906498048});
  // Optimizer: 12 bytes per element over the replicas holding it. Dense 32 × 5,283,840 + 32,772,096 = 201,854,976
  // over dp 8; experts 32 × 22,020,096 over the expert data-parallel group dp·tp / (ep·etp) = 1 (etp 8), or
  // 32 × 176,160,768 over 8·8 / 8 = 8 (etp 1): the same 8,455,716,864 bytes either way.
  EXPECT_EQ(split.busiest().optimizer_bytes, 12 * Index{201854976} / 8 + 12 * Index{704643072});
  EXPECT_EQ(whole.busiest().optimizer_bytes, 12 * Index{201854976} / 8 + 12 * Index{5637144576} / 8);
}

TEST(SizingExpertTp, LocalShapesOfSplitExperts) {
  // Rank 3 of Mixtral at tp 8, ep 8, etp 8: tp rank 3, ep rank 0 (its dp rank): expert 0, rows 3/8 of w1/w3 and
  // columns 3/8 of w2.
  const ModelConfig mixtral = preset("mixtral-8x7b");
  const auto listed = rank_parameters(mixtral, {.tp = 8, .ep = 8, .etp = 8, .dp = 8}, 3).value();
  int experts = 0;
  for (const RankParameter& p : listed) {
    const std::string_view name = p.name.view();
    if (name == "model.layers.0.block_sparse_moe.experts.0.w1.weight") {
      EXPECT_EQ(p.local_shape, (Shape{1792, 4096}));
      EXPECT_EQ(p.sets[0], IntervalSet::range(3 * 1792, 4 * 1792));
      ++experts;
    }
    if (name == "model.layers.0.block_sparse_moe.experts.0.w2.weight") {
      EXPECT_EQ(p.local_shape, (Shape{4096, 1792}));
      EXPECT_EQ(p.sets[1], IntervalSet::range(3 * 1792, 4 * 1792));
      ++experts;
    }
    EXPECT_EQ(name.find("experts.1."), std::string_view::npos) << name;  // ep rank 0 holds expert 0 only
  }
  EXPECT_EQ(experts, 2);
  // gpt-oss-120b's fused [E, in, out] experts: rank 9 is tp rank 1, ep rank 1 (experts 16..31); gate_up splits its
  // output (last) dim, down_proj its input dim, down_proj's bias stays whole.
  const auto oss = rank_parameters(preset("gpt-oss-120b"), {.tp = 8, .ep = 8, .etp = 8, .dp = 8}, 9).value();
  int fused = 0;
  for (const RankParameter& p : oss) {
    const std::string_view name = p.name.view();
    if (name == "model.layers.0.mlp.experts.gate_up_proj") {
      EXPECT_EQ(p.local_shape, (Shape{16, 2880, 720}));
      EXPECT_EQ(p.sets[0], IntervalSet::range(16, 32));
      EXPECT_EQ(p.sets[2], IntervalSet::range(720, 1440));
      ++fused;
    }
    if (name == "model.layers.0.mlp.experts.gate_up_proj_bias") {
      EXPECT_EQ(p.local_shape, (Shape{16, 720}));
      ++fused;
    }
    if (name == "model.layers.0.mlp.experts.down_proj") {
      EXPECT_EQ(p.local_shape, (Shape{16, 360, 2880}));
      EXPECT_EQ(p.sets[1], IntervalSet::range(360, 720));
      ++fused;
    }
    if (name == "model.layers.0.mlp.experts.down_proj_bias") {
      EXPECT_EQ(p.local_shape, (Shape{16, 2880}));
      ++fused;
    }
  }
  EXPECT_EQ(fused, 4);
}

TEST(SizingExpertTp, Communication) {
  // Mixtral, tp 8, ep 8, etp 8, seq 4096, sequence parallel; per micro-batch forward, bytes each rank sends:
  //   tp:  32 MoE layers × 1 all-reduce (attention; the experts reduce through ep/etp) × 2 × 7/8 × 4096 tokens
  //        × 4096 × 2 bytes = 1,879,048,192
  //   ep:  32 MoE layers × 2 × (4096 / 8 tokens, sequence-split) × top-2 × 4096 × 2 × 7/8 = 469,762,048
  //   etp: 32 × 2 × 7/8 × 4096 × top-2 × 4096 × 2 (all-gather before, reduce-scatter after) = 3,758,096,384
  const ModelConfig mixtral = preset("mixtral-8x7b");
  const SizeReport split =
      size_plan(mixtral, {.tp = 8, .ep = 8, .etp = 8, .dp = 8, .seq = 4096, .sequence_parallel = true}).value();
  EXPECT_EQ(split.busiest().tp_comm_bytes, 1879048192);
  // A dense model: two all-reduces a layer. Llama-3.1-8B at tp 8: 32 × 2 × 2 × 7/8 × 4096 × 4096 × 2.
  EXPECT_EQ(size_plan(preset("llama-3.1-8b"), {.tp = 8, .seq = 4096}).value().busiest().tp_comm_bytes, 3758096384);
  EXPECT_EQ(split.busiest().ep_comm_bytes, 469762048);
  EXPECT_EQ(split.busiest().etp_comm_bytes, 3758096384);
  const SizeReport whole =
      size_plan(mixtral, {.tp = 8, .ep = 8, .etp = 1, .dp = 8, .seq = 4096, .sequence_parallel = true}).value();
  EXPECT_EQ(whole.busiest().ep_comm_bytes, 469762048);
  EXPECT_EQ(whole.busiest().etp_comm_bytes, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Rank classes

/// The parameters of (stage 0, tp rank t, ep rank 0) summed parameter by parameter, without classes.
Index params_of_rank(const ModelConfig& config, const ParallelConfig& parallel, Index t) {
  ParallelConfig sizing = parallel;
  sizing.kv_policy = ShortSegmentPolicy::replicate;
  const Inventory inventory = parameter_inventory(config).value();
  const auto params = shard_parameters(inventory, plan_or_default(nullptr, config, parallel), config, sizing).value();
  Index total = 0;
  for (const ShardedParameter& p : params) {
    if (!p.param.is_per_layer() && !global_on_stage(p, 0, 1)) continue;
    const Index member = axis_member(p, sizing, t, 0);
    auto shape = local_shape(p, member, sizing);
    if (!shape.ok()) {  // refused by the rules: chunked, as size_plan sizes it
      const Layout layout =
          Layout::create(p.param.shape, Mesh::create(AxisSizes{p.shards}).value(), Placements{p.sharding.placement})
              .value();
      shape = layout.local_shape(member);
    }
    Index n = 1;
    for (const Index size : *shape) n *= size;
    total += n * (p.param.is_per_layer() ? p.param.layers.size() : 1);
  }
  return total;
}

TEST(SizingClasses, EveryRankOfAClassHoldsItsFigures) {
  // Qwen2.5-7B (28 heads, 4 KV heads, intermediate 18944, vocab 152064) at sizes that split unevenly: every tp rank
  // summed on its own equals its class.
  const ModelConfig qwen = preset("qwen2.5-7b");
  for (const Index tp : {Index{6}, Index{8}, Index{16}, Index{56}}) {
    const ParallelConfig parallel{.tp = tp};
    const SizeReport report = size_plan(qwen, parallel).value();
    Index covered = 0;
    for (const RankMemory& c : report.classes) covered += c.tp_ranks;
    EXPECT_EQ(covered, tp);
    for (Index t = 0; t < tp; ++t) {
      const RankMemory* figures = report.find(0, t, 0);
      ASSERT_NE(figures, nullptr) << "tp " << tp << " rank " << t;
      EXPECT_EQ(figures->params, params_of_rank(qwen, parallel, t)) << "tp " << tp << " rank " << t;
    }
  }
}

TEST(SizingClasses, HugeTpAnswersWithFewClasses) {
  // tp 10,000: 15 classes (the runs where heads, rows of 18944, 3584 and 152064 change, and where the chunked
  // vocabulary split sizing falls back to changes: 16 rows on members below 9504), not 10,000 ranks. The classes
  // cover every member once.
  const SizeReport report = size_plan(preset("qwen2.5-7b"), {.tp = 10000}).value();
  ASSERT_EQ(report.classes.size(), 15U);
  Index covered = 0;
  for (const RankMemory& c : report.classes) covered += c.tp_ranks;
  EXPECT_EQ(covered, 10000);
  EXPECT_EQ(report.classes[0].tp_rank, 0);
  EXPECT_EQ(report.classes[0].tp_ranks, 4);
  EXPECT_EQ(report.classes[0].params, 26819100);
  EXPECT_EQ(report.classes.back().tp_rank, 9505);
  EXPECT_EQ(report.classes.back().tp_ranks, 495);
  EXPECT_EQ(report.classes.back().params, 25901568);
  EXPECT_EQ(report.busiest().tp_rank, 0);
  // The largest tp there is: every split is empty past its first members.
  const SizeReport most = size_plan(preset("llama-3.1-8b"), {.tp = INT64_MAX}).value();
  EXPECT_EQ(most.total_params, 8030261248);
  EXPECT_LE(most.classes.size(), 16U);
}

TEST(SizingClasses, ListingLimitBeforeExpansion) {
  ModelConfig many = preset("mixtral-8x7b");
  many.num_experts = 1000000000;
  const auto listed = rank_parameters(many, {.tp = 8}, 0);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().what(),
            "experts: rank 0 holds 96000000227 parameters (layers x experts x tensors), past the listing limit of "
            "1048576 (kMaxListedParameters); size the layout instead, or list a config with fewer experts");
  // Sizing and checking do not expand experts (a million a rank at ep 1000; at ep 1 the bytes overflow, an error).
  EXPECT_EQ(size_plan(many, {.tp = 8, .ep = 1000, .dp = 1000}).value().total_params, 5637275649604587520);
  EXPECT_EQ(size_plan(many, {.tp = 8}).error().field, std::string_view("total_bytes"));
  EXPECT_TRUE(validate_model_plan(many, {.tp = 8}).value().valid());
}

// ---------------------------------------------------------------------------------------------------------------
// Activations

// Llama-3.1-8B (h 4096, 32 heads and 8 KV heads of 128, intermediate 14336) per token and layer at tp 2:
//   sequence terms 8h = 32,768 (whole without sequence parallelism, / 2 with it)
//   attention      2·16·128 (Q) + 2·4·128 (K) + 2·4·128 (V) + 2·16·128 (o_proj input) = 10,240
//   SwiGLU         6 × 14336 / 2 = 43,008
constexpr Index kLlamaSequence = 32768;
constexpr Index kLlamaRank = 10240 + 43008;

TEST(SizingActivations, PerLayerTerms) {
  const ModelConfig llama = preset("llama-3.1-8b");
  const LayerActivationBytes dense = layer_activation_bytes(llama, {.tp = 2, .seq = 4096}, false).value();
  EXPECT_EQ(dense.sequence, kLlamaSequence);
  EXPECT_EQ(dense.rank, kLlamaRank);
  // Eager attention keeps its softmax: 2 bytes × 16 heads × 4096 keys per token.
  const LayerActivationBytes eager =
      layer_activation_bytes(llama, {.tp = 2, .seq = 4096, .flash_attention = false}, false).value();
  EXPECT_EQ(eager.rank, kLlamaRank + 2 * 16 * 4096);
  // Selective recomputation drops it again; full keeps the layer input only.
  const LayerActivationBytes selective = layer_activation_bytes(
      llama, {.tp = 2, .seq = 4096, .recompute = Recompute::selective, .flash_attention = false}, false).value();
  EXPECT_EQ(selective.rank, kLlamaRank);
  const LayerActivationBytes full =
      layer_activation_bytes(llama, {.tp = 2, .seq = 4096, .recompute = Recompute::full}, false).value();
  EXPECT_EQ(full.sequence, 2 * 4096);
  EXPECT_EQ(full.rank, 0);
  // Mixtral's MoE layer at tp 8, etp 8: 4 q heads, 1 KV head (2·4·128 + 2·128 + 2·128 + 2·4·128 = 2,560); top-2
  // routed copies of (4h + 6 × 14336 / 8) = 2 × (16,384 + 10,752).
  const LayerActivationBytes moe = layer_activation_bytes(preset("mixtral-8x7b"), {.tp = 8, .ep = 8, .etp = 8}, true).value();
  EXPECT_EQ(moe.sequence, 8 * 4096);
  EXPECT_EQ(moe.rank, 2560 + 2 * (16384 + 10752));
  // DeepSeek-V3's MLA at tp 8: 16 heads, q/k 192 wide, v 128 wide; latents 4·1536 + 4·512 + 2·64 whole; its dense
  // layers' MLP 6 × 18432 / 8.
  const LayerActivationBytes mla = layer_activation_bytes(preset("deepseek-v3"), {.tp = 8}, false).value();
  EXPECT_EQ(mla.rank, 2 * 16 * 192 * 2 + 2 * 16 * 128 * 2 + 4 * 1536 + 4 * 512 + 2 * 64 + 6 * 18432 / 8);
}

TEST(SizingActivations, OneFOneBStagesHoldPpMinusSMicroBatches) {
  // tp 2, pp 4 (8 layers a stage), seq 4096, sequence parallel: per layer 4096 × (32768 / 2 + 53248) bytes.
  const ModelConfig llama = preset("llama-3.1-8b");
  const Index layer = 4096 * (kLlamaSequence / 2 + kLlamaRank);
  const ParallelConfig base{.tp = 2, .pp = 4, .seq = 4096, .sequence_parallel = true};
  const SizeReport filled = size_plan(llama, base).value();
  ASSERT_EQ(filled.classes.size(), 4U);
  for (Index stage = 0; stage < 4; ++stage) {
    const RankMemory& m = *filled.find(stage, 0, 0);
    EXPECT_EQ(m.micro_batches_in_flight, 4 - stage);
    EXPECT_EQ(m.activation_bytes, 8 * layer * (4 - stage)) << "stage " << stage;
  }
  // Two micro-batches: no stage holds more than two.
  ParallelConfig two = base;
  two.micro_batches = 2;
  const SizeReport few = size_plan(llama, two).value();
  EXPECT_EQ(few.find(0, 0, 0)->activation_bytes, 8 * layer * 2);
  EXPECT_EQ(few.find(2, 0, 0)->activation_bytes, 8 * layer * 2);
  EXPECT_EQ(few.find(3, 0, 0)->activation_bytes, 8 * layer * 1);
}

TEST(SizingActivations, InterleavedSchedule) {
  // pp 4, V 2 (chunks of 4 layers): stage s holds 2·(4 - s - 1) + (2 - 1)·4 + 1 chunk micro-batches at its peak,
  // 11 on the first; Megatron's figure: pp·(1 + (pp - 1)/(pp·V)) = 5.5 micro-batches of 8 layers = 11 chunks of 4.
  const ModelConfig llama = preset("llama-3.1-8b");
  const Index layer = 4096 * (kLlamaSequence / 2 + kLlamaRank);
  ParallelConfig interleaved{.tp = 2, .pp = 4, .seq = 4096, .sequence_parallel = true, .virtual_stages = 2};
  const SizeReport report = size_plan(llama, interleaved).value();
  EXPECT_EQ(report.find(0, 0, 0)->micro_batches_in_flight, 11);
  EXPECT_EQ(report.find(0, 0, 0)->activation_bytes, 4 * layer * 11);
  EXPECT_EQ(report.find(3, 0, 0)->micro_batches_in_flight, 5);
  EXPECT_EQ(report.find(3, 0, 0)->activation_bytes, 4 * layer * 5);
  // Three micro-batches: at most 3 × 2 chunk micro-batches.
  interleaved.micro_batches = 3;
  EXPECT_EQ(size_plan(llama, interleaved).value().find(0, 0, 0)->activation_bytes, 4 * layer * 6);
  EXPECT_EQ(in_flight(interleaved, 3), 5);
}

TEST(SizingActivations, RecomputeModesPerRank) {
  // Stage 0 of tp 2, pp 2 (16 layers, 2 micro-batches in flight), seq 4096, sequence parallel.
  const ModelConfig llama = preset("llama-3.1-8b");
  const auto stage0 = [&llama](Recompute recompute, bool flash) {
    return size_plan(llama, {.tp = 2, .pp = 2, .seq = 4096, .sequence_parallel = true, .recompute = recompute,
                             .flash_attention = flash})
        .value()
        .find(0, 0, 0)
        ->activation_bytes;
  };
  const Index none = Index{16} * 2 * 4096 * (kLlamaSequence / 2 + kLlamaRank);
  EXPECT_EQ(stage0(Recompute::none, true), none);
  EXPECT_EQ(stage0(Recompute::selective, true), none);  // flash attention stores no softmax to drop
  EXPECT_EQ(stage0(Recompute::none, false), none + Index{16} * 2 * 4096 * (2 * 16 * 4096));
  EXPECT_EQ(stage0(Recompute::selective, false), none);
  EXPECT_EQ(stage0(Recompute::full, true), Index{16} * 2 * 4096 * (2 * 4096 / 2));
}

TEST(SizingActivations, ScheduleErrors) {
  const ModelConfig llama = preset("llama-3.1-8b");
  EXPECT_EQ(size_plan(llama, {.pp = 4, .virtual_stages = 3}).error().what(),
            "virtual_stages: 32 layers do not split into pp * virtual stages = 4 * 3 = 12 equal model chunks");
  EXPECT_EQ(size_plan(llama, {.virtual_stages = 2}).error().what(),
            "virtual_stages: 2 virtual stages need pp > 1 (the interleaved schedule), got pp 1");
  EXPECT_EQ(size_plan(llama, {.micro_batches = -1}).error().what(), "micro_batches: must be >= 1, got -1");
  EXPECT_EQ(size_plan(llama, {.virtual_stages = 0}).error().what(), "virtual_stages: must be >= 1, got 0");
  EXPECT_EQ(parse_recompute("some").error().what(),
            "recompute: unknown recomputation 'some' (known: none, selective, full)");
  EXPECT_EQ(parse_recompute("full").value(), Recompute::full);
}

// ---------------------------------------------------------------------------------------------------------------
// Quantization formats

TEST(SizingQuantization, ScaleTensorsPerRank) {
  // Per-tensor: one fp32 scale per weight; per-channel: one per output row of the local shape.
  EXPECT_EQ(weight_bytes(Shape{256, 512}, true, Quantization::fp8_tensor, 2).value(), 256 * 512 + 4);
  EXPECT_EQ(weight_bytes(Shape{256, 512}, true, Quantization::fp8_channel, 2).value(), 256 * 512 + 256 * 4);
  EXPECT_EQ(weight_bytes(Shape{2, 384, 256}, true, Quantization::fp8_channel, 2, -2).value(),
            2 * 384 * 256 + 2 * 256 * 4);  // gpt-oss layout [E, in, out]: out is the last dim
  EXPECT_TRUE(keeps_quantization_blocks(quantization_scheme(Quantization::fp8_tensor), 7, 3, true));
  EXPECT_TRUE(keeps_quantization_blocks(quantization_scheme(Quantization::fp8_channel), 7, 3, true));
  // Llama-3.1-8B at tp 2. Per layer and rank the 7 projections hold 218,103,808 / 2 = 109,051,904 fp8 bytes and the
  // two norms 16,384 bf16 bytes; embed_tokens and lm_head 128256 × 4096 / 2 × 2 bytes each, model.norm 8,192.
  //   per-tensor:  7 scales × 4 bytes per layer
  //   per-channel: colwise q 2048, k 512, v 512, gate 7168, up 7168 local rows; rowwise o and down keep all 4096
  //                rows: 25,600 scales × 4 bytes per layer
  const ModelConfig llama = preset("llama-3.1-8b");
  const Index outside = 2 * Index{525336576} + 8192;
  for (const auto& [quant, scales] : {std::pair{Quantization::fp8_tensor, Index{28}},
                                      std::pair{Quantization::fp8_channel, Index{102400}}}) {
    ModelConfig config = llama;
    config.quantization = quant;
    EXPECT_EQ(size_plan(config, {.tp = 2}).value().busiest().params_bytes,
              32 * (Index{109051904} + scales + 16384) + outside)
        << to_string(quant);
  }
}

ModelConfig with_quantization(std::string_view quantization_config) {
  std::string json = R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
    "quantization_config": )";
  json.append(quantization_config).append("}");
  const auto config = model_config_from_json(json, "config.json");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().what());
  return config.ok() ? *config : ModelConfig{};
}

std::string quantization_error(std::string_view quantization_config) {
  std::string json = R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "vocab_size": 100, "quantization_config": )";
  json.append(quantization_config).append("}");
  const auto config = model_config_from_json(json, "config.json");
  return config.ok() ? "(no error)" : config.error().what();
}

TEST(SizingQuantization, ConfigFormats) {
  EXPECT_EQ(with_quantization(R"({"quant_method": "fp8", "activation_scheme": "dynamic"})").quantization,
            Quantization::fp8_tensor);
  EXPECT_EQ(with_quantization(R"({"quant_method": "fp8", "weight_block_size": [128, 128]})").quantization,
            Quantization::fp8_block128);
  const auto compressed = [](std::string_view strategy, std::string_view extra = "") {
    std::string text = R"({"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"],
      "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float",
      "symmetric": true, "dynamic": false, "strategy": ")";
    text.append(strategy).append("\"").append(extra).append("}}}}");
    return text;
  };
  EXPECT_EQ(with_quantization(compressed("tensor")).quantization, Quantization::fp8_tensor);
  EXPECT_EQ(with_quantization(compressed("channel")).quantization, Quantization::fp8_channel);
  EXPECT_EQ(with_quantization(compressed("block", R"(, "block_structure": [128, 128])")).quantization,
            Quantization::fp8_block128);
  EXPECT_EQ(quantization_error(compressed("group")),
            "quantization_config.config_groups: group_0.weights.strategy: unsupported 'group' (supported: tensor, "
            "channel, block)");
  EXPECT_EQ(quantization_error(compressed("block", R"(, "block_structure": [64, 128])")),
            "quantization_config.config_groups: group_0.weights.block_structure[0]: only 128-wide fp8 blocks are "
            "supported, got 64");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors", "config_groups": {"g": {"weights":
      {"num_bits": 4, "type": "int", "strategy": "group"}}}})"),
            "quantization_config.config_groups: g.weights: only 8-bit float (fp8) weights are supported, got 4-bit int");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors", "config_groups": {"g": {"weights":
      {"type": "float"}}}})"),
            "quantization_config.config_groups: g.weights.num_bits: missing");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors", "config_groups": {"g": 3}})"),
            "quantization_config.config_groups: g: expected an object, got 3");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors", "config_groups": {}})"),
            "quantization_config.config_groups: has no group");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors"})"),
            "quantization_config.config_groups: missing");
  EXPECT_EQ(quantization_error(R"({"quant_method": "compressed-tensors", "config_groups": {
      "a": {"weights": {"num_bits": 8, "type": "float", "strategy": "tensor"}},
      "b": {"weights": {"num_bits": 8, "type": "float", "strategy": "channel"}}}})"),
            "quantization_config.config_groups: groups mix fp8-tensor and fp8-channel weights");
  // Every linear projection of the decoder layers is quantized, as with block fp8.
  const Inventory inventory = parameter_inventory(with_quantization(compressed("channel"))).value();
  for (const ParameterGroup& p : inventory) {
    const std::string_view name = p.pattern.view();
    const bool projection = name.ends_with("_proj.weight");
    EXPECT_EQ(p.quantized, projection) << name;
  }
}

}  // namespace
