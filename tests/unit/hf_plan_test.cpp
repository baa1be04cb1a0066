// Plans in HF transformers' own format: every style name with its effect on weight and bias, HF's resolution order,
// keys with and without the `model.` prefix, per-layer keys splitting parameter groups, the EP plan combined with
// the TP plan, HF's own configuration plans read verbatim, the built-in plans written in HF's format and read back,
// and errors naming the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

ModelConfig preset(std::string_view name) { return model_preset(name).value(); }
Inventory inventory_of(std::string_view name) { return parameter_inventory(preset(name)).value(); }

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries entries(const Plan& plan) {
  Entries out;
  for (const PlanEntry& entry : plan) out.emplace_back(entry.key.view(), to_string(entry.style));
  return out;
}

// Keys are unique in a plan, so its order does not change any resolution: compare plans as sets.
Entries sorted(Entries list) {
  std::sort(list.begin(), list.end());
  return list;
}

std::string error_of(std::string_view text, const Inventory& inventory) {
  const auto plans = plan_set_from_json(text, inventory);
  return plans.ok() ? std::string("(no error)") : plans.error().what();
}

// ---------------------------------------------------------------------------------------------------------------
// Style names and what each does to a weight and a bias

TEST(HfPlanStyles, EveryNameParsesAndCanonicalNamesComeFirstInEnumOrder) {
  EXPECT_EQ(kCanonicalPlanStyles, 35U);
  for (std::size_t i = 0; i < kCanonicalPlanStyles; ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kPlanStyleNames[i].style), i) << kPlanStyleNames[i].name;
  }
  for (const PlanStyleName& entry : kPlanStyleNames) {
    EXPECT_EQ(parse_plan_style(entry.name).value(), entry.style) << entry.name;
    EXPECT_FALSE(activation_effect(entry.style).empty()) << entry.name;
  }
  // Aliases: the same HF class registered under another name by another transformers version.
  const std::pair<std::string_view, PlanStyle> aliases[] = {
      {"colwise_rep", PlanStyle::colwise_gather_output},   {"colwise_allgather", PlanStyle::colwise_gather_output},
      {"rowwise_allreduce", PlanStyle::rowwise},           {"rowwise_rep", PlanStyle::rowwise_split_input},
      {"vocab", PlanStyle::embedding_rowwise},             {"vocab_allreduce", PlanStyle::embedding_rowwise},
      {"moe_experts_allreduce", PlanStyle::moe_tp_experts}};
  for (const auto& [name, style] : aliases) EXPECT_EQ(parse_plan_style(name).value(), style) << name;
  EXPECT_EQ(parse_plan_style("colwize", "layers.*.mlp.up_proj").error().what(),
            "layers.*.mlp.up_proj: unknown plan style 'colwize' (known: colwise, colwise_gather_output, rowwise, "
            "rowwise_reduce_scatter, rowwise_split_input, ... 37 more in docs/plans.md)");
}

std::string sharding(PlanStyle style, std::string_view name, Shape shape, Index experts = 0) {
  const ParameterGroup param{FixedString<112>(name), std::move(shape), {}, experts, false};
  const auto result = parameter_sharding(style, param);
  if (!result.ok()) return result.error().what();
  return result->placement.to_string().str() + (result->two_segments ? " segments" : "");
}

struct StyleCase {
  std::string_view style;
  std::string_view weight;  // on a [64, 32] linear weight (out, in)
  std::string_view bias;    // on its [64] bias
  StyleAxis axis;
};

// The table of docs/plans.md, one row per canonical style.
TEST(HfPlanStyles, WeightAndBiasOfEveryStyle) {
  const StyleCase cases[] = {
      {"colwise", "S(0)", "S(0)", StyleAxis::tp},
      {"colwise_gather_output", "S(0)", "S(0)", StyleAxis::tp},
      {"rowwise", "S(1)", "R", StyleAxis::tp},
      {"rowwise_reduce_scatter", "S(1)", "R", StyleAxis::tp},
      {"rowwise_split_input", "S(1)", "R", StyleAxis::tp},
      {"packed_colwise", "S(0) segments", "S(0) segments", StyleAxis::tp},
      {"packed_rowwise", "_S(1,2)", "R", StyleAxis::tp},
      {"embedding_rowwise", "S(0)", "S(0)", StyleAxis::tp},
      {"sequence_parallel", "R", "R", StyleAxis::none},
      {"activation", "R", "R", StyleAxis::none},
      {"activation_seq_dim_2", "R", "R", StyleAxis::none},
      {"grouped_gemm", "S(0)", "S(0)", StyleAxis::ep},
      {"ep_router", "R", "R", StyleAxis::none},
      {"moe_tp_experts", "R", "R", StyleAxis::none},
      {"local_colwise", "S(0)", "S(0)", StyleAxis::tp},
      {"local_rowwise", "S(1)", "R", StyleAxis::tp},
      {"local_packed_colwise", "S(0) segments", "S(0) segments", StyleAxis::tp},
      {"local_packed_rowwise", "_S(1,2)", "R", StyleAxis::tp},
      {"replicate", "R", "R", StyleAxis::none},
      {"replicated_with_grad_allreduce", "R", "R", StyleAxis::none},
      {"embedding_colwise", "S(1)", "S(0)", StyleAxis::tp},
      {"colwise_loss_parallel", "S(0)", "S(0)", StyleAxis::tp},
      {"vocab_reduce_scatter", "S(0)", "S(0)", StyleAxis::tp},
      {"moe_tp_gate_up_colwise", "S(0)", "S(0)", StyleAxis::tp},
      {"moe_tp_down_rowwise", "S(1)", "R", StyleAxis::tp},
      {"moe_identity_expert", "R", "R", StyleAxis::none},
      {"megamoe_router", "R", "R", StyleAxis::none},
      {"megamoe_experts", "R", "R", StyleAxis::none},
      {"mla_kv_a_proj", "R", "R", StyleAxis::none},
      {"all_reduce", "R", "R", StyleAxis::none},
      {"gather", "R", "R", StyleAxis::none},
      {"local", "R", "R", StyleAxis::none},
      {"module_allgather", "R", "R", StyleAxis::none},
      {"module_allgather_hidden_states", "R", "R", StyleAxis::none},
      {"module_allgather_split", "R", "R", StyleAxis::none},
  };
  ASSERT_EQ(std::size(cases), kCanonicalPlanStyles);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const StyleCase& c = cases[i];
    EXPECT_EQ(c.style, kPlanStyleNames[i].name);
    const PlanStyle style = parse_plan_style(c.style).value();
    EXPECT_EQ(sharding(style, "model.layers.*.mlp.up_proj.weight", Shape{64, 32}), c.weight) << c.style;
    EXPECT_EQ(sharding(style, "model.layers.*.mlp.up_proj.bias", Shape{64}), c.bias) << c.style;
    EXPECT_EQ(style_axis(style), c.axis) << c.style;
  }
}

TEST(HfPlanStyles, EmbeddingsExpertsAndFusedTensors) {
  const Shape embedding{128256, 4096};
  EXPECT_EQ(sharding(PlanStyle::embedding_rowwise, "model.embed_tokens.weight", embedding), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::vocab_reduce_scatter, "model.embed_tokens.weight", embedding), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::embedding_colwise, "model.embed_tokens.weight", embedding), "S(1)");
  EXPECT_EQ(sharding(PlanStyle::colwise, "model.embed_tokens.weight", embedding), "S(1)");
  // HF v5's fused experts [E, 2I, H]: moe_tp_gate_up_colwise is _StridedShard(-2, 2); a per-expert gate or up
  // tensor (one segment) is a plain split of its rows; the fused bias [E, 2I] splits each half.
  EXPECT_EQ(sharding(PlanStyle::moe_tp_gate_up_colwise, "model.layers.*.mlp.experts.gate_up_proj", Shape{8, 28672, 4096}),
            "_S(1,2)");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_gate_up_colwise, "model.layers.*.mlp.experts.*.gate_proj.weight",
                     Shape{768, 2048}, 128),
            "S(0)");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_gate_up_colwise, "model.layers.*.mlp.experts.gate_up_proj_bias", Shape{8, 28672}),
            "S(1) segments");
  EXPECT_EQ(sharding(PlanStyle::moe_tp_down_rowwise, "model.layers.*.mlp.experts.down_proj", Shape{8, 4096, 14336}),
            "S(2)");
  // grouped_gemm: a fused [E, ...] tensor splits its expert dim; per-expert tensors are spread whole.
  EXPECT_EQ(sharding(PlanStyle::grouped_gemm, "model.layers.*.mlp.experts.gate_up_proj", Shape{128, 2880, 5760}), "S(0)");
  EXPECT_EQ(sharding(PlanStyle::grouped_gemm, "model.layers.*.mlp.experts.*.gate_proj.weight", Shape{768, 2048}, 128),
            "R");
  // moe_tp_experts registers no parameter sharding in HF (a forward all-reduce of the experts' output).
  EXPECT_EQ(sharding(PlanStyle::moe_tp_experts, "model.layers.*.mlp.experts.gate_up_proj", Shape{8, 28672, 4096}), "R");
  EXPECT_EQ(sharding(PlanStyle::packed_colwise, "x.weight", Shape{63, 32}),
            "S(0) segments");  // placement only: the odd size is the layout's to refuse
}

// HF applies grouped_gemm on its one mesh: with ep 1, gpt-oss's fused experts split their expert dim over tp (issue 13:
// [16, 2880, 5760] at tp 8, not [128, ...]); --etp 1 keeps them whole; with ep > 1 they split over ep (and etp).
TEST(HfPlanStyles, GroupedGemmWithoutEpSplitsFusedExpertsOverTp) {
  const ModelConfig gpt = preset("gpt-oss-120b");
  const auto local = [&gpt](const ParallelConfig& parallel, Index rank) {
    for (const RankParameter& p : rank_parameters(gpt, parallel, rank).value()) {
      if (p.name.view() == "model.layers.0.mlp.experts.gate_up_proj") return std::make_pair(p.local_shape, p.sets[0]);
    }
    return std::make_pair(Shape{}, IntervalSet{});
  };
  EXPECT_EQ(local({.tp = 8}, 1), std::make_pair(Shape{16, 2880, 5760}, IntervalSet::range(16, 32)));
  EXPECT_EQ(local({.tp = 8, .etp = 1}, 1), std::make_pair(Shape{128, 2880, 5760}, IntervalSet::range(0, 128)));
  // With ep > 1 the experts split over ep, and each over etp (default tp, as Megatron-LM: the output dim halves).
  EXPECT_EQ(local({.tp = 2, .ep = 4, .dp = 4}, 2), std::make_pair(Shape{32, 2880, 2880}, IntervalSet::range(32, 64)));
  // etp 1 keeps them whole, and ep borrows the tp ranks (Megatron's expert layout): rank 2 is ep rank 2.
  EXPECT_EQ(local({.tp = 2, .ep = 4, .etp = 1, .dp = 4}, 2),
            std::make_pair(Shape{32, 2880, 5760}, IntervalSet::range(64, 96)));
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution

TEST(HfPlanResolution, ExactNameThenExactModuleThenGenericNameThenGenericModule) {
  const Plan plan{{ParameterName("model.layers.*.mlp.down_proj"), PlanStyle::colwise},
                  {ParameterName("model.layers.*.mlp.down_proj.weight"), PlanStyle::rowwise},
                  {ParameterName("model.layers.0.mlp.down_proj"), PlanStyle::replicate},
                  {ParameterName("model.layers.1.mlp.down_proj.weight"), PlanStyle::local_rowwise}};
  EXPECT_EQ(resolve_style(plan, "model.layers.0.mlp.down_proj.weight"), PlanStyle::replicate);  // exact module
  EXPECT_EQ(resolve_style(plan, "model.layers.1.mlp.down_proj.weight"), PlanStyle::local_rowwise);  // exact name
  EXPECT_EQ(resolve_style(plan, "model.layers.2.mlp.down_proj.weight"), PlanStyle::rowwise);  // generic name
  EXPECT_EQ(resolve_style(plan, "model.layers.2.mlp.down_proj.bias"), PlanStyle::colwise);    // generic module
  EXPECT_EQ(resolve_style(plan, "model.layers.2.mlp.up_proj.weight"), std::nullopt);
}

TEST(HfPlanResolution, WildcardsStandForWholeNumberComponentsOnly) {
  EXPECT_EQ(detail::generic_name("model.layers.12.block_sparse_moe.experts.7.w1.weight").view(),
            "model.layers.*.block_sparse_moe.experts.*.w1.weight");
  const Inventory llama = inventory_of("llama-3.1-8b");
  // `*` is one index, not a glob over names: "mlp.*" names no parameter.
  EXPECT_EQ(error_of(R"({"layers.*.mlp.*": "colwise"})", llama),
            "plan: 'layers.*.mlp.*' matches no parameter of the model");
  EXPECT_EQ(error_of(R"({"layers.*.mlp.up_proj.*": "colwise"})", llama),
            "plan: 'layers.*.mlp.up_proj.*' matches no parameter of the model");
}

TEST(HfPlanResolution, KeysWithAndWithoutTheModelPrefix) {
  const Inventory llama = inventory_of("llama-3.1-8b");
  const PlanSet plans = plan_set_from_json(R"({"layers.*.self_attn.q_proj": "colwise",
      "model.layers.*.self_attn.o_proj": "rowwise", "lm_head": "colwise_rep", "embed_tokens": "embedding_rowwise",
      "norm": "sequence_parallel", "layers.*.mlp.down_proj.weight": "rowwise"})",
                                           llama)
                              .value();
  EXPECT_EQ(entries(plans.tp), (Entries{{"model.layers.*.self_attn.q_proj", "colwise"},
                                        {"model.layers.*.self_attn.o_proj", "rowwise"},
                                        {"lm_head", "colwise_gather_output"},
                                        {"model.embed_tokens", "embedding_rowwise"},
                                        {"model.norm", "sequence_parallel"},
                                        {"model.layers.*.mlp.down_proj.weight", "rowwise"}}));
  EXPECT_TRUE(plans.ep.empty());  // llama has no EP plan
  EXPECT_EQ(error_of(R"({"layers.*.mlp.up_proj": "colwise", "model.layers.*.mlp.up_proj": "rowwise"})", llama),
            "plan: 'model.layers.*.mlp.up_proj' is a second key for 'model.layers.*.mlp.up_proj'");
}

// ---------------------------------------------------------------------------------------------------------------
// Per-layer keys

TEST(HfPlanPerLayer, GroupsSplitByTheStyleTheirLayersResolveTo) {
  const Inventory llama = inventory_of("llama-3.1-8b");
  const Plan plan =
      user_plan_from_json(R"({"layers.*.mlp.down_proj": "rowwise", "layers.0.mlp.down_proj": "replicate",
                              "layers.7.mlp.down_proj.weight": "replicate", "layers.3.mlp.down_proj": "rowwise"})",
                          llama)
          .value();
  std::vector<std::pair<std::string, IntervalSet>> down;
  for (const ResolvedGroup& group : resolve_groups(llama, plan)) {
    if (group.param.pattern.view() != "model.layers.*.mlp.down_proj.weight") continue;
    down.emplace_back(group.style ? to_string(*group.style) : "none", group.param.layers);
  }
  ASSERT_EQ(down.size(), 2U);
  EXPECT_EQ(down[0].first, "replicate");
  EXPECT_EQ(down[0].second, IntervalSet::from_indices({0, 7}));
  EXPECT_EQ(down[1].first, "rowwise");
  EXPECT_EQ(down[1].second, subtract(IntervalSet::range(0, 32), IntervalSet::from_indices({0, 7})));
  // Groups without per-layer keys stay one group each, in inventory order.
  EXPECT_EQ(resolve_groups(llama, plan).size(), llama.size() + 1);
}

TEST(HfPlanPerLayer, SizingAndListingSeeEachLayersStyle) {
  const ModelConfig llama = preset("llama-3.1-8b");
  const Inventory inventory = parameter_inventory(llama).value();
  const Plan wildcard = user_plan_from_json(R"({"layers.*.mlp.down_proj": "rowwise"})", inventory).value();
  const Plan one_layer = user_plan_from_json(R"({"layers.*.mlp.down_proj": "rowwise",
                                                 "layers.0.mlp.down_proj": "replicate"})",
                                             inventory)
                             .value();
  const ParallelConfig tp8{.tp = 8};
  const Index all = size_plan(llama, tp8, &wildcard).value().find(0, 0, 0)->params;
  const Index split = size_plan(llama, tp8, &one_layer).value().find(0, 0, 0)->params;
  EXPECT_EQ(split - all, 4096 * 14336 - 4096 * 14336 / 8);  // layer 0's down_proj whole instead of an eighth
  const std::vector<RankParameter> listed = rank_parameters(llama, tp8, 5, &one_layer).value();
  bool saw0 = false;
  bool saw1 = false;
  for (const RankParameter& p : listed) {
    if (p.name.view() == "model.layers.0.mlp.down_proj.weight") {
      saw0 = true;
      EXPECT_EQ(p.style, PlanStyle::replicate);
      EXPECT_EQ(p.local_shape, (Shape{4096, 14336}));
    }
    if (p.name.view() == "model.layers.1.mlp.down_proj.weight") {
      saw1 = true;
      EXPECT_EQ(p.style, PlanStyle::rowwise);
      EXPECT_EQ(p.local_shape, (Shape{4096, 1792}));
      EXPECT_EQ(p.sets[1], IntervalSet::range(5 * 1792, 6 * 1792));
    }
  }
  EXPECT_TRUE(saw0 && saw1);
}

TEST(HfPlanPerLayer, ValidationSeesOneLayersStyle) {
  const ModelConfig qwen = preset("qwen2.5-7b");  // 28 heads: not divisible by tp 8
  const Inventory inventory = parameter_inventory(qwen).value();
  const Plan mlp = user_plan_from_json(R"({"layers.*.mlp.gate_proj": "colwise"})", inventory).value();
  EXPECT_TRUE(validate_model_plan(qwen, {.tp = 8}, &mlp, CheckDepth::rules)->valid());
  const Plan layer5 = user_plan_from_json(R"({"layers.*.mlp.gate_proj": "colwise",
                                              "layers.5.self_attn.q_proj": "colwise"})",
                                          inventory)
                          .value();
  const PlanReport report = validate_model_plan(qwen, {.tp = 8}, &layer5, CheckDepth::rules).value();
  ASSERT_EQ(report.errors.size(), 1U);
  EXPECT_EQ(report.errors[0].rule, Rule::attention_heads);
  EXPECT_EQ(report.errors[0].param.view(), "model.layers.*.self_attn.q_proj.weight");
}

TEST(HfPlanPerLayer, ALayerTheModelLacksOrOneExpertIsAnErrorNamingTheKey) {
  EXPECT_EQ(error_of(R"({"layers.32.mlp.down_proj": "rowwise"})", inventory_of("llama-3.1-8b")),
            "plan: 'layers.32.mlp.down_proj' matches no parameter of the model (it has no layer 32)");
  // DeepSeek-V3's first 3 layers are dense: layer 1 has no experts.
  EXPECT_EQ(error_of(R"({"layers.1.mlp.experts.*.gate_proj": "colwise"})", inventory_of("deepseek-v3")),
            "plan: 'layers.1.mlp.experts.*.gate_proj' matches no parameter of the model (it has no layer 1)");
  EXPECT_EQ(error_of(R"({"layers.3.mlp.experts.*.gate_proj": "colwise"})", inventory_of("deepseek-v3")), "(no error)");
  EXPECT_EQ(error_of(R"({"layers.*.mlp.experts.3.gate_proj": "colwise"})", inventory_of("qwen3-30b-a3b")),
            "plan: 'layers.*.mlp.experts.3.gate_proj' names expert 3; a plan gives every expert of a layer one style "
            "(write '*')");
}

// ---------------------------------------------------------------------------------------------------------------
// EP with TP

TEST(HfPlanExpertParallel, OverlayIsHfsDefaultReplaceIsTheOlderBehaviour) {
  const PlanSet plans{
      {{ParameterName("model.layers.*.self_attn.q_proj"), PlanStyle::colwise},
       {ParameterName("model.layers.*.mlp.experts.gate_up_proj"), PlanStyle::moe_tp_gate_up_colwise},
       {ParameterName("model.layers.*.mlp.experts.down_proj"), PlanStyle::moe_tp_down_rowwise},
       {ParameterName("model.layers.*.mlp.gate"), PlanStyle::replicate}},
      {{ParameterName("model.layers.*.mlp.gate"), PlanStyle::ep_router},
       {ParameterName("model.layers.*.mlp.experts.gate_up_proj"), PlanStyle::grouped_gemm}},
      {{ParameterName("model.norm"), PlanStyle::sequence_parallel}}};
  EXPECT_EQ(entries(combine_plans(plans, false, false)), entries(plans.tp));
  EXPECT_EQ(entries(combine_plans(plans, false, true)), entries(plans.sp));
  // The EP entry wins on a shared key; the TP plan's expert-TP entries go (down_proj has no EP entry here: HF drops
  // it all the same).
  EXPECT_EQ(entries(combine_plans(plans, true, false)),
            (Entries{{"model.layers.*.mlp.gate", "ep_router"},
                     {"model.layers.*.mlp.experts.gate_up_proj", "grouped_gemm"},
                     {"model.layers.*.self_attn.q_proj", "colwise"}}));
  EXPECT_EQ(entries(combine_plans(plans, true, false, EpPlanMode::replace)), entries(plans.ep));
  EXPECT_EQ(entries(combine_plans(PlanSet{plans.tp, {}, {}}, true, false)), entries(plans.tp));  // no EP plan
  EXPECT_EQ(parse_ep_plan_mode("replace").value(), EpPlanMode::replace);
  EXPECT_EQ(parse_ep_plan_mode("merge").error().what(), "ep_plan: expected overlay or replace, got 'merge'");
}

TEST(HfPlanExpertParallel, AFlatUserPlanKeepsTheModelsEpPlanAsHfDoes) {
  const ModelConfig qwen = preset("qwen3-30b-a3b");
  const Inventory inventory = parameter_inventory(qwen).value();
  const PlanSet plans = plan_set_from_json(R"({"layers.*.self_attn.q_proj": "colwise",
      "layers.*.mlp.experts.*.gate_proj": "colwise"})",
                                           inventory, default_ep_plan(qwen.family))
                            .value();
  const Plan ep = combine_plans(plans, true, false);
  EXPECT_EQ(resolve_style(ep, "model.layers.0.mlp.experts.5.gate_proj.weight"), PlanStyle::grouped_gemm);
  EXPECT_EQ(resolve_style(ep, "model.layers.0.self_attn.q_proj.weight"), PlanStyle::colwise);
  const Plan replaced = combine_plans(plans, true, false, EpPlanMode::replace);
  EXPECT_EQ(resolve_style(replaced, "model.layers.0.self_attn.q_proj.weight"), std::nullopt);
  // A document with plan members says what its EP plan is: here none, so ep > 1 changes no style.
  const PlanSet own = plan_set_from_json(R"({"base_model_tp_plan": {"layers.*.mlp.experts.*.gate_proj": "colwise"},
                                            "base_model_ep_plan": null})",
                                         inventory, default_ep_plan(qwen.family))
                          .value();
  EXPECT_EQ(resolve_style(combine_plans(own, true, false), "model.layers.0.mlp.experts.5.gate_proj.weight"),
            PlanStyle::colwise);
}

// ---------------------------------------------------------------------------------------------------------------
// HF's own plans, verbatim (transformers' configuration_<family>.py)

// models/qwen3_moe/configuration_qwen3_moe.py (transformers 5.x), without its three dense-MLP keys
// ("layers.*.mlp.gate_proj" / "up_proj" / "down_proj"): every layer of Qwen3-30B-A3B is MoE, and a key that names
// nothing of the model is an error here (HF only warns).
constexpr std::string_view kQwen3MoePlans = R"({
  "base_model_tp_plan": {
    "layers.*.self_attn.q_proj": "colwise",
    "layers.*.self_attn.k_proj": "colwise",
    "layers.*.self_attn.v_proj": "colwise",
    "layers.*.self_attn.q_norm": "replicated_with_grad_allreduce",
    "layers.*.self_attn.k_norm": "replicated_with_grad_allreduce",
    "layers.*.self_attn.o_proj": "rowwise",
    "layers.*.mlp.experts.gate_up_proj": "packed_colwise",
    "layers.*.mlp.experts.down_proj": "rowwise",
    "layers.*.mlp.experts": "moe_tp_experts"
  },
  "base_model_ep_plan": {
    "layers.*.mlp.gate": "ep_router",
    "layers.*.mlp.experts.gate_up_proj": "grouped_gemm",
    "layers.*.mlp.experts.down_proj": "grouped_gemm",
    "layers.*.mlp.experts": "moe_tp_experts"
  },
  "base_model_pp_plan": {"embed_tokens": [["input_ids"], ["inputs_embeds"]]}
})";

TEST(HfPlanVerbatim, Qwen3MoeFusedExpertKeysApplyToTheCheckpointsPerExpertTensors) {
  const ModelConfig qwen = preset("qwen3-30b-a3b");
  const Inventory inventory = parameter_inventory(qwen).value();
  EXPECT_EQ(error_of(R"({"base_model_tp_plan": {"layers.*.mlp.gate_proj": "colwise"}})", inventory),
            "base_model_tp_plan: 'layers.*.mlp.gate_proj' matches no parameter of the model");
  const PlanSet plans = plan_set_from_json(kQwen3MoePlans, inventory).value();
  const Plan tp = combine_plans(plans, false, false);
  EXPECT_EQ(resolve_style(tp, "model.layers.0.mlp.experts.5.gate_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(resolve_style(tp, "model.layers.0.mlp.experts.5.up_proj.weight"), PlanStyle::colwise);
  EXPECT_EQ(resolve_style(tp, "model.layers.0.mlp.experts.5.down_proj.weight"), PlanStyle::rowwise);
  EXPECT_EQ(resolve_style(tp, "model.layers.0.self_attn.q_norm.weight"), PlanStyle::replicated_with_grad_allreduce);
  EXPECT_EQ(resolve_style(tp, "model.layers.0.mlp.gate.weight"), std::nullopt);  // replicated
  EXPECT_NE(detail::find_entry(tp, "model.layers.*.mlp.experts"), nullptr);  // a module key, forward-only
  const Plan ep = combine_plans(plans, true, false);
  EXPECT_EQ(resolve_style(ep, "model.layers.0.mlp.experts.5.gate_proj.weight"), PlanStyle::grouped_gemm);
  EXPECT_EQ(resolve_style(ep, "model.layers.0.mlp.gate.weight"), PlanStyle::ep_router);
  EXPECT_EQ(resolve_style(ep, "model.layers.0.self_attn.q_proj.weight"), PlanStyle::colwise);
  // HF's plan gives the same per-rank sizes as the built-in one (the embedding and lm_head aside: HF leaves them).
  const ParallelConfig tp4{.tp = 4};
  EXPECT_TRUE(validate_model_plan(qwen, tp4, &tp, CheckDepth::rules)->valid());
  const Index hf = size_plan(qwen, tp4, &tp).value().find(0, 0, 0)->params;
  const Index builtin = size_plan(qwen, tp4).value().find(0, 0, 0)->params;
  // The embedding and the untied lm_head whole instead of a quarter each (rank 0 is also the last stage at pp 1).
  EXPECT_EQ(hf - builtin, 2 * (151936 * 2048 - 151936 * 2048 / 4));
}

TEST(HfPlanVerbatim, DeepseekV3AndGptOssPlansRead) {
  // models/deepseek_v3/configuration_deepseek_v3.py
  const PlanSet deepseek = plan_set_from_json(R"({"base_model_tp_plan": {
      "layers.*.mlp.experts.gate_up_proj": "local_rowwise", "layers.*.mlp.experts.down_proj": "local_rowwise",
      "layers.*.mlp.experts": "gather", "layers.*.mlp.shared_experts.gate_proj": "colwise",
      "layers.*.mlp.shared_experts.up_proj": "colwise", "layers.*.mlp.shared_experts.down_proj": "rowwise",
      "layers.*.mlp.gate_proj": "colwise", "layers.*.mlp.up_proj": "colwise", "layers.*.mlp.down_proj": "rowwise"}})",
                                              inventory_of("deepseek-v3"))
                                  .value();
  EXPECT_EQ(resolve_style(deepseek.tp, "model.layers.3.mlp.experts.0.up_proj.weight"), PlanStyle::local_rowwise);
  EXPECT_EQ(resolve_style(deepseek.tp, "model.layers.3.mlp.experts.0.down_proj.weight"), PlanStyle::local_rowwise);
  // models/gpt_oss/configuration_gpt_oss.py: its experts are fused in the checkpoint too, keys used as written.
  const PlanSet gpt = plan_set_from_json(R"({"base_model_ep_plan": {"layers.*.mlp.router": "ep_router",
      "layers.*.mlp.experts.gate_up_proj": "grouped_gemm", "layers.*.mlp.experts.gate_up_proj_bias": "grouped_gemm",
      "layers.*.mlp.experts.down_proj": "grouped_gemm", "layers.*.mlp.experts.down_proj_bias": "grouped_gemm",
      "layers.*.mlp.experts": "moe_tp_experts"}})",
                                         inventory_of("gpt-oss-120b"))
                             .value();
  EXPECT_TRUE(gpt.tp.empty());
  EXPECT_EQ(entries(gpt.ep).size(), 6U);
  EXPECT_EQ(gpt.ep[1].key.view(), "model.layers.*.mlp.experts.gate_up_proj");
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in plans in HF's format

TEST(HfPlanJson, LlamaDefaultPlansAsHfWritesThem) {
  EXPECT_EQ(hf_plan_json(default_plan_set(ModelFamily::llama)),
            R"({"base_model_tp_plan":{"embed_tokens":"embedding_rowwise","layers.*.self_attn.q_proj":"colwise",)"
            R"("layers.*.self_attn.k_proj":"colwise","layers.*.self_attn.v_proj":"colwise",)"
            R"("layers.*.self_attn.o_proj":"rowwise","layers.*.mlp.gate_proj":"colwise","layers.*.mlp.up_proj":"colwise",)"
            R"("layers.*.mlp.down_proj":"rowwise"},"base_model_sp_plan":{"embed_tokens":"embedding_rowwise",)"
            R"("layers.*.self_attn.q_proj":"colwise","layers.*.self_attn.k_proj":"colwise",)"
            R"("layers.*.self_attn.v_proj":"colwise","layers.*.self_attn.o_proj":"rowwise",)"
            R"("layers.*.mlp.gate_proj":"colwise","layers.*.mlp.up_proj":"colwise","layers.*.mlp.down_proj":"rowwise",)"
            R"("layers.*.input_layernorm":"sequence_parallel","layers.*.post_attention_layernorm":"sequence_parallel",)"
            R"("norm":"sequence_parallel"},"_tp_plan":{"lm_head":"colwise_gather_output"},)"
            R"("_sp_plan":{"lm_head":"colwise_gather_output"}})");
  PlanSet escaped;
  escaped.tp.push_back(PlanEntry{ParameterName("odd\"key\\"), PlanStyle::colwise});
  EXPECT_EQ(hf_plan_json(escaped), R"({"base_model_tp_plan":{},"_tp_plan":{"odd\"key\\":"colwise"}})");
}

TEST(HfPlanJson, EveryPresetsPlansReadBackAsTheyWereWritten) {
  for (const std::string_view name : kModelPresetNames) {
    const ModelConfig config = preset(name);
    const Inventory inventory = parameter_inventory(config).value();
    const PlanSet plans = plans_for_model(default_plan_set(config.family), inventory);
    const auto read = plan_set_from_json(hf_plan_json(plans), inventory);
    ASSERT_TRUE(read.ok()) << name << ": " << read.error().what();
    EXPECT_EQ(sorted(entries(read->tp)), sorted(entries(plans.tp))) << name;
    EXPECT_EQ(sorted(entries(read->ep)), sorted(entries(plans.ep))) << name;
    EXPECT_EQ(sorted(entries(read->sp)), sorted(entries(plans.sp))) << name;
    // And the same plan: what validation sees with ep 2 and sp is unchanged by the round trip.
    for (const bool ep : {false, true}) {
      const Plan before = combine_plans(plans, ep, true);
      const Plan after = combine_plans(*read, ep, true);
      EXPECT_EQ(sorted(entries(before)), sorted(entries(after))) << name;
    }
  }
  // plans_for_model drops what the model does not have: mixtral's routed experts live in block_sparse_moe.
  const PlanSet mixtral = plans_for_model(default_plan_set(ModelFamily::mixtral), inventory_of("mixtral-8x7b"));
  EXPECT_EQ(detail::find_entry(mixtral.tp, "model.layers.*.mlp.gate_proj"), nullptr);
  EXPECT_NE(detail::find_entry(mixtral.tp, "model.layers.*.block_sparse_moe.experts.*.w1"), nullptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors naming the key

TEST(HfPlanErrors, EachNamesTheKeyOrTheMember) {
  const Inventory llama = inventory_of("llama-3.1-8b");
  EXPECT_EQ(error_of(R"({"layers.*.mlp.up_proj": "colwize"})", llama).substr(0, 58),
            "layers.*.mlp.up_proj: unknown plan style 'colwize' (known:");
  EXPECT_EQ(error_of(R"({"layers.*.mlp.gateproj": "colwise"})", llama),
            "plan: 'layers.*.mlp.gateproj' matches no parameter of the model");
  EXPECT_EQ(error_of(R"({"layers.*.mlp": "colwise"})", llama),
            "plan: 'layers.*.mlp' names a module above the parameters; HF applies 'colwise' to a module's own "
            "parameters only, so it would shard nothing");
  EXPECT_EQ(error_of(R"({"layers.*.mlp": "module_allgather"})", llama), "(no error)");  // forward-only: fine
  EXPECT_EQ(error_of(R"({"layers.*.mlp.up_proj": 1})", llama),
            "layers.*.mlp.up_proj: expected a style name, got 1");
  EXPECT_EQ(error_of(R"({"base_model_tp_plan": []})", llama),
            "base_model_tp_plan: expected an object of module key -> style, got an array");
  EXPECT_EQ(error_of(R"({"base_model_ep_plan": {"layers.*.mlp.gate": "ep_router"}})", llama),
            "base_model_ep_plan: 'layers.*.mlp.gate' matches no parameter of the model");
  EXPECT_EQ(error_of("[]", llama), "plan: expected an object of module key -> style, got an array");
}

}  // namespace
}  // namespace shardplan
