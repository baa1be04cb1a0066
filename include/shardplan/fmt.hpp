#pragma once
// {fmt} support: fmt::formatter specializations that print shardplan's values with exactly the text of the
// library's own to_string (one writer per type, shared by both):
//   Shape ("[2, 3]", shape_text), Mesh, Placement, Placements, Layout, IntervalSet, Box ("[0,2)x[0,4)"),
//   Error ("field: message"), ErrorCode, ReduceOp, SplitPolicy, StepOp, PlanStep and RedistributionPlan.
// Width, fill and alignment work as for strings: fmt::format("{:>12}", placement).
//
// Optional: shardplan/shardplan.hpp never includes this header and the CMake package does not depend on fmt.
// Include it where you format, and link fmt yourself (target fmt::fmt). Tested with fmt 9.
#include "shardplan/core/cxx20.hpp"

#include <fmt/format.h>

#include <string_view>

#include "shardplan/core/box_text.hpp"
#include "shardplan/core/error.hpp"
#include "shardplan/core/interval_set_text.hpp"
#include "shardplan/core/split_policy.hpp"
#include "shardplan/layout/layout.hpp"
#include "shardplan/layout/layout_text.hpp"
#include "shardplan/layout/placement.hpp"
#include "shardplan/mesh/mesh.hpp"
#include "shardplan/redistribution/plan.hpp"

namespace shardplan::fmt_detail {

/// append_text's sink over fmt's buffer: the unbounded types (interval sets, plans) print whole, without the
/// FixedString limit of their to_string.
struct BufferSink {
  fmt::memory_buffer& buffer;
  void append(std::string_view text) { buffer.append(text.data(), text.data() + text.size()); }
};

// One overload per type, declared before ViaText so that its unqualified call finds them all.
inline void write(BufferSink& out, const Shape& shape) { out.append(shape_text(shape).view()); }
inline void write(BufferSink& out, const Mesh& mesh) { out.append(mesh.to_string().view()); }
inline void write(BufferSink& out, const Placement& placement) { out.append(placement.to_string().view()); }
inline void write(BufferSink& out, const Placements& placements) { out.append(to_string(placements).view()); }
inline void write(BufferSink& out, const Layout& layout) { append_text(out, layout); }
inline void write(BufferSink& out, const IntervalSet& set) { append_text(out, set); }
inline void write(BufferSink& out, const Box& box) { append_text(out, box); }
inline void write(BufferSink& out, const Error& error) { out.append(error.text().view()); }
inline void write(BufferSink& out, ErrorCode code) { out.append(to_string(code)); }
inline void write(BufferSink& out, ReduceOp op) { out.append(to_string(op)); }
inline void write(BufferSink& out, SplitPolicy policy) { out.append(to_string(policy)); }
inline void write(BufferSink& out, StepOp op) { out.append(to_string(op)); }
inline void write(BufferSink& out, const PlanStep& step) { append_text(out, step); }
inline void write(BufferSink& out, const RedistributionPlan& plan) { append_text(out, plan); }

/// Writes the text, then formats it as a string (so string format specs apply).
template <class T>
struct ViaText : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const T& value, FormatContext& ctx) const -> decltype(ctx.out()) {
    fmt::memory_buffer buffer;
    BufferSink sink{buffer};
    write(sink, value);
    return fmt::formatter<std::string_view>::format(std::string_view(buffer.data(), buffer.size()), ctx);
  }
};

}  // namespace shardplan::fmt_detail

// Shape and Placements are StaticVector instantiations: these full specializations take precedence over
// fmt/ranges.h's range formatter, so the text stays the library's with or without that header.
template <>
struct fmt::formatter<shardplan::Shape> : shardplan::fmt_detail::ViaText<shardplan::Shape> {};
template <>
struct fmt::formatter<shardplan::Mesh> : shardplan::fmt_detail::ViaText<shardplan::Mesh> {};
template <>
struct fmt::formatter<shardplan::Placement> : shardplan::fmt_detail::ViaText<shardplan::Placement> {};
template <>
struct fmt::formatter<shardplan::Placements> : shardplan::fmt_detail::ViaText<shardplan::Placements> {};
template <>
struct fmt::formatter<shardplan::Layout> : shardplan::fmt_detail::ViaText<shardplan::Layout> {};
template <>
struct fmt::formatter<shardplan::IntervalSet> : shardplan::fmt_detail::ViaText<shardplan::IntervalSet> {};
template <>
struct fmt::formatter<shardplan::Box> : shardplan::fmt_detail::ViaText<shardplan::Box> {};
template <>
struct fmt::formatter<shardplan::Error> : shardplan::fmt_detail::ViaText<shardplan::Error> {};
template <>
struct fmt::formatter<shardplan::ErrorCode> : shardplan::fmt_detail::ViaText<shardplan::ErrorCode> {};
template <>
struct fmt::formatter<shardplan::ReduceOp> : shardplan::fmt_detail::ViaText<shardplan::ReduceOp> {};
template <>
struct fmt::formatter<shardplan::SplitPolicy> : shardplan::fmt_detail::ViaText<shardplan::SplitPolicy> {};
template <>
struct fmt::formatter<shardplan::StepOp> : shardplan::fmt_detail::ViaText<shardplan::StepOp> {};
template <>
struct fmt::formatter<shardplan::PlanStep> : shardplan::fmt_detail::ViaText<shardplan::PlanStep> {};
template <>
struct fmt::formatter<shardplan::RedistributionPlan>
    : shardplan::fmt_detail::ViaText<shardplan::RedistributionPlan> {};
