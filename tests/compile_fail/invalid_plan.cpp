// Must NOT compile: Qwen2.5-7B has 28 attention heads, which TP=8 cannot split. The compiler's error names the rule
// (plan_errors::attention_heads_not_divisible_by_tp); CTest checks that it does.
#include <shardplan/shardplan.hpp>

static_assert(shardplan::require_valid_plan(shardplan::model_preset("qwen2.5-7b").value(), {.tp = 8}));

int main() { return 0; }
