#pragma once
// torchtitan's ParallelDims (torchtitan/distributed/parallel_dims.py): the sizes of a job's parallel dims, their
// rules, and the device meshes built from them.
//
// Sizes: dp_replicate · dp_shard · cp · tp · pp == world, dp_shard = -1 meaning "whatever is left". The world mesh is
// row-major over (pp, dp_replicate, dp_shard, cp, tp), named, with dims of size 1 dropped. Expert parallelism does
// not add ranks: it borrows them. With etp = tp, EP takes all of cp and part of dp_shard; with etp = 1 it also takes
// tp. To give EP its own axes torchtitan splits dp_shard into dp_shard_mod_ep · dp_shard_in_ep and, when ep > 1,
// builds the mesh (pp, dp_replicate, dp_shard_mod_ep, dp_shard_in_ep, cp, tp) instead, keeping dp_shard_mod_ep even
// at size 1. Flattened names group several axes: dp = dp_replicate·dp_shard (data loading), dp_shard_cp (FSDP
// parameter sharding), dp_cp (loss all-reduce), ep = dp_shard_in_ep·cp(·tp when etp = 1).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "shardplan/llm/rank_groups.hpp"

namespace shardplan {

/// Sequence parallel splits the sequence over tp; load-balanced context parallel cuts it into 2·cp chunks and gives
/// each cp rank two. So the sequence length must be a multiple of tp·cp·2 with both (torchtitan's
/// ParallelDims.seq_len_divisor), of 2·cp with context parallel alone, and of tp with sequence parallel alone.
/// Decision: the factor 2 applies only when cp > 1 (torchtitan's property multiplies by 2 unconditionally), and tp
/// counts only with `sequence_parallel` (always on in torchtitan, optional in Megatron).
[[nodiscard]] constexpr Result<Index> sequence_length_divisor(Index tp, Index cp, bool sequence_parallel = true) {
  SHARDPLAN_CHECK(check_parallel_size("tp", tp));
  SHARDPLAN_CHECK(check_parallel_size("cp", cp));
  const NamedSize factors[] = {{"tp", sequence_parallel ? tp : 1}, {"cp", cp}, {"2", cp > 1 ? 2 : 1}};
  return checked_parallel_product(factors);
}

/// seq_len >= 1 and a multiple of sequence_length_divisor (field "seq_len").
[[nodiscard]] constexpr Status check_sequence_length(Index seq_len, Index tp, Index cp, bool sequence_parallel = true) {
  SHARDPLAN_TRY(const Index divisor, sequence_length_divisor(tp, cp, sequence_parallel));
  if (seq_len < 1) return make_error(ErrorCode::invalid_argument, "seq_len") << "must be >= 1, got " << seq_len;
  if (seq_len % divisor == 0) return Ok{};
  auto error = make_error(ErrorCode::not_divisible, "seq_len") << seq_len << " is not a multiple of ";
  if (sequence_parallel && tp > 1 && cp > 1) {
    error << "tp·cp·2 = " << tp << "·" << cp << "·2 = " << divisor
          << " (sequence parallel splits it over tp, load-balanced context parallel into 2·cp chunks)";
  } else if (cp > 1) {
    error << "cp·2 = " << cp << "·2 = " << divisor << " (load-balanced context parallel cuts it into 2·cp chunks)";
  } else {
    error << "tp = " << divisor << " (sequence parallel splits it over tp)";
  }
  return error;
}

/// The sizes torchtitan's ParallelDims takes. dp_shard = kInferSize: world / (dp_replicate·cp·tp·pp). etp defaults to
/// 1 as in torchtitan's config (expert_tensor_parallel_degree).
struct TorchtitanSizes {
  Index world = 1;
  Index dp_replicate = 1;
  Index dp_shard = kInferSize;
  Index cp = 1;
  Index tp = 1;
  Index pp = 1;
  Index ep = 1;
  Index etp = 1;
  friend constexpr bool operator==(const TorchtitanSizes&, const TorchtitanSizes&) = default;
};

class TorchtitanDims : public GroupsByToken<TorchtitanDims> {
 public:
  constexpr TorchtitanDims() = default;

  /// Validates as torchtitan's _validate: world >= 1; every size >= 1, dp_shard >= 1 or kInferSize (field: the dim);
  /// with dp_shard inferred, dp_replicate·cp·tp·pp divides world, else dp_replicate·dp_shard·cp·tp·pp == world (field
  /// "world"); etp is 1 or tp (field "etp"; torchtitan checks it only when ep > 1, shardplan always: any other value
  /// is a mistake); with ep > 1 (field "ep"): etp = tp needs cp | ep and ep | dp_shard·cp, etp = 1 needs cp·tp | ep
  /// and ep | dp_shard·cp·tp. Products that overflow int64 are errors naming the dim whose factor overflowed.
  [[nodiscard]] static constexpr Result<TorchtitanDims> create(const TorchtitanSizes& sizes) {
    if (sizes.world < 1) {
      return make_error(ErrorCode::invalid_argument, "world") << "must be >= 1, got " << sizes.world;
    }
    SHARDPLAN_CHECK(check_parallel_size("dp_replicate", sizes.dp_replicate));
    SHARDPLAN_CHECK(check_parallel_size("dp_shard", sizes.dp_shard, true));
    SHARDPLAN_CHECK(check_parallel_size("cp", sizes.cp));
    SHARDPLAN_CHECK(check_parallel_size("tp", sizes.tp));
    SHARDPLAN_CHECK(check_parallel_size("pp", sizes.pp));
    SHARDPLAN_CHECK(check_parallel_size("ep", sizes.ep));
    SHARDPLAN_CHECK(check_parallel_size("etp", sizes.etp));
    TorchtitanDims dims;
    TorchtitanSizes& s = dims.sizes_;
    s = sizes;
    if (s.dp_shard == kInferSize) {
      const NamedSize others[] = {{"dp_replicate", s.dp_replicate}, {"cp", s.cp}, {"tp", s.tp}, {"pp", s.pp}};
      SHARDPLAN_TRY(s.dp_shard, infer_parallel_size(others, s.world, "dp_shard"));
    } else {
      const NamedSize all[] = {
          {"dp_replicate", s.dp_replicate}, {"dp_shard", s.dp_shard}, {"cp", s.cp}, {"tp", s.tp}, {"pp", s.pp}};
      SHARDPLAN_CHECK(check_world_product(all, s.world));
    }
    if (s.etp != 1 && s.etp != s.tp) {
      return make_error(ErrorCode::invalid_argument, "etp")
             << "must be 1 or tp (" << s.tp << "), got " << s.etp << "; torchtitan supports only these two";
    }
    // From here on every product is a divisor of world: no overflow.
    if (s.ep > 1) {
      const bool borrows_tp = s.etp == 1 && s.tp > 1;
      const Index whole = s.cp * (borrows_tp ? s.tp : 1);  // EP takes all of cp (and tp)
      if (s.ep % whole != 0) {
        auto error = make_error(ErrorCode::not_divisible, "ep") << s.ep << " is not a multiple of ";
        if (borrows_tp) {
          error << "cp·tp = " << s.cp << "·" << s.tp << " = " << whole << ": with etp = 1";
        } else {
          error << "cp = " << s.cp << ": with etp = tp";
        }
        return error << ", EP borrows all of " << (borrows_tp ? "cp and tp" : "cp") << " and part of dp_shard";
      }
      const Index pool = s.dp_shard * whole;
      if (pool % s.ep != 0) {
        auto error = make_error(ErrorCode::not_divisible, "ep") << s.ep << " does not divide ";
        if (borrows_tp) {
          error << "dp_shard·cp·tp = " << s.dp_shard << "·" << s.cp << "·" << s.tp;
        } else {
          error << "dp_shard·cp = " << s.dp_shard << "·" << s.cp;
        }
        return error << " = " << pool << ", the ranks EP borrows from";
      }
      dims.dp_shard_in_ep_ = s.ep / whole;
      dims.dp_shard_mod_ep_ = pool / s.ep;
    }
    SHARDPLAN_TRY(
        dims.mesh_,
        build_mesh(
            {{"pp", s.pp}, {"dp_replicate", s.dp_replicate}, {"dp_shard", s.dp_shard}, {"cp", s.cp}, {"tp", s.tp}}));
    if (s.ep > 1) {
      SHARDPLAN_TRY(dims.ep_mesh_, build_mesh({{"pp", s.pp},
                                               {"dp_replicate", s.dp_replicate},
                                               {"dp_shard_mod_ep", dims.dp_shard_mod_ep_},
                                               {"dp_shard_in_ep", dims.dp_shard_in_ep_},
                                               {"cp", s.cp},
                                               {"tp", s.tp}}));
    }
    return dims;
  }

  /// The sizes with dp_shard resolved.
  [[nodiscard]] constexpr const TorchtitanSizes& sizes() const { return sizes_; }
  [[nodiscard]] constexpr Index world_size() const { return sizes_.world; }
  [[nodiscard]] constexpr bool ep_enabled() const { return sizes_.ep > 1; }
  /// dp_shard = dp_shard_mod_ep · dp_shard_in_ep; with ep = 1 these are dp_shard and 1.
  [[nodiscard]] constexpr Index dp_shard_mod_ep() const { return ep_enabled() ? dp_shard_mod_ep_ : sizes_.dp_shard; }
  [[nodiscard]] constexpr Index dp_shard_in_ep() const { return ep_enabled() ? dp_shard_in_ep_ : 1; }
  [[nodiscard]] constexpr Result<Index> seq_len_divisor() const {
    return sequence_length_divisor(sizes_.tp, sizes_.cp);
  }

  /// (pp, dp_replicate, dp_shard, cp, tp) without the dims of size 1. Decision: when every dim is 1 the mesh keeps
  /// dp_shard, as a Mesh needs an axis.
  [[nodiscard]] constexpr const Mesh& mesh() const { return mesh_; }
  /// With ep > 1: (pp, dp_replicate, dp_shard_mod_ep, dp_shard_in_ep, cp, tp) without the dims of size 1 except
  /// dp_shard_mod_ep (torchtitan keeps it for FSDP on the experts). Nothing with ep = 1.
  [[nodiscard]] constexpr std::optional<Mesh> ep_mesh() const {
    return ep_enabled() ? std::optional<Mesh>(ep_mesh_) : std::nullopt;
  }
  /// The mesh torchtitan builds: the EP mesh when ep > 1, else mesh().
  [[nodiscard]] constexpr const Mesh& world_mesh() const { return ep_enabled() ? ep_mesh_ : mesh_; }

  /// The axes of world_mesh() a name stands for, in mesh order. Names: the dims pp, dp_replicate, dp_shard, cp, tp;
  /// the flattened dp, dp_shard_cp, dp_cp, ep; and with ep > 1 dp_shard_mod_ep, dp_shard_in_ep; several may be
  /// joined by '-' ("pp-tp") when they do not overlap. Dims of size 1 contribute no axis, so their groups are single
  /// ranks. Errors (field "token"): empty, unknown or overlapping names, EP names with ep = 1.
  [[nodiscard]] constexpr Result<GroupAxes> axes(std::string_view token) const {
    SHARDPLAN_TRY(const NameList names, split_names(token, "token"));
    StaticVector<std::string_view, 8> parts;
    for (const std::string_view name : names) {
      SHARDPLAN_TRY(const Parts named, parts_of(name, token));
      for (const std::string_view part : named) {
        for (const std::string_view seen : parts) {
          if (seen == part) {
            return make_error(ErrorCode::invalid_argument, "token")
                   << "'" << name.substr(0, 24) << "' overlaps an earlier name in '" << token.substr(0, 60) << "'";
          }
        }
        parts.push_back(part);  // at most six distinct parts
      }
    }
    GroupAxes selected{world_mesh(), {}};
    for (std::size_t axis = 0; axis < selected.mesh.ndim(); ++axis) {
      for (const std::string_view part : parts) {
        if (selected.mesh.names()[axis] == part) selected.axes.push_back(axis);
      }
    }
    return selected;
  }

  // groups(token) and group(rank, token): GroupsByToken, on these axes.

 private:
  using Parts = StaticVector<std::string_view, 6>;

  /// A mesh over the dims of size > 1 (and dp_shard_mod_ep, which torchtitan always keeps).
  [[nodiscard]] static constexpr Result<Mesh> build_mesh(std::initializer_list<NamedSize> dims) {
    AxisSizes shape;
    AxisNames names;
    for (const NamedSize& dim : dims) {
      if (dim.size > 1 || dim.name == "dp_shard_mod_ep") {
        shape.push_back(dim.size);
        names.push_back(AxisName(dim.name));
      }
    }
    if (shape.empty()) {
      shape.push_back(1);
      names.push_back(AxisName("dp_shard"));
    }
    return Mesh::create(shape, names);
  }

  /// The world-mesh axis names (before dropping size-1 dims) that one name stands for.
  [[nodiscard]] constexpr Result<Parts> parts_of(std::string_view name, std::string_view token) const {
    const bool ep = ep_enabled();
    Parts parts;
    const auto add_dp_shard = [&] {
      if (ep) {
        parts.push_back("dp_shard_mod_ep");
        parts.push_back("dp_shard_in_ep");
      } else {
        parts.push_back("dp_shard");
      }
    };
    if (name == "pp" || name == "dp_replicate" || name == "cp" || name == "tp") {
      parts.push_back(name);
    } else if (name == "dp_shard") {
      add_dp_shard();
    } else if (name == "dp") {
      parts.push_back("dp_replicate");
      add_dp_shard();
    } else if (name == "dp_shard_cp") {
      add_dp_shard();
      parts.push_back("cp");
    } else if (name == "dp_cp") {
      parts.push_back("dp_replicate");
      add_dp_shard();
      parts.push_back("cp");
    } else if (name == "ep") {
      if (ep) {
        parts.push_back("dp_shard_in_ep");
        parts.push_back("cp");
        if (sizes_.etp == 1) parts.push_back("tp");
      }
    } else if (name == "dp_shard_mod_ep" || name == "dp_shard_in_ep") {
      if (!ep) {
        return make_error(ErrorCode::invalid_argument, "token")
               << "'" << name << "' exists only with ep > 1 (torchtitan splits dp_shard for EP)";
      }
      parts.push_back(name);
    } else {
      return unknown_name_error("token", name, token)
             << " (known: pp, dp_replicate, dp_shard, cp, tp, dp, dp_shard_cp, dp_cp, ep, dp_shard_mod_ep, "
                "dp_shard_in_ep)";
    }
    return parts;
  }

  TorchtitanSizes sizes_;
  Index dp_shard_mod_ep_ = 1;
  Index dp_shard_in_ep_ = 1;
  Mesh mesh_;
  Mesh ep_mesh_;
};

}  // namespace shardplan
