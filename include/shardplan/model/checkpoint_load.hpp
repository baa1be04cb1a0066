#pragma once
// Shard-on-read for a checkpoint: what one rank reads of a checkpoint's files to hold its part of every parameter,
// as transformers' loader does when it shards each tensor while loading (`from_pretrained(..., tp_plan=...)` reads
// a slice of each safetensors tensor rather than the whole). The rank's parameters and their index sets are
// rank_parameters' (model/rank_plan.hpp: the plan, the layers of its pipeline stage, its experts under ep); the byte
// ranges of each region are row_major_reads' (resharding/byte_ranges.hpp). Added here: finding each parameter's
// tensors in the checkpoint, its quantization scales, and a compact form of a tensor's reads, so that a rank of a
// DeepSeek-V3-sized checkpoint is answered in milliseconds even where a split cuts every row (a row-wise split of
// an expert's down_proj is 7,168 ranges; 15,000 of them on one rank).
//
// Tensors read for a parameter P (a name the plan gives the rank):
//   P itself, or for a dequantized mxfp4 weight `P_blocks` [..., out, in/32, 16]: the rank's out rows and the
//   blocks of its in columns;
//   its scales: `P_scale_inv` and `P_scale` (P = X.weight) and `P_scales` (mxfp4). A scale of the weight's rank
//   is cut like it, block by block: scale dim d covers ceil(w_d / s_d) weight indices, and the rank reads every
//   block its indices touch (fp8's 128 x 128 blocks: rows [r/128, ceil(r'/128))). A scale of another rank
//   (per-tensor, a scalar) is read whole;
//   for P = M.weight, the module's `M.input_scale`, `M.k_scale`, `M.v_scale`, whole.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/model/checkpoint.hpp"
#include "shardplan/model/rank_plan.hpp"
#include "shardplan/resharding/byte_ranges.hpp"

namespace shardplan {

struct ByteRange {
  Index offset = 0;
  Index length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

/// The reads of one region, counted in full and listed up to a limit.
struct ReadSummary {
  Index reads = 0;
  Index bytes_needed = 0;
  Index bytes_read = 0;
  Index length = 0;  // the length of every read when they are all alike, else 0
  Index stride = 0;  // the distance from one read to the next when it is always the same (and reads > 1), else 0
  std::vector<ByteRange> listed;  // the first reads, in file order
};

/// The reads of `region` of a tensor of `shape` stored row-major from `file_offset`, as row_major_reads gives them
/// (reads bridging gaps of at most `max_gap` bytes), listing at most `list_limit`. A region with one interval per
/// dim whose rows vary along at most one dim (what a plain row- or column-wise split gives) is counted without
/// listing every read: the reads are then `reads` ranges of `length` bytes, `stride` apart. Errors: row_major_reads'.
[[nodiscard]] inline Result<ReadSummary> row_major_read_summary(const Shape& shape, const Box& region,
                                                                Index element_size, Index file_offset, Index max_gap,
                                                                std::size_t list_limit) {
  // Checked before any size is multiplied, on both paths.
  SHARDPLAN_CHECK(check_row_major_request(shape, region, element_size, file_offset));
  ReadSummary out;
  bool regular = max_gap >= 0;
  for (const IntervalSet& set : region) regular = regular && set.intervals().size() == 1;
  std::size_t partial = shape.size();
  Index block = element_size;
  while (regular && partial > 0 && region[partial - 1].size() == shape[partial - 1]) block *= shape[--partial];
  std::size_t varying = 0;  // leading dims with more than one index
  for (std::size_t d = 0; regular && d + 1 < partial; ++d) varying += region[d].size() > 1 ? 1 : 0;
  if (!regular || partial == 0 || varying > 1) {
    SHARDPLAN_TRY(const ReadPlan plan, row_major_reads(shape, region, element_size, file_offset, max_gap));
    out.reads = static_cast<Index>(plan.reads.size());
    out.bytes_needed = plan.bytes_needed;
    out.bytes_read = plan.bytes_read;
    for (std::size_t i = 0; i < plan.reads.size(); ++i) {
      const FileRead& read = plan.reads[i];
      if (i < list_limit) out.listed.push_back({read.file_offset, read.length});
      if (i == 0) {
        out.length = read.length;
      } else {
        if (read.length != out.length) out.length = 0;
        const Index step = read.file_offset - plan.reads[i - 1].file_offset;
        if (i == 1) out.stride = step;
        if (step != out.stride) out.stride = 0;
      }
    }
    if (out.length == 0) out.stride = 0;
    return out;
  }
  // The region's first byte; its rows along the one varying dim.
  const Shape stride = row_major_byte_strides(shape, element_size);
  Index first = file_offset;
  Index rows = 1;
  Index row_stride = 0;
  for (std::size_t d = 0; d < partial; ++d) {
    first += region[d].front() * stride[d];
    if (d + 1 < partial && region[d].size() > 1) {
      rows = region[d].size();
      row_stride = stride[d];
    }
  }
  const Index length = region[partial - 1].size() * block;
  out.bytes_needed = rows * length;
  if (rows > 1 && row_stride - length <= max_gap) {  // the gaps are bridged: one read
    out.reads = 1;
    out.length = (rows - 1) * row_stride + length;
    out.bytes_read = out.length;
    if (list_limit > 0) out.listed.push_back({first, out.length});
    return out;
  }
  out.reads = rows;
  out.length = length;
  out.stride = rows > 1 ? row_stride : 0;
  out.bytes_read = out.bytes_needed;
  for (Index i = 0; i < rows && static_cast<std::size_t>(i) < list_limit; ++i) {
    out.listed.push_back({first + i * row_stride, length});
  }
  return out;
}

/// One tensor a rank reads.
struct LoadedTensor {
  const CheckpointFile* file = nullptr;
  const SafetensorsTensor* tensor = nullptr;
  Shape local_shape;
  bool scale = false;  // a quantization scale of the parameter listed before it
  ReadSummary reads;
};

struct RankLoad {
  ModelRank where;
  std::vector<LoadedTensor> tensors;
  Index parameters = 0;  // parameters the rank holds (their scales are more tensors)
  Index bytes_needed = 0;
  Index bytes_read = 0;
  Index reads = 0;
  Index files = 0;  // distinct files read
  [[nodiscard]] double read_amplification() const { return shardplan::read_amplification(bytes_needed, bytes_read); }
};

namespace checkpoint_load_detail {

/// `set` in units of `block` indices: every block an index of the set falls in.
[[nodiscard]] inline IntervalSet blocks_of(const IntervalSet& set, Index block) {
  IntervalSet out;
  Index begin = -1;
  Index end = -1;
  for (const Interval& interval : set.intervals()) {
    const Index b = interval.begin / block;
    const Index e = ceil_div(interval.end, block);
    if (begin >= 0 && b <= end) {
      end = detail::max(end, e);
      continue;
    }
    if (begin >= 0) out.append(Interval{begin, end});
    begin = b;
    end = e;
  }
  if (begin >= 0) out.append(Interval{begin, end});
  return out;
}

/// The part of a scale of shape `scale` that covers `region` of a weight of shape `weight` (see the top).
[[nodiscard]] inline Box scale_region(const Shape& weight, const Box& region, const Shape& scale) {
  if (scale.size() != weight.size()) return Box::whole(scale);
  Box out;
  for (std::size_t d = 0; d < scale.size(); ++d) {
    if (scale[d] == 0 || weight[d] == 0) {
      out.push_back(IntervalSet::range(0, scale[d]));
      continue;
    }
    out.push_back(blocks_of(region[d], ceil_div(weight[d], scale[d])));
  }
  return out;
}

}  // namespace checkpoint_load_detail

/// What rank `rank` reads of `checkpoint` under the plan (the family's default when null): every parameter
/// for_each_rank_parameter gives it, in that order, each followed by its scales. `config` must read the checkpoint
/// (attach_checkpoint), so that every parameter is one of its tensors. The reads of a tensor are computed once per
/// parameter group and kind of tensor and moved to each instance's offset (the instances of a group have one
/// region). Errors: for_each_rank_parameter's, a parameter the checkpoint lacks or stores with another shape (field
/// "checkpoint"), row_major_reads'.
[[nodiscard]] inline Result<RankLoad> rank_load(const ModelConfig& config, const Checkpoint& checkpoint,
                                                const ParallelConfig& parallel, Index rank, const Plan* plan = nullptr,
                                                Index max_gap = 0, std::size_t list_limit = 16) {
  using checkpoint_load_detail::blocks_of;
  using checkpoint_load_detail::scale_region;
  using safetensors_detail::quoted_name;
  RankLoad out;
  SHARDPLAN_TRY(out.where, model_rank(parallel, rank));

  // The companions a checkpoint has at all: a weight's scales and a module's, and mxfp4's scales.
  enum Kind : std::size_t { kDirect, kScaleInv, kScale, kInputScale, kKScale, kVScale, kBlocks, kBlockScales, kKinds };
  constexpr std::string_view kSuffix[kKinds] = {"", "_scale_inv", "_scale", ".input_scale", ".k_scale", ".v_scale",
                                                "_blocks", "_scales"};
  bool present[kKinds] = {true};
  checkpoint.for_each([&present, &kSuffix](const CheckpointFile&, const SafetensorsTensor& tensor) {
    for (std::size_t kind = 1; kind < kKinds; ++kind) present[kind] = present[kind] || tensor.name.ends_with(kSuffix[kind]);
  });

  // Per kind: the reads of the last group's tensor of that kind, at its offset, to move to the next instance's.
  struct Cached {
    std::size_t group = static_cast<std::size_t>(-1);
    Shape shape;  // of the tensor as stored
    Index element_size = 0;
    Index file_offset = 0;
    Shape local_shape;
    ReadSummary reads;
  };
  Cached cache[kKinds];
  std::vector<const CheckpointFile*> files;
  const auto add = [&](Kind kind, std::size_t group, CheckpointTensor found, const auto& region_of) -> Status {
    const SafetensorsTensor& tensor = *found.tensor;
    Cached& cached = cache[kind];
    if (cached.group != group || !(cached.shape == tensor.shape) || cached.element_size != tensor.element_size) {
      const Box region = region_of(tensor.shape);
      SHARDPLAN_TRY(ReadSummary reads, row_major_read_summary(tensor.shape, region, tensor.element_size,
                                                              tensor.file_offset, max_gap, list_limit));
      cached = Cached{group, tensor.shape, tensor.element_size, tensor.file_offset, region.local_shape(),
                      std::move(reads)};
    }
    LoadedTensor loaded;
    loaded.file = found.file;
    loaded.tensor = found.tensor;
    loaded.scale = kind != kDirect && kind != kBlocks;
    loaded.local_shape = cached.local_shape;
    loaded.reads = cached.reads;
    for (ByteRange& range : loaded.reads.listed) range.offset += tensor.file_offset - cached.file_offset;
    out.bytes_needed += loaded.reads.bytes_needed;
    out.bytes_read += loaded.reads.bytes_read;
    out.reads += loaded.reads.reads;
    if (loaded.reads.reads > 0 && (files.empty() || files.back() != found.file)) files.push_back(found.file);
    out.tensors.push_back(std::move(loaded));
    return Ok{};
  };
  std::string name;
  Status status = Ok{};
  const auto visit = [&](const RankParameter& p, std::size_t group) {
    if (!status.ok()) return;
    ++out.parameters;
    name.assign(p.name.view());
    const std::size_t size = name.size();
    const CheckpointTensor direct = checkpoint.find(name);
    if (direct.tensor != nullptr) {
      if (!(direct.tensor->shape == p.shape)) {
        status = make_error(ErrorCode::invalid_argument, "checkpoint")
                 << "tensor " << quoted_name(name) << " is " << shape_text(direct.tensor->shape)
                 << " but the model has " << shape_text(p.shape);
        return;
      }
      status = add(kDirect, group, direct, [&p](const Shape&) { return p.sets; });
      for (const Kind kind : {kScaleInv, kScale, kInputScale, kKScale, kVScale}) {
        if (!status.ok() || !present[kind]) continue;
        const bool module = kind >= kInputScale;
        if (module && !std::string_view(name).substr(0, size).ends_with(".weight")) continue;
        name.resize(module ? size - 7 : size);
        name += kSuffix[kind];
        if (const CheckpointTensor scale = checkpoint.find(name); scale.tensor != nullptr) {
          status = add(kind, group, scale, [&p, module](const Shape& stored) {
            return module ? Box::whole(stored) : scale_region(p.shape, p.sets, stored);
          });
        }
        name.assign(p.name.view());
      }
      return;
    }
    // A dequantized mxfp4 weight [..., in, out]: its blocks [..., out, in/32, 16] and scales [..., out, in/32].
    name += "_blocks";
    const CheckpointTensor blocks = checkpoint.find(name);
    const std::size_t rank_of = p.shape.size();
    if (blocks.tensor == nullptr || rank_of < 2 || blocks.tensor->shape.size() != rank_of + 1) {
      status = make_error(ErrorCode::invalid_argument, "checkpoint")
               << "has no tensor " << quoted_name(p.name.view()) << " (nor its mxfp4 blocks) for the plan's parameter";
      return;
    }
    const auto packed_region = [&p, rank_of](const Shape& stored, bool with_bytes) {
      const Index group_size = ceil_div(p.shape[rank_of - 2], detail::max<Index>(stored[rank_of - 1], 1));
      Box region;
      for (std::size_t d = 0; d + 2 < rank_of; ++d) region.push_back(p.sets[d]);
      region.push_back(p.sets[rank_of - 1]);                        // out
      region.push_back(blocks_of(p.sets[rank_of - 2], group_size));  // groups of in
      if (with_bytes) region.push_back(IntervalSet::range(0, stored[rank_of]));  // the bytes of a group
      return region;
    };
    status = add(kBlocks, group, blocks, [&](const Shape& stored) { return packed_region(stored, true); });
    name.resize(size);
    name += "_scales";
    if (const CheckpointTensor scales = checkpoint.find(name); status.ok() && scales.tensor != nullptr) {
      const Shape block_shape = blocks.tensor->shape;
      status = add(kBlockScales, group, scales, [&](const Shape& stored) {
        return stored.size() == rank_of ? packed_region(block_shape, false) : Box::whole(stored);
      });
    }
  };
  SHARDPLAN_CHECK(for_each_rank_parameter(config, parallel, rank, plan, visit));
  SHARDPLAN_CHECK(status);
  detail::sort_range(files);
  out.files = static_cast<Index>(detail::unique(files.begin(), files.end()) - files.begin());
  return out;
}

}  // namespace shardplan
