#pragma once
// read_checkpoint(dir): a Hugging Face checkpoint directory's index and safetensors headers, read from disk (never the
// tensors' data) and assembled by model/checkpoint.hpp. File I/O: not in the umbrella header, like
// resharding/safetensors_file.hpp; include it where files are read.
//
// What is read: `model.safetensors.index.json` when present, then every file its weight_map names; otherwise
// `model.safetensors` alone; neither: no checkpoint (nullopt). Every size is bounded before anything is read: the
// index must be a regular file of at most kMaxCheckpointIndexBytes; each header is at most the safetensors crate's
// 100,000,000 bytes (its 8-byte length prefix is checked against that and against the file's size first), and all
// the headers together at most kMaxCheckpointHeaderBytes.
#include "shardplan/core/cxx20.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "shardplan/model/checkpoint.hpp"
#include "shardplan/resharding/safetensors_file.hpp"

namespace shardplan {

/// The largest index read: DeepSeek-V3's (91,000 tensors in 163 files) is 9 MB.
inline constexpr Index kMaxCheckpointIndexBytes = Index{64} << 20;
/// The most header bytes read over all the files of a checkpoint (DeepSeek-V3's: about 10 MB).
inline constexpr Index kMaxCheckpointHeaderBytes = Index{1} << 30;

namespace checkpoint_files_detail {

/// The size of a regular file, or an error naming it ("is a directory", "is not a regular file", the system's
/// reason).
inline Result<Index> regular_file_size(const std::filesystem::path& path) {
  std::error_code status;
  const auto type = std::filesystem::status(path, status).type();
  if (status || type == std::filesystem::file_type::not_found) {
    return safetensors_detail::io_error(path, status ? status.message() : "no such file");
  }
  if (type == std::filesystem::file_type::directory) return safetensors_detail::io_error(path, "it is a directory");
  if (type != std::filesystem::file_type::regular) return safetensors_detail::io_error(path, "not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(path, status);
  if (status) return safetensors_detail::io_error(path, status.message());
  if (size > static_cast<std::uintmax_t>(std::numeric_limits<Index>::max())) {
    return safetensors_detail::io_error(path, "the file is larger than int64 bytes");
  }
  return static_cast<Index>(size);
}

/// The first 8 bytes of a safetensors file: the header length, checked against the file's size.
inline Result<Index> header_length(const std::filesystem::path& path, Index file_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return safetensors_detail::io_error(path, "cannot open the file");
  std::byte prefix[kSafetensorsPrefixSize]{};
  const Index count = std::min(file_size, kSafetensorsPrefixSize);
  SHARDPLAN_CHECK(safetensors_detail::read_exactly(in, prefix, count, 0, path));
  return read_safetensors_header_size(std::span<const std::byte>(prefix, static_cast<std::size_t>(count)), file_size);
}

}  // namespace checkpoint_files_detail

/// The checkpoint in `dir` (see the top of this file), nullopt when there is none. Errors: the index's (its file
/// name as the field of syntax errors), a file that cannot be read (field "path", with the path and the reason), a
/// header's (field "header" or the tensor's name, prefixed by the file name), past the bounds above, and
/// assemble_checkpoint's disagreements between the index and the headers.
[[nodiscard]] inline Result<std::optional<Checkpoint>> read_checkpoint(const std::filesystem::path& dir) {
  using checkpoint_files_detail::regular_file_size;
  const std::filesystem::path index_path = dir / std::string(kSafetensorsIndexFile);
  const std::filesystem::path single_path = dir / std::string(kSafetensorsSingleFile);
  std::error_code status;
  std::optional<CheckpointIndex> index;
  std::vector<std::string> names;
  if (std::filesystem::exists(index_path, status)) {
    SHARDPLAN_TRY(const Index size, regular_file_size(index_path));
    if (size > kMaxCheckpointIndexBytes) {
      return make_error(ErrorCode::capacity_exceeded, kSafetensorsIndexFile)
             << "is " << size << " bytes, past the limit of " << kMaxCheckpointIndexBytes << " bytes";
    }
    std::ifstream in(index_path, std::ios::binary);
    if (!in) return safetensors_detail::io_error(index_path, "cannot open the file");
    std::string text(static_cast<std::size_t>(size), '\0');
    SHARDPLAN_CHECK(
        safetensors_detail::read_exactly(in, reinterpret_cast<std::byte*>(text.data()), size, 0, index_path));
    SHARDPLAN_TRY(index, read_checkpoint_index(text, kSafetensorsIndexFile));
    names = index->files;
  } else if (std::filesystem::exists(single_path, status)) {
    names.emplace_back(kSafetensorsSingleFile);
  } else {
    return std::optional<Checkpoint>{};
  }
  std::vector<CheckpointFile> files;
  files.reserve(names.size());
  Index header_bytes = 0;
  for (const std::string& name : names) {
    const std::filesystem::path path = dir / name;
    SHARDPLAN_TRY(const Index size, regular_file_size(path));
    auto length = checkpoint_files_detail::header_length(path, size);
    if (length.ok() && *length > kMaxCheckpointHeaderBytes - header_bytes) {
      return make_error(ErrorCode::capacity_exceeded, "checkpoint")
             << "the headers of its files exceed " << kMaxCheckpointHeaderBytes << " bytes at " << name.substr(0, 60);
    }
    if (length.ok()) header_bytes += *length;
    auto header = length.ok() ? read_safetensors_header(path) : Result<SafetensorsHeader>(length.error());
    if (!header.ok()) {
      if (header.error().field.view() == "path") return header.error();  // names the path already
      // The header's own errors name the tensor or "header": the file becomes the field.
      return make_error(header.error().code, safetensors_detail::truncated<48>(name)) << header.error().what();
    }
    files.push_back(CheckpointFile{name, std::move(header).value()});
  }
  SHARDPLAN_TRY(Checkpoint checkpoint, assemble_checkpoint(std::move(index), std::move(files)));
  return std::optional<Checkpoint>(std::move(checkpoint));
}

}  // namespace shardplan
