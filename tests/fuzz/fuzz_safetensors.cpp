// Fuzzes the safetensors header reader with the input as a whole file. Invariants: never crashes (and never reads
// outside the input: ASan watches); every error says something; what parses tiles the data buffer exactly, every
// tensor's bytes lie inside the file, byte_size == numel * element_size, find() finds every tensor; and re-encoding
// the tensors in offset order gives a header that parses back to the same tensors at the same offsets; the fast
// scanner and the general JSON reader give the same tensors.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/resharding/safetensors.hpp"

using namespace shardplan;

namespace {

void check_invariants(const SafetensorsHeader& header, Index file_size) {
  if (header.file_size() != file_size || header.data_start() != 8 + header.header_size() ||
      header.data_start() > file_size || header.header_size() > kSafetensorsMaxHeaderSize) {
    std::abort();
  }
  std::vector<const SafetensorsTensor*> by_offset;
  for (const SafetensorsTensor& tensor : header.tensors()) {
    if (tensor.element_size != safetensors_dtype_size(tensor.dtype).value()) std::abort();
    if (tensor.shape.size() > kMaxTensorRank) std::abort();
    if (tensor.byte_size() != tensor.numel() * tensor.element_size) std::abort();
    if (tensor.data_begin < 0 || tensor.data_begin > tensor.data_end) std::abort();
    if (tensor.file_offset != header.data_start() + tensor.data_begin) std::abort();
    if (tensor.file_offset + tensor.byte_size() > file_size) std::abort();
    if (header.find(tensor.name) != &tensor) std::abort();
    by_offset.push_back(&tensor);
  }
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    return std::pair(a->data_begin, a->data_end) < std::pair(b->data_begin, b->data_end);
  });
  Index end = 0;
  for (const SafetensorsTensor* tensor : by_offset) {
    if (tensor->data_begin != end) std::abort();
    end = tensor->data_end;
  }
  if (end != header.data_size()) std::abort();
}

/// Encodes the tensors back to back in offset order, which reproduces their offsets, and parses the result.
void check_reencoding(const SafetensorsHeader& header) {
  std::vector<const SafetensorsTensor*> by_offset;
  for (const SafetensorsTensor& tensor : header.tensors()) by_offset.push_back(&tensor);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    return std::pair(a->data_begin, a->data_end) < std::pair(b->data_begin, b->data_end);
  });
  std::vector<SafetensorsEntry> entries;
  for (const SafetensorsTensor* tensor : by_offset) entries.push_back({tensor->name, tensor->dtype, tensor->shape});
  const auto encoded = encode_safetensors_header(entries, header.metadata());
  if (!encoded.ok() || encoded->data_size != header.data_size() || encoded->bytes.size() % 8 != 0) std::abort();
  std::vector<std::byte> file = encoded->bytes;
  file.resize(static_cast<std::size_t>(encoded->file_size()));
  const auto reparsed = parse_safetensors_header(file, encoded->file_size());
  if (!reparsed.ok() || reparsed->metadata() != header.metadata()) std::abort();
  if (reparsed->tensors().size() != by_offset.size()) std::abort();
  for (std::size_t i = 0; i < by_offset.size(); ++i) {
    SafetensorsTensor expected = *by_offset[i];
    expected.file_offset += reparsed->data_start() - header.data_start();  // the header length may differ
    if (!(reparsed->tensors()[i] == expected)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  const auto file_size = static_cast<Index>(size);

  const auto header_size = read_safetensors_header_size(file, file_size);
  if (!header_size.ok() && header_size.error().message.empty()) std::abort();
  if (header_size.ok() && (*header_size < 0 || 8 + *header_size > file_size)) std::abort();

  const auto header = parse_safetensors_header(file, file_size);
  if (!header.ok()) {
    if (header.error().message.empty()) std::abort();
    // A bad prefix fails both the same way.
    if (!header_size.ok() && header.error().what() != header_size.error().what()) std::abort();
    return 0;
  }
  if (!header_size.ok() || *header_size != header->header_size()) std::abort();
  // Only the prefix and header are read: the same bytes without the data parse the same.
  const auto prefix_only = parse_safetensors_header(file.first(static_cast<std::size_t>(header->data_start())),
                                                    file_size);
  if (!prefix_only.ok() || prefix_only->tensors() != header->tensors()) std::abort();
  // The header's own scanner and the general JSON reader agree on what they both read.
  SafetensorsHeader general;
  const std::string_view text(reinterpret_cast<const char*>(data) + 8, static_cast<std::size_t>(*header_size));
  if (!safetensors_detail::HeaderParser::parse_general(text, general).ok()) std::abort();
  if (general.metadata() != header->metadata() || general.tensors().size() != header->tensors().size()) std::abort();
  for (std::size_t i = 0; i < general.tensors().size(); ++i) {
    SafetensorsTensor expected = header->tensors()[i];
    expected.file_offset = 0;  // set by parse() after the tiling check
    if (!(general.tensors()[i] == expected)) std::abort();
  }
  check_invariants(*header, file_size);
  check_reencoding(*header);
  return 0;
}
