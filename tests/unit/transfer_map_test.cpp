// Transfer maps between two layouts: worked examples with exact pieces (docs/resharding.md draws them), replica
// spreading, non-contiguous index sets, and every error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

Layout make_layout(Shape shape, std::string_view mesh, std::string_view placements) {
  return Layout::create(shape, parse_mesh(mesh).value(), parse_placements(placements).value()).value();
}

TransferPiece piece(Index src_rank, Shape src_offset, Shape dst_offset, Shape lengths) {
  return TransferPiece{src_rank, src_offset, dst_offset, lengths};
}

/// Built by appending piece by piece: GCC 12's -Wrestrict misfires on `"lit" + std::string` at -O2.
std::string describe(const TransferPiece& p) {
  std::string text = "src ";
  text += std::to_string(p.src_rank);
  const auto list = [&](std::string_view label, const Shape& values) {
    text += label;
    for (Index v : values) {
      text += ' ';
      text += std::to_string(v);
    }
  };
  list(" at", p.src_offset);
  list(" dst at", p.dst_offset);
  list(" len", p.lengths);
  return text;
}

template <class Pieces>  // a PieceList or a std::vector<TransferPiece>
std::vector<std::string> pieces_text(const Pieces& pieces) {
  std::vector<std::string> out;
  for (const TransferPiece& p : pieces) out.push_back(describe(p));
  return out;
}

TEST(TransferMap, Tp8RowsToTwoByTwoBlocks) {
  // The CLI's acceptance case: 4096 x 4096, S(0) over 8 ranks -> (S(0), S(1)) over (2, 2). Destination (i, j) holds
  // rows [2048 i, 2048 i + 2048) x cols [2048 j, ...): four source row blocks of 512, each a half-width piece.
  const TransferMap map =
      transfer_map(make_layout({4096, 4096}, "8", "S(0)"), make_layout({4096, 4096}, "2,2", "S(0),S(1)")).value();
  ASSERT_EQ(map.ranks.size(), 4u);
  for (Index dst = 0; dst < 4; ++dst) {
    const Index row_block = dst / 2;
    const Index col_block = dst % 2;
    std::vector<TransferPiece> expected;
    for (Index i = 0; i < 4; ++i) {
      expected.push_back(piece(4 * row_block + i, {0, 2048 * col_block}, {512 * i, 0}, {512, 2048}));
    }
    EXPECT_EQ(map.ranks[static_cast<std::size_t>(dst)].rank, dst);
    EXPECT_EQ(pieces_text(map.ranks[static_cast<std::size_t>(dst)].pieces), pieces_text(expected)) << "destination " << dst;
  }
  EXPECT_EQ(map.elements, 4096 * 4096);
  for (Index served : map.served) EXPECT_EQ(served, 512 * 4096);
}

TEST(TransferMap, Tp8ToTp4TimesDp2) {
  // A checkpoint saved at TP=8 loaded at TP=4 x DP=2: rows [4t, 4t+4) of a 16 x 4 weight come from source ranks 2t
  // and 2t+1, for both dp replicas.
  const TransferMap map =
      transfer_map(make_layout({16, 4}, "8", "S(0)"), make_layout({16, 4}, "2,4", "R,S(0)")).value();
  for (Index dst = 0; dst < 8; ++dst) {
    const Index t = dst % 4;
    const std::vector<TransferPiece> expected = {piece(2 * t, {0, 0}, {0, 0}, {2, 4}),
                                                 piece(2 * t + 1, {0, 0}, {2, 0}, {2, 4})};
    EXPECT_EQ(pieces_text(map.ranks[static_cast<std::size_t>(dst)].pieces), pieces_text(expected)) << "destination " << dst;
  }
  // Every source row block is read twice (once per dp replica).
  for (Index served : map.served) EXPECT_EQ(served, 16);
}

TEST(TransferMap, ReplicatedSourcesSpreadTheLoad) {
  // TP=4 x DP=2 -> TP=8: every source block has two replicas (dp 0 and dp 1). A destination that holds a replica
  // itself copies locally; the others take the replica that has served least (ties: the first).
  const TransferMap map =
      transfer_map(make_layout({16, 2}, "2,4", "R,S(0)"), make_layout({16, 2}, "8", "S(0)")).value();
  const std::vector<Index> chosen = {0, 4, 1, 5, 2, 6, 3, 7};
  for (std::size_t dst = 0; dst < 8; ++dst) {
    ASSERT_EQ(map.ranks[dst].pieces.size(), 1u);
    EXPECT_EQ(map.ranks[dst].pieces[0].src_rank, chosen[dst]) << "destination " << dst;
    EXPECT_EQ(map.ranks[dst].pieces[0].src_offset, (Shape{2 * static_cast<Index>(dst % 2), 0}));
  }
  for (Index served : map.served) EXPECT_EQ(served, 4);  // nobody serves everyone

  // Without the local-copy preference the least-loaded rule alone still alternates replicas.
  const TransferMap spread = transfer_map(make_layout({16, 2}, "2,4", "R,S(0)"), make_layout({16, 2}, "8", "S(0)"),
                                          TransferOptions{.prefer_same_rank = false})
                                 .value();
  for (Index served : spread.served) EXPECT_EQ(served, 4);
  EXPECT_EQ(spread.ranks[0].pieces[0].src_rank, 0);
  EXPECT_EQ(spread.ranks[1].pieces[0].src_rank, 4);
}

TEST(TransferMap, FullyReplicatedSourceIsNotReadFromOneRank) {
  // R over 4 ranks -> S(0) over 8: each source serves two destinations, not one source serving all eight.
  const TransferMap map = transfer_map(make_layout({8}, "4", "R"), make_layout({8}, "8", "S(0)"),
                                       TransferOptions{.prefer_same_rank = false})
                              .value();
  for (Index served : map.served) EXPECT_EQ(served, 2);
  EXPECT_EQ(map.busiest_source(), 0);
}

TEST(TransferMap, Fsdp2StridedToPlainTp) {
  // (_S(0,2), S(0)) on (dp=2, tp=2) holds rows (0,0)=[0,4) (0,1)=[8,12) (1,0)=[4,8) (1,1)=[12,16) (layouts.md
  // example 1); plain S(0) over 4 wants [4r, 4r+4): destination r reads all of one source rank.
  const TransferMap map =
      transfer_map(make_layout({16, 2}, "2,2", "_S(0,2),S(0)"), make_layout({16, 2}, "4", "S(0)")).value();
  const std::vector<Index> source_of = {0, 2, 1, 3};
  for (std::size_t dst = 0; dst < 4; ++dst) {
    EXPECT_EQ(pieces_text(map.ranks[dst].pieces), pieces_text(std::vector<TransferPiece>{piece(source_of[dst], {0, 0}, {0, 0}, {4, 2})}));
  }
}

TEST(TransferMap, UnevenStridedToPlain) {
  // n = 10: (0,0)={0,1,2} (0,1)={5,6,7} (1,0)={3,4} (1,1)={8,9} -> S(0) over 2: [0,5) and [5,10).
  const TransferMap map =
      transfer_map(make_layout({10}, "2,2", "_S(0,2),S(0)"), make_layout({10}, "2", "S(0)")).value();
  EXPECT_EQ(pieces_text(map.ranks[0].pieces), pieces_text(std::vector<TransferPiece>{piece(0, {0}, {0}, {3}), piece(2, {0}, {3}, {2})}));
  EXPECT_EQ(pieces_text(map.ranks[1].pieces), pieces_text(std::vector<TransferPiece>{piece(1, {0}, {0}, {3}), piece(3, {0}, {3}, {2})}));
}

TEST(TransferMap, NonContiguousDestination) {
  // n = 8: S(0) over 2 -> _S(0,2) over 4 (layouts.md example 5): destination 0 holds {0, 4}.
  const TransferMap map = transfer_map(make_layout({8}, "2", "S(0)"), make_layout({8}, "4", "_S(0,2)")).value();
  EXPECT_EQ(pieces_text(map.ranks[0].pieces), pieces_text(std::vector<TransferPiece>{piece(0, {0}, {0}, {1}), piece(1, {0}, {1}, {1})}));
  EXPECT_EQ(pieces_text(map.ranks[3].pieces), pieces_text(std::vector<TransferPiece>{piece(0, {3}, {0}, {1}), piece(1, {3}, {1}, {1})}));
}

TEST(TransferMap, RunsContiguousOnBothSidesMerge) {
  // The same _S layout on both sides: {0,1,4,5} is two global intervals but one local run on each side.
  const TransferMap map =
      transfer_map(make_layout({8, 3}, "2", "_S(0,2)"), make_layout({8, 3}, "2", "_S(0,2)")).value();
  EXPECT_EQ(pieces_text(map.ranks[1].pieces), pieces_text(std::vector<TransferPiece>{piece(1, {0, 0}, {0, 0}, {4, 3})}));
}

TEST(TransferMap, NonContiguousOnBothSidesGivesAProductOfRuns) {
  // 2-d, strided on both dims at the destination: (S(0), S(1)) over (2,2) -> (_S(0,2), _S(1,2)) over (2,2).
  const Layout source = make_layout({4, 4}, "2,2", "S(0),S(1)");
  const Layout destination = make_layout({4, 4}, "2,2", "_S(0,2),_S(1,2)");
  const TransferMap map = transfer_map(source, destination).value();
  // Destination (0,0) holds rows {0,2} x cols {0,2}: one element from each source.
  EXPECT_EQ(pieces_text(map.ranks[0].pieces),
            pieces_text(std::vector<TransferPiece>{piece(0, {0, 0}, {0, 0}, {1, 1}), piece(1, {0, 0}, {0, 1}, {1, 1}),
                      piece(2, {0, 0}, {1, 0}, {1, 1}), piece(3, {0, 0}, {1, 1}, {1, 1})}));
}

TEST(TransferMap, SegmentedFusedWeight) {
  // gate_up [gate; up] with F = 4 rows each, TP=2 -> TP=4, both cut per segment: destination r holds gate rows
  // {r} and up rows {4 + r}; the source rank r / 2 holds them at local rows (r % 2) and 2 + (r % 2).
  const Layout base2 = make_layout({8, 2}, "2", "S(0)");
  const Layout base4 = make_layout({8, 2}, "4", "S(0)");
  const SegmentedDim segments = parse_segmented_dim("0=4,4").value();
  const SegmentedLayout source = SegmentedLayout::create(base2, {segments}).value();
  const SegmentedLayout destination = SegmentedLayout::create(base4, {segments}).value();
  const TransferMap map = transfer_map(shards_of(source), shards_of(destination)).value();
  for (Index r = 0; r < 4; ++r) {
    EXPECT_EQ(pieces_text(map.ranks[static_cast<std::size_t>(r)].pieces),
              pieces_text(std::vector<TransferPiece>{piece(r / 2, {r % 2, 0}, {0, 0}, {1, 2}), piece(r / 2, {2 + r % 2, 0}, {1, 0}, {1, 2})}))
        << "destination " << r;
  }
}

TEST(TransferMap, SubsetOfRanksWithGlobalIds) {
  // One expert's weight held by EP group 1 of a (ep=2, tp=2) job, moved to EP group 3 of an (ep=4, tp=1) job.
  ShardList source{{4, 2}, {}};
  for (Index tp = 0; tp < 2; ++tp) source.shards.push_back(Shard{2 + tp, {IntervalSet::range(2 * tp, 2 * tp + 2), IntervalSet::range(0, 2)}});
  ShardList destination{{4, 2}, {Shard{3, {IntervalSet::range(0, 4), IntervalSet::range(0, 2)}}}};
  const TransferMap map = transfer_map(source, destination).value();
  EXPECT_EQ(pieces_text(map.ranks[0].pieces), pieces_text(std::vector<TransferPiece>{piece(2, {0, 0}, {0, 0}, {2, 2}), piece(3, {0, 0}, {2, 0}, {2, 2})}));
}

TEST(TransferMap, ScalarAndEmpty) {
  const TransferMap scalar = transfer_map(make_layout({}, "2", "R"), make_layout({}, "3", "R")).value();
  for (const RankPieces& rank : scalar.ranks) {
    ASSERT_EQ(rank.pieces.size(), 1u);
    EXPECT_EQ(rank.pieces[0].count(), 1);
  }
  // 2 rows over 4 ranks: ranks 2 and 3 hold nothing and need nothing.
  const TransferMap empty = transfer_map(make_layout({2, 3}, "1", "R"), make_layout({2, 3}, "4", "S(0)")).value();
  EXPECT_EQ(empty.ranks[1].pieces.size(), 1u);
  EXPECT_TRUE(empty.ranks[2].pieces.empty());
  EXPECT_TRUE(empty.ranks[3].pieces.empty());
}

TEST(TransferMap, SweepAndAllPairsAgree) {
  const Layout source = make_layout({13, 7, 5}, "3,2", "S(1),_S(0,2)");
  const Layout destination = make_layout({13, 7, 5}, "2,2,2", "S(0),R,S(2)");
  const TransferMap sweep = transfer_map(source, destination).value();
  const TransferMap all_pairs =
      transfer_map(source, destination, TransferOptions{.search = OverlapSearch::all_pairs}).value();
  EXPECT_EQ(sweep.ranks, all_pairs.ranks);
  EXPECT_EQ(sweep.served, all_pairs.served);
}

TEST(TransferMap, Errors) {
  const auto different = transfer_map(make_layout({8, 4}, "2", "S(0)"), make_layout({8, 5}, "2", "S(0)"));
  ASSERT_FALSE(different.ok());
  EXPECT_EQ(different.error().field, "shape");
  EXPECT_EQ(different.error().message, "the source tensor is [8, 4] but the destination is [8, 5]");

  const auto partial = transfer_map(make_layout({8}, "2", "P"), make_layout({8}, "2", "S(0)"));
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.error().field, "source placements[0]");
  EXPECT_EQ(partial.error().message,
            "P(sum) holds addends, not values; reduce it (all_reduce or reduce_scatter) before resharding");
  EXPECT_FALSE(transfer_map(make_layout({8}, "2", "S(0)"), make_layout({8}, "2", "P(max)")).ok());

  ShardList overlapping{{8}, {Shard{0, {IntervalSet::range(0, 5)}}, Shard{1, {IntervalSet::range(4, 8)}}}};
  ShardList whole{{8}, {Shard{0, {IntervalSet::range(0, 8)}}}};
  const auto overlap = transfer_map(overlapping, whole);
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.error().message,
            "ranks 0 and 1 hold overlapping but different regions; sources must be disjoint or exact replicas");

  ShardList holey{{8}, {Shard{0, {IntervalSet::range(0, 3)}}, Shard{1, {IntervalSet::range(4, 8)}}}};
  const auto hole = transfer_map(holey, whole);
  ASSERT_FALSE(hole.ok());
  EXPECT_EQ(hole.error().field, "destination[0]");
  EXPECT_EQ(hole.error().message, "rank 0 needs 8 elements but the sources hold only 7 of them");

  ShardList outside{{8}, {Shard{5, {IntervalSet::range(4, 9)}}}};
  const auto out = transfer_map(outside, whole);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().field, "source[0]");
  EXPECT_EQ(out.error().message, "rank 5 holds [4, 9) on dim 0, outside [0, 8)");

  // Four replicas of a 2^62-element tensor read from one source: 2^64 elements in all.
  const Index huge = Index{1} << 62;
  const auto too_many = transfer_map(make_layout({huge}, "1", "R"), make_layout({huge}, "4", "R"));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::overflow);

  ShardList wrong_rank{{8}, {Shard{0, {IntervalSet::range(0, 8), IntervalSet::range(0, 1)}}}};
  const auto dims = transfer_map(wrong_rank, whole);
  ASSERT_FALSE(dims.ok());
  EXPECT_EQ(dims.error().message, "rank 0 has index sets for 2 dims, the tensor has 1");
}

}  // namespace
}  // namespace shardplan
