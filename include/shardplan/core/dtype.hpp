#pragma once
// Element sizes by dtype name, as users type them on a command line or find them in a config: the short names
// (bf16, f32, fp8, i8), torch's names (bfloat16, float32, float8_e4m3fn) and a few aliases. The planners only need
// bytes per element; sub-byte formats (fp4, int4) are not addressable element by element and are refused.
#include "shardplan/core/cxx20.hpp"

#include <string_view>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/result.hpp"

namespace shardplan {

struct DtypeName {
  std::string_view name;
  Index bytes;
};

inline constexpr DtypeName kDtypeNames[] = {
    {"bool", 1},    {"u8", 1},        {"uint8", 1},         {"i8", 1},           {"int8", 1},
    {"fp8", 1},     {"f8", 1},        {"float8_e4m3fn", 1}, {"float8_e5m2", 1},  {"bf16", 2},
    {"bfloat16", 2}, {"f16", 2},      {"fp16", 2},          {"float16", 2},      {"half", 2},
    {"i16", 2},     {"int16", 2},     {"u16", 2},           {"f32", 4},          {"fp32", 4},
    {"float32", 4}, {"float", 4},     {"i32", 4},           {"int32", 4},        {"u32", 4},
    {"f64", 8},     {"fp64", 8},      {"float64", 8},       {"double", 8},       {"i64", 8},
    {"int64", 8},   {"u64", 8},       {"c64", 8},           {"complex64", 8},    {"c128", 16},
    {"complex128", 16},
};

/// Bytes per element of a dtype name (case-sensitive, lower case).
[[nodiscard]] constexpr Result<Index> dtype_size(std::string_view name, std::string_view field = "dtype") {
  for (const DtypeName& dtype : kDtypeNames) {
    if (dtype.name == name) return dtype.bytes;
  }
  return make_error(ErrorCode::invalid_argument, field)
         << "unknown dtype '" << name.substr(0, 24)
         << "' (use bool, u8, i8, fp8, bf16, f16, i16, f32, i32, f64, i64, c64, c128 or torch's names)";
}

}  // namespace shardplan
