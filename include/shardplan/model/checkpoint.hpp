#pragma once
// A checkpoint as read from its directory: the safetensors headers of its files (never the data) and, for a sharded
// checkpoint, the index that says which file holds each tensor, checked against each other. Reading the files is
// model/checkpoint_files.hpp (file I/O, outside the umbrella header); this header only assembles parsed headers.
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/sorting.hpp"
#include "shardplan/model/checkpoint_index.hpp"
#include "shardplan/resharding/safetensors.hpp"

namespace shardplan {

struct CheckpointFile {
  std::string name;  // the file name in the checkpoint's directory: "model-00001-of-00004.safetensors"
  SafetensorsHeader header;
};

/// Where a tensor is: its file and its header entry (offsets absolute in that file).
struct CheckpointTensor {
  const CheckpointFile* file = nullptr;
  const SafetensorsTensor* tensor = nullptr;
};

class Checkpoint;
[[nodiscard]] inline Result<Checkpoint> assemble_checkpoint(std::optional<CheckpointIndex> index,
                                                           std::vector<CheckpointFile> files);

/// Every tensor of every file, found by name. Move-only: the name index points into the files.
class Checkpoint {
 public:
  Checkpoint() = default;
  Checkpoint(Checkpoint&&) = default;
  Checkpoint& operator=(Checkpoint&&) = default;
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  [[nodiscard]] const std::vector<CheckpointFile>& files() const { return files_; }
  /// Tensors over all files.
  [[nodiscard]] Index tensor_count() const { return static_cast<Index>(count_); }
  /// The bytes of every tensor (the files' data buffers).
  [[nodiscard]] Index data_bytes() const { return data_bytes_; }
  /// The index's metadata.total_size, when there is an index that gives one.
  [[nodiscard]] const std::optional<Index>& index_total_size() const { return index_total_size_; }

  /// The tensor called `name`, or {nullptr, nullptr}. O(1): an open-addressing table of the names' hashes (a rank of
  /// a DeepSeek-V3-sized checkpoint looks up some 100,000 names, most of them scales that are not there).
  [[nodiscard]] CheckpointTensor find(std::string_view name) const {
    if (table_.empty()) return {};
    const std::uint64_t hash = SafetensorsHeader::name_hash(name);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(hash) & mask;; i = (i + 1) & mask) {
      const Key& slot = table_[i];
      if (slot.file == kEmpty) return {};
      if (slot.hash == hash) {
        const CheckpointTensor found = at(slot);
        if (found.tensor->name == name) return found;
      }
    }
  }

  /// Calls `visit(const CheckpointFile&, const SafetensorsTensor&)` for every tensor, file by file in document order.
  template <class Visit>
  void for_each(Visit visit) const {
    for (const CheckpointFile& file : files_) {
      for (const SafetensorsTensor& tensor : file.header.tensors()) visit(file, tensor);
    }
  }

 private:
  friend Result<Checkpoint> assemble_checkpoint(std::optional<CheckpointIndex> index,
                                                std::vector<CheckpointFile> files);
  struct Key {
    std::uint64_t hash = 0;
    std::uint32_t file = 0;
    std::uint32_t tensor = 0;
    friend bool operator<(const Key& a, const Key& b) {
      if (a.hash != b.hash) return a.hash < b.hash;
      return a.file != b.file ? a.file < b.file : a.tensor < b.tensor;
    }
  };
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  [[nodiscard]] CheckpointTensor at(const Key& key) const {
    const CheckpointFile& file = files_[key.file];
    return {&file, &file.header.tensors()[key.tensor]};
  }

  std::vector<CheckpointFile> files_;
  std::vector<Key> table_;  // open addressing, a power of two at least twice the tensors; file kEmpty: free
  std::size_t count_ = 0;
  Index data_bytes_ = 0;
  std::optional<Index> index_total_size_;
};

/// The checkpoint of `files` (parsed headers) and, when sharded, its index. Errors (field "checkpoint"): no file; a
/// tensor in two files; with an index, a file it does not name, a tensor it places in another file or does not
/// list, and a tensor it lists that its file lacks. The index's total_size is kept, not checked: writers differ on
/// what it counts.
[[nodiscard]] inline Result<Checkpoint> assemble_checkpoint(std::optional<CheckpointIndex> index,
                                                           std::vector<CheckpointFile> files) {
  using safetensors_detail::quoted_name;
  if (files.empty()) return make_error(ErrorCode::invalid_argument, "checkpoint") << "has no safetensors file";
  if (files.size() > 0xFFFFFFFFu) return make_error(ErrorCode::capacity_exceeded, "checkpoint") << "too many files";
  Checkpoint out;
  out.files_ = std::move(files);
  std::size_t total = 0;
  for (const CheckpointFile& file : out.files_) total += file.header.tensors().size();
  std::vector<Checkpoint::Key> keys;
  keys.reserve(total);
  for (std::size_t f = 0; f < out.files_.size(); ++f) {
    const CheckpointFile& file = out.files_[f];
    out.data_bytes_ += file.header.data_size();
    const std::vector<SafetensorsTensor>& tensors = file.header.tensors();
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      keys.push_back(Checkpoint::Key{SafetensorsHeader::name_hash(tensors[t].name), static_cast<std::uint32_t>(f),
                                     static_cast<std::uint32_t>(t)});
    }
  }
  detail::sort_range(keys);
  const auto name_of = [&out](const Checkpoint::Key& key) { return std::string_view(out.at(key).tensor->name); };
  if (!safetensors_detail::names_distinct(keys, name_of)) {
    // A file's own names are distinct (its header was checked): find the two files sharing a name.
    std::vector<std::pair<std::string_view, const CheckpointFile*>> names;
    names.reserve(total);
    for (const Checkpoint::Key& key : keys) names.emplace_back(name_of(key), out.at(key).file);
    detail::sort_range(names);
    for (std::size_t i = 1; i < names.size(); ++i) {
      if (names[i].first != names[i - 1].first) continue;
      return make_error(ErrorCode::invalid_argument, "checkpoint")
             << "tensor " << quoted_name(names[i].first) << " is in both " << names[i - 1].second->name.substr(0, 48)
             << " and " << names[i].second->name.substr(0, 48);
    }
  }
  std::size_t capacity = 16;
  while (capacity < 2 * total) capacity *= 2;
  out.table_.assign(capacity, Checkpoint::Key{0, Checkpoint::kEmpty, 0});
  for (const Checkpoint::Key& key : keys) {
    std::size_t i = static_cast<std::size_t>(key.hash) & (capacity - 1);
    while (out.table_[i].file != Checkpoint::kEmpty) i = (i + 1) & (capacity - 1);
    out.table_[i] = key;
  }
  out.count_ = total;
  if (!index) return out;
  out.index_total_size_ = index->total_size;
  // Each file's number in the index's file list.
  std::vector<std::uint32_t> file_number(out.files_.size());
  for (std::size_t f = 0; f < out.files_.size(); ++f) {
    const auto it = detail::lower_bound(index->files.begin(), index->files.end(), out.files_[f].name);
    if (it == index->files.end() || *it != out.files_[f].name) {
      return make_error(ErrorCode::invalid_argument, "checkpoint")
             << "file " << out.files_[f].name.substr(0, 60) << " is not named by the index";
    }
    file_number[f] = static_cast<std::uint32_t>(it - index->files.begin());
  }
  // Every entry of the index in the file it names; the index's names are distinct, so when every entry is found
  // and there are as many as tensors, every tensor is listed.
  std::size_t found = 0;
  const std::pair<std::string, std::uint32_t>* missing = nullptr;
  for (const auto& entry : index->weight_map) {
    const CheckpointTensor tensor = out.find(entry.first);
    if (tensor.tensor == nullptr) {
      if (missing == nullptr) missing = &entry;
      continue;
    }
    ++found;
    const std::size_t f = static_cast<std::size_t>(tensor.file - out.files_.data());
    if (file_number[f] != entry.second) {
      return make_error(ErrorCode::invalid_argument, "checkpoint")
             << "tensor " << quoted_name(entry.first) << " is in " << tensor.file->name.substr(0, 60)
             << " but the index places it in " << index->files[entry.second].substr(0, 60);
    }
  }
  if (found < total) {  // a tensor the index does not list
    for (const CheckpointFile& file : out.files_) {
      for (const SafetensorsTensor& tensor : file.header.tensors()) {
        if (index->file_of(tensor.name) != nullptr) continue;
        return make_error(ErrorCode::invalid_argument, "checkpoint")
               << "tensor " << quoted_name(tensor.name) << " of " << file.name.substr(0, 60)
               << " is not in the index's weight_map";
      }
    }
  }
  if (missing != nullptr) {
    return make_error(ErrorCode::invalid_argument, "checkpoint")
           << "the index places tensor " << quoted_name(missing->first) << " in "
           << index->files[missing->second].substr(0, 60) << ", whose header does not hold it";
  }
  return out;
}

}  // namespace shardplan
