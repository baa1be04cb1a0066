#pragma once
// ParallelConfig: the sizes and policies a model plan is checked and sized with.
// The world is tp·cp·dp·pp (Megatron-LM's and torchtitan's rule); expert parallelism borrows its ranks from dp·cp
// (and tp when etp = 1), so ep is not a factor of the world.
#include "shardplan/core/cxx20.hpp"

#include "shardplan/llm/segmented_dim.hpp"
#include "shardplan/llm/vocab_padding.hpp"
#include "shardplan/model/config.hpp"

namespace shardplan {

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

  [[nodiscard]] constexpr Index expert_tp() const { return etp > 0 ? etp : tp; }
};

}  // namespace shardplan
