// Model plans: styles and plan resolution, every validity rule with a passing and a failing case from real models,
// valid sizes, sizing agreeing with the per-rank parameter lists, and compile-time validation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

ModelConfig preset(std::string_view name) { return model_preset(name).value(); }

PlanReport check(const ModelConfig& config, const ParallelConfig& parallel) {
  auto report = validate_model_plan(config, parallel);
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().what());
  return report.ok() ? *report : PlanReport{};
}

std::vector<std::string> rules(const std::vector<Diagnostic>& list) {
  std::vector<std::string> names;
  for (const Diagnostic& d : list) names.emplace_back(to_string(d.rule));
  return names;
}

using Names = std::vector<std::string>;
using Sizes = std::vector<Index>;

TEST(PlanStyle, NamesAndAliases) {
  EXPECT_EQ(parse_plan_style("colwise_rep").value(), PlanStyle::colwise_gather_output);
  EXPECT_EQ(parse_plan_style("rowwise_allreduce").value(), PlanStyle::rowwise);
  EXPECT_EQ(parse_plan_style("vocab").value(), PlanStyle::embedding_rowwise);
  EXPECT_EQ(parse_plan_style("moe_experts_allreduce").value(), PlanStyle::moe_tp_experts);
  for (const PlanStyleName& entry : kPlanStyleNames) {
    EXPECT_EQ(parse_plan_style(to_string(entry.style)).value(), entry.style);
  }
  EXPECT_TRUE(parse_plan_style("colwize").error().what().starts_with("style: unknown plan style 'colwize' (known: "));
}

TEST(PlanStyle, ParameterShardings) {
  const auto sharding = [](PlanStyle style, std::string_view name, Shape shape, Index experts = 0) {
    const ParameterGroup param{FixedString<112>(name), shape, {}, experts, false};
    const ParameterSharding s = parameter_sharding(style, param).value();
    return s.placement.to_string().str() + (s.two_segments ? " segments" : "");
  };
  EXPECT_EQ(sharding(PlanStyle::colwise, "q_proj.weight", Shape{4096, 4096}), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::colwise, "q_proj.bias", Shape{4096}), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::colwise, "model.embed_tokens.weight", Shape{128256, 4096}), "S(1)");
  EXPECT_EQ(sharding(PlanStyle::rowwise, "o_proj.weight", Shape{4096, 4096}), "S(1)");
  EXPECT_EQ(sharding(PlanStyle::rowwise, "o_proj.bias", Shape{4096}), "R");
  EXPECT_EQ(sharding(PlanStyle::packed_colwise, "gate_up_proj", Shape{8, 28672, 4096}), "S(1) segments");
  EXPECT_EQ(sharding(PlanStyle::packed_colwise, "gate_up_proj.bias", Shape{8, 28672}), "S(1) segments");
  EXPECT_EQ(sharding(PlanStyle::packed_rowwise, "down_proj", Shape{8, 4096, 28672}), "_S(2,2)");
  EXPECT_EQ(sharding(PlanStyle::embedding_rowwise, "model.embed_tokens.weight", Shape{128256, 4096}), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::grouped_gemm, "experts.gate_up_proj", Shape{128, 2880, 5760}), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::grouped_gemm, "experts.*.w1.weight", Shape{14336, 4096}, 8), "R");
  // moe_tp_experts is a forward hook in HF (issue 13): the weights take moe_tp_gate_up_colwise / moe_tp_down_rowwise.
  EXPECT_EQ(sharding(PlanStyle::moe_tp_experts, "experts.gate_up_proj", Shape{8, 28672, 4096}), "R");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_gate_up_colwise, "experts.gate_up_proj", Shape{8, 28672, 4096}), "_S(1,2)");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_down_rowwise, "experts.down_proj", Shape{8, 4096, 14336}), "S(2)");
  EXPECT_EQ(sharding(PlanStyle::replicate, "norm.weight", Shape{4096}), "R");
}

// HF's rule: exact key, then `*` for the numbers, then the module (`x.weight` falls back to `x`).
TEST(Plan, Resolution) {
  Plan plan = default_tp_plan(ModelFamily::llama);
  plan.insert(plan.begin(), PlanEntry{ParameterName("model.layers.3.mlp.down_proj.weight"), PlanStyle::replicate});
  EXPECT_EQ(resolve_style(plan, "model.layers.2.mlp.down_proj.weight"), PlanStyle::rowwise);
  EXPECT_EQ(resolve_style(plan, "model.layers.3.mlp.down_proj.weight"), PlanStyle::replicate);
  EXPECT_EQ(resolve_style(plan, "lm_head.weight"), PlanStyle::colwise_gather_output);
  EXPECT_EQ(resolve_style(plan, "model.layers.0.input_layernorm.weight"), std::nullopt);
  EXPECT_EQ(resolve_style(default_tp_plan(ModelFamily::mixtral), "model.layers.7.block_sparse_moe.experts.5.w1.weight"),
            PlanStyle::colwise);
  EXPECT_EQ(resolve_style(default_plan(ModelFamily::mixtral, true, false),
                          "model.layers.7.block_sparse_moe.experts.5.w1.weight"),
            PlanStyle::grouped_gemm);
  EXPECT_EQ(resolve_style(default_tp_plan(ModelFamily::deepseek_v3), "model.layers.0.self_attn.q_a_proj.weight"),
            PlanStyle::replicate);
  EXPECT_EQ(resolve_style(default_tp_plan(ModelFamily::deepseek_v3), "model.layers.0.self_attn.kv_b_proj.weight"),
            PlanStyle::colwise);
  EXPECT_EQ(resolve_style(default_plan(ModelFamily::llama, false, true), "model.norm.weight"),
            PlanStyle::sequence_parallel);
}

// The issue's headline cases.
TEST(CheckPlan, Qwen25At8FailsOnHeadsAndNamesTheValidSizes) {
  const PlanReport report = check(preset("qwen2.5-7b"), {.tp = 8});
  EXPECT_FALSE(report.valid());
  EXPECT_EQ(rules(report.errors), (Names{"attention_heads", "kv_heads"}));
  EXPECT_EQ(report.errors[0].param.view(), "model.layers.*.self_attn.q_proj.weight");
  EXPECT_EQ(report.errors[0].message.view(),
            "total number of attention heads (28) must be divisible by tensor parallel size (8)");
  EXPECT_EQ(report.errors[0].fix.view(), "use tp 4 (valid tp: 1 2 4)");
  EXPECT_EQ(report.valid_tp, (Sizes{1, 2, 4}));
  EXPECT_TRUE(check(preset("qwen2.5-7b"), {.tp = 4}).valid());
}

TEST(CheckPlan, Llama70bAt8IsValid) {
  const PlanReport report = check(preset("llama-3.1-70b"), {.tp = 8});
  EXPECT_TRUE(report.valid()) << (report.errors.empty() ? "" : report.errors[0].message.str());
  EXPECT_EQ(report.valid_tp, (Sizes{1, 2, 4, 8}));
}

TEST(CheckPlan, KvHeadsUnderEachPolicy) {
  const ModelConfig qwen3 = preset("qwen3-30b-a3b");
  const PlanReport forbid = check(qwen3, {.tp = 8});
  EXPECT_EQ(rules(forbid.errors), (Names{"kv_heads"}));
  EXPECT_EQ(forbid.errors[0].fix.view(),
            "--kv-policy replicate (vLLM: each KV head on tp/kv = 2 ranks), or use tp 4 (valid tp: 1 2 4)");
  EXPECT_TRUE(check(qwen3, {.tp = 8, .kv_policy = ShortSegmentPolicy::replicate}).valid());
  // Replication needs tp to be a multiple of the KV heads: Qwen2.5-7B (4 KV heads) at TP=7 is neither.
  const PlanReport seven = check(preset("qwen2.5-7b"), {.tp = 7, .kv_policy = ShortSegmentPolicy::replicate});
  EXPECT_EQ(rules(seven.errors), (Names{"kv_heads", "intermediate", "vocabulary"}));
}

TEST(CheckPlan, IntermediateAndVocabulary) {
  // Qwen2.5-7B at TP=28 with KV replication: 18944 and 152064 do not divide by 28.
  const ModelConfig qwen = preset("qwen2.5-7b");
  const PlanReport report = check(qwen, {.tp = 28, .kv_policy = ShortSegmentPolicy::replicate});
  EXPECT_EQ(rules(report.errors), (Names{"intermediate", "vocabulary"}));
  EXPECT_EQ(report.errors[0].message.view(), "intermediate size 18944 is not divisible by tp 28");
  EXPECT_EQ(report.errors[1].fix.view(), "--vocab-pad megatron pads it to a valid size");
  // Megatron-LM's padding fixes the vocabulary (152064 -> a multiple of 128*28).
  EXPECT_EQ(rules(check(qwen, {.tp = 28, .kv_policy = ShortSegmentPolicy::replicate,
                               .vocab_pad = VocabPadding::megatron})
                      .errors),
            (Names{"intermediate"}));
}

TEST(CheckPlan, ExpertIntermediateAndExperts) {
  ModelConfig qwen3 = preset("qwen3-30b-a3b");
  qwen3.moe_intermediate_size = 760;  // not a real width: 760 / 8 = 95 is fine, 760 / 16 is not
  EXPECT_TRUE(check(qwen3, {.tp = 8, .kv_policy = ShortSegmentPolicy::replicate}).valid());
  qwen3.moe_intermediate_size = 772;
  EXPECT_EQ(rules(check(qwen3, {.tp = 8, .kv_policy = ShortSegmentPolicy::replicate}).errors),
            (Names{"expert_intermediate"}));
  // DeepSeek-V3's shared expert (1 x 2048) splits over tp like a dense MLP; a 2056-wide one would not at TP=16.
  ModelConfig deepseek = preset("deepseek-v3");
  deepseek.quantization = Quantization::none;
  EXPECT_TRUE(check(deepseek, {.tp = 16}).valid());
  deepseek.moe_intermediate_size = 2056;
  EXPECT_EQ(rules(check(deepseek, {.tp = 16}).errors), (Names{"expert_intermediate", "shared_expert_intermediate"}));
  // Mixtral's 8 experts over ep 3: an error under even, a warning under balanced.
  const ModelConfig mixtral = preset("mixtral-8x7b");
  EXPECT_EQ(rules(check(mixtral, {.ep = 3, .dp = 3}).errors), (Names{"experts"}));
  const PlanReport balanced = check(mixtral, {.ep = 3, .dp = 3, .expert_policy = SplitPolicy::balanced});
  EXPECT_TRUE(balanced.valid());
  EXPECT_EQ(rules(balanced.warnings), (Names{"uneven_experts"}));
  EXPECT_TRUE(check(mixtral, {.ep = 4, .dp = 4}).valid());
  EXPECT_EQ(check(mixtral, {.ep = 4, .dp = 4}).valid_ep, (Sizes{1, 2, 4, 8}));
}

// Qwen3-235B-A22B with block FP8 at TP=8: the experts' 1536 rows / 8 = 192 cut the 128-blocks.
TEST(CheckPlan, QuantizationBlocks) {
  ModelConfig qwen = preset("qwen3-235b-a22b");
  qwen.quantization = Quantization::fp8_block128;
  const PlanReport report = check(qwen, {.tp = 8, .kv_policy = ShortSegmentPolicy::replicate});
  EXPECT_EQ(rules(report.errors), (Names{"quantization_blocks", "quantization_blocks", "quantization_blocks"}));
  EXPECT_EQ(report.errors[0].param.view(), "model.layers.*.mlp.experts.*.gate_proj.weight");
  EXPECT_EQ(report.errors[0].message.view(),
            "fp8-block128: per-rank shape (192, 4096) is not a multiple of the 128-element blocks (global 1536 / 8)");
  EXPECT_TRUE(check(qwen, {.tp = 4}).valid());
  // DeepSeek-V3 ships FP8: TP up to 16 keeps its 2048-wide experts in whole blocks.
  EXPECT_EQ(check(preset("deepseek-v3"), {}).valid_tp, (Sizes{1, 2, 4, 8, 16}));
}

TEST(CheckPlan, SequenceContextPipelineMesh) {
  const ModelConfig llama = preset("llama-3.1-70b");
  EXPECT_EQ(rules(check(llama, {.tp = 8, .seq = 4100, .sequence_parallel = true}).errors), (Names{"sequence"}));
  EXPECT_TRUE(check(llama, {.tp = 8, .seq = 4096, .sequence_parallel = true}).valid());
  EXPECT_EQ(rules(check(llama, {.cp = 2, .seq = 4098}).errors), (Names{"context"}));
  EXPECT_TRUE(check(llama, {.cp = 2, .seq = 4096}).valid());
  const ModelConfig deepseek = preset("deepseek-v3");
  EXPECT_EQ(rules(check(deepseek, {.pp = 62}).errors), (Names{"pipeline"}));
  const PlanReport pp = check(deepseek, {.pp = 4});
  EXPECT_TRUE(pp.valid());
  EXPECT_EQ(pp.layers_per_stage, (Sizes{15, 15, 16, 15}));
  const PlanReport world = check(llama, {.tp = 8, .world = 16});
  EXPECT_EQ(rules(world.errors), (Names{"mesh"}));
  EXPECT_EQ(world.errors[0].message.view(), "tp*cp*dp*pp = 8*1*1*1 = 8 but the world is 16");
  EXPECT_TRUE(check(llama, {.tp = 8, .dp = 2, .world = 16}).valid());
}

TEST(CheckPlan, ExpertParallelBorrowing) {
  const ModelConfig qwen = preset("qwen3-30b-a3b");
  const PlanReport alone = check(qwen, {.tp = 4, .ep = 8});
  EXPECT_EQ(rules(alone.errors), (Names{"expert_parallel"}));
  EXPECT_EQ(alone.errors[0].message.view(), "ep 8 must divide dp*cp = 1 (expert parallelism borrows those ranks)");
  EXPECT_TRUE(check(qwen, {.tp = 4, .ep = 8, .dp = 8}).valid());
  EXPECT_TRUE(check(qwen, {.tp = 4, .ep = 4, .etp = 1}).valid());  // borrows the tp ranks
  EXPECT_EQ(rules(check(qwen, {.tp = 4, .etp = 2}).errors), (Names{"expert_parallel"}));
}

TEST(CheckPlan, Warnings) {
  const PlanReport report = check(preset("llama-3.1-405b"), {.tp = 16, .kv_policy = ShortSegmentPolicy::replicate});
  EXPECT_TRUE(report.valid());
  EXPECT_EQ(rules(report.warnings), (Names{"tp_crosses_host"}));
}

TEST(CheckPlan, BadInput) {
  EXPECT_EQ(validate_model_plan(preset("llama-3.1-8b"), {.tp = 0}).error().what(), "tp: must be >= 1, got 0");
  EXPECT_EQ(validate_model_plan(preset("llama-3.1-8b"), {.pp = -2}).error().what(), "pp: must be >= 1, got -2");
  EXPECT_TRUE(model_preset("llama-4").error().what().starts_with("model: unknown preset 'llama-4' (known: "));
}

// Sizing is exact: a rank's parameters are the sum of the local shapes `plan` lists for it.
TEST(Sizing, EqualsTheSumOfThePlansLocalShapes) {
  const struct {
    std::string_view model;
    ParallelConfig parallel;
  } cases[] = {
      {"llama-3.1-8b", {.tp = 2, .pp = 2}},
      {"qwen3-30b-a3b", {.tp = 4, .ep = 2, .pp = 2, .dp = 2, .kv_policy = ShortSegmentPolicy::replicate}},
      {"mixtral-8x7b", {.tp = 2, .ep = 4, .dp = 4}},
      {"gpt-oss-120b", {.tp = 4, .ep = 2, .dp = 2}},
      {"deepseek-v3", {.tp = 8, .ep = 4, .pp = 2, .dp = 4}},
  };
  for (const auto& c : cases) {
    const ModelConfig config = preset(c.model);
    const SizeReport size = size_plan(config, c.parallel).value();
    const Index world = c.parallel.tp * c.parallel.dp * c.parallel.pp * c.parallel.cp;
    for (Index rank = 0; rank < world; rank += std::max<Index>(1, world / 5)) {
      const ModelRank where = model_rank(c.parallel, rank).value();
      Index listed = 0;
      for (const RankParameter& p : rank_parameters(config, c.parallel, rank).value()) {
        Index n = 1;
        for (Index s : p.local_shape) n *= s;
        listed += n;
      }
      const RankMemory* sized = size.find(where.stage, where.tp_rank, where.ep_rank);
      ASSERT_NE(sized, nullptr) << c.model << " rank " << rank;
      EXPECT_EQ(sized->params, listed) << c.model << " rank " << rank;
      if (config.quantization == Quantization::none) {  // and bf16 bytes are exactly twice that
        EXPECT_EQ(sized->params_bytes, 2 * listed) << c.model << " rank " << rank;
      }
    }
  }
}

TEST(Sizing, ExactFigures) {
  // Llama-3.1-8B, TP=2, PP=2: stage 0 holds the embedding half and 16 layers' halves (norms whole); both tp ranks
  // hold the same shapes, so each stage is one class of two ranks.
  const SizeReport size = size_plan(preset("llama-3.1-8b"), {.tp = 2, .pp = 2, .seq = 4096}).value();
  ASSERT_EQ(size.classes.size(), 2U);
  EXPECT_EQ(size.classes[0].tp_ranks, 2);
  EXPECT_EQ(size.total_params, 8030261248);
  EXPECT_EQ(size.classes[0].params, 2007629824);
  EXPECT_EQ(size.classes[0].params_bytes, Index{2} * 2007629824);
  EXPECT_EQ(size.classes[0].optimizer_bytes, Index{12} * 2007629824);
  // Per token and layer: 8h = 32768 whole (no sequence parallelism), 16 q and 4 kv heads of 128 (10240) and the
  // SwiGLU's 6 * 14336 / 2 = 43008 per rank; 16 layers, 2 micro-batches in flight on the first of 2 stages (1F1B).
  EXPECT_EQ(size.classes[0].activation_bytes, Index{16} * 2 * 4096 * (32768 + 10240 + 43008));
  EXPECT_EQ(size.classes[0].kv_cache_bytes_per_token, 2 * 16 * 4 * 128 * 2);
  // MLA caches the latent: (512 + 64) * 61 layers * 2 bytes per token, whatever tp.
  EXPECT_EQ(size_plan(preset("deepseek-v3"), {.tp = 8}).value().classes[0].kv_cache_bytes_per_token, 576 * 61 * 2);
  EXPECT_EQ(weight_bytes(Shape{256, 512}, true, Quantization::fp8_block128, 2).value(), 256 * 512 + 2 * 4 * 4);
  EXPECT_EQ(weight_bytes(Shape{64, 64}, true, Quantization::mxfp4, 2).value(), 64 * 32 + 64 * 2);
}

TEST(UserPlan, FromJson) {
  const Inventory llama = parameter_inventory(preset("llama-3.1-8b")).value();
  const Plan plan = user_plan_from_json(R"({"model.layers.*.self_attn.q_proj": "colwise", "lm_head": "colwise_rep",
                                            "model.layers.*.mlp.down_proj.weight": "replicate"})",
                                        llama)
                        .value();
  ASSERT_EQ(plan.size(), 3U);
  EXPECT_EQ(resolve_style(plan, "model.layers.0.self_attn.q_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(resolve_style(plan, "lm_head.weight"), PlanStyle::colwise_gather_output);
  EXPECT_EQ(resolve_style(plan, "model.layers.3.mlp.down_proj.weight"), PlanStyle::replicate);
  // Per-layer keys are resolved per layer since issue 13 (they used to be refused); hf_plan_test.cpp tests them.
  EXPECT_EQ(user_plan_from_json(R"({"model.layers.3.mlp.down_proj": "replicate"})", llama).value().size(), 1U);
  EXPECT_TRUE(user_plan_from_json(R"({"lm_head": "colwize"})", llama)
                  .error()
                  .what()
                  .starts_with("lm_head: unknown plan style 'colwize' (known: colwise, "));
  EXPECT_EQ(user_plan_from_json(R"({"lm_head": 3})", llama).error().what(), "lm_head: expected a style name, got 3");
  EXPECT_EQ(user_plan_from_json(R"({"model.layers.*.mlp.gateproj": "colwise"})", llama).error().what(),
            "plan: 'model.layers.*.mlp.gateproj' matches no parameter of the model");
  EXPECT_EQ(user_plan_from_json("[]", llama).error().what(),
            "plan: expected an object of module key -> style, got an array");
  EXPECT_TRUE(user_plan_from_json("{", llama).error().what().starts_with("plan: line 1, column 2: "));
  // A user plan is what validate_model_plan and size_plan use: attention left replicated passes the head rules.
  const Plan mlp_only = user_plan_from_json(R"({"model.layers.*.mlp.gate_proj": "colwise"})",
                                            parameter_inventory(preset("qwen2.5-7b")).value())
                            .value();
  EXPECT_TRUE(validate_model_plan(preset("qwen2.5-7b"), {.tp = 8}, &mlp_only)->valid());
}

// The rule table: one row per Rule in enum order (also a static_assert in plan_rules.hpp), names as the CLI prints.
TEST(PlanRules, TableNamesSeveritiesAndCompileTimeNames) {
  Names names;
  Names warnings;
  for (std::size_t i = 0; i < std::size(kRules); ++i) {
    const RuleSpec& rule = kRules[i];
    EXPECT_EQ(rule.id, static_cast<Rule>(i));
    EXPECT_EQ(to_string(rule.id), rule.name);
    names.emplace_back(rule.name);
    if (rule.severity == Severity::warning) warnings.emplace_back(rule.name);
    EXPECT_EQ(rule.fix != nullptr, rule.severity == Severity::error) << rule.name;
    EXPECT_EQ(rule.compile_error != nullptr, rule.severity == Severity::error) << rule.name;
  }
  EXPECT_EQ(names, (Names{"attention_heads", "kv_heads", "intermediate", "expert_intermediate",
                          "shared_expert_intermediate", "experts", "uneven_experts", "vocabulary", "vocab_padding",
                          "quantization_blocks", "sequence", "context", "pipeline", "mesh", "expert_parallel",
                          "tp_crosses_host"}));
  EXPECT_EQ(warnings, (Names{"uneven_experts", "vocab_padding", "tp_crosses_host"}));
  EXPECT_EQ(rule_spec(Rule::context).compile_error, rule_spec(Rule::sequence).compile_error);
}

// Warnings come in table order, and a warning never has a fix.
TEST(PlanRules, SeveralWarnings) {
  const ModelConfig small = model_config_from_json(R"({"model_type": "qwen3_moe", "hidden_size": 512,
      "intermediate_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 4,
      "head_dim": 32, "vocab_size": 1000, "num_experts": 6, "num_experts_per_tok": 2, "moe_intermediate_size": 96})")
                                  .value();
  const PlanReport report = check(small, {.tp = 16,
                                          .ep = 4,
                                          .dp = 4,
                                          .kv_policy = ShortSegmentPolicy::replicate,
                                          .vocab_pad = VocabPadding::vllm,
                                          .expert_policy = SplitPolicy::balanced});
  EXPECT_EQ(rules(report.warnings), (Names{"uneven_experts", "vocab_padding", "tp_crosses_host"}));
  EXPECT_EQ(report.warnings[1].message.view(), "24 padding rows on a vocabulary of 1000 (more than 1%)");
  for (const Diagnostic& d : report.warnings) EXPECT_TRUE(d.fix.empty()) << to_string(d.rule);
}

TEST(KvHeads, SplitOverTp) {
  EXPECT_EQ(kv_head_split(8, 4), KvHeadSplit::divided);
  EXPECT_EQ(kv_head_split(8, 8), KvHeadSplit::divided);
  EXPECT_EQ(kv_head_split(8, 16), KvHeadSplit::replicated);
  EXPECT_EQ(kv_head_split(8, 12), KvHeadSplit::invalid);
  EXPECT_EQ(kv_head_split(8, 3), KvHeadSplit::invalid);
  EXPECT_EQ(ranks_per_kv_head(4, 16), 4);
  EXPECT_EQ(kv_head_of_rank(4, 16, 0), 0);
  EXPECT_EQ(kv_head_of_rank(4, 16, 7), 1);
  EXPECT_EQ(kv_head_of_rank(4, 16, 15), 3);
  EXPECT_EQ(kv_heads_per_rank(8, 2), 4);
  EXPECT_EQ(kv_heads_per_rank(8, 16), 1);
  // The segmented layout of a k_proj with 4 heads of 128 over 16 ranks reads the same rule.
  const Mesh mesh = Mesh::create(AxisSizes{16}).value();
  const Layout layout = Layout::create(Shape{512, 64}, mesh, Placements{Placement::shard(0)}).value();
  const SegmentedLayout kv =
      SegmentedLayout::create(layout, {SegmentedDim{0, {512}, 128}}, ShortSegmentPolicy::replicate).value();
  EXPECT_EQ(kv.index_sets(7).value()[0], IntervalSet::range(128, 256));
}

TEST(Quantization, OneTableForNamesBlocksAndBytes) {
  for (const QuantizationScheme& scheme : kQuantizationSchemes) {
    EXPECT_EQ(parse_quantization(scheme.name).value(), scheme.id);
    EXPECT_EQ(to_string(scheme.id), scheme.name);
  }
  EXPECT_EQ(parse_quantization("int3").error().what(),
            "quant: unknown quantization 'int3' (known: none, fp8-block128, mxfp4, gptq128, fp8-tensor, fp8-channel)");
  const QuantizationScheme& fp8 = quantization_scheme(Quantization::fp8_block128);
  EXPECT_TRUE(keeps_quantization_blocks(fp8, 256, 512, false));
  EXPECT_FALSE(keeps_quantization_blocks(fp8, 192, 512, false));
  EXPECT_FALSE(keeps_quantization_blocks(fp8, 256, 64, true));
  const QuantizationScheme& gptq = quantization_scheme(Quantization::gptq128);
  EXPECT_TRUE(keeps_quantization_blocks(gptq, 100, 64, false));  // groups cut only by a split of the input
  EXPECT_FALSE(keeps_quantization_blocks(gptq, 100, 64, true));
  EXPECT_FALSE(keeps_quantization_blocks(quantization_scheme(Quantization::mxfp4), 64, 48, false));
  // GPTQ 4-bit: [300, 256]: 38400 bytes of weights, 300·2 groups with an fp16 scale and a 4-bit zero.
  EXPECT_EQ(weight_bytes(Shape{300, 256}, true, Quantization::gptq128, 2).value(), 38400 + 600 * 2 + 300);
  // fp8 on gpt-oss's [E, in, out] layout: 2 experts of 256 x 384 (out x in) blocks.
  EXPECT_EQ(weight_bytes(Shape{2, 384, 256}, true, Quantization::fp8_block128, 2, -2).value(),
            2 * 384 * 256 + 2 * 2 * 3 * 4);
  EXPECT_EQ(weight_bytes(Shape{Index{1} << 62, 4}, false, Quantization::none, 2).error().what(),
            "parameters: 4611686018427387904 * 4 overflows int64");
}

// Overflow is an error naming the field (which the CLI maps to its flag) and the numbers, never a wrapped figure.
TEST(Sizing, OverflowIsAnError) {
  const ModelConfig llama = preset("llama-3.1-8b");
  EXPECT_EQ(size_plan(llama, {.seq = Index{1} << 62}).error().what(),
            "seq: activations: tokens * sequence bytes = 4611686018427387904 * 32768 overflows int64");
  EXPECT_EQ(size_plan(llama, {.tp = 2, .seq = Index{1} << 45, .sequence_parallel = true}).error().what(),
            "seq: activations: dense layer bytes * layers = 2449958197289549824 * 32 overflows int64");
  EXPECT_EQ(size_plan(llama, {.seq = 4096, .batch = Index{1} << 62}).error().field, std::string_view("batch"));
  EXPECT_EQ(size_plan(llama, {.tp = Index{1} << 32, .dp = Index{1} << 32}).error().what(),
            "world: 4294967296 * 4294967296 overflows int64");
  EXPECT_EQ(validate_model_plan(llama, {.cp = Index{1} << 62, .seq = 4096}).error().what(),
            "cp: 2*cp = 2 * 4611686018427387904 overflows int64 (load-balanced context parallelism)");
  ModelConfig wide = llama;
  wide.head_dim = Index{1} << 40;
  EXPECT_EQ(validate_model_plan(wide, {}).error().code, ErrorCode::overflow);
  EXPECT_EQ(size_plan(wide, {}).error().field, std::string_view("parameters"));
  // Fits: a stage of 16 layers at seq 2^40 with sequence parallelism over tp 2.
  const SizeReport fits = size_plan(llama, {.tp = 2, .pp = 2, .seq = Index{1} << 40, .sequence_parallel = true}).value();
  // Per layer 2^40 * (32768 / 2 + 53248) bytes; 16 layers, 2 micro-batches in flight.
  EXPECT_EQ(fits.classes[0].activation_bytes, (Index{1} << 40) * (16384 + 53248) * 16 * 2);
}

// The valid sizes stop at kMaxSearchedSize, so that a model with thousands of heads is answered at once.
TEST(CheckPlan, ValidSizesSearchIsBounded) {
  ModelConfig many_heads;
  many_heads.hidden_size = 4096;
  many_heads.intermediate_size = 4096;
  many_heads.num_hidden_layers = 1;
  many_heads.num_attention_heads = 4096;
  many_heads.num_key_value_heads = 4096;
  many_heads.head_dim = 1;
  many_heads.vocab_size = 4096;
  const PlanReport report = check(many_heads, {});
  ASSERT_FALSE(report.valid_tp.empty());
  EXPECT_EQ(report.valid_tp.size(), 11U);  // 1, 2, 4, ..., 1024
  EXPECT_EQ(report.valid_tp.back(), kMaxSearchedSize);
}

// Compile-time validation of a preset.
static_assert(require_valid_plan(model_preset("llama-3.1-70b").value(), {.tp = 8}));
static_assert(require_valid_plan(model_preset("qwen2.5-7b").value(), {.tp = 4}));
static_assert(!validate_model_plan(model_preset("qwen2.5-7b").value(), {.tp = 8}, nullptr, CheckDepth::rules)->valid());

}  // namespace
}  // namespace shardplan
