#pragma once
#include "shardplan/core/cxx20.hpp"

#define SHARDPLAN_VERSION_MAJOR 0
#define SHARDPLAN_VERSION_MINOR 1
#define SHARDPLAN_VERSION_PATCH 0

namespace shardplan {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace shardplan
