#pragma once
// A strict reader of safetensors headers (the Hugging Face checkpoint format), standard library only.
//
// A file is an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data buffer. The JSON
// maps tensor names to {"dtype": "BF16", "shape": [2, 3], "data_offsets": [begin, end]}, byte offsets relative to the
// data buffer (which starts at file offset 8 + N), plus an optional "__metadata__" object of string -> string.
//
// Validation follows the Rust `safetensors` crate, the reference that transformers loads through: N <= 100,000,000
// and 8 + N <= the file size; the header starts with '{' (trailing whitespace, the writers' space padding, is fine);
// every dtype is known; end - begin == numel * element size; and sorted by offsets the tensors tile the data buffer
// exactly, from 0 to its last byte, with no hole and no overlap. So every offset of a header that parses lies inside
// the file, and whoever reads the data can trust them without checking again.
//
// Stricter than the crate where it would accept something no writer produces: a tensor entry with a key other than
// dtype, shape and data_offsets; a repeated key (the JSON reader refuses them); a null __metadata__; more than
// kMaxTensorRank dims; sizes and offsets beyond int64 (no file is that large). Sub-byte dtypes (F4, F6_E2M3,
// F6_E3M2) are refused: their elements are not whole bytes, and shardplan splits tensors at element boundaries.
//
// Errors: ErrorCode::parse_error for the framing (the length prefix, the header's size and first byte) and for JSON
// syntax, with field "header"; invalid_argument for the content (wrong types, unknown or missing keys, dtypes,
// negative sizes, offsets that do not tile the buffer), with the tensor name as the field (at most 40 bytes) or
// "__metadata__"; overflow for sizes beyond int64; capacity_exceeded for more dims than shardplan holds.
//
// Parsing only, from bytes in memory: read_safetensors_header(path), which reads them from a file, is in
// resharding/safetensors_file.hpp (not in the umbrella header, so that it never brings <filesystem> and <fstream>).
#include "shardplan/core/cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/core/checked_math.hpp"
#include "shardplan/core/error.hpp"
#include "shardplan/core/fixed_string.hpp"
#include "shardplan/core/json.hpp"
#include "shardplan/core/result.hpp"
#include "shardplan/core/sorting.hpp"
#include "shardplan/layout/layout.hpp"

namespace shardplan {

/// Bytes of the little-endian header length that starts every file.
inline constexpr Index kSafetensorsPrefixSize = 8;
/// The crate's MAX_HEADER_SIZE: a larger N is refused before anything is allocated for it.
inline constexpr Index kSafetensorsMaxHeaderSize = 100'000'000;

struct SafetensorsDtype {
  std::string_view name;  // as written in the header: "BF16"
  Index size = 0;         // bytes per element
};

/// Every dtype of the crate whose elements are whole bytes.
inline constexpr SafetensorsDtype kSafetensorsDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
    {"F32", 4},  {"I64", 8}, {"U64", 8}, {"F64", 8},     {"C64", 8},
};
/// Dtypes of the crate packed below one byte per element: known, but refused (see the header comment).
inline constexpr std::string_view kSafetensorsSubByteDtypes[] = {"F4", "F6_E2M3", "F6_E3M2"};

/// Bytes per element of a dtype ("BF16" -> 2), or an invalid_argument error naming `field`.
[[nodiscard]] constexpr Result<Index> safetensors_dtype_size(std::string_view dtype, std::string_view field = "dtype") {
  for (const SafetensorsDtype& known : kSafetensorsDtypes) {
    if (known.name == dtype) return known.size;
  }
  for (const std::string_view sub_byte : kSafetensorsSubByteDtypes) {
    if (sub_byte == dtype) {
      return make_error(ErrorCode::invalid_argument, field)
             << "sub-byte dtype " << dtype << " is not supported (its elements are not whole bytes)";
    }
  }
  auto error = make_error(ErrorCode::invalid_argument, field)
               << "unknown dtype '" << dtype.substr(0, 24) << (dtype.size() > 24 ? "...'" : "'") << " (supported:";
  for (const SafetensorsDtype& known : kSafetensorsDtypes) error << " " << known.name;
  return error << ")";
}

struct SafetensorsTensor {
  std::string name;
  std::string dtype;       // as written: "BF16"
  Index element_size = 0;  // bytes
  Shape shape;             // [] for a scalar
  Index data_begin = 0;    // [data_begin, data_end): bytes relative to the data buffer
  Index data_end = 0;
  Index file_offset = 0;  // absolute: 8 + N + data_begin

  /// Elements. Cannot overflow for a parsed tensor: the parser checked the product.
  [[nodiscard]] Index numel() const {
    Index count = 1;
    for (const Index size : shape) count *= size;
    return count;
  }
  /// data_end - data_begin, which the parser checked equals numel() * element_size.
  [[nodiscard]] Index byte_size() const { return data_end - data_begin; }

  friend bool operator==(const SafetensorsTensor&, const SafetensorsTensor&) = default;
};

namespace safetensors_detail {
class HeaderParser;
}  // namespace safetensors_detail

/// A validated header. Only the parser builds one, so the name index behind find() always matches the tensors.
class SafetensorsHeader {
 public:
  /// N: the JSON's length in bytes, padding included.
  [[nodiscard]] Index header_size() const { return header_size_; }
  /// 8 + N: where the data buffer starts in the file.
  [[nodiscard]] Index data_start() const { return data_start_; }
  [[nodiscard]] Index file_size() const { return file_size_; }
  /// Bytes of the data buffer: file_size - data_start, which the tensors tile exactly.
  [[nodiscard]] Index data_size() const { return file_size_ - data_start_; }
  /// In document order.
  [[nodiscard]] const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  /// __metadata__, in document order (empty when absent).
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

  /// The tensor called `name`, or nullptr. O(log n): looking up every tensor of a 90,000-tensor header stays fast.
  [[nodiscard]] const SafetensorsTensor* find(std::string_view name) const {
    const NameKey key{name_hash(name), 0};
    for (auto it = detail::lower_bound(by_name_.begin(), by_name_.end(), key);
         it != by_name_.end() && it->hash == key.hash; ++it) {
      if (tensors_[it->index].name == name) return &tensors_[it->index];
    }
    return nullptr;
  }

  /// 64-bit FNV-1a: the name index sorts hashes, which is several times faster than sorting the names themselves
  /// (checkpoint names share long prefixes such as "model.layers.12.mlp.experts.").
  [[nodiscard]] static std::uint64_t name_hash(std::string_view name) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : name) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return hash;
  }

 private:
  friend class safetensors_detail::HeaderParser;

  Index header_size_ = 0;
  Index data_start_ = 0;
  Index file_size_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  struct NameKey {
    std::uint64_t hash = 0;
    std::size_t index = 0;  // into tensors_
    friend bool operator<(const NameKey& a, const NameKey& b) {
      return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
    }
  };
  std::vector<NameKey> by_name_;  // sorted by (hash of the name, index)
};

namespace safetensors_detail {

/// Names in fields and messages are cut to this many bytes: an Error holds 48 + 200 characters.
inline constexpr std::size_t kNameLimit = 40;

/// At most `limit` bytes of `text`, cut back to a UTF-8 character boundary so a message never holds half a
/// character, with "..." when cut.
template <std::size_t N>
constexpr FixedString<N> truncated(std::string_view text, std::size_t limit = kNameLimit) {
  FixedString<N> out;
  if (text.size() <= limit) return out.append(text);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return out.append(text.substr(0, cut)).append("...");
}

/// The error field of a tensor: its name, cut to kNameLimit bytes; `""` for the empty name, which is legal.
constexpr FixedString<48> name_field(std::string_view name) {
  return name.empty() ? FixedString<48>("\"\"") : truncated<48>(name);
}

/// `'name'` for messages.
constexpr FixedString<48> quoted_name(std::string_view name) {
  FixedString<48> out("'");
  return out.append(truncated<44>(name)).append("'");
}

/// "[begin, end]", as the header writes data_offsets.
constexpr FixedString<48> offsets_text(Index begin, Index end) {
  FixedString<48> out("[");
  return out.append(begin).append(", ").append(end).append("]");
}

/// An unsigned 64-bit number in decimal (FixedString prints int64, and a corrupt prefix can exceed it).
constexpr FixedString<24> decimal(std::uint64_t value) {
  char digits[24]{};
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  FixedString<24> out;
  while (count > 0) out.append(std::string_view(&digits[--count], 1));
  return out;
}

/// A JSON value that must be an integer >= 0; `what` says which ("shape[1]", "data_offsets[0]").
inline Result<Index> non_negative(const JsonValue& value, const FixedString<48>& field, std::string_view what) {
  if (value.is_int()) {
    if (value.as_int() >= 0) return value.as_int();
    return make_error(ErrorCode::invalid_argument, field) << what << " must be >= 0, got " << value.as_int();
  }
  if (const auto as_int = value.int_value(field.view()); as_int.error().code == ErrorCode::overflow) {
    return make_error(ErrorCode::overflow, field)
           << what << ": integer " << value.describe() << " does not fit in int64";
  }
  return make_error(ErrorCode::invalid_argument, field)
         << what << ": expected a non-negative integer, got " << value.describe();
}

/// The JSON that checkpoint writers produce, read in place: plain strings and non-negative integers. Each reader
/// returns false on anything else (an escape, a byte >= 0x80, a control character, a sign, a fraction), and its
/// caller then hands the whole text to the general JSON reader (core/json.hpp), which decodes it or says what is
/// wrong. Shared by the safetensors header scanner and the checkpoint index reader (model/checkpoint_index.hpp).
class PlainJsonCursor {
 public:
  explicit PlainJsonCursor(std::string_view text) : text_(text) {}

  [[nodiscard]] std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool take(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  void skip_spaces() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r') return;
      ++pos_;
    }
  }
  bool colon() {
    skip_spaces();
    if (!take(':')) return false;
    skip_spaces();
    return true;
  }
  /// At '"': a string of printable ASCII without escapes (the general reader decodes the rest).
  bool string(std::string_view& out) {
    if (!take('"')) return false;
    const std::size_t end = text_.find('"', pos_);
    if (end == std::string_view::npos) return false;
    // Branch-free over the bytes, so that the compiler can vectorise it: names are most of a header.
    bool plain = true;
    for (std::size_t i = pos_; i < end; ++i) {
      const auto c = static_cast<unsigned char>(text_[i]);
      plain &= c >= 0x20 && c < 0x80 && c != '\\';
    }
    if (!plain) return false;
    out = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  /// A JSON integer >= 0 that fits in int64 ("0" or no leading zero, no fraction or exponent).
  bool non_negative(Index& out) {
    const std::size_t begin = pos_;
    Index value = 0;
    while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const Index digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<Index>::max() - digit) / 10) return false;
      value = value * 10 + digit;
      ++pos_;
    }
    const std::size_t digits = pos_ - begin;
    if (digits == 0 || (digits > 1 && text_[begin] == '0')) return false;
    const char next = peek();
    if (next == '.' || next == 'e' || next == 'E') return false;
    out = value;
    return true;
  }
  /// At '[': up to `capacity` integers >= 0, through `push`.
  template <class Push>
  bool integers(std::size_t capacity, Push push) {
    if (!take('[')) return false;
    skip_spaces();
    if (take(']')) return true;
    for (std::size_t count = 0;; ++count) {
      Index value = 0;
      if (count == capacity || !non_negative(value)) return false;
      push(value);
      skip_spaces();
      if (take(']')) return true;
      if (!take(',')) return false;
      skip_spaces();
    }
  }

 protected:
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// Whether the names of `keys` (sorted by hash; `name_of(key)` gives a key's name) are distinct: names are compared
/// only where hashes are equal, pairwise in short runs and by sorting in long ones (crafted collisions), so the check
/// stays O(n log n) whatever the names.
template <class Key, class NameOf>
bool names_distinct(const std::vector<Key>& keys, NameOf name_of) {
  constexpr std::size_t kPairwise = 8;
  std::vector<std::string_view> run;
  for (std::size_t begin = 0; begin < keys.size();) {
    std::size_t end = begin + 1;
    while (end < keys.size() && keys[end].hash == keys[begin].hash) ++end;
    if (end - begin <= kPairwise) {
      for (std::size_t i = begin; i < end; ++i) {
        for (std::size_t j = begin; j < i; ++j) {
          if (name_of(keys[i]) == name_of(keys[j])) return false;
        }
      }
    } else {
      run.clear();
      for (std::size_t i = begin; i < end; ++i) run.push_back(name_of(keys[i]));
      detail::sort_range(run);
      if (detail::adjacent_find(run.begin(), run.end()) != run.end()) return false;
    }
    begin = end;
  }
  return true;
}

/// The header as writers produce it, read in one pass without a tree of JSON values: ASCII names without escapes,
/// tensors of known dtypes with non-negative integer sizes and offsets that agree, an optional __metadata__ of such
/// strings. Anything else (an escape, a byte >= 0x80, a number that is not a plain non-negative int64, a key
/// repeated inside an entry, any error at all) makes scan() return false, and the general reader takes over. So
/// when scan() succeeds, its tensors are what the general reader would give, at a fraction of the time and memory
/// (docs/performance.md). Repeated tensor names are found afterwards, by the name index.
class HeaderScanner : public PlainJsonCursor {
 public:
  explicit HeaderScanner(std::string_view text) : PlainJsonCursor(text) {}

  bool scan(std::vector<SafetensorsTensor>& tensors, std::vector<std::pair<std::string, std::string>>& metadata) {
    // Every tensor entry holds the key "data_offsets": counting them bounds the tensors without growing the vector.
    std::size_t bound = 0;
    for (std::size_t at = text_.find("\"data_offsets\""); at != std::string_view::npos;
         at = text_.find("\"data_offsets\"", at + 14)) {
      ++bound;
    }
    tensors.reserve(bound);
    skip_spaces();
    if (!take('{')) return false;
    skip_spaces();
    bool seen_metadata = false;
    if (!take('}')) {
      while (true) {
        std::string_view key;
        if (!string(key) || !colon()) return false;
        if (key == "__metadata__") {
          if (seen_metadata || !read_metadata(metadata)) return false;
          seen_metadata = true;
        } else {
          tensors.emplace_back();
          if (!read_tensor(key, tensors.back())) return false;
        }
        skip_spaces();
        if (take('}')) break;
        if (!take(',')) return false;
        skip_spaces();
      }
    }
    skip_spaces();
    return pos_ == text_.size();
  }

 private:
  bool read_tensor(std::string_view name, SafetensorsTensor& tensor) {
    skip_spaces();
    if (!take('{')) return false;
    bool has_dtype = false;
    bool has_shape = false;
    std::size_t offsets = 3;  // > 2: not seen
    Index offset_values[2] = {0, 0};
    while (true) {
      skip_spaces();
      std::string_view key;
      if (!string(key) || !colon()) return false;
      if (key == "dtype" && !has_dtype) {
        std::string_view dtype;
        if (!string(dtype)) return false;
        auto size = safetensors_dtype_size(dtype);
        if (!size.ok()) return false;
        tensor.dtype = dtype;
        tensor.element_size = *size;
        has_dtype = true;
      } else if (key == "shape" && !has_shape) {
        if (!integers(kMaxTensorRank, [&](Index size) { tensor.shape.push_back(size); })) return false;
        has_shape = true;
      } else if (key == "data_offsets" && offsets > 2) {
        offsets = 0;
        if (!integers(2, [&](Index value) { offset_values[offsets++] = value; }) || offsets != 2) return false;
      } else {
        return false;
      }
      skip_spaces();
      if (take('}')) break;
      if (!take(',')) return false;
    }
    if (!has_dtype || !has_shape || offsets != 2) return false;
    tensor.name = name;
    tensor.data_begin = offset_values[0];
    tensor.data_end = offset_values[1];
    if (tensor.data_begin > tensor.data_end) return false;
    const auto numel = checked_product(tensor.shape);
    if (!numel.ok()) return false;
    const auto bytes = checked_mul(*numel, tensor.element_size);
    return bytes.ok() && *bytes == tensor.byte_size();
  }
  bool read_metadata(std::vector<std::pair<std::string, std::string>>& metadata) {
    if (!take('{')) return false;
    skip_spaces();
    if (take('}')) return true;
    while (true) {
      std::string_view key;
      std::string_view value;
      if (!string(key) || !colon() || !string(value)) return false;
      if (metadata.size() == kMetadataKeys) return false;  // more is unusual: the general reader sorts them
      for (const auto& [seen, unused] : metadata) {
        if (seen == key) return false;
      }
      metadata.emplace_back(std::string(key), std::string(value));
      skip_spaces();
      if (take('}')) return true;
      if (!take(',')) return false;
      skip_spaces();
    }
  }

  /// Writers put a handful of keys in __metadata__ ("format": "pt"); repeats are looked for pairwise up to this many.
  static constexpr std::size_t kMetadataKeys = 64;
};

class HeaderParser {
 public:
  /// Precondition: `text` is the N header bytes of a file of `file_size` bytes (read_safetensors_header_size
  /// checked N against it).
  static Result<SafetensorsHeader> parse(std::string_view text, Index file_size) {
    SafetensorsHeader header;
    header.header_size_ = static_cast<Index>(text.size());
    header.data_start_ = kSafetensorsPrefixSize + header.header_size_;
    header.file_size_ = file_size;
    if (text.empty() || text.front() != '{') {
      auto error = make_error(ErrorCode::parse_error, "header") << "must start with '{', found ";
      if (text.empty()) return error << "an empty header (N = 0)";
      return error << "byte " << json_detail::hex(static_cast<unsigned char>(text.front()), 2);
    }
    // The header's own scanner reads what writers produce; whatever it does not take (escapes, non-ASCII names,
    // and every error) goes through the general JSON reader, which gives the same tensors or the error.
    if (!HeaderScanner(text).scan(header.tensors_, header.metadata_) || !index_names(header)) {
      header.tensors_ = {};
      header.metadata_ = {};
      SHARDPLAN_CHECK(parse_general(text, header));
      if (!index_names(header)) {  // the JSON reader refuses repeated keys
        return make_error(ErrorCode::internal_error, "header") << "a repeated tensor name passed the JSON reader";
      }
    }
    SHARDPLAN_CHECK(check_tiling(header.tensors_, header.data_size()));
    // Safe now: every begin is <= data_size, so data_start + begin <= file_size.
    for (SafetensorsTensor& tensor : header.tensors_) tensor.file_offset = header.data_start_ + tensor.data_begin;
    return header;
  }

  /// The tensors and metadata of `text` read through the general JSON reader (a tree of values, then each entry
  /// checked): several times slower and larger than HeaderScanner, but it handles every string and says what is
  /// wrong. Public for the fuzz target, which checks that both paths agree.
  static Status parse_general(std::string_view text, SafetensorsHeader& header) {
    SHARDPLAN_TRY(const JsonValue root, parse_json(text, "header"));
    if (!root.is_object()) {  // not reached through parse(), which checked the '{'
      return make_error(ErrorCode::parse_error, "header") << "must be an object, got " << root.describe();
    }
    header.tensors_.reserve(root.members().size());
    for (const JsonMember& member : root.members()) {
      if (member.key() == "__metadata__") {
        SHARDPLAN_TRY(header.metadata_, metadata(member.value));
      } else {
        SHARDPLAN_TRY(SafetensorsTensor tensor, parse_tensor(member.key(), member.value));
        header.tensors_.push_back(std::move(tensor));
      }
    }
    return Ok{};
  }

 private:
  static Result<std::vector<std::pair<std::string, std::string>>> metadata(const JsonValue& value) {
    if (!value.is_object()) {
      return make_error(ErrorCode::invalid_argument, "__metadata__")
             << "expected an object of string values, got " << value.describe();
    }
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(value.members().size());
    for (const JsonMember& member : value.members()) {
      if (!member.value.is_string()) {
        return make_error(ErrorCode::invalid_argument, "__metadata__")
               << "the value of " << quoted_name(member.key()) << " must be a string, got " << member.value.describe();
      }
      out.emplace_back(std::string(member.key()), std::string(member.value.as_string()));
    }
    return out;
  }

  static Result<SafetensorsTensor> parse_tensor(std::string_view name, const JsonValue& entry) {
    const FixedString<48> field = name_field(name);
    if (!entry.is_object()) {
      return make_error(ErrorCode::invalid_argument, field)
             << "expected an object with dtype, shape and data_offsets, got " << entry.describe();
    }
    const JsonValue* dtype = nullptr;
    const JsonValue* shape = nullptr;
    const JsonValue* offsets = nullptr;
    for (const JsonMember& member : entry.members()) {
      if (member.key() == "dtype") {
        dtype = &member.value;
      } else if (member.key() == "shape") {
        shape = &member.value;
      } else if (member.key() == "data_offsets") {
        offsets = &member.value;
      } else {
        return make_error(ErrorCode::invalid_argument, field)
               << "unknown key " << quoted_name(member.key())
               << " (a tensor has exactly dtype, shape and data_offsets)";
      }
    }
    const std::pair<const JsonValue*, std::string_view> required[] = {
        {dtype, "dtype"}, {shape, "shape"}, {offsets, "data_offsets"}};
    for (const auto& [value, key] : required) {
      if (value == nullptr) return make_error(ErrorCode::invalid_argument, field) << "missing key '" << key << "'";
    }

    SafetensorsTensor tensor;
    tensor.name = name;
    if (!dtype->is_string()) {
      return make_error(ErrorCode::invalid_argument, field) << "dtype: expected a string, got " << dtype->describe();
    }
    tensor.dtype = dtype->as_string();
    SHARDPLAN_TRY(tensor.element_size, safetensors_dtype_size(tensor.dtype, field.view()));

    if (!shape->is_array()) {
      return make_error(ErrorCode::invalid_argument, field)
             << "shape: expected an array of sizes, got " << shape->describe();
    }
    if (shape->items().size() > kMaxTensorRank) {
      return make_error(ErrorCode::capacity_exceeded, field)
             << "shape has " << static_cast<Index>(shape->items().size()) << " dims, more than the "
             << static_cast<Index>(kMaxTensorRank) << " shardplan supports";
    }
    for (std::size_t d = 0; d < shape->items().size(); ++d) {
      SHARDPLAN_TRY(const Index size,
                    non_negative(shape->items()[d], field, indexed_field("shape", static_cast<Index>(d)).view()));
      tensor.shape.push_back(size);
    }

    if (!offsets->is_array()) {
      return make_error(ErrorCode::invalid_argument, field)
             << "data_offsets: expected [begin, end], got " << offsets->describe();
    }
    if (offsets->items().size() != 2) {
      return make_error(ErrorCode::invalid_argument, field)
             << "data_offsets: expected [begin, end], got " << static_cast<Index>(offsets->items().size())
             << " values";
    }
    SHARDPLAN_TRY(tensor.data_begin, non_negative(offsets->items()[0], field, "data_offsets[0]"));
    SHARDPLAN_TRY(tensor.data_end, non_negative(offsets->items()[1], field, "data_offsets[1]"));
    if (tensor.data_begin > tensor.data_end) {
      return make_error(ErrorCode::invalid_argument, field)
             << "data_offsets " << offsets_text(tensor.data_begin, tensor.data_end) << " begin after they end";
    }

    // The crate folds the product left to right with checked_mul: [2^62, 4, 0] overflows there too.
    const auto numel = checked_product(tensor.shape);
    if (!numel.ok()) {
      return make_error(ErrorCode::overflow, field)
             << "shape " << shape_text(tensor.shape) << ": the element count overflows int64";
    }
    const auto bytes = checked_mul(*numel, tensor.element_size);
    if (!bytes.ok()) {
      return make_error(ErrorCode::overflow, field)
             << "shape " << shape_text(tensor.shape) << " of " << tensor.dtype << ": " << *numel << " elements * "
             << tensor.element_size << " bytes overflows int64";
    }
    if (*bytes != tensor.byte_size()) {
      return make_error(ErrorCode::invalid_argument, field)
             << "shape " << shape_text(tensor.shape) << " of " << tensor.dtype << " needs " << *bytes
             << " bytes, but data_offsets " << offsets_text(tensor.data_begin, tensor.data_end) << " hold "
             << tensor.byte_size();
    }
    return tensor;
  }

  /// Builds the name index; false when a name repeats (the JSON reader then says where).
  static bool index_names(SafetensorsHeader& header) {
    const std::vector<SafetensorsTensor>& tensors = header.tensors_;
    auto& by_name = header.by_name_;
    by_name.clear();
    by_name.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) by_name.push_back({SafetensorsHeader::name_hash(tensors[i].name), i});
    detail::sort_range(by_name);
    return names_distinct(by_name, [&tensors](const auto& key) { return std::string_view(tensors[key.index].name); });
  }

  /// Sorted by offsets, each tensor must begin where the previous one ended, the first at 0, and the last must end
  /// at the end of the data buffer. Ties keep document order, so zero-size tensors at one offset are fine and the
  /// error for two equal ranges names the later one.
  static Status check_tiling(const std::vector<SafetensorsTensor>& tensors, Index data_size) {
    std::vector<std::size_t> order;
    order.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) order.push_back(i);
    const auto before = [&](std::size_t a, std::size_t b) {
      const SafetensorsTensor& x = tensors[a];
      const SafetensorsTensor& y = tensors[b];
      if (x.data_begin != y.data_begin) return x.data_begin < y.data_begin;
      if (x.data_end != y.data_end) return x.data_end < y.data_end;
      return a < b;
    };
    if (!detail::is_sorted(order.begin(), order.end(), before)) detail::sort_range(order, before);
    Index end = 0;
    const SafetensorsTensor* previous = nullptr;
    for (const std::size_t i : order) {
      const SafetensorsTensor& tensor = tensors[i];
      const auto offsets = [&tensor] { return offsets_text(tensor.data_begin, tensor.data_end); };  // for errors only
      if (tensor.data_begin < end) {  // then previous != nullptr: end starts at 0
        return make_error(ErrorCode::invalid_argument, name_field(tensor.name))
               << "data_offsets " << offsets() << " overlap " << quoted_name(previous->name) << " at "
               << offsets_text(previous->data_begin, previous->data_end);
      }
      if (tensor.data_begin > end) {
        auto error = make_error(ErrorCode::invalid_argument, name_field(tensor.name))
                     << "data_offsets " << offsets() << " leave a hole of " << tensor.data_begin - end << " bytes ";
        if (previous == nullptr) return error << "at the start of the data buffer (the first tensor begins at 0)";
        return error << "after " << quoted_name(previous->name) << " at "
                     << offsets_text(previous->data_begin, previous->data_end);
      }
      end = tensor.data_end;
      previous = &tensor;
    }
    if (end != data_size) {
      auto error = make_error(ErrorCode::invalid_argument, "data_offsets")
                   << "tensors end at " << end << " but the data buffer holds " << data_size << " bytes";
      if (previous != nullptr) error << " (the last tensor is " << quoted_name(previous->name) << ")";
      return error;
    }
    return Ok{};
  }
};

/// `text` as a JSON string literal. Rejects invalid UTF-8, which no reader would accept back.
inline Status append_json_string(std::string& out, std::string_view text, std::string_view field) {
  const std::size_t start = out.size();
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += "0123456789abcdef"[byte >> 4];
      out += "0123456789abcdef"[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  // The strict reader is the judge of what it will read back (UTF-8 well-formedness is all that can fail here).
  if (const auto check = parse_json(std::string_view(out).substr(start), field); !check.ok()) {
    return make_error(ErrorCode::invalid_argument, field) << "is not valid UTF-8: " << check.error().message;
  }
  return Ok{};
}

/// A repeated name among `names`, or nullptr. Sorting keeps it O(n log n). Not a template, so that one sort is
/// instantiated for every caller.
inline const std::string* first_repeat_of(std::vector<const std::string*>& names) {
  detail::sort_range(names, [](const std::string* a, const std::string* b) { return *a < *b; });
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (*names[i] == *names[i - 1]) return names[i];
  }
  return nullptr;
}

/// The first repeated name in a list of names, or nullptr.
template <class Range, class Name>
const std::string* first_repeat(const Range& items, Name name) {
  std::vector<const std::string*> names;
  names.reserve(items.size());
  for (const auto& item : items) names.push_back(&name(item));
  return first_repeat_of(names);
}

}  // namespace safetensors_detail

/// The header length N from the first 8 bytes of a file of `file_size` bytes, checked as the crate does:
/// N <= kSafetensorsMaxHeaderSize and 8 + N <= file_size.
[[nodiscard]] inline Result<Index> read_safetensors_header_size(std::span<const std::byte> prefix, Index file_size) {
  if (file_size < 0) {
    return make_error(ErrorCode::invalid_argument, "file_size") << "must be >= 0, got " << file_size;
  }
  if (file_size < kSafetensorsPrefixSize) {
    return make_error(ErrorCode::parse_error, "header")
           << "a file of " << file_size << " bytes is too short for the " << kSafetensorsPrefixSize
           << "-byte header length";
  }
  if (static_cast<Index>(prefix.size()) < kSafetensorsPrefixSize) {
    return make_error(ErrorCode::invalid_argument, "prefix")
           << "holds " << static_cast<Index>(prefix.size()) << " bytes, the header length needs "
           << kSafetensorsPrefixSize;
  }
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < 8; ++i) length |= static_cast<std::uint64_t>(prefix[i]) << (8 * i);
  if (length > static_cast<std::uint64_t>(kSafetensorsMaxHeaderSize)) {
    return make_error(ErrorCode::parse_error, "header")
           << "header of " << safetensors_detail::decimal(length) << " bytes exceeds the limit of "
           << kSafetensorsMaxHeaderSize << " bytes";
  }
  const auto size = static_cast<Index>(length);
  if (size > file_size - kSafetensorsPrefixSize) {
    return make_error(ErrorCode::parse_error, "header")
           << "header of " << size << " bytes does not fit in a file of " << file_size << " bytes";
  }
  return size;
}

/// Parses and validates the header of a file of `file_size` bytes whose first bytes are `file_start`: at least the
/// 8 + N bytes of prefix and header (more, up to the whole file, is fine; only those are read).
[[nodiscard]] inline Result<SafetensorsHeader> parse_safetensors_header(std::span<const std::byte> file_start,
                                                                         Index file_size) {
  if (static_cast<Index>(file_start.size()) > file_size) {
    return make_error(ErrorCode::invalid_argument, "file_start")
           << "holds " << static_cast<Index>(file_start.size()) << " bytes, more than the file size " << file_size;
  }
  SHARDPLAN_TRY(const Index header_size, read_safetensors_header_size(file_start, file_size));
  const Index data_start = kSafetensorsPrefixSize + header_size;
  if (static_cast<Index>(file_start.size()) < data_start) {
    return make_error(ErrorCode::invalid_argument, "file_start")
           << "holds " << static_cast<Index>(file_start.size()) << " bytes, but the prefix and header take "
           << data_start;
  }
  const std::string_view text(reinterpret_cast<const char*>(file_start.data()) + kSafetensorsPrefixSize,
                              static_cast<std::size_t>(header_size));
  return safetensors_detail::HeaderParser::parse(text, file_size);
}

/// A tensor to lay out with encode_safetensors_header.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  Shape shape;
};

/// The start of a safetensors file, for tests and examples.
struct EncodedSafetensorsHeader {
  std::vector<std::byte> bytes;                       // the 8-byte prefix and the padded JSON: data_start bytes
  std::vector<std::pair<Index, Index>> data_offsets;  // [begin, end) of each entry, in the given order
  Index data_size = 0;                                // bytes of the data buffer that must follow
  [[nodiscard]] Index file_size() const { return static_cast<Index>(bytes.size()) + data_size; }
};

/// The prefix and JSON header of a file holding `tensors` back to back in the given order, the JSON written as the
/// crate writes it (compact, __metadata__ first when there is any) and padded with spaces so that the data starts at
/// a multiple of 8. Everything the reader would refuse is refused here, so the result always parses back.
[[nodiscard]] inline Result<EncodedSafetensorsHeader> encode_safetensors_header(
    std::span<const SafetensorsEntry> tensors, std::span<const std::pair<std::string, std::string>> metadata = {}) {
  using safetensors_detail::append_json_string;
  using safetensors_detail::name_field;
  if (const std::string* repeat = safetensors_detail::first_repeat(
          tensors, [](const SafetensorsEntry& entry) -> const std::string& { return entry.name; })) {
    return make_error(ErrorCode::invalid_argument, name_field(*repeat)) << "tensor name repeated";
  }
  if (const std::string* repeat = safetensors_detail::first_repeat(
          metadata, [](const auto& entry) -> const std::string& { return entry.first; })) {
    return make_error(ErrorCode::invalid_argument, "__metadata__")
           << "key " << safetensors_detail::quoted_name(*repeat) << " repeated";
  }
  EncodedSafetensorsHeader out;
  out.data_offsets.reserve(tensors.size());
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata.size(); ++i) {
      if (i > 0) json += ',';
      SHARDPLAN_CHECK(append_json_string(json, metadata[i].first, "__metadata__"));
      json += ':';
      SHARDPLAN_CHECK(append_json_string(json, metadata[i].second, "__metadata__"));
    }
    json += '}';
  }
  for (const SafetensorsEntry& entry : tensors) {
    const FixedString<48> field = name_field(entry.name);
    if (entry.name == "__metadata__") {
      return make_error(ErrorCode::invalid_argument, field) << "is reserved for the metadata, not a tensor name";
    }
    SHARDPLAN_TRY(const Index element_size, safetensors_dtype_size(entry.dtype, field.view()));
    for (std::size_t d = 0; d < entry.shape.size(); ++d) {
      if (entry.shape[d] < 0) {
        return make_error(ErrorCode::invalid_argument, field)
               << "shape[" << static_cast<Index>(d) << "] must be >= 0, got " << entry.shape[d];
      }
    }
    SHARDPLAN_TRY(const Index numel, checked_product(entry.shape, field.view()));
    SHARDPLAN_TRY(const Index bytes, checked_mul(numel, element_size, field.view()));
    const Index begin = out.data_size;
    SHARDPLAN_TRY(out.data_size, checked_add(begin, bytes, field.view()));
    out.data_offsets.emplace_back(begin, out.data_size);

    if (json.size() > 1) json += ',';
    SHARDPLAN_CHECK(append_json_string(json, entry.name, field.view()));
    json += ":{\"dtype\":";
    SHARDPLAN_CHECK(append_json_string(json, entry.dtype, field.view()));
    json += ",\"shape\":[";
    for (std::size_t d = 0; d < entry.shape.size(); ++d) {
      if (d > 0) json += ',';
      json += std::to_string(entry.shape[d]);
    }
    json += "],\"data_offsets\":[";
    json += std::to_string(begin);
    json += ',';
    json += std::to_string(out.data_size);
    json += "]}";
  }
  json += '}';
  json.append((8 - json.size() % 8) % 8, ' ');  // the crate's padding: the data buffer starts 8-byte aligned
  if (static_cast<Index>(json.size()) > kSafetensorsMaxHeaderSize) {
    return make_error(ErrorCode::invalid_argument, "header")
           << "header of " << static_cast<Index>(json.size()) << " bytes exceeds the limit of "
           << kSafetensorsMaxHeaderSize << " bytes";
  }
  out.bytes.reserve(static_cast<std::size_t>(kSafetensorsPrefixSize) + json.size());
  const auto length = static_cast<std::uint64_t>(json.size());
  for (std::size_t i = 0; i < 8; ++i) out.bytes.push_back(static_cast<std::byte>((length >> (8 * i)) & 0xFF));
  for (const char c : json) out.bytes.push_back(static_cast<std::byte>(c));
  return out;
}

}  // namespace shardplan
