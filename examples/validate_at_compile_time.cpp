// A parallel plan checked by the compiler: if Llama-3.1-70B could not run at TP=8 (heads, KV heads, intermediate,
// vocabulary, ...), this file would not compile, and the error would name the broken rule, e.g.
//   error: call to non-'constexpr' function 'void shardplan::plan_errors::attention_heads_not_divisible_by_tp()'
#include <shardplan/shardplan.hpp>

#include <cstdio>

namespace {
constexpr shardplan::ParallelConfig kServing{.tp = 8};
static_assert(shardplan::require_valid_plan(shardplan::model_preset("llama-3.1-70b").value(), kServing));

// Qwen3-30B-A3B has 4 KV heads: TP=8 needs vLLM's KV-head replication, and says so if it is missing.
constexpr shardplan::ParallelConfig kQwen{.tp = 8, .kv_policy = shardplan::ShortSegmentPolicy::replicate};
static_assert(shardplan::require_valid_plan(shardplan::model_preset("qwen3-30b-a3b").value(), kQwen));
}  // namespace

int main() {
  std::puts("llama-3.1-70b at TP=8 and qwen3-30b-a3b at TP=8 (KV heads replicated) were validated at compile time");
  return 0;
}
