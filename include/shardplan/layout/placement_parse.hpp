#pragma once
// Parsing placements from every text form users write:
//   R, Replicate()                      S(d), Shard(d), Shard(dim=d)
//   _S(d,sf), _StridedShard(dim=d, sf=k), _StridedShard(d, split_factor=k)
//   P, P(sum), Partial(), Partial(max), Partial(reduce_op=max)
// A list is comma-separated, optionally inside [...] or (...). Dims are kept as written (possibly negative);
// Layout::create normalises them against the tensor rank.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/layout/placement.hpp"

namespace shardplan {

namespace detail {

[[nodiscard]] constexpr Result<ReduceOp> parse_reduce_op(std::string_view name, std::string_view field) {
  if (name == "sum") return ReduceOp::sum;
  if (name == "avg") return ReduceOp::avg;
  if (name == "max") return ReduceOp::max;
  if (name == "min") return ReduceOp::min;
  if (name == "product" || name == "prod") return ReduceOp::product;
  return make_error(ErrorCode::parse_error, field)
         << "unknown reduce op '" << name.substr(0, 24) << "' (known: sum, avg, max, min, product)";
}

/// An integer argument, optionally written `keyword=value` with one of the accepted keywords.
constexpr Result<Index> parse_int_argument(TextScanner& scan, std::string_view keyword_a, std::string_view keyword_b) {
  const std::size_t start = scan.position();
  const std::string_view keyword = scan.identifier();
  if (!keyword.empty()) {
    if (keyword != keyword_a && keyword != keyword_b) {
      return scan.error() << "unknown argument '" << keyword.substr(0, 24) << "' at position "
                          << static_cast<Index>(start) << " (expected " << keyword_a << ")";
    }
    SHARDPLAN_CHECK(scan.expect("="));
  }
  return scan.integer();
}

/// One placement starting at the scanner's position.
constexpr Result<Placement> parse_one_placement(TextScanner& scan) {
  const std::size_t start = scan.position();
  const std::string_view name = scan.identifier();
  if (name == "R" || name == "Replicate") {
    if (scan.accept("(")) SHARDPLAN_CHECK(scan.expect(")"));
    return Placement::replicate();
  }
  if (name == "S" || name == "Shard") {
    SHARDPLAN_CHECK(scan.expect("("));
    SHARDPLAN_TRY(const Index dim, parse_int_argument(scan, "dim", "dim"));
    SHARDPLAN_CHECK(scan.expect(")"));
    return Placement::shard(dim);
  }
  if (name == "_S" || name == "_StridedShard") {
    SHARDPLAN_CHECK(scan.expect("("));
    SHARDPLAN_TRY(const Index dim, parse_int_argument(scan, "dim", "dim"));
    SHARDPLAN_CHECK(scan.expect(","));
    SHARDPLAN_TRY(const Index split_factor, parse_int_argument(scan, "sf", "split_factor"));
    SHARDPLAN_CHECK(scan.expect(")"));
    if (split_factor < 1) {
      return make_error(ErrorCode::invalid_argument, scan.field())
             << "_S split factor must be >= 1, got " << split_factor;
    }
    return Placement::strided_shard(dim, split_factor);
  }
  if (name == "P" || name == "Partial") {
    ReduceOp op = ReduceOp::sum;
    if (scan.accept("(") && !scan.accept(")")) {
      std::string_view word = scan.identifier();
      if (word == "reduce_op") {
        SHARDPLAN_CHECK(scan.expect("="));
        word = {};
      }
      if (word.empty()) {  // the op, possibly quoted as in Partial('sum')
        const bool quoted = scan.accept("'") || scan.accept("\"");
        word = scan.identifier();
        if (quoted && !scan.accept("'") && !scan.accept("\"")) return scan.error() << "unterminated quote";
      }
      SHARDPLAN_TRY(op, parse_reduce_op(word, scan.field()));
      SHARDPLAN_CHECK(scan.expect(")"));
    }
    return Placement::partial(op);
  }
  if (name.empty()) {
    return scan.error() << "expected a placement at position " << static_cast<Index>(start) << ", found "
                        << scan.describe_next();
  }
  return scan.error() << "unknown placement '" << name.substr(0, 32)
                      << "' (known: R, Replicate, S, Shard, _S, _StridedShard, P, Partial)";
}

}  // namespace detail

/// Parses a single placement, e.g. `_StridedShard(dim=0, sf=2)`.
[[nodiscard]] constexpr Result<Placement> parse_placement(std::string_view text,
                                                          std::string_view field = "placement") {
  TextScanner scan(text, field);
  SHARDPLAN_TRY(Placement placement, detail::parse_one_placement(scan));
  if (!scan.at_end()) {
    return scan.error() << "unexpected text '" << scan.rest().substr(0, 40) << "' after " << placement.to_string();
  }
  return placement;
}

/// Parses a comma-separated list, e.g. `S(0),_S(0,2),S(0)` or `[Shard(0), Replicate()]`.
[[nodiscard]] constexpr Result<Placements> parse_placements(std::string_view text) {
  TextScanner scan(text, "placements");
  const char close = scan.open_list();
  Placements placements;
  if (scan.at_end() || scan.peek() == close) {
    return scan.error() << "no placements in '" << text.substr(0, 60) << "'";
  }
  do {
    auto placement = detail::parse_one_placement(scan);
    if (!placement.ok()) {
      Error error = placement.error();  // name the list entry, not just the list
      error.field = indexed_field("placements", static_cast<Index>(placements.size()));
      return error;
    }
    if (!placements.push_back(*placement)) {
      return make_error(ErrorCode::capacity_exceeded, "placements")
             << "more than " << static_cast<Index>(kMaxMeshAxes) << " placements (one per mesh axis)";
    }
  } while (scan.accept(","));
  SHARDPLAN_CHECK(scan.close_list(close));
  if (!scan.at_end()) {
    return scan.error() << "unexpected text '" << scan.rest().substr(0, 40) << "' after placement "
                        << static_cast<Index>(placements.size() - 1);
  }
  return placements;
}

}  // namespace shardplan
