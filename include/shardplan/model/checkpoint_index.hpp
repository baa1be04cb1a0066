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

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/hash_map.hpp"
#include "shardplan/core/json.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/resharding/safetensors.hpp"

namespace shardplan {

/// The index file's name in a checkpoint directory.
inline constexpr std::string_view kSafetensorsIndexFile = "model.safetensors.index.json";
/// The file of an unsharded checkpoint (no index).
inline constexpr std::string_view kSafetensorsSingleFile = "model.safetensors";

class CheckpointIndex {
 public:
  /// The distinct files weight_map names, sorted.
  std::vector<std::string> files;
  /// tensor name -> its file (an index into `files`), in the index's order.
  std::vector<std::pair<std::string, std::uint32_t>> weight_map;
  /// metadata.total_size when the index gives one.
  std::optional<Index> total_size;

  /// The file holding `tensor`, or nullptr. O(log n).
  [[nodiscard]] const std::string* file_of(std::string_view tensor) const {
    const Key key{SafetensorsHeader::name_hash(tensor), 0};
    for (auto it = detail::lower_bound(by_hash_.begin(), by_hash_.end(), key);
         it != by_hash_.end() && it->hash == key.hash; ++it) {
      const auto& entry = weight_map[it->entry];
      if (entry.first == tensor) return &files[entry.second];
    }
    return nullptr;
  }

  /// Builds the lookup of file_of(); false when a tensor name repeats.
  bool index_names() {
    by_hash_.clear();
    by_hash_.reserve(weight_map.size());
    for (std::size_t i = 0; i < weight_map.size(); ++i) {
      by_hash_.push_back({SafetensorsHeader::name_hash(weight_map[i].first), static_cast<std::uint32_t>(i)});
    }
    detail::sort_range(by_hash_);
    return safetensors_detail::names_distinct(
        by_hash_, [this](const Key& key) { return std::string_view(weight_map[key.entry].first); });
  }

 private:
  struct Key {
    std::uint64_t hash = 0;
    std::uint32_t entry = 0;
    friend bool operator<(const Key& a, const Key& b) { return a.hash != b.hash ? a.hash < b.hash : a.entry < b.entry; }
  };
  std::vector<Key> by_hash_;  // (hash of the tensor name, entry), sorted
};

namespace checkpoint_index_detail {

/// "weight_map.<tensor>", the tensor name cut to 34 bytes (at a UTF-8 boundary) so that the field fits an Error's 48.
inline FixedString<48> entry_field(std::string_view tensor) {
  constexpr std::size_t kLimit = 34;
  std::size_t cut = detail::min(tensor.size(), kLimit);
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

namespace checkpoint_index_detail {

/// Files by name while reading: the distinct names in order of appearance, then sorted and the entries renumbered.
class FileNumbers {
 public:
  std::uint32_t number(std::string_view file) {
    const auto [it, added] = numbers_.emplace(std::string(file), static_cast<std::uint32_t>(names_.size()));
    if (added) names_.push_back(it->first);
    return it->second;
  }
  void finish(CheckpointIndex& index) {
    std::vector<std::uint32_t> order(names_.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    detail::sort_range(order, [this](std::uint32_t a, std::uint32_t b) { return names_[a] < names_[b]; });
    std::vector<std::uint32_t> renumber(names_.size());
    index.files.clear();
    for (std::uint32_t sorted = 0; sorted < order.size(); ++sorted) {
      renumber[order[sorted]] = sorted;
      index.files.push_back(names_[order[sorted]]);
    }
    for (auto& entry : index.weight_map) entry.second = renumber[entry.second];
  }

 private:
  detail::HashMap<std::string, std::uint32_t, std::hash<std::string>> numbers_;
  std::vector<std::string> names_;
};

/// The index as writers produce it (see PlainJsonCursor): {"metadata": {key: string or integer >= 0, ...},
/// "weight_map": {name: file, ...}} with plain strings, other top-level keys holding a string or an integer. false on
/// anything else, including every error: read_checkpoint_index then reads the text with the general JSON reader.
class IndexScanner : public safetensors_detail::PlainJsonCursor {
 public:
  using PlainJsonCursor::PlainJsonCursor;

  bool scan(CheckpointIndex& index) {
    FileNumbers files;
    std::vector<std::string_view> keys;  // top-level, to refuse repeats
    skip_spaces();
    if (!take('{')) return false;
    skip_spaces();
    if (take('}')) return false;  // no weight_map
    bool has_map = false;
    while (true) {
      std::string_view key;
      if (!string(key) || !colon()) return false;
      if (detail::find(keys.begin(), keys.end(), key) != keys.end()) return false;
      keys.push_back(key);
      if (key == "weight_map") {
        if (!weight_map(index, files)) return false;
        has_map = true;
      } else if (key == "metadata") {
        if (!metadata(index)) return false;
      } else if (!scalar(nullptr)) {
        return false;
      }
      skip_spaces();
      if (take('}')) break;
      if (!take(',')) return false;
      skip_spaces();
    }
    skip_spaces();
    if (!at_end() || !has_map || index.weight_map.empty()) return false;
    files.finish(index);
    return true;
  }

 private:
  /// A string or an integer >= 0 (its value into `value` when not null).
  bool scalar(Index* value) {
    if (peek() == '"') {
      std::string_view text;
      return value == nullptr && string(text);
    }
    Index number = 0;
    if (!non_negative(number)) return false;
    if (value != nullptr) *value = number;
    return true;
  }
  bool metadata(CheckpointIndex& index) {
    if (!take('{')) return false;
    skip_spaces();
    if (take('}')) return true;
    std::vector<std::string_view> keys;
    while (true) {
      std::string_view key;
      if (!string(key) || !colon()) return false;
      if (detail::find(keys.begin(), keys.end(), key) != keys.end() || keys.size() == 64) return false;
      keys.push_back(key);
      if (key == "total_size") {
        Index total = 0;
        if (!scalar(&total)) return false;
        index.total_size = total;
      } else if (!scalar(nullptr)) {
        return false;
      }
      skip_spaces();
      if (take('}')) return true;
      if (!take(',')) return false;
      skip_spaces();
    }
  }
  bool weight_map(CheckpointIndex& index, FileNumbers& files) {
    if (!take('{')) return false;
    skip_spaces();
    if (take('}')) return true;  // empty: refused by scan()
    std::string_view last_file;
    std::uint32_t last_number = 0;
    while (true) {
      std::string_view tensor;
      std::string_view file;
      if (!string(tensor) || !colon() || !string(file)) return false;
      if (index.weight_map.empty() || file != last_file) {
        if (!bad_file_name(file).empty()) return false;
        last_file = file;
        last_number = files.number(file);
      }
      index.weight_map.emplace_back(std::string(tensor), last_number);
      skip_spaces();
      if (take('}')) return true;
      if (!take(',')) return false;
      skip_spaces();
    }
  }
};

/// The general path: the JSON tree of core/json.hpp, every error named.
inline Status read_general(std::string_view text, std::string_view name, CheckpointIndex& index) {
  SHARDPLAN_TRY(const JsonValue root, parse_json(text, name));
  SHARDPLAN_TRY(const JsonValue* object, root.object_value(name));
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
  FileNumbers files;
  index.weight_map.reserve(map->members().size());
  for (const JsonMember& member : map->members()) {
    if (!member.value.is_string()) {
      return make_error(ErrorCode::invalid_argument, entry_field(member.key()))
             << "expected a file name, got " << member.value.describe();
    }
    const std::string_view file = member.value.as_string();
    if (const std::string_view why = bad_file_name(file); !why.empty()) {
      return make_error(ErrorCode::invalid_argument, entry_field(member.key()))
             << "file '" << file.substr(0, 60) << (file.size() > 60 ? "...'" : "'") << " " << why;
    }
    index.weight_map.emplace_back(std::string(member.key()), files.number(file));
  }
  files.finish(index);
  return Ok{};
}

}  // namespace checkpoint_index_detail

/// Reads a model.safetensors.index.json. `name` is the field of JSON syntax errors. The index writers produce is read
/// in one pass (IndexScanner: DeepSeek-V3's 91,000 entries in tens of milliseconds); anything else, and every error,
/// through the general JSON reader.
[[nodiscard]] inline Result<CheckpointIndex> read_checkpoint_index(std::string_view text,
                                                                   std::string_view name = kSafetensorsIndexFile) {
  CheckpointIndex index;
  if (checkpoint_index_detail::IndexScanner(text).scan(index) && index.index_names()) return index;
  index = CheckpointIndex{};
  SHARDPLAN_CHECK(checkpoint_index_detail::read_general(text, name, index));
  if (!index.index_names()) {  // the JSON reader refuses repeated keys
    return make_error(ErrorCode::internal_error, "weight_map") << "a repeated tensor name passed the JSON reader";
  }
  return index;
}

}  // namespace shardplan
