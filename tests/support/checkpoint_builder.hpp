#pragma once
// Checkpoints made up for tests: the tensors a family inventory describes, named as the checkpoint names them (layer
// and expert indices expanded), with the scale tensors a quantized checkpoint adds (fp8: `X.weight_scale_inv` [out /
// 128, in / 128] F32 beside an F8_E4M3 weight; mxfp4: `X_blocks` [E, out, in / 32, 16] and `X_scales` [E, out, in /
// 32] U8 instead of the bf16 `X` [E, in, out]), spread over files by layer, with their index. In memory (parsed
// headers) or on disk as sparse files (the real header, then a hole as large as the data: nothing is written).
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "shardplan/model/checkpoint.hpp"
#include "shardplan/model/inventory.hpp"
#include "shardplan/model/presets.hpp"
#include "shardplan/model/rank_plan.hpp"

namespace shardplan::testing_support {

// Small versions of the presets, for checkpoints that take kilobytes.
/// DeepSeek-V3's shapes with 4 layers (1 dense), 8 experts, fp8.
inline ModelConfig small_deepseek() {
  ModelConfig config = model_preset("deepseek-v3").value();
  config.num_hidden_layers = 4;
  config.first_k_dense_replace = 1;
  config.num_experts = 8;
  config.num_experts_per_tok = 2;
  return config;
}

/// gpt-oss-120b's shapes with 2 layers and 4 experts, mxfp4.
inline ModelConfig small_gpt_oss() {
  ModelConfig config = model_preset("gpt-oss-120b").value();
  config.num_hidden_layers = 2;
  config.num_experts = 4;
  config.num_experts_per_tok = 2;
  return config;
}

/// A llama with 2 layers: hidden 256, 4 heads of 64, 2 KV heads, intermediate 512, vocabulary 1000.
inline ModelConfig small_llama() {
  ModelConfig config = model_preset("llama-3.1-8b").value();
  config.hidden_size = 256;
  config.num_attention_heads = 4;
  config.num_key_value_heads = 2;
  config.head_dim = 64;
  config.intermediate_size = 512;
  config.vocab_size = 1000;
  config.num_hidden_layers = 2;
  return config;
}

struct FakeCheckpoint {
  std::map<std::string, std::vector<SafetensorsEntry>> files;  // file name -> tensors in file order
  [[nodiscard]] std::string index_json(Index total_size = -1) const {
    std::string json = "{\"metadata\": {";
    if (total_size >= 0) json += "\"total_size\": " + std::to_string(total_size);
    json += "}, \"weight_map\": {";
    bool first = true;
    for (const auto& [file, tensors] : files) {
      for (const SafetensorsEntry& tensor : tensors) {
        json += (first ? "\"" : ", \"") + tensor.name + "\": \"" + file + "\"";
        first = false;
      }
    }
    return json + "}}";
  }
};

/// The tensors of `config`'s family inventory in `file_count` files (layer l in file l % file_count; the tensors
/// outside the layers in the first), plus `extra` tensors in the first file.
inline FakeCheckpoint fake_checkpoint(const ModelConfig& config, int file_count,
                                      const std::vector<SafetensorsEntry>& extra = {}) {
  FakeCheckpoint out;
  const auto file_name = [file_count](int i) {  // "model-00001-of-00163.safetensors"
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, file_count);
    return std::string(name);
  };
  for (int i = 0; i < file_count; ++i) out.files[file_name(i)];
  const Inventory inventory = parameter_inventory(config).value();
  const bool fp8 = config.quantization == Quantization::fp8_block128;
  const bool mxfp4 = config.quantization == Quantization::mxfp4;
  for (const ParameterGroup& group : inventory) {
    const auto emit = [&](Index layer, Index expert) {
      std::vector<SafetensorsEntry>& file = out.files[file_name(layer < 0 ? 0 : static_cast<int>(layer % file_count))];
      const std::string name = detail::expand_name(group.pattern.view(), layer, expert).str();
      const Shape& shape = group.shape;
      if (group.quantized && mxfp4) {  // [E, in, out] -> blocks [E, out, in/32, 16], scales [E, out, in/32]
        file.push_back({name + "_blocks", "U8", Shape{shape[0], shape[2], shape[1] / 32, 16}});
        file.push_back({name + "_scales", "U8", Shape{shape[0], shape[2], shape[1] / 32}});
      } else if (group.quantized && fp8) {
        file.push_back({name, "F8_E4M3", shape});
        file.push_back({name + "_scale_inv", "F32", Shape{(shape[0] + 127) / 128, (shape[1] + 127) / 128}});
      } else {
        file.push_back({name, "BF16", shape});
      }
    };
    const IntervalSet layers = group.layers.empty() ? IntervalSet::range(-1, 0) : group.layers;
    for (const Interval& range : layers.intervals()) {
      for (Index layer = range.begin; layer < range.end; ++layer) {
        if (group.experts == 0) emit(layer, -1);
        for (Index expert = 0; expert < group.experts; ++expert) emit(layer, expert);
      }
    }
  }
  std::vector<SafetensorsEntry>& first = out.files[file_name(0)];
  first.insert(first.end(), extra.begin(), extra.end());
  return out;
}

/// The checkpoint's files parsed in memory (headers only: the data is never materialised).
inline std::vector<CheckpointFile> parsed_files(const FakeCheckpoint& fake) {
  std::vector<CheckpointFile> files;
  for (const auto& [name, tensors] : fake.files) {
    const EncodedSafetensorsHeader encoded = encode_safetensors_header(tensors).value();
    files.push_back({name, parse_safetensors_header(encoded.bytes, encoded.file_size()).value()});
  }
  return files;
}

/// Writes the checkpoint's files into `dir` as sparse files, and its index unless `with_index` is false (then it
/// must be one file, written as model.safetensors).
inline void write_checkpoint(const FakeCheckpoint& fake, const std::filesystem::path& dir, bool with_index = true) {
  for (const auto& [name, tensors] : fake.files) {
    const EncodedSafetensorsHeader encoded = encode_safetensors_header(tensors).value();
    const std::filesystem::path path = dir / (with_index ? name : std::string("model.safetensors"));
    {
      std::ofstream file(path, std::ios::binary);
      file.write(reinterpret_cast<const char*>(encoded.bytes.data()), static_cast<std::streamsize>(encoded.bytes.size()));
    }
    std::filesystem::resize_file(path, static_cast<std::uintmax_t>(encoded.file_size()));  // a hole: no data written
  }
  if (with_index) std::ofstream(dir / "model.safetensors.index.json") << fake.index_json();
}

}  // namespace shardplan::testing_support
