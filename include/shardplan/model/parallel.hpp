#pragma once
// ParallelConfig: the sizes and policies a model plan is checked and sized with.
// The world is tp·cp·dp·pp (Megatron-LM's and torchtitan's rule); expert parallelism borrows its ranks from dp·cp
// (and tp when etp = 1), so ep is not a factor of the world.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/llm/segmented_dim.hpp"
#include "shardplan/llm/vocab_padding.hpp"
#include "shardplan/model/config.hpp"

namespace shardplan {

/// Activation recomputation (Korthikanti et al. 2022; Megatron-LM's --recompute-granularity): none stores every
/// activation the backward pass needs; selective recomputes core attention (softmax and its dropout: the 5·a·s/h
/// term); full stores only each layer's input and recomputes the layer.
enum class Recompute { none, selective, full };

[[nodiscard]] constexpr std::string_view to_string(Recompute recompute) {
  switch (recompute) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
  }
  return "none";
}

[[nodiscard]] constexpr Result<Recompute> parse_recompute(std::string_view text) {
  for (const Recompute recompute : {Recompute::none, Recompute::selective, Recompute::full}) {
    if (to_string(recompute) == text) return recompute;
  }
  return make_error(ErrorCode::parse_error, "recompute")
         << "unknown recomputation '" << text.substr(0, 40) << "' (known: none, selective, full)";
}

struct ParallelConfig {
  Index tp = 1;
  Index ep = 1;
  Index etp = 0;    // expert tensor parallel; 0 = tp (Megatron-LM's default)
  Index pp = 1;
  Index dp = 1;
  Index cp = 1;
  Index world = 0;  // 0 = tp·cp·dp·pp
  ShortSegmentPolicy kv_policy = ShortSegmentPolicy::forbid;
  VocabPadding vocab_pad = VocabPadding::none;
  SplitPolicy expert_policy = SplitPolicy::even;  // experts over ep: even (HF) or balanced (vLLM, a warning)
  Index seq = 0;    // tokens per sequence; 0 = no activation or sequence rules
  Index batch = 1;  // micro-batch size
  bool sequence_parallel = false;
  Index devices_per_host = 8;
  // Pipeline schedule (activations): micro-batches per step (0: at least pp, so the schedule's warm-up is full) and
  // model chunks per stage (1: 1F1B; V > 1: Megatron-LM's interleaved 1F1B with V virtual stages).
  Index micro_batches = 0;
  Index virtual_stages = 1;
  Recompute recompute = Recompute::none;
  bool flash_attention = true;  // false: eager attention stores its a·s×s softmax (the paper's 5·a·s/h term)

  [[nodiscard]] constexpr Index expert_tp() const { return etp > 0 ? etp : tp; }
};

}  // namespace shardplan
