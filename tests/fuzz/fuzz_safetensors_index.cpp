// Fuzzes the model.safetensors.index.json reader with the input as the file's text. Invariants: never crashes (ASan
// and UBSan watch); every error names a field and says something; what reads has a non-empty weight_map of distinct
// tensor names, each pointing into `files` (sorted, distinct, every one a plain ".safetensors" name, each used),
// file_of() finds every entry's file, and a total_size >= 0 when there is one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

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
  std::vector<std::string_view> names;
  std::vector<bool> used(index->files.size(), false);
  for (const auto& [tensor, file] : index->weight_map) {
    if (file >= index->files.size()) std::abort();
    const std::string& name = index->files[file];
    if (!name.ends_with(".safetensors") || name.find('/') != std::string::npos) std::abort();
    const std::string* found = index->file_of(tensor);
    if (found == nullptr || *found != name) std::abort();
    used[file] = true;
    names.push_back(tensor);
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) std::abort();
  for (std::size_t i = 1; i < index->files.size(); ++i) {
    if (!(index->files[i - 1] < index->files[i])) std::abort();
  }
  if (std::find(used.begin(), used.end(), false) != used.end()) std::abort();
  return 0;
}
