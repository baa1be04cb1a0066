#pragma once
// KV heads over tensor-parallel ranks: the one rule that validation (model/validate.hpp), sizing (model/sizing.hpp)
// and segmented layouts (llm/segmented_dim.hpp, where the heads are a segment's units) all read.
//
// With GQA a model can have fewer KV heads than TP ranks. The heads are never cut: either every rank gets kv / tp
// whole heads (`divided`), or, as vLLM does, tp / kv consecutive ranks hold a copy of the same head (`replicated`,
// which needs tp to be a multiple of kv). Anything else has no valid split. Megatron-LM and HF's native TP refuse the
// replicated case; whether it is allowed is the caller's policy (ShortSegmentPolicy), not part of this rule.
#include "shardplan/core/cxx20.hpp"

#include "shardplan/core/checked_math.hpp"

namespace shardplan {

enum class KvHeadSplit { divided, replicated, invalid };

/// How `kv_heads` heads (>= 1) spread over `tp` ranks (>= 1).
[[nodiscard]] constexpr KvHeadSplit kv_head_split(Index kv_heads, Index tp) {
  if (kv_heads % tp == 0) return KvHeadSplit::divided;
  if (tp % kv_heads == 0) return KvHeadSplit::replicated;
  return KvHeadSplit::invalid;
}

/// Ranks holding a copy of each head when the split is `replicated`: tp / kv_heads.
[[nodiscard]] constexpr Index ranks_per_kv_head(Index kv_heads, Index tp) { return tp / kv_heads; }

/// The head tp rank `rank` holds when the split is `replicated`: consecutive ranks share a head.
[[nodiscard]] constexpr Index kv_head_of_rank(Index kv_heads, Index tp, Index rank) {
  return rank / ranks_per_kv_head(kv_heads, tp);
}

/// Whole heads on each rank: kv / tp when divided, else one (a replicated head; an invalid split is sized as if
/// replicated, so that an invalid plan still gets a memory figure).
[[nodiscard]] constexpr Index kv_heads_per_rank(Index kv_heads, Index tp) {
  return kv_head_split(kv_heads, tp) == KvHeadSplit::divided ? kv_heads / tp : 1;
}

}  // namespace shardplan
