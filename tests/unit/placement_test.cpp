#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shardplan/layout/placement_parse.hpp"

namespace shardplan {
namespace {

std::string canonical(std::string_view text) {
  auto placement = parse_placement(text);
  EXPECT_TRUE(placement.ok()) << text << ": " << (placement.ok() ? "" : placement.error().what());
  return placement.ok() ? placement->to_string().str() : "";
}

std::string list_error(std::string_view text) {
  auto placements = parse_placements(text);
  EXPECT_FALSE(placements.ok()) << text;
  return placements.ok() ? "" : placements.error().what();
}

// Every text form of the spec's table, printed in the canonical one.
TEST(Placement, ParsesEveryTextForm) {
  EXPECT_EQ(canonical("R"), "R");
  EXPECT_EQ(canonical("Replicate()"), "R");
  EXPECT_EQ(canonical("S(0)"), "S(0)");
  EXPECT_EQ(canonical("Shard(1)"), "S(1)");
  EXPECT_EQ(canonical("Shard(dim=2)"), "S(2)");
  EXPECT_EQ(canonical("S(-1)"), "S(-1)");
  EXPECT_EQ(canonical("_S(0,2)"), "_S(0,2)");
  EXPECT_EQ(canonical("_S(0, 2)"), "_S(0,2)");
  EXPECT_EQ(canonical("_StridedShard(dim=0, sf=4)"), "_S(0,4)");
  EXPECT_EQ(canonical("_StridedShard(1, split_factor=2)"), "_S(1,2)");
  EXPECT_EQ(canonical("P"), "P(sum)");
  EXPECT_EQ(canonical("P(sum)"), "P(sum)");
  EXPECT_EQ(canonical("Partial()"), "P(sum)");
  EXPECT_EQ(canonical("Partial(max)"), "P(max)");
  EXPECT_EQ(canonical("Partial(reduce_op=avg)"), "P(avg)");
  EXPECT_EQ(canonical("Partial('min')"), "P(min)");
  EXPECT_EQ(canonical("P(product)"), "P(product)");
  EXPECT_EQ(canonical("  S( 3 )  "), "S(3)");
}

TEST(Placement, ListsWithOrWithoutBrackets) {
  const auto plain = parse_placements("S(0),_S(0,2),S(0)");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(to_string(*plain).view(), "S(0),_S(0,2),S(0)");
  EXPECT_EQ(parse_placements("[Shard(0), _StridedShard(dim=0, sf=2), Shard(dim=0)]").value(), *plain);
  EXPECT_EQ(parse_placements("(S(0), _S(0,2), S(0))").value(), *plain);
  EXPECT_EQ(to_string(parse_placements("[R, P(max)]").value()).view(), "R,P(max)");
}

TEST(Placement, ParsePrintParseRoundTrip) {
  const std::vector<Placement> all{Placement::replicate(),         Placement::shard(0),
                                   Placement::shard(-2),           Placement::strided_shard(1, 3),
                                   Placement::partial(),           Placement::partial(ReduceOp::avg),
                                   Placement::partial(ReduceOp::max), Placement::partial(ReduceOp::min),
                                   Placement::partial(ReduceOp::product)};
  for (const Placement& placement : all) {
    const auto printed = placement.to_string();
    const auto parsed = parse_placement(printed.view());
    ASSERT_TRUE(parsed.ok()) << printed.view();
    EXPECT_EQ(*parsed, placement) << printed.view();
    EXPECT_EQ(parsed->to_string(), printed);
  }
}

TEST(Placement, NormalizeDim) {
  EXPECT_EQ(normalize_dim(-1, 3, "placements[0]").value(), 2);
  EXPECT_EQ(normalize_dim(-3, 3, "placements[0]").value(), 0);
  EXPECT_EQ(normalize_dim(2, 3, "placements[0]").value(), 2);
  EXPECT_EQ(normalize_dim(3, 3, "placements[1]").error().what(),
            "placements[1]: dim 3 is outside a rank-3 tensor (valid: -3..2)");
  EXPECT_EQ(normalize_dim(-4, 3, "placements[1]").error().what(),
            "placements[1]: dim -4 is outside a rank-3 tensor (valid: -3..2)");
}

TEST(Placement, BadInputNamesTheEntryAndTheProblem) {
  EXPECT_EQ(list_error("S(0),Foo(1)"),
            "placements[1]: unknown placement 'Foo' (known: R, Replicate, S, Shard, _S, _StridedShard, P, Partial)");
  EXPECT_EQ(list_error("S(0"), "placements[0]: expected ')' at position 3 of 'S(0', found end of text");
  EXPECT_EQ(list_error("S0)"),
            "placements[0]: unknown placement 'S0' (known: R, Replicate, S, Shard, _S, _StridedShard, P, Partial)");
  EXPECT_EQ(list_error("S 0)"), "placements[0]: expected '(' at position 2 of 'S 0)', found '0'");
  EXPECT_EQ(list_error("S(0)),R"), "placements: unexpected text '),R' after placement 0");
  EXPECT_EQ(list_error("S(0),,R"), "placements[1]: expected a placement at position 5, found ','");
  EXPECT_EQ(list_error(",S(0)"), "placements[0]: expected a placement at position 0, found ','");
  EXPECT_EQ(list_error("S(0),"), "placements[1]: expected a placement at position 5, found end of text");
  EXPECT_EQ(list_error("S(0) R"), "placements: unexpected text 'R' after placement 0");
  EXPECT_EQ(list_error("[S(0),R"), "placements: expected ']' at position 7 of '[S(0),R', found end of text");
  EXPECT_EQ(list_error(""), "placements: no placements in ''");
  EXPECT_EQ(list_error("[]"), "placements: no placements in '[]'");
  EXPECT_EQ(list_error("_S(0,0)"), "placements[0]: _S split factor must be >= 1, got 0");
  EXPECT_EQ(list_error("_S(0,-2)"), "placements[0]: _S split factor must be >= 1, got -2");
  EXPECT_EQ(list_error("_S(0)"), "placements[0]: expected ',' at position 4 of '_S(0)', found ')'");
  EXPECT_EQ(list_error("Shard(axis=0)"), "placements[0]: unknown argument 'axis' at position 6 (expected dim)");
  EXPECT_EQ(list_error("P(mean)"), "placements[0]: unknown reduce op 'mean' (known: sum, avg, max, min, product)");
  EXPECT_EQ(list_error("S(99999999999999999999)"),
            "placements[0]: integer '99999999999999999999' does not fit in int64");
  EXPECT_EQ(list_error("R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R,R"), "placements: more than 16 placements (one per mesh axis)");
  auto single = parse_placement("S(0),R");
  ASSERT_FALSE(single.ok());
  EXPECT_EQ(single.error().what(), "placement: unexpected text ',R' after S(0)");
}

}  // namespace
}  // namespace shardplan
