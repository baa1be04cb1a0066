#pragma once
// The index of a sharded Hugging Face checkpoint, `model.safetensors.index.json`: which safetensors file holds each
// tensor. transformers writes it as
//   {"metadata": {"total_size": 16060522496, ...}, "weight_map": {"lm_head.weight": "model-00004-of-00004.safetensors", ...}}
// and loads every file the weight_map names from the checkpoint's directory. total_size is the bytes of the tensors
// (the data buffers of the files, without their headers); writers add other metadata keys (total_parameters), which
// are ignored.
//
// Strict where a mistake would send a reader elsewhere: weight_map must be a non-empty object of strings, each a
// plain file name (no directory part, not "." or "..", no NUL) ending in ".safetensors"; metadata, when present, an
// object whose total_size, when present, is an integer >= 0. Errors name the field: "weight_map",
// "weight_map.<tensor>" (the name cut to 34 bytes), "metadata", "metadata.total_size"; JSON syntax errors name the
// file and the line and column.
#include "shardplan/core/cxx20.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/json.hpp"
#include "shardplan/core/result.hpp"

namespace shardplan {

/// The index file's name in a checkpoint directory.
inline constexpr std::string_view kSafetensorsIndexFile = "model.safetensors.index.json";
/// The file of an unsharded checkpoint (no index).
inline constexpr std::string_view kSafetensorsSingleFile = "model.safetensors";

struct CheckpointIndex {
  /// tensor name -> file name, sorted by tensor name.
  std::vector<std::pair<std::string, std::string>> weight_map;
  /// The distinct files weight_map names, sorted.
  std::vector<std::string> files;
  /// metadata.total_size when the index gives one.
  std::optional<Index> total_size;

  /// The file holding `tensor`, or nullptr.
  [[nodiscard]] const std::string* file_of(std::string_view tensor) const {
    const auto it = std::lower_bound(weight_map.begin(), weight_map.end(), tensor,
                                     [](const auto& entry, std::string_view key) { return entry.first < key; });
    if (it == weight_map.end() || it->first != tensor) return nullptr;
    return &it->second;
  }
};

namespace checkpoint_index_detail {

/// "weight_map.<tensor>", the tensor name cut to 34 bytes (at a UTF-8 boundary) so that the field fits an Error's 48.
inline FixedString<48> entry_field(std::string_view tensor) {
  constexpr std::size_t kLimit = 34;
  std::size_t cut = std::min(tensor.size(), kLimit);
  while (cut > 0 && cut < tensor.size() && (static_cast<unsigned char>(tensor[cut]) & 0xC0) == 0x80) --cut;
  FixedString<48> field("weight_map.");
  field << tensor.substr(0, cut);
  if (cut < tensor.size()) field << "...";
  return field;
}

/// Why `file` is not a plain safetensors file name, or empty.
inline std::string_view bad_file_name(std::string_view file) {
  if (file.empty()) return "is empty";
  if (file == "." || file == "..") return "is not a file name";
  if (file.find('/') != std::string_view::npos || file.find('\\') != std::string_view::npos) {
    return "has a directory part (the index names files beside it)";
  }
  if (file.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (!file.ends_with(".safetensors")) return "does not end in .safetensors";
  return {};
}

}  // namespace checkpoint_index_detail

/// Reads a model.safetensors.index.json. `name` is the field of JSON syntax errors.
[[nodiscard]] inline Result<CheckpointIndex> read_checkpoint_index(std::string_view text,
                                                                   std::string_view name = kSafetensorsIndexFile) {
  using checkpoint_index_detail::entry_field;
  SHARDPLAN_TRY(const JsonValue root, parse_json(text, name));
  SHARDPLAN_TRY(const JsonValue* object, root.object_value(name));
  CheckpointIndex index;
  if (const JsonValue* metadata = object->find("metadata"); metadata != nullptr && !metadata->is_null()) {
    SHARDPLAN_TRY(const JsonValue* fields, metadata->object_value("metadata"));
    if (const JsonValue* total = fields->find("total_size"); total != nullptr && !total->is_null()) {
      if (!total->is_int() || total->as_int() < 0) {
        if (!total->is_int()) {
          if (auto overflow = total->int_value("metadata.total_size"); overflow.error().code == ErrorCode::overflow) {
            return overflow.error();
          }
        }
        return make_error(ErrorCode::invalid_argument, "metadata.total_size")
               << "expected a byte count (an integer >= 0), got " << total->describe();
      }
      index.total_size = total->as_int();
    }
  }
  const JsonValue* map = object->find("weight_map");
  if (map == nullptr) {
    return make_error(ErrorCode::invalid_argument, "weight_map") << "missing (the tensor -> file map of the index)";
  }
  if (!map->is_object()) {
    return make_error(ErrorCode::invalid_argument, "weight_map")
           << "expected an object of tensor name -> file name, got " << map->describe();
  }
  if (map->members().empty()) {
    return make_error(ErrorCode::invalid_argument, "weight_map") << "is empty: the index names no tensor";
  }
  index.weight_map.reserve(map->members().size());
  for (const JsonMember& member : map->members()) {
    if (!member.value.is_string()) {
      return make_error(ErrorCode::invalid_argument, entry_field(member.key()))
             << "expected a file name, got " << member.value.describe();
    }
    const std::string_view file = member.value.as_string();
    if (const std::string_view why = checkpoint_index_detail::bad_file_name(file); !why.empty()) {
      return make_error(ErrorCode::invalid_argument, entry_field(member.key()))
             << "file '" << file.substr(0, 60) << (file.size() > 60 ? "...'" : "'") << " " << why;
    }
    index.weight_map.emplace_back(std::string(member.key()), std::string(file));
  }
  // The JSON reader refuses repeated keys, so the names are distinct.
  std::sort(index.weight_map.begin(), index.weight_map.end());
  for (const auto& [tensor, file] : index.weight_map) index.files.push_back(file);
  std::sort(index.files.begin(), index.files.end());
  index.files.erase(std::unique(index.files.begin(), index.files.end()), index.files.end());
  return index;
}

}  // namespace shardplan
