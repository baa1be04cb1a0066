#pragma once
// Megatron-LM's rank groups (megatron/core/parallel_state.py: RankGenerator and initialize_model_parallel).
//
// Megatron names five parallel dims, tp, cp, ep, dp and pp, and an order string that lists them fastest first
// (default "tp-cp-ep-dp-pp"): rank = tp_rank + tp·(cp_rank + cp·(ep_rank + ep·(dp_rank + dp·pp_rank))). That is the
// row-major mesh (pp, dp, ep, cp, tp), the order reversed. A group of some dims ("tp", or combined: "dp-cp") is the
// set of ranks that differ only in those dims. initialize_model_parallel builds two such layouts over the same ranks:
//   dense   RankGenerator(tp, ep=1, dp, pp, cp)                 for attention and dense layers; world = tp·cp·dp·pp
//   expert  RankGenerator(tp=etp, ep, dp=edp, pp, cp=1)         for MoE experts; edp = world / (etp·ep·pp)
// where etp (expert tensor parallel) defaults to tp. MegatronGroups validates the sizes and the order as Megatron
// does (plus what Megatron leaves to a KeyError or to a silently wrong world size) and answers groups by token:
// tp, cp, dp, pp and their combinations from the dense layout; ep, etp, edp (with pp) from the expert one.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

#include "shardplan/llm/rank_groups.hpp"

namespace shardplan {

enum class MegatronDim : std::uint8_t { tp, cp, ep, dp, pp };

inline constexpr std::size_t kMegatronDims = 5;
inline constexpr std::string_view kMegatronDimNames[kMegatronDims] = {"tp", "cp", "ep", "dp", "pp"};
inline constexpr std::string_view kMegatronDefaultOrder = "tp-cp-ep-dp-pp";

[[nodiscard]] constexpr std::string_view to_string(MegatronDim dim) {
  return kMegatronDimNames[static_cast<std::size_t>(dim)];
}

/// The dims of an order, fastest first.
using MegatronOrder = StaticVector<MegatronDim, kMegatronDims>;

/// `tp-cp-ep-dp-pp`.
[[nodiscard]] constexpr FixedString<24> to_string(const MegatronOrder& order) {
  FixedString<24> text;
  for (std::size_t i = 0; i < order.size(); ++i) text << (i > 0 ? "-" : "") << to_string(order[i]);
  return text;
}

/// The names of an order string, fastest first, as given: "tp-pp-dp". Names are lower-case only: Megatron-LM's
/// RankGenerator stores the order lower-cased but looks up the names of the order as given, so "TP-PP-DP" fails
/// there (a KeyError on 'TP'). Errors (field "order"): an empty or unknown name (the message lists the known ones), a name given twice.
/// Leaving names out is not an error here: see complete_megatron_order.
[[nodiscard]] constexpr Result<MegatronOrder> parse_megatron_order(std::string_view text) {
  SHARDPLAN_TRY(const NameList names, split_names(text, "order", ErrorCode::parse_error));
  MegatronOrder order;
  for (const std::string_view name : names) {
    std::size_t found = kMegatronDims;
    for (std::size_t d = 0; d < kMegatronDims; ++d) {
      if (name == kMegatronDimNames[d]) found = d;
    }
    if (found == kMegatronDims) {
      return unknown_name_error("order", name, text, ErrorCode::parse_error)
             << " (known: tp, cp, ep, dp, pp; lower-case, as Megatron-LM requires)";
    }
    const auto dim = static_cast<MegatronDim>(found);
    for (const MegatronDim seen : order) {
      if (seen == dim) return repeated_name_error("order", name, text, ErrorCode::parse_error);
    }
    order.push_back(dim);  // cannot be full: five distinct names at most
  }
  return order;
}

/// Sizes indexed by MegatronDim.
using MegatronDimSizes = StaticVector<Index, kMegatronDims>;

/// The full order: Megatron appends every dim the order leaves out, in its own dict order (tp, pp, dp, ep, cp), and
/// refuses to leave out a dim of size > 1. `role` is appended to that message (" in the expert generator").
[[nodiscard]] constexpr Result<MegatronOrder> complete_megatron_order(const MegatronOrder& given,
                                                                      const MegatronDimSizes& sizes,
                                                                      std::string_view role = "") {
  constexpr MegatronDim kAppendOrder[] = {MegatronDim::tp, MegatronDim::pp, MegatronDim::dp, MegatronDim::ep,
                                          MegatronDim::cp};
  MegatronOrder full = given;
  for (const MegatronDim dim : kAppendOrder) {
    bool present = false;
    for (const MegatronDim seen : given) present = present || seen == dim;
    if (present) continue;
    const Index size = sizes[static_cast<std::size_t>(dim)];
    if (size != 1) {
      return make_error(ErrorCode::invalid_argument, "order")
             << "'" << to_string(given) << "' leaves out " << to_string(dim) << ", whose size is " << size << role
             << " (only dims of size 1 may be left out)";
    }
    full.push_back(dim);
  }
  return full;
}

/// Mirrors Megatron's RankGenerator: one layout of the five dims over tp·cp·ep·dp·pp ranks.
class RankGenerator : public GroupsByToken<RankGenerator> {
 public:
  constexpr RankGenerator() = default;

  /// Megatron's argument order. Validates each size (>= 1), that ep and cp are not both > 1 (Megatron's assertion:
  /// cp lives in the dense generator, ep in the expert one), the product (no int64 overflow) and the order (see
  /// parse_megatron_order, complete_megatron_order; `role` goes into the messages about it).
  [[nodiscard]] static constexpr Result<RankGenerator> create(Index tp, Index ep, Index dp, Index pp, Index cp,
                                                              std::string_view order = kMegatronDefaultOrder,
                                                              std::string_view role = "") {
    const NamedSize dims[] = {{"tp", tp}, {"cp", cp}, {"ep", ep}, {"dp", dp}, {"pp", pp}};
    for (const NamedSize& dim : dims) SHARDPLAN_CHECK(check_parallel_size(dim.name, dim.size));
    if (ep > 1 && cp > 1) {
      return make_error(ErrorCode::invalid_argument, "cp")
             << "ep = " << ep << " and cp = " << cp << " in one RankGenerator; Megatron puts cp in the dense "
             << "generator and ep in the expert one";
    }
    // (pointer, size): std::span's array constructor costs ~10 ms of compile time per element type.
    SHARDPLAN_CHECK(checked_parallel_product(std::span<const NamedSize>(dims, std::size(dims))));
    RankGenerator generator;
    generator.sizes_ = MegatronDimSizes{tp, cp, ep, dp, pp};
    SHARDPLAN_TRY(const MegatronOrder given, parse_megatron_order(order));
    SHARDPLAN_TRY(generator.order_, complete_megatron_order(given, generator.sizes_, role));
    AxisSizes shape;
    AxisNames names;
    for (std::size_t i = generator.order_.size(); i-- > 0;) {
      shape.push_back(generator.size(generator.order_[i]));
      names.push_back(AxisName(to_string(generator.order_[i])));
    }
    SHARDPLAN_TRY(generator.mesh_, Mesh::create(shape, names));
    return generator;
  }

  [[nodiscard]] constexpr Index world_size() const { return mesh_.world_size(); }
  [[nodiscard]] constexpr Index size(MegatronDim dim) const { return sizes_[static_cast<std::size_t>(dim)]; }
  /// All five dims, fastest first (the dims the given order left out come last).
  [[nodiscard]] constexpr const MegatronOrder& order() const { return order_; }
  /// The product of the sizes of the dims faster than `dim`: how far apart two ranks one step apart on `dim` are.
  [[nodiscard]] constexpr Index stride(MegatronDim dim) const {
    Index stride = 1;
    for (const MegatronDim faster : order_) {
      if (faster == dim) break;
      stride *= size(faster);
    }
    return stride;
  }
  /// The same layout as a row-major mesh: the order reversed, axes named tp, cp, ep, dp, pp (all five, size 1 too).
  [[nodiscard]] constexpr const Mesh& mesh() const { return mesh_; }

  /// The mesh axes of the dims in `token` ("tp", "dp-cp", "tp-pp"; the order of the names does not matter).
  /// Errors (field "token"): empty, unknown or repeated names.
  [[nodiscard]] constexpr Result<GroupAxes> axes(std::string_view token) const {
    return mesh_group_axes(mesh_, token, "token");
  }

  /// Megatron's get_ranks: all groups of the dims in `token`, listed by their first rank, each group's ranks
  /// increasing.
  [[nodiscard]] constexpr Result<RankGroups> get_ranks(std::string_view token) const { return groups(token); }

 private:
  MegatronDimSizes sizes_{1, 1, 1, 1, 1};
  MegatronOrder order_;
  Mesh mesh_;
};

/// The sizes initialize_model_parallel takes. dp = kInferSize: world / (tp·cp·pp), as Megatron computes it;
/// etp = kInferSize: the same as tp (Megatron's default for expert_tensor_parallel_size).
struct MegatronSizes {
  Index world = 1;
  Index tp = 1;
  Index cp = 1;
  Index ep = 1;
  Index dp = kInferSize;
  Index pp = 1;
  Index etp = kInferSize;
  friend constexpr bool operator==(const MegatronSizes&, const MegatronSizes&) = default;
};

/// The dense and expert layouts of one Megatron job, validated together.
class MegatronGroups : public GroupsByToken<MegatronGroups> {
 public:
  constexpr MegatronGroups() = default;

  /// Validates, in this order: world >= 1; tp, cp, ep, pp >= 1 and dp, etp >= 1 or kInferSize (field: the dim); the
  /// order's names (field "order", see parse_megatron_order); tp·cp·dp·pp == world, or with dp inferred, tp·cp·pp
  /// divides world (field "world"); etp·ep·pp divides world (field "ep", or "etp" when ep is 1); no dim of size > 1
  /// left out of the order in either layout (field "order"); and Megatron's two consistency assertions between the
  /// layouts (field "order"): with pp > 1 and an order that does not end in pp, edp must equal dp; and the pipeline
  /// groups of both layouts must be the same. Products that overflow int64 are errors naming the dim whose factor
  /// overflowed.
  [[nodiscard]] static constexpr Result<MegatronGroups> create(const MegatronSizes& sizes,
                                                               std::string_view order = kMegatronDefaultOrder) {
    if (sizes.world < 1) {
      return make_error(ErrorCode::invalid_argument, "world") << "must be >= 1, got " << sizes.world;
    }
    SHARDPLAN_CHECK(check_parallel_size("tp", sizes.tp));
    SHARDPLAN_CHECK(check_parallel_size("cp", sizes.cp));
    SHARDPLAN_CHECK(check_parallel_size("ep", sizes.ep));
    SHARDPLAN_CHECK(check_parallel_size("dp", sizes.dp, true));
    SHARDPLAN_CHECK(check_parallel_size("pp", sizes.pp));
    if (sizes.etp != kInferSize) SHARDPLAN_CHECK(check_parallel_size("etp", sizes.etp));
    SHARDPLAN_TRY(const MegatronOrder given, parse_megatron_order(order));

    MegatronGroups groups;
    groups.sizes_ = sizes;
    MegatronSizes& s = groups.sizes_;
    if (s.dp == kInferSize) {
      const NamedSize model[] = {{"tp", s.tp}, {"cp", s.cp}, {"pp", s.pp}};
      SHARDPLAN_TRY(s.dp, infer_parallel_size(model, s.world, "dp"));
    } else {
      const NamedSize dense[] = {{"tp", s.tp}, {"cp", s.cp}, {"dp", s.dp}, {"pp", s.pp}};
      SHARDPLAN_CHECK(check_world_product(dense, s.world));
    }
    if (s.etp == kInferSize) s.etp = s.tp;
    const NamedSize expert[] = {{"etp", s.etp}, {"ep", s.ep}, {"pp", s.pp}};
    SHARDPLAN_TRY(groups.expert_dp_,
                  infer_parallel_size(expert, s.world, "edp (the expert data-parallel size)", s.ep > 1 ? "ep" : "etp"));

    SHARDPLAN_TRY(groups.dense_, RankGenerator::create(s.tp, 1, s.dp, s.pp, s.cp, order));
    SHARDPLAN_TRY(groups.expert_,
                  RankGenerator::create(s.etp, s.ep, groups.expert_dp_, s.pp, 1, order, " in the expert generator"));
    if (s.pp > 1 && given.back() != MegatronDim::pp && groups.expert_dp_ != s.dp) {
      return make_error(ErrorCode::invalid_argument, "order")
             << "'" << to_string(given) << "' does not end in pp, so with pp = " << s.pp << " Megatron needs edp ("
             << groups.expert_dp_ << ") to equal dp (" << s.dp << ")";
    }
    // Two layouts have the same pipeline groups exactly when pp steps over the same number of ranks in both.
    const Index dense_stride = groups.dense_.stride(MegatronDim::pp);
    const Index expert_stride = groups.expert_.stride(MegatronDim::pp);
    if (s.pp > 1 && dense_stride != expert_stride) {
      return make_error(ErrorCode::invalid_argument, "order")
             << "with '" << to_string(given) << "' the pipeline groups differ between the dense layout (pp stride "
             << dense_stride << ") and the expert layout (pp stride " << expert_stride
             << "); Megatron requires them equal";
    }
    return groups;
  }

  /// The sizes with dp and etp resolved.
  [[nodiscard]] constexpr const MegatronSizes& sizes() const { return sizes_; }
  /// edp: world / (etp·ep·pp).
  [[nodiscard]] constexpr Index expert_dp() const { return expert_dp_; }
  [[nodiscard]] constexpr Index world_size() const { return sizes_.world; }
  /// The full order, fastest first (the same for both layouts).
  [[nodiscard]] constexpr const MegatronOrder& order() const { return dense_.order(); }
  [[nodiscard]] constexpr const RankGenerator& dense() const { return dense_; }
  [[nodiscard]] constexpr const RankGenerator& expert() const { return expert_; }
  /// The dense layout as a mesh: the order reversed, e.g. (pp, dp, ep, cp, tp) with ep = 1.
  [[nodiscard]] constexpr const Mesh& mesh() const { return dense_.mesh(); }
  /// The expert layout as a mesh, in Megatron's own names: tp is etp, dp is edp, cp is 1.
  [[nodiscard]] constexpr const Mesh& expert_mesh() const { return expert_.mesh(); }

  /// The mesh axes of `token`: dense dims tp, cp, dp, pp or expert dims etp, ep, edp, pp, one name or several joined
  /// by '-' ("dp-cp", "tp-pp", "etp-ep"), on mesh() or expert_mesh(). Errors (field "token"): empty, unknown or
  /// repeated names, and tokens mixing dense with expert dims.
  [[nodiscard]] constexpr Result<GroupAxes> axes(std::string_view token) const {
    SHARDPLAN_TRY(const Resolved resolved, resolve(token));
    return resolved.generator->axes(resolved.token.view());
  }

  // groups(token) and group(rank, token): GroupsByToken, on these axes.

 private:
  struct Resolved {
    const RankGenerator* generator = nullptr;
    FixedString<48> token;  // in the generator's own names
  };

  /// Which layout a token belongs to, and the token in that layout's names (etp -> tp, edp -> dp).
  [[nodiscard]] constexpr Result<Resolved> resolve(std::string_view token) const {
    // name, name inside its generator, 0 dense / 1 expert / 2 both
    struct Name {
      std::string_view name;
      std::string_view own;
      int layout;
    };
    constexpr Name kNames[] = {{"tp", "tp", 0}, {"cp", "cp", 0},  {"ep", "ep", 1}, {"dp", "dp", 0},
                               {"pp", "pp", 2}, {"etp", "tp", 1}, {"edp", "dp", 1}};
    SHARDPLAN_TRY(const NameList names, split_names(token, "token"));
    Resolved resolved;
    std::string_view dense_name;
    std::string_view expert_name;
    bool seen[std::size(kNames)]{};
    for (const std::string_view name : names) {
      std::size_t found = std::size(kNames);
      for (std::size_t i = 0; i < std::size(kNames); ++i) {
        if (kNames[i].name == name) found = i;
      }
      if (found == std::size(kNames)) {
        return unknown_name_error("token", name, token) << " (known: tp, cp, ep, dp, pp, etp, edp)";
      }
      if (seen[found]) return repeated_name_error("token", name, token);
      seen[found] = true;
      if (kNames[found].layout == 0) dense_name = kNames[found].name;
      if (kNames[found].layout == 1) expert_name = kNames[found].name;
      if (!resolved.token.empty()) resolved.token << "-";
      resolved.token << kNames[found].own;
    }
    if (!dense_name.empty() && !expert_name.empty()) {
      return make_error(ErrorCode::invalid_argument, "token")
             << "'" << token.substr(0, 60) << "' mixes a dense dim (" << dense_name << ") with an expert dim ("
             << expert_name << "); expert groups are made of etp, ep, edp and pp";
    }
    resolved.generator = expert_name.empty() ? &dense_ : &expert_;
    return resolved;
  }

  MegatronSizes sizes_;
  Index expert_dp_ = 1;
  RankGenerator dense_;
  RankGenerator expert_;
};

}  // namespace shardplan
