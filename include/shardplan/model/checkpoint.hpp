#pragma once
// A checkpoint as read from its directory: the safetensors headers of its files (never the data) and, for a sharded
// checkpoint, the index that says which file holds each tensor, checked against each other. Reading the files is
// model/checkpoint_files.hpp (file I/O, outside the umbrella header); this header only assembles parsed headers.
#include "shardplan/core/cxx20.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  [[nodiscard]] Index tensor_count() const { return static_cast<Index>(by_name_.size()); }
  /// The bytes of every tensor (the files' data buffers).
  [[nodiscard]] Index data_bytes() const { return data_bytes_; }
  /// The index's metadata.total_size, when there is an index that gives one.
  [[nodiscard]] const std::optional<Index>& index_total_size() const { return index_total_size_; }

  /// The tensor called `name`, or {nullptr, nullptr}.
  [[nodiscard]] CheckpointTensor find(std::string_view name) const {
    const Key key{SafetensorsHeader::name_hash(name), 0, 0};
    for (auto it = std::lower_bound(by_name_.begin(), by_name_.end(), key); it != by_name_.end() && it->hash == key.hash;
         ++it) {
      const CheckpointTensor found = at(*it);
      if (found.tensor->name == name) return found;
    }
    return {};
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
  [[nodiscard]] CheckpointTensor at(const Key& key) const {
    const CheckpointFile& file = files_[key.file];
    return {&file, &file.header.tensors()[key.tensor]};
  }

  std::vector<CheckpointFile> files_;
  std::vector<Key> by_name_;  // sorted
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
  out.by_name_.reserve(total);
  for (std::size_t f = 0; f < out.files_.size(); ++f) {
    const CheckpointFile& file = out.files_[f];
    out.data_bytes_ += file.header.data_size();
    const std::vector<SafetensorsTensor>& tensors = file.header.tensors();
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      out.by_name_.push_back(Checkpoint::Key{SafetensorsHeader::name_hash(tensors[t].name), static_cast<std::uint32_t>(f),
                                             static_cast<std::uint32_t>(t)});
    }
  }
  std::sort(out.by_name_.begin(), out.by_name_.end());
  // The same name in two files: equal hashes, compared by name (a file's own names are distinct).
  for (std::size_t i = 1; i < out.by_name_.size(); ++i) {
    for (std::size_t j = i; j > 0 && out.by_name_[j - 1].hash == out.by_name_[i].hash; --j) {
      const CheckpointTensor a = out.at(out.by_name_[j - 1]);
      const CheckpointTensor b = out.at(out.by_name_[i]);
      if (a.file != b.file && a.tensor->name == b.tensor->name) {
        return make_error(ErrorCode::invalid_argument, "checkpoint")
               << "tensor " << quoted_name(a.tensor->name) << " is in both " << a.file->name.substr(0, 48) << " and "
               << b.file->name.substr(0, 48);
      }
    }
  }
  if (!index) return out;
  out.index_total_size_ = index->total_size;
  for (const CheckpointFile& file : out.files_) {
    if (!std::binary_search(index->files.begin(), index->files.end(), file.name)) {
      return make_error(ErrorCode::invalid_argument, "checkpoint")
             << "file " << file.name.substr(0, 60) << " is not named by the index";
    }
    for (const SafetensorsTensor& tensor : file.header.tensors()) {
      const std::string* listed = index->file_of(tensor.name);
      if (listed == nullptr) {
        return make_error(ErrorCode::invalid_argument, "checkpoint")
               << "tensor " << quoted_name(tensor.name) << " of " << file.name.substr(0, 60)
               << " is not in the index's weight_map";
      }
      if (*listed != file.name) {
        return make_error(ErrorCode::invalid_argument, "checkpoint")
               << "tensor " << quoted_name(tensor.name) << " is in " << file.name.substr(0, 60)
               << " but the index places it in " << listed->substr(0, 60);
      }
    }
  }
  // Every listed tensor was matched above when the counts agree (names are distinct on both sides).
  if (index->weight_map.size() != total) {
    for (const auto& [tensor, file] : index->weight_map) {
      if (out.find(tensor).tensor == nullptr) {
        return make_error(ErrorCode::invalid_argument, "checkpoint")
               << "the index places tensor " << quoted_name(tensor) << " in " << file.substr(0, 60)
               << ", whose header does not hold it";
      }
    }
  }
  return out;
}

}  // namespace shardplan
