#pragma once
// read_safetensors_header(path): the prefix and the header of a safetensors file on disk, parsed and validated by
// resharding/safetensors.hpp. File I/O lives here, apart from the parser, so that the umbrella header
// (shardplan/shardplan.hpp) never pulls <filesystem> and <fstream> into a TU; include this header where files are read.
#include "shardplan/core/cxx20.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ios>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/error.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/resharding/safetensors.hpp"

namespace shardplan {

namespace safetensors_detail {

/// "cannot read PATH: REASON", keeping the end of a long path (the file name is the informative part).
inline Error io_error(const std::filesystem::path& path, std::string_view reason) {
  const std::string text = path.string();
  constexpr std::size_t kLimit = 120;
  auto error = make_error(ErrorCode::invalid_argument, "path") << "cannot read ";
  if (text.size() > kLimit) {
    error << "..." << std::string_view(text).substr(text.size() - kLimit);
  } else {
    error << std::string_view(text);
  }
  return error << ": " << reason;
}

/// Reads exactly `count` bytes, or says how many there were.
inline Status read_exactly(std::ifstream& in, std::byte* out, Index count, Index offset,
                           const std::filesystem::path& path) {
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(count));
  if (in.gcount() == count) return Ok{};
  FixedString<96> reason("the file ended after ");
  reason << offset + static_cast<Index>(in.gcount()) << " of " << offset + count << " bytes";
  return io_error(path, reason.view());
}

}  // namespace safetensors_detail

/// Reads the prefix and the header of a file on disk, never the data: a checkpoint's header is kilobytes in front of
/// gigabytes. Files that cannot be read are invalid_argument errors with field "path" and the system's reason.
[[nodiscard]] inline Result<SafetensorsHeader> read_safetensors_header(const std::filesystem::path& path) {
  std::error_code status;
  const std::uintmax_t size = std::filesystem::file_size(path, status);
  if (status) return safetensors_detail::io_error(path, status.message());
  if (size > static_cast<std::uintmax_t>(std::numeric_limits<Index>::max())) {
    return safetensors_detail::io_error(path, "the file is larger than int64 bytes");
  }
  const auto file_size = static_cast<Index>(size);
  std::ifstream in(path, std::ios::binary);
  if (!in) return safetensors_detail::io_error(path, "cannot open the file");
  std::vector<std::byte> bytes(static_cast<std::size_t>(std::min(file_size, kSafetensorsPrefixSize)));
  SHARDPLAN_CHECK(safetensors_detail::read_exactly(in, bytes.data(), static_cast<Index>(bytes.size()), 0, path));
  SHARDPLAN_TRY(const Index header_size, read_safetensors_header_size(bytes, file_size));
  bytes.resize(static_cast<std::size_t>(kSafetensorsPrefixSize + header_size));
  SHARDPLAN_CHECK(safetensors_detail::read_exactly(in, bytes.data() + kSafetensorsPrefixSize, header_size,
                                                   kSafetensorsPrefixSize, path));
  return parse_safetensors_header(bytes, file_size);
}

}  // namespace shardplan
