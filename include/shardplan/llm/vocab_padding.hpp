#pragma once
// Vocabulary parallelism: the rows of the embedding (and LM head) split over tp ranks. The row count must divide by
// tp, so frameworks pad the vocabulary with rows no token id maps to, and each pads its own way:
//   none      (vocab + added) % tp must be 0; no padding.
//   vllm      VocabParallelEmbedding: the original vocab is padded to a multiple of 64, and the added (LoRA) tokens
//             are padded to a multiple of 64 separately; each padded part is split evenly over tp (and must divide),
//             so a rank's rows are [its slice of the original part][its slice of the added part], real tokens
//             first and padding after within each slice. 1010 + 16 added at tp=2: 1024 + 64 = 1088 rows, 544 per
//             rank; rank 0 holds tokens 0..511 then 1010..1025 and 16 padding rows.
//   megatron  _vocab_size_with_padding: the vocab is padded to a multiple of make_vocab_size_divisible_by (128) * tp;
//             rows split evenly, so the padding rows sit at the end, on the last rank(s). 128256 at tp=8 -> 129024.
// Padding rows are real rows of the local tensor (they cost memory and produce logits that get masked), so a shard
// reports them, and where they sit, separately from its real tokens.
#include "shardplan/core/cxx20.hpp"

#include <optional>
#include <string_view>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/interval_set.hpp"

namespace shardplan {

enum class VocabPadding { none, vllm, megatron };

[[nodiscard]] constexpr std::string_view to_string(VocabPadding pad) {
  switch (pad) {
    case VocabPadding::none: return "none";
    case VocabPadding::vllm: return "vllm";
    case VocabPadding::megatron: return "megatron";
  }
  return "none";
}

[[nodiscard]] constexpr Result<VocabPadding> parse_vocab_padding(std::string_view text) {
  if (text == "none") return VocabPadding::none;
  if (text == "vllm") return VocabPadding::vllm;
  if (text == "megatron") return VocabPadding::megatron;
  return make_error(ErrorCode::parse_error, "pad")
         << "unknown padding rule '" << text.substr(0, 40) << "' (known: none, vllm, megatron)";
}

/// vLLM's DEFAULT_VOCAB_PADDING_SIZE.
inline constexpr Index kVllmPadTo = 64;
/// Megatron-LM's --make-vocab-size-divisible-by default.
inline constexpr Index kMegatronPadTo = 128;

/// The pad_to a rule uses when none is given: 64 for vllm, 128 for megatron, 1 (no padding) for none.
[[nodiscard]] constexpr Index default_pad_to(VocabPadding pad) {
  switch (pad) {
    case VocabPadding::none: return 1;
    case VocabPadding::vllm: return kVllmPadTo;
    case VocabPadding::megatron: return kMegatronPadTo;
  }
  return 1;
}

/// What to split. Token ids 0..vocab are the original vocabulary, vocab..vocab+added the added tokens. Only vllm
/// treats the added tokens apart; none and megatron see one vocabulary of vocab + added tokens.
struct VocabSpec {
  Index vocab = 0;
  Index added = 0;
  Index tp = 1;
  VocabPadding pad = VocabPadding::none;
  /// vllm: the multiple each part is padded to (default 64). megatron: make_vocab_size_divisible_by (default 128;
  /// the vocabulary is padded to a multiple of pad_to * tp). Refused with none, which does not pad.
  std::optional<Index> pad_to = std::nullopt;
};

/// One rank's rows. Local rows hold the rank's real tokens in increasing id order, with the padding rows
/// interleaved where `padding_rows` says; so the two sets together are the whole row map.
struct VocabShard {
  Index rank = 0;
  Index rows = 0;            // local rows, padding included (the same on every rank)
  IntervalSet tokens;        // real token ids held
  IntervalSet padding_rows;  // local rows that hold padding

  [[nodiscard]] constexpr Index padding() const { return padding_rows.size(); }

  /// The token id at a local row, or -1 for a padding row or a row outside [0, rows).
  [[nodiscard]] constexpr Index token_at(Index row) const {
    if (row < 0 || row >= rows || padding_rows.contains(row)) return -1;
    Index padding_before = 0;
    for (const Interval& interval : padding_rows.intervals()) {
      if (interval.end > row) break;
      padding_before += interval.size();
    }
    return tokens.local_to_global(row - padding_before);
  }

  /// The local row of a token id, or -1 when this rank does not hold it.
  [[nodiscard]] constexpr Index row_of(Index token) const {
    Index row = tokens.global_to_local(token);  // its position among the real rows
    if (row < 0) return -1;
    for (const Interval& interval : padding_rows.intervals()) {
      if (interval.begin > row) break;
      row += interval.size();  // a padding run at or before the candidate row pushes it down
    }
    return row;
  }
};

class VocabPartition {
 public:
  constexpr VocabPartition() = default;

  /// Validates the sizes and pads by the rule. Errors name the field: vocab, added, tp, pad_to; a rule whose padded
  /// size does not divide by tp is a not_divisible error on `pad` naming the rule, the padded size and tp.
  [[nodiscard]] static constexpr Result<VocabPartition> create(const VocabSpec& spec) {
    if (spec.vocab < 1) return make_error(ErrorCode::invalid_argument, "vocab") << "must be >= 1, got " << spec.vocab;
    if (spec.added < 0) return make_error(ErrorCode::invalid_argument, "added") << "must be >= 0, got " << spec.added;
    if (spec.tp < 1) return make_error(ErrorCode::invalid_argument, "tp") << "must be >= 1, got " << spec.tp;
    if (spec.pad_to && spec.pad == VocabPadding::none) {
      return make_error(ErrorCode::invalid_argument, "pad_to")
             << "the none rule does not pad (pad_to applies to vllm and megatron)";
    }
    if (spec.pad_to && *spec.pad_to < 1) {
      return make_error(ErrorCode::invalid_argument, "pad_to") << "must be >= 1, got " << *spec.pad_to;
    }
    VocabPartition partition;
    partition.vocab_ = spec.vocab;
    partition.added_ = spec.added;
    partition.tp_ = spec.tp;
    partition.pad_ = spec.pad;
    partition.pad_to_ = spec.pad_to.value_or(default_pad_to(spec.pad));
    SHARDPLAN_TRY(const Index real, checked_add(spec.vocab, spec.added, "vocab"));
    Part& original = partition.parts_[0];
    Part& added = partition.parts_[1];
    switch (spec.pad) {
      case VocabPadding::none: {
        original = {0, real, real};
        if (real % spec.tp != 0) {
          auto error = make_error(ErrorCode::not_divisible, "pad")
                       << "none padding: " << real << " is not divisible by " << spec.tp << " (the vocab of "
                       << spec.vocab;
          if (spec.added > 0) error << " + " << spec.added << " added tokens";
          return error << " must split evenly over tp " << spec.tp << ")";
        }
        break;
      }
      case VocabPadding::vllm: {
        SHARDPLAN_TRY(const Index original_padded, round_up(spec.vocab, partition.pad_to_, "vocab"));
        SHARDPLAN_TRY(const Index added_padded, round_up(spec.added, partition.pad_to_, "added"));
        SHARDPLAN_CHECK(checked_add(original_padded, added_padded, "vocab"));
        original = {0, spec.vocab, original_padded};
        added = {spec.vocab, spec.added, added_padded};
        // vLLM divides the original part first, so that is the error it reports first.
        if (original_padded % spec.tp != 0) {
          return make_error(ErrorCode::not_divisible, "pad")
                 << "vllm padding: " << original_padded << " is not divisible by " << spec.tp << " (the vocab of "
                 << spec.vocab << " padded to a multiple of " << partition.pad_to_ << " must split evenly over tp "
                 << spec.tp << ")";
        }
        if (added_padded % spec.tp != 0) {
          return make_error(ErrorCode::not_divisible, "pad")
                 << "vllm padding: " << added_padded << " is not divisible by " << spec.tp << " (the " << spec.added
                 << " added tokens padded to a multiple of " << partition.pad_to_ << " must split evenly over tp "
                 << spec.tp << ")";
        }
        break;
      }
      case VocabPadding::megatron: {
        SHARDPLAN_TRY(const Index multiple, checked_mul(partition.pad_to_, spec.tp, "tp"));
        SHARDPLAN_TRY(const Index padded, round_up(real, multiple, "vocab"));
        original = {0, real, padded};
        break;
      }
    }
    return partition;
  }

  [[nodiscard]] constexpr Index vocab() const { return vocab_; }
  [[nodiscard]] constexpr Index added() const { return added_; }
  [[nodiscard]] constexpr Index tp() const { return tp_; }
  [[nodiscard]] constexpr VocabPadding pad() const { return pad_; }
  /// The pad_to in effect (the rule's default when none was given; 1 for none).
  [[nodiscard]] constexpr Index pad_to() const { return pad_to_; }
  /// vocab + added: the rows that hold a token.
  [[nodiscard]] constexpr Index real_vocab() const { return vocab_ + added_; }
  /// Rows over all ranks, padding included.
  [[nodiscard]] constexpr Index padded_vocab() const { return parts_[0].padded + parts_[1].padded; }
  [[nodiscard]] constexpr Index rows_per_rank() const { return padded_vocab() / tp_; }
  /// Padding rows over all ranks: padded_vocab() - real_vocab().
  [[nodiscard]] constexpr Index padding_rows() const { return padded_vocab() - real_vocab(); }
  /// vllm pads the original and the added tokens separately: these are the two padded sizes. The other rules have
  /// one part, the whole padded vocabulary, and padded_added() is 0.
  [[nodiscard]] constexpr Index padded_original() const { return parts_[0].padded; }
  [[nodiscard]] constexpr Index padded_added() const { return parts_[1].padded; }

  [[nodiscard]] constexpr Result<VocabShard> shard(Index rank) const {
    if (rank < 0 || rank >= tp_) {
      return make_error(ErrorCode::out_of_range, "rank")
             << "rank " << rank << " is outside tp " << tp_ << " (valid: 0.." << tp_ - 1 << ")";
    }
    return shard_unchecked(rank);
  }

  /// Precondition: 0 <= rank < tp(). Each part's padded rows are split evenly; rank r's slice of a part is its
  /// positions [r * per, (r + 1) * per), of which those below the part's real count are tokens.
  [[nodiscard]] constexpr VocabShard shard_unchecked(Index rank) const {
    VocabShard shard;
    shard.rank = rank;
    Index row = 0;
    for (const Part& part : parts_) {
      const Index per_rank = part.padded / tp_;
      const Index real_begin = part.real < rank * per_rank ? part.real : rank * per_rank;
      const Index real_end = part.real < rank * per_rank + per_rank ? part.real : rank * per_rank + per_rank;
      shard.tokens.append(Interval{part.first_token + real_begin, part.first_token + real_end});
      shard.padding_rows.append(Interval{row + (real_end - real_begin), row + per_rank});
      row += per_rank;
    }
    shard.rows = row;
    return shard;
  }

 private:
  /// A run of token ids [first_token, first_token + real) padded to `padded` rows.
  struct Part {
    Index first_token = 0;
    Index real = 0;
    Index padded = 0;
  };

  /// n rounded up to a multiple of m. Preconditions: n >= 0, m >= 1.
  [[nodiscard]] static constexpr Result<Index> round_up(Index n, Index m, std::string_view field) {
    return checked_mul(ceil_div(n, m), m, field);
  }

  Index vocab_ = 1;
  Index added_ = 0;
  Index tp_ = 1;
  VocabPadding pad_ = VocabPadding::none;
  Index pad_to_ = 1;
  Part parts_[2] = {{0, 1, 1}, {1, 0, 0}};  // the original vocabulary, then (vllm only) the added tokens
};

}  // namespace shardplan
