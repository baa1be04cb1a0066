// Fuzzes the model.safetensors.index.json reader with the input as the file's text. Invariants: never crashes (ASan
// and UBSan watch); every error names a field and says something; what reads has a non-empty weight_map sorted by
// tensor name with distinct names, every file a plain ".safetensors" name listed in `files` (sorted, distinct, each
// used), file_of() finds every entry, and a total_size >= 0 when there is one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shardplan/model/checkpoint_index.hpp"

using namespace shardplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto index = read_checkpoint_index(text);
  if (!index.ok()) {
    if (index.error().message.empty() || index.error().field.empty()) std::abort();
    return 0;
  }
  if (index->weight_map.empty() || index->files.empty()) std::abort();
  if (index->total_size && *index->total_size < 0) std::abort();
  for (std::size_t i = 0; i < index->weight_map.size(); ++i) {
    const auto& [tensor, file] = index->weight_map[i];
    if (i > 0 && !(index->weight_map[i - 1].first < tensor)) std::abort();
    if (!file.ends_with(".safetensors") || file.find('/') != std::string::npos) std::abort();
    if (!std::binary_search(index->files.begin(), index->files.end(), file)) std::abort();
    const std::string* found = index->file_of(tensor);
    if (found == nullptr || *found != file) std::abort();
  }
  for (std::size_t i = 1; i < index->files.size(); ++i) {
    if (!(index->files[i - 1] < index->files[i])) std::abort();
  }
  for (const std::string& file : index->files) {
    const bool used = std::any_of(index->weight_map.begin(), index->weight_map.end(),
                                  [&file](const auto& entry) { return entry.second == file; });
    if (!used) std::abort();
  }
  return 0;
}
