// `check`, `plan` and `size` on one layout: the same exit status, the same diagnostics, the same layout echoed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;

const std::vector<std::string> kInvalid{"--model", "qwen2.5-7b", "--tp", "8"};

std::vector<std::string> command(const std::string& name, const std::vector<std::string>& flags,
                                 const std::vector<std::string>& more = {}) {
  std::vector<std::string> args{name};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// What check prints before its "valid sizes" line: the layout line and every diagnostic with its fix.
const std::string kQwenDiagnostics =
    "qwen2.5-7b: tp 8: INVALID\n"
    "  error   [attention_heads] model.layers.*.self_attn.q_proj.weight: total number of attention heads (28) must be "
    "divisible by tensor parallel size (8)\n"
    "          fix: use tp 4 (valid tp: 1 2 4)\n"
    "  error   [kv_heads] model.layers.*.self_attn.k_proj.weight: 4 KV heads are not divisible by tp 8 (kv policy "
    "forbid)\n"
    "          fix: --kv-policy replicate (vLLM: each KV head on tp/kv = 2 ranks), or use tp 4 (valid tp: 1 2 4)\n";

TEST_F(Cli, InvalidLayoutExitsOneInCheckPlanAndSize) {
  const RunResult check = run_cli(command("check", kInvalid));
  EXPECT_EQ(check.status, 1);
  EXPECT_EQ(check.out.substr(0, kQwenDiagnostics.size()), kQwenDiagnostics);

  // plan: the same diagnostics; the rank cannot be listed (a KV head would be cut), and it says why.
  const RunResult plan = run_cli(command("plan", kInvalid));
  EXPECT_EQ(plan.status, 1) << plan.err;
  EXPECT_EQ(plan.err, "");
  EXPECT_EQ(plan.out, kQwenDiagnostics +
                          "rank 0 cannot be listed: segments[0]: 4 units of 128 for 8 shards on mesh axis 0: a unit "
                          "is never split (segment policy replicate would repeat units instead)\n");

  // size: the same diagnostics, then the sizes as if the rules allowed the layout.
  const RunResult size = run_cli(command("size", kInvalid));
  EXPECT_EQ(size.status, 1) << size.err;
  EXPECT_EQ(size.err, "");
  EXPECT_TRUE(size.out.starts_with(kQwenDiagnostics + "qwen2.5-7b: tp 8\n7615616512 parameters; busiest rank 0"))
      << size.out;
}

TEST_F(Cli, InvalidLayoutStillListsWhatCanBeListed) {
  // A sequence rule breaks, but every parameter can still be cut: the listing follows the diagnostics.
  const RunResult plan = run_cli({"plan", "--model", "llama-3.1-8b", "--tp", "8", "--seq", "100", "--sp"});
  EXPECT_EQ(plan.status, 1) << plan.err;
  EXPECT_TRUE(plan.out.starts_with("llama-3.1-8b: tp 8: INVALID\n"
                                   "  error   [sequence] sequence length 100 is not divisible by tp 8 (sequence "
                                   "parallelism)\n"
                                   "          fix: pad the sequence to a multiple of 8\n"
                                   "llama-3.1-8b: tp 8, rank 0: 291 parameters\n"))
      << plan.out;
}

TEST_F(Cli, ValidLayoutPrintsNoDiagnostics) {
  const RunResult plan = run_cli({"plan", "--model", "llama-3.1-8b", "--tp", "8"});
  EXPECT_EQ(plan.status, 0);
  EXPECT_TRUE(plan.out.starts_with("llama-3.1-8b: tp 8, rank 0: 291 parameters\n")) << plan.out;
  const RunResult size = run_cli({"size", "--model", "llama-3.1-8b", "--tp", "8"});
  EXPECT_EQ(size.status, 0);
  EXPECT_TRUE(size.out.starts_with("llama-3.1-8b: tp 8\n")) << size.out;
}

TEST_F(Cli, JsonOfTheThreeEchoesTheLayoutAndTheDiagnostics) {
  const std::vector<std::string> flags{"--model", "qwen2.5-7b", "--tp", "8", "--pp", "2", "--dp", "2", "--json"};
  std::vector<Json> answers;
  for (const char* name : {"check", "plan", "size"}) {
    const RunResult result = run_cli(command(name, flags));
    EXPECT_EQ(result.status, 1) << name << ": " << result.err;
    JsonParser parser(result.out);
    answers.push_back(parser.parse());
    ASSERT_TRUE(parser.ok()) << name << ": " << parser.error();
  }
  for (const Json& json : answers) {
    EXPECT_EQ(json["model"].string, "qwen2.5-7b");
    const Json& layout = json["layout"];
    EXPECT_EQ(layout["tp"].number, 8);
    EXPECT_EQ(layout["ep"].number, 1);
    EXPECT_EQ(layout["etp"].number, 8);  // 0 (the default) resolved to tp
    EXPECT_EQ(layout["pp"].number, 2);
    EXPECT_EQ(layout["dp"].number, 2);
    EXPECT_EQ(layout["cp"].number, 1);
    EXPECT_EQ(layout["world"].number, 32);
    EXPECT_FALSE(json["valid"].boolean);
    ASSERT_EQ(json["errors"].array.size(), 2U);
    EXPECT_EQ(json["errors"][0]["rule"].string, "attention_heads");
    EXPECT_EQ(json["errors"][0]["fix"].string, "use tp 4 (valid tp: 1 2 4)");
    EXPECT_EQ(json["errors"][1]["rule"].string, "kv_heads");
  }
  EXPECT_EQ(answers[1]["params"].kind, Json::Kind::null);
  EXPECT_EQ(answers[1]["listing_error"].string,
            "segments[0]: 4 units of 128 for 8 shards on mesh axis 0: a unit is never split (segment policy replicate "
            "would repeat units instead)");
  EXPECT_EQ(answers[2]["total_params"].number, 7615616512);
}

}  // namespace
