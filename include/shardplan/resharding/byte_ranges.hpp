#pragma once
// Shard-on-read: the byte ranges of a tensor stored row-major (C order) in a file that hold one rank's region, and
// where each lands in the rank's local buffer (row-major in its local shape).
//
// Segments are the exact copies, coalesced: ranges adjacent in the file and in the buffer are merged, so a region
// that spans whole trailing dims is one segment per run of leading rows (a Shard(0) slice of a matrix is a single
// segment). Reads are what to ask the file for: with max_gap = 0 one read per segment; with max_gap > 0 segments
// whose gap is at most max_gap bytes share a read (fewer, larger reads; the gap bytes are read and dropped), and the
// plan reports the read amplification, bytes read / bytes needed.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <vector>

#include "shardplan/resharding/limits.hpp"
#include "shardplan/resharding/shard_list.hpp"

namespace shardplan {

/// A contiguous copy from the file to the local buffer.
struct ByteSegment {
  Index file_offset = 0;
  Index length = 0;
  Index dst_offset = 0;  // byte offset in the local buffer
  friend bool operator==(const ByteSegment&, const ByteSegment&) = default;
};

/// One read of the file, covering segments [first_segment, first_segment + segment_count).
struct FileRead {
  Index file_offset = 0;
  Index length = 0;
  std::size_t first_segment = 0;
  std::size_t segment_count = 0;
  friend bool operator==(const FileRead&, const FileRead&) = default;
};

/// Bytes read / bytes needed; 1 when nothing is needed. For one plan or totals over many.
[[nodiscard]] inline double read_amplification(Index bytes_needed, Index bytes_read) {
  return bytes_needed == 0 ? 1.0 : static_cast<double>(bytes_read) / static_cast<double>(bytes_needed);
}

struct ReadPlan {
  std::vector<FileRead> reads;        // increasing file offsets
  std::vector<ByteSegment> segments;  // increasing file and buffer offsets
  Index bytes_needed = 0;             // the region's bytes (the local buffer's size)
  Index bytes_read = 0;               // sum of the reads' lengths

  /// bytes_read / bytes_needed; 1 for an empty region.
  [[nodiscard]] double read_amplification() const { return shardplan::read_amplification(bytes_needed, bytes_read); }
};

namespace byte_ranges_detail {

/// Appends a copy, merging it into the previous one when both the file and the buffer ranges continue it.
inline void add_segment(std::vector<ByteSegment>& segments, ByteSegment segment) {
  if (segment.length == 0) return;
  if (!segments.empty()) {
    ByteSegment& last = segments.back();
    if (last.file_offset + last.length == segment.file_offset && last.dst_offset + last.length == segment.dst_offset) {
      last.length += segment.length;
      return;
    }
  }
  segments.push_back(segment);
}

}  // namespace byte_ranges_detail

/// Groups segments into reads, bridging gaps of at most max_gap bytes.
[[nodiscard]] inline Result<std::vector<FileRead>> bridge_gaps(const std::vector<ByteSegment>& segments,
                                                               Index max_gap) {
  if (max_gap < 0) return make_error(ErrorCode::invalid_argument, "max_gap") << "must be >= 0, got " << max_gap;
  std::vector<FileRead> reads;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const ByteSegment& segment = segments[i];
    if (!reads.empty()) {
      FileRead& read = reads.back();
      const Index gap = segment.file_offset - (read.file_offset + read.length);
      if (gap >= 0 && gap <= max_gap) {
        read.length = segment.file_offset + segment.length - read.file_offset;
        ++read.segment_count;
        continue;
      }
    }
    reads.push_back(FileRead{segment.file_offset, segment.length, i, 1});
  }
  return reads;
}

/// The checks of a request to read `region` of a row-major tensor (row_major_reads' and the read summary's):
/// element_size >= 1, file_offset >= 0, the region inside the shape, the tensor's end inside int64.
[[nodiscard]] inline Status check_row_major_request(const Shape& shape, const Box& region, Index element_size,
                                                    Index file_offset) {
  if (element_size < 1) {
    return make_error(ErrorCode::invalid_argument, "element_size") << "must be >= 1 byte, got " << element_size;
  }
  if (file_offset < 0) {
    return make_error(ErrorCode::invalid_argument, "file_offset") << "must be >= 0, got " << file_offset;
  }
  SHARDPLAN_CHECK(check_shape(shape));
  SHARDPLAN_CHECK(shard_list_detail::check_sets(shape, 0, region, "region", 0));
  SHARDPLAN_TRY(const Index numel, checked_product(shape, "shape"));
  SHARDPLAN_TRY(const Index tensor_bytes, checked_mul(numel, element_size, "tensor bytes"));
  SHARDPLAN_CHECK(checked_add(file_offset, tensor_bytes, "file_offset + tensor bytes"));
  return Ok{};
}

/// Bytes from one index of each dim to the next in a row-major tensor of `shape`. Precondition: the tensor's bytes
/// fit in int64 (callers check it first).
[[nodiscard]] constexpr Shape row_major_byte_strides(const Shape& shape, Index element_size) {
  Shape stride;
  stride.resize(shape.size());
  Index step = element_size;
  for (std::size_t d = shape.size(); d-- > 0;) {
    stride[d] = step;
    step *= shape[d];
  }
  return stride;
}

/// The reads for `region` (one index set per dim) of a tensor of `shape`, `element_size` bytes per element,
/// stored row-major from byte `file_offset`. Errors: a region outside the shape, element_size < 1, a negative
/// offset or gap, a tensor whose end does not fit in int64, a plan of more than `max_segments` byte ranges
/// (read_segment_bound, refused before any is listed).
[[nodiscard]] inline Result<ReadPlan> row_major_reads(const Shape& shape, const Box& region, Index element_size,
                                                      Index file_offset = 0, Index max_gap = 0,
                                                      Index max_segments = kMaxReadSegments) {
  SHARDPLAN_CHECK(check_row_major_request(shape, region, element_size, file_offset));
  SHARDPLAN_CHECK(check_read_segments(shape, region, max_segments));

  ReadPlan plan;
  plan.bytes_needed = element_size;  // <= the tensor's bytes, checked above
  for (const IntervalSet& set : region) plan.bytes_needed *= set.size();
  if (plan.bytes_needed == 0) return plan;

  // Trailing dims the region spans whole are one contiguous block per index of the dims before them.
  std::size_t partial = shape.size();  // dims [partial, rank) are spanned whole
  Index block = element_size;
  while (partial > 0 && region[partial - 1].size() == shape[partial - 1]) {  // inside [0, n): whole iff n elements
    --partial;
    block *= shape[partial];
  }
  if (partial == 0) {
    plan.segments.push_back(ByteSegment{file_offset, block, 0});
  } else {
    // Dim partial-1 contributes its intervals, dims before it every index they hold.
    const Shape stride = row_major_byte_strides(shape, element_size);
    const std::size_t inner = partial - 1;  // dims [0, inner) are walked index by index
    StaticVector<std::size_t, kMaxTensorRank> interval_at;  // per walked dim: current interval
    Shape index;                                             // per walked dim: current global index
    for (std::size_t d = 0; d < inner; ++d) {
      interval_at.push_back(0);
      index.push_back(region[d].front());
    }
    Index dst = 0;
    while (true) {
      Index base = file_offset;
      for (std::size_t d = 0; d < inner; ++d) base += index[d] * stride[d];
      for (const Interval& run : region[inner].intervals()) {
        // stride[inner] == block: the dims after `inner` are exactly the ones spanned whole.
        byte_ranges_detail::add_segment(plan.segments,
                                        ByteSegment{base + run.begin * block, run.size() * block, dst});
        dst += run.size() * block;
      }
      // Next index of the walked dims, last fastest.
      std::size_t d = inner;
      while (d > 0) {
        const std::span<const Interval> intervals = region[d - 1].intervals();
        if (++index[d - 1] < intervals[interval_at[d - 1]].end) break;
        if (++interval_at[d - 1] < intervals.size()) {
          index[d - 1] = intervals[interval_at[d - 1]].begin;
          break;
        }
        interval_at[d - 1] = 0;
        index[d - 1] = intervals[0].begin;
        --d;
      }
      if (d == 0) break;
    }
  }
  SHARDPLAN_TRY(plan.reads, bridge_gaps(plan.segments, max_gap));
  for (const FileRead& read : plan.reads) plan.bytes_read += read.length;
  return plan;
}

}  // namespace shardplan
