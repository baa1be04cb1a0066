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
  EXPECT_EQ(sharding(PlanStyle::moe_tp_experts, "experts.gate_up_proj", Shape{8, 28672, 4096}), "_S(1,2)");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_experts, "experts.down_proj", Shape{8, 4096, 14336}), "S(2)");
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
      Index sized = -1;
      for (const RankMemory& m : size.ranks) {
        if (m.stage == where.stage && m.tp_rank == where.tp_rank && m.ep_rank == where.ep_rank) sized = m.params;
      }
      EXPECT_EQ(sized, listed) << c.model << " rank " << rank;
      if (config.quantization == Quantization::none) {  // and bf16 bytes are exactly twice that
        for (const RankMemory& m : size.ranks) {
          if (m.stage == where.stage && m.tp_rank == where.tp_rank && m.ep_rank == where.ep_rank) {
            EXPECT_EQ(m.params_bytes, 2 * listed) << c.model << " rank " << rank;
          }
        }
      }
    }
  }
}

TEST(Sizing, ExactFigures) {
  // Llama-3.1-8B, TP=2, PP=2: stage 0 holds the embedding half and 16 layers' halves (norms whole).
  const SizeReport size = size_plan(preset("llama-3.1-8b"), {.tp = 2, .pp = 2, .seq = 4096}).value();
  ASSERT_EQ(size.ranks.size(), 4U);
  EXPECT_EQ(size.total_params, 8030261248);
  EXPECT_EQ(size.ranks[0].params, 2007629824);
  EXPECT_EQ(size.ranks[0].params_bytes, Index{2} * 2007629824);
  EXPECT_EQ(size.ranks[0].optimizer_bytes, Index{12} * 2007629824);
  EXPECT_EQ(size.ranks[0].activation_bytes, Index{16} * (Index{4096} * 4096 * 10 + Index{4096} * 4096 * 24 / 2));
  EXPECT_EQ(size.ranks[0].kv_cache_bytes_per_token, 2 * 16 * 4 * 128 * 2);
  // MLA caches the latent: (512 + 64) * 61 layers * 2 bytes per token, whatever tp.
  EXPECT_EQ(size_plan(preset("deepseek-v3"), {.tp = 8}).value().ranks[0].kv_cache_bytes_per_token, 576 * 61 * 2);
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
  EXPECT_EQ(user_plan_from_json(R"({"model.layers.3.mlp.down_proj": "replicate"})", llama).error().what(),
            "plan: 'model.layers.3.mlp.down_proj' names one layer or expert; plans take patterns with '*' for every "
            "index");
  EXPECT_TRUE(user_plan_from_json(R"({"lm_head": "colwize"})", llama)
                  .error()
                  .what()
                  .starts_with("lm_head: unknown plan style 'colwize' (known: colwise, "));
  EXPECT_EQ(user_plan_from_json(R"({"lm_head": 3})", llama).error().what(), "lm_head: expected a style name, got 3");
  EXPECT_EQ(user_plan_from_json(R"({"model.layers.*.mlp.gateproj": "colwise"})", llama).error().what(),
            "plan: 'model.layers.*.mlp.gateproj' matches no parameter of the model");
  EXPECT_EQ(user_plan_from_json("[]", llama).error().what(),
            "plan: expected an object of parameter pattern -> style, got an array");
  EXPECT_TRUE(user_plan_from_json("{", llama).error().what().starts_with("plan: line 1, column 2: "));
  // A user plan is what validate_model_plan and size_plan use: attention left replicated passes the head rules.
  const Plan mlp_only = user_plan_from_json(R"({"model.layers.*.mlp.gate_proj": "colwise"})",
                                            parameter_inventory(preset("qwen2.5-7b")).value())
                            .value();
  EXPECT_TRUE(validate_model_plan(preset("qwen2.5-7b"), {.tp = 8}, &mlp_only)->valid());
}

// Compile-time validation of a preset.
static_assert(require_valid_plan(model_preset("llama-3.1-70b").value(), {.tp = 8}));
static_assert(require_valid_plan(model_preset("qwen2.5-7b").value(), {.tp = 4}));
static_assert(!validate_model_plan(model_preset("qwen2.5-7b").value(), {.tp = 8}, nullptr, CheckDepth::rules)->valid());

}  // namespace
}  // namespace shardplan
