// The safetensors header reader: dtype sizes, encode -> parse round trips with exact offsets and bytes, every
// rejection of the crate's rules (and ours) with its code and message, a 90,000-tensor header, and reading files from
// disk without touching their data.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardplan/resharding/safetensors.hpp"
#include "shardplan/resharding/safetensors_file.hpp"

namespace shardplan {
namespace {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------------------------
// Helpers: files built byte by byte, so the tests do not depend on the encoder they also test.

std::vector<std::byte> le64(std::uint64_t value) {
  std::vector<std::byte> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
  return out;
}

/// A file: the length prefix `length`, `header`, then `data_size` bytes of data.
std::vector<std::byte> raw_file(std::uint64_t length, std::string_view header, Index data_size) {
  std::vector<std::byte> out = le64(length);
  for (const char c : header) out.push_back(static_cast<std::byte>(c));
  out.resize(out.size() + static_cast<std::size_t>(data_size), std::byte{0x5A});
  return out;
}

/// A well-framed file around a JSON header.
std::vector<std::byte> file(std::string_view header, Index data_size) {
  return raw_file(header.size(), header, data_size);
}

Result<SafetensorsHeader> parse(const std::vector<std::byte>& bytes) {
  return parse_safetensors_header(bytes, static_cast<Index>(bytes.size()));
}

/// The error of a file that must not parse, checking its code; "parsed" when it did.
std::string error_of(const std::vector<std::byte>& bytes, ErrorCode code) {
  const auto result = parse(bytes);
  if (result.ok()) return "parsed";
  EXPECT_EQ(result.error().code, code) << to_string(result.error().code) << ": " << result.error().what();
  EXPECT_FALSE(result.error().message.empty());
  return result.error().what();
}

/// The error of a header holding one tensor entry `entry` (JSON) named "w", followed by `data_size` bytes.
std::string entry_error(std::string_view entry, Index data_size, ErrorCode code) {
  std::string header = R"({"w":)";
  header += entry;
  header += "}";
  return error_of(file(header, data_size), code);
}

Result<SafetensorsHeader> round_trip(const std::vector<SafetensorsEntry>& entries, const Metadata& metadata = {}) {
  const auto encoded = encode_safetensors_header(entries, metadata);
  if (!encoded.ok()) return encoded.error();
  std::vector<std::byte> bytes = encoded->bytes;
  bytes.resize(static_cast<std::size_t>(encoded->file_size()));
  return parse(bytes);
}

// ---------------------------------------------------------------------------------------------------------------
// Dtypes

static_assert(safetensors_dtype_size("BF16").value() == 2);
static_assert(safetensors_dtype_size("C64").value() == 8);
static_assert(!safetensors_dtype_size("bf16").ok());  // names are case-sensitive, as in the crate

TEST(SafetensorsDtype, ElementSizes) {
  const std::pair<std::string_view, Index> expected[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"I64", 8}, {"U64", 8}, {"F64", 8},     {"C64", 8},
  };
  for (const auto& [name, size] : expected) EXPECT_EQ(safetensors_dtype_size(name).value(), size) << name;
  EXPECT_EQ(std::size(kSafetensorsDtypes), std::size(expected));
}

TEST(SafetensorsDtype, Rejections) {
  for (const std::string_view sub_byte : {"F4", "F6_E2M3", "F6_E3M2"}) {
    const auto result = safetensors_dtype_size(sub_byte);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().what(), "dtype: sub-byte dtype " + std::string(sub_byte) +
                                         " is not supported (its elements are not whole bytes)");
  }
  const auto unknown = safetensors_dtype_size("F128", "w");
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(unknown.error().what(),
            "w: unknown dtype 'F128' (supported: BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 U16 F16 BF16 I32 U32 F32 I64 "
            "U64 F64 C64)");
  EXPECT_EQ(safetensors_dtype_size("").error().message.view().substr(0, 16), "unknown dtype ''");
  EXPECT_EQ(safetensors_dtype_size(std::string(100, 'X')).error().message.view().substr(0, 43),
            "unknown dtype 'XXXXXXXXXXXXXXXXXXXXXXXX...'");
}

// ---------------------------------------------------------------------------------------------------------------
// Round trips

TEST(SafetensorsRoundTrip, ExactBytesOfASmallFile) {
  const std::vector<SafetensorsEntry> entries = {{"a", "F32", {2}}};
  const Metadata metadata = {{"format", "pt"}};
  const auto encoded = encode_safetensors_header(entries, metadata);
  ASSERT_TRUE(encoded.ok()) << encoded.error().what();
  const std::string json = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(json.size(), 85u);
  const std::string padded = json + std::string(3, ' ');  // to 88, a multiple of 8
  EXPECT_EQ(encoded->bytes, raw_file(88, padded, 0));
  EXPECT_EQ(encoded->data_size, 8);
  EXPECT_EQ(encoded->file_size(), 8 + 88 + 8);
  EXPECT_EQ(encoded->data_offsets, (std::vector<std::pair<Index, Index>>{{0, 8}}));
}

TEST(SafetensorsRoundTrip, DtypesShapesScalarsAndEmptyTensors) {
  const std::vector<SafetensorsEntry> entries = {
      {"model.embed_tokens.weight", "BF16", {4, 3}},  // 24 bytes
      {"scale", "F32", {}},                           // scalar: 4 bytes
      {"empty", "U8", {0, 5}},                        // zero-size: 0 bytes
      {"mask", "BOOL", {3}},                          // 3 bytes: later tensors start unaligned, as allowed
      {"counts", "I64", {2, 1, 1}},                   // 16 bytes
      {"z", "C64", {1}},                              // 8 bytes
      {"fp8", "F8_E4M3", {2, 2}},                     // 4 bytes
  };
  const Metadata metadata = {{"format", "pt"}, {"note", "quote \" backslash \\ newline \n tab \t é"}};
  const auto encoded = encode_safetensors_header(entries, metadata);
  ASSERT_TRUE(encoded.ok()) << encoded.error().what();
  const std::vector<std::pair<Index, Index>> offsets = {{0, 24}, {24, 28}, {28, 28}, {28, 31},
                                                        {31, 47}, {47, 55}, {55, 59}};
  EXPECT_EQ(encoded->data_offsets, offsets);
  EXPECT_EQ(encoded->data_size, 59);
  EXPECT_EQ(encoded->bytes.size() % 8, 0u);

  const auto header = round_trip(entries, metadata);
  ASSERT_TRUE(header.ok()) << header.error().what();
  const Index n = static_cast<Index>(encoded->bytes.size()) - 8;
  EXPECT_EQ(header->header_size(), n);
  EXPECT_EQ(header->data_start(), 8 + n);
  EXPECT_EQ(header->file_size(), 8 + n + 59);
  EXPECT_EQ(header->data_size(), 59);
  EXPECT_EQ(header->metadata(), metadata);
  ASSERT_EQ(header->tensors().size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const SafetensorsTensor& tensor = header->tensors()[i];  // document order is the given order
    EXPECT_EQ(tensor.name, entries[i].name);
    EXPECT_EQ(tensor.dtype, entries[i].dtype);
    EXPECT_EQ(tensor.element_size, safetensors_dtype_size(entries[i].dtype).value());
    EXPECT_EQ(tensor.shape, entries[i].shape);
    EXPECT_EQ(tensor.data_begin, offsets[i].first);
    EXPECT_EQ(tensor.data_end, offsets[i].second);
    EXPECT_EQ(tensor.file_offset, 8 + n + offsets[i].first);
    EXPECT_EQ(tensor.byte_size(), tensor.numel() * tensor.element_size);
    EXPECT_EQ(header->find(entries[i].name), &tensor);
  }
  EXPECT_EQ(header->find("scale")->numel(), 1);  // a scalar has one element
  EXPECT_TRUE(header->find("scale")->shape.empty());
  EXPECT_EQ(header->find("empty")->numel(), 0);
  EXPECT_EQ(header->find("empty")->byte_size(), 0);
  EXPECT_EQ(header->find("nope"), nullptr);
  EXPECT_EQ(header->find(""), nullptr);
}

TEST(SafetensorsRoundTrip, NoTensorsNoMetadata) {
  const auto encoded = encode_safetensors_header({});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->bytes, raw_file(8, "{}      ", 0));
  const auto header = round_trip({});
  ASSERT_TRUE(header.ok()) << header.error().what();
  EXPECT_TRUE(header->tensors().empty());
  EXPECT_TRUE(header->metadata().empty());
  EXPECT_EQ(header->data_size(), 0);
  // Metadata only.
  const auto with_metadata = round_trip({}, {{"k", "v"}});
  ASSERT_TRUE(with_metadata.ok());
  EXPECT_EQ(with_metadata->metadata(), (Metadata{{"k", "v"}}));
}

TEST(SafetensorsRoundTrip, OddNamesAreEscaped) {
  const std::vector<SafetensorsEntry> entries = {
      {"", "U8", {1}}, {"a\"b\\c", "U8", {1}}, {"ctl\x01\x1f", "U8", {1}}, {"\xE2\x82\xAC", "U8", {1}}};
  const auto header = round_trip(entries);
  ASSERT_TRUE(header.ok()) << header.error().what();
  for (const SafetensorsEntry& entry : entries) ASSERT_NE(header->find(entry.name), nullptr) << entry.name;
}

TEST(SafetensorsRoundTrip, HandWrittenHeaders) {
  // Document order, keys in any order, whitespace, offsets out of document order, zero-size tensors sharing an offset.
  const std::string json = R"( {
    "b": {"data_offsets": [8, 12], "shape": [2], "dtype": "F16"},
    "__metadata__": {},
    "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
    "e1": {"dtype": "F64", "shape": [0], "data_offsets": [8, 8]},
    "e2": {"dtype": "F64", "shape": [3, 0], "data_offsets": [8, 8]},
    "e3": {"dtype": "F64", "shape": [0], "data_offsets": [12, 12]}
  }   )";
  const std::string trimmed = json.substr(1);  // the header must start with '{'; trailing spaces are padding
  const auto header = parse(file(trimmed, 12));
  ASSERT_TRUE(header.ok()) << header.error().what();
  ASSERT_EQ(header->tensors().size(), 5u);
  EXPECT_EQ(header->tensors()[0].name, "b");
  EXPECT_EQ(header->tensors()[1].name, "a");
  EXPECT_EQ(header->find("b")->file_offset, 8 + static_cast<Index>(trimmed.size()) + 8);
  EXPECT_TRUE(header->metadata().empty());
  // Trailing whitespace of every JSON kind is accepted (serde_json does too).
  EXPECT_TRUE(parse(file("{}\n\t\r ", 0)).ok());
}

TEST(SafetensorsRoundTrip, FileStartMayHoldMoreThanTheHeader) {
  const std::vector<std::byte> bytes = file(R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})", 3);
  // The whole file, the prefix and header only, or anything between.
  for (std::size_t size = bytes.size() - 3; size <= bytes.size(); ++size) {
    const auto header = parse_safetensors_header(std::span(bytes).first(size), static_cast<Index>(bytes.size()));
    ASSERT_TRUE(header.ok()) << header.error().what();
    EXPECT_EQ(header->find("a")->file_offset, static_cast<Index>(bytes.size()) - 3);
  }
}

TEST(SafetensorsRoundTrip, NinetyThousandTensors) {
  std::vector<SafetensorsEntry> entries;
  std::mt19937_64 random(7);
  for (int i = 0; i < 90'000; ++i) {
    entries.push_back({"model.layers." + std::to_string(i / 9) + ".mlp.w" + std::to_string(i % 9), "BF16",
                       {static_cast<Index>(random() % 64), static_cast<Index>(random() % 64)}});
  }
  const auto header = round_trip(entries);
  ASSERT_TRUE(header.ok()) << header.error().what();
  ASSERT_EQ(header->tensors().size(), entries.size());
  // Every tensor found by name: find is logarithmic, so this is fast too.
  Index end = 0;
  for (const SafetensorsEntry& entry : entries) {
    const SafetensorsTensor* tensor = header->find(entry.name);
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(tensor->data_begin, end);
    end = tensor->data_end;
  }
  EXPECT_EQ(end, header->data_size());
}

// ---------------------------------------------------------------------------------------------------------------
// Framing

TEST(SafetensorsFraming, TruncatedPrefix) {
  EXPECT_EQ(error_of({}, ErrorCode::parse_error),
            "header: a file of 0 bytes is too short for the 8-byte header length");
  EXPECT_EQ(error_of(std::vector<std::byte>(5), ErrorCode::parse_error),
            "header: a file of 5 bytes is too short for the 8-byte header length");
  // A caller that passes fewer bytes than the file has.
  const std::vector<std::byte> bytes = file("{}", 0);
  const auto short_prefix = read_safetensors_header_size(std::span(bytes).first(4), 100);
  EXPECT_EQ(short_prefix.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(short_prefix.error().what(), "prefix: holds 4 bytes, the header length needs 8");
  const auto short_header = parse_safetensors_header(std::span(bytes).first(9), 10);
  EXPECT_EQ(short_header.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(short_header.error().what(), "file_start: holds 9 bytes, but the prefix and header take 10");
  EXPECT_EQ(parse_safetensors_header(bytes, 5).error().what(),
            "file_start: holds 10 bytes, more than the file size 5");
  EXPECT_EQ(read_safetensors_header_size(bytes, -1).error().what(), "file_size: must be >= 0, got -1");
}

TEST(SafetensorsFraming, HeaderLength) {
  EXPECT_EQ(read_safetensors_header_size(le64(2), 10).value(), 2);
  EXPECT_EQ(read_safetensors_header_size(le64(0x0102), 0x0102 + 8).value(), 0x0102);  // little-endian
  EXPECT_EQ(error_of(raw_file(100, "{}", 40), ErrorCode::parse_error),
            "header: header of 100 bytes does not fit in a file of 50 bytes");
  EXPECT_EQ(error_of(raw_file(3, "{}", 0), ErrorCode::parse_error),
            "header: header of 3 bytes does not fit in a file of 10 bytes");
  // The crate's limit, checked before anything is allocated; the length is unsigned 64-bit.
  EXPECT_EQ(read_safetensors_header_size(le64(100'000'000), 100'000'008).value(), 100'000'000);
  EXPECT_EQ(error_of(raw_file(100'000'001, "{}", 0), ErrorCode::parse_error),
            "header: header of 100000001 bytes exceeds the limit of 100000000 bytes");
  EXPECT_EQ(error_of(raw_file(std::numeric_limits<std::uint64_t>::max(), "{}", 0), ErrorCode::parse_error),
            "header: header of 18446744073709551615 bytes exceeds the limit of 100000000 bytes");
  EXPECT_EQ(error_of(raw_file(std::uint64_t{1} << 63, "{}", 0), ErrorCode::parse_error),
            "header: header of 9223372036854775808 bytes exceeds the limit of 100000000 bytes");
}

TEST(SafetensorsFraming, HeaderMustStartWithABrace) {
  EXPECT_EQ(error_of(file(" {}", 0), ErrorCode::parse_error), "header: must start with '{', found byte 0x20");
  EXPECT_EQ(error_of(file("[]", 0), ErrorCode::parse_error), "header: must start with '{', found byte 0x5B");
  EXPECT_EQ(error_of(file("\xEF\xBB\xBF{}", 0), ErrorCode::parse_error),  // a UTF-8 byte order mark
            "header: must start with '{', found byte 0xEF");
  EXPECT_EQ(error_of(file("", 0), ErrorCode::parse_error), "header: must start with '{', found an empty header (N = 0)");
}

TEST(SafetensorsFraming, MalformedJson) {
  EXPECT_EQ(error_of(file(R"({"a":)", 0), ErrorCode::parse_error),
            "header: line 1, column 6: expected a value, found end of input");
  EXPECT_EQ(error_of(file("{}x", 0), ErrorCode::parse_error),
            "header: line 1, column 3: expected end of input after the top-level value, found 'x'");
  // Zero bytes are not padding (only whitespace is), as in the crate.
  EXPECT_EQ(error_of(file(std::string_view("{}\0\0", 4), 0), ErrorCode::parse_error),
            "header: line 1, column 3: expected end of input after the top-level value, found byte 0x00");
  EXPECT_EQ(error_of(file("{\"\xFF\":1}", 0), ErrorCode::parse_error),
            "header: line 1, column 3: invalid UTF-8 in a string: sequence starting with byte 0xFF");
  const std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  EXPECT_EQ(error_of(file("{\"a\":" + entry + ",\n\"a\":" + entry + "}", 2), ErrorCode::parse_error),
            "header: line 2, column 1: duplicate key \"a\" in an object (first at line 1, column 2)");
}

// ---------------------------------------------------------------------------------------------------------------
// Tensor entries

TEST(SafetensorsEntries, Keys) {
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1})", 4,
                        ErrorCode::invalid_argument),
            "w: unknown key 'extra' (a tensor has exactly dtype, shape and data_offsets)");
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":[1]})", 4, ErrorCode::invalid_argument),
            "w: missing key 'data_offsets'");
  EXPECT_EQ(entry_error(R"({"shape":[1],"data_offsets":[0,4]})", 4, ErrorCode::invalid_argument),
            "w: missing key 'dtype'");
  EXPECT_EQ(entry_error(R"([1])", 0, ErrorCode::invalid_argument),
            "w: expected an object with dtype, shape and data_offsets, got an array");
  EXPECT_EQ(entry_error(R"({"dtype":2,"shape":[1],"data_offsets":[0,4]})", 4, ErrorCode::invalid_argument),
            "w: dtype: expected a string, got 2");
}

TEST(SafetensorsEntries, Dtypes) {
  EXPECT_EQ(entry_error(R"({"dtype":"F128","shape":[1],"data_offsets":[0,16]})", 16, ErrorCode::invalid_argument),
            "w: unknown dtype 'F128' (supported: BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 U16 F16 BF16 I32 U32 F32 I64 "
            "U64 F64 C64)");
  EXPECT_EQ(entry_error(R"({"dtype":"F4","shape":[2],"data_offsets":[0,1]})", 1, ErrorCode::invalid_argument),
            "w: sub-byte dtype F4 is not supported (its elements are not whole bytes)");
  EXPECT_EQ(entry_error(R"({"dtype":"F6_E3M2","shape":[4],"data_offsets":[0,3]})", 3, ErrorCode::invalid_argument),
            "w: sub-byte dtype F6_E3M2 is not supported (its elements are not whole bytes)");
}

TEST(SafetensorsEntries, Shapes) {
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,0]})", 0, ErrorCode::invalid_argument),
            "w: shape[1] must be >= 0, got -3");
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})", 8, ErrorCode::invalid_argument),
            "w: shape[0]: expected a non-negative integer, got 2.0");
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":"2","data_offsets":[0,8]})", 8, ErrorCode::invalid_argument),
            "w: shape: expected an array of sizes, got \"2\"");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[1,99999999999999999999],"data_offsets":[0,8]})", 8,
                        ErrorCode::overflow),
            "w: shape[1]: integer 99999999999999999999 does not fit in int64");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]})", 1,
                        ErrorCode::capacity_exceeded),
            "w: shape has 9 dims, more than the 8 shardplan supports");
  EXPECT_EQ(error_of(file(R"({"w":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1),
                     ErrorCode::invalid_argument),
            "parsed");  // 8 dims is the limit, not past it
}

TEST(SafetensorsEntries, Offsets) {
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4],"data_offsets":[-1,3]})", 4, ErrorCode::invalid_argument),
            "w: data_offsets[0] must be >= 0, got -1");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[0],"data_offsets":[4,0]})", 4, ErrorCode::invalid_argument),
            "w: data_offsets [4, 0] begin after they end");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4],"data_offsets":[0,4,8]})", 4, ErrorCode::invalid_argument),
            "w: data_offsets: expected [begin, end], got 3 values");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4],"data_offsets":{"begin":0}})", 4, ErrorCode::invalid_argument),
            "w: data_offsets: expected [begin, end], got an object");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4],"data_offsets":[0,"4"]})", 4, ErrorCode::invalid_argument),
            "w: data_offsets[1]: expected a non-negative integer, got \"4\"");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4],"data_offsets":[0,18446744073709551616]})", 4,
                        ErrorCode::overflow),
            "w: data_offsets[1]: integer 18446744073709551616 does not fit in int64");
}

TEST(SafetensorsEntries, ShapeAndBytesMustAgree) {
  EXPECT_EQ(entry_error(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})", 20, ErrorCode::invalid_argument),
            "w: shape [2, 3] of F32 needs 24 bytes, but data_offsets [0, 20] hold 20");
  EXPECT_EQ(entry_error(R"({"dtype":"BF16","shape":[],"data_offsets":[0,4]})", 4, ErrorCode::invalid_argument),
            "w: shape [] of BF16 needs 2 bytes, but data_offsets [0, 4] hold 4");
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[0],"data_offsets":[0,1]})", 1, ErrorCode::invalid_argument),
            "w: shape [0] of U8 needs 0 bytes, but data_offsets [0, 1] hold 1");
}

TEST(SafetensorsEntries, OverflowingShapes) {
  // 2^32 * 2^32 elements: the element count overflows.
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]})", 0,
                        ErrorCode::overflow),
            "w: shape [4294967296, 4294967296]: the element count overflows int64");
  // 2^61 elements fit, 2^61 * 8 bytes do not.
  EXPECT_EQ(entry_error(R"({"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]})", 0,
                        ErrorCode::overflow),
            "w: shape [2305843009213693952] of F64: 2305843009213693952 elements * 8 bytes overflows int64");
}

TEST(SafetensorsEntries, LongNamesAreTruncated) {
  const std::string name(100, 'n');
  const auto error = error_of(file("{\"" + name + R"(":{"dtype":"X","shape":[],"data_offsets":[0,0]}})", 0),
                              ErrorCode::invalid_argument);
  EXPECT_EQ(error, std::string(40, 'n') + "...: unknown dtype 'X' (supported: BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 "
                                          "U16 F16 BF16 I32 U32 F32 I64 U64 F64 C64)");
  // Cut at a character boundary: 39 ASCII bytes then a 2-byte character straddling byte 40.
  const std::string utf8 = std::string(39, 'n') + "\xC3\xA9" + "tail";
  const auto cut = error_of(file("{\"" + utf8 + R"(":{"dtype":"X","shape":[],"data_offsets":[0,0]}})", 0),
                            ErrorCode::invalid_argument);
  EXPECT_EQ(cut.substr(0, 45), std::string(39, 'n') + "...: u");
  // The empty name, legal, shows as "".
  EXPECT_EQ(entry_error(R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})", 1, ErrorCode::invalid_argument),
            "parsed");
  EXPECT_EQ(error_of(file(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,2]}})", 2), ErrorCode::invalid_argument),
            "\"\": shape [1] of U8 needs 1 bytes, but data_offsets [0, 2] hold 2");
}

// ---------------------------------------------------------------------------------------------------------------
// Tiling the data buffer

std::string two_tensors(Index a_begin, Index a_end, Index b_begin, Index b_end, Index data_size) {
  std::string json = R"({"first":{"dtype":"U8","shape":[)";
  json += std::to_string(a_end - a_begin) + R"(],"data_offsets":[)" + std::to_string(a_begin) + "," +
          std::to_string(a_end) + R"(]},"second":{"dtype":"U8","shape":[)" + std::to_string(b_end - b_begin) +
          R"(],"data_offsets":[)" + std::to_string(b_begin) + "," + std::to_string(b_end) + "]}}";
  return error_of(file(json, data_size), ErrorCode::invalid_argument);
}

TEST(SafetensorsTiling, Contiguous) {
  EXPECT_EQ(two_tensors(0, 8, 8, 12, 12), "parsed");
  EXPECT_EQ(two_tensors(4, 12, 0, 4, 12), "parsed");  // document order need not be offset order
  EXPECT_EQ(two_tensors(0, 0, 0, 0, 0), "parsed");    // zero-size tensors may share an offset
}

TEST(SafetensorsTiling, Overlaps) {
  EXPECT_EQ(two_tensors(0, 8, 4, 12, 12), "second: data_offsets [4, 12] overlap 'first' at [0, 8]");
  EXPECT_EQ(two_tensors(0, 8, 0, 8, 8), "second: data_offsets [0, 8] overlap 'first' at [0, 8]");
  EXPECT_EQ(two_tensors(0, 8, 4, 4, 8), "second: data_offsets [4, 4] overlap 'first' at [0, 8]");
  EXPECT_EQ(two_tensors(4, 12, 0, 8, 12), "first: data_offsets [4, 12] overlap 'second' at [0, 8]");
}

TEST(SafetensorsTiling, Holes) {
  EXPECT_EQ(two_tensors(0, 8, 12, 16, 16), "second: data_offsets [12, 16] leave a hole of 4 bytes after 'first' at "
                                           "[0, 8]");
  EXPECT_EQ(two_tensors(4, 8, 8, 12, 12), "first: data_offsets [4, 8] leave a hole of 4 bytes at the start of the "
                                          "data buffer (the first tensor begins at 0)");
}

TEST(SafetensorsTiling, TheLastTensorEndsTheFile) {
  EXPECT_EQ(two_tensors(0, 8, 8, 12, 10),
            "data_offsets: tensors end at 12 but the data buffer holds 10 bytes (the last tensor is 'second')");
  EXPECT_EQ(two_tensors(0, 8, 8, 12, 13),
            "data_offsets: tensors end at 12 but the data buffer holds 13 bytes (the last tensor is 'second')");
  EXPECT_EQ(error_of(file("{}", 1), ErrorCode::invalid_argument),
            "data_offsets: tensors end at 0 but the data buffer holds 1 bytes");
  // Offsets far past the end of the file: an error, never a read.
  EXPECT_EQ(two_tensors(0, 1'000'000'000, 1'000'000'000, 1'000'000'001, 0),
            "data_offsets: tensors end at 1000000001 but the data buffer holds 0 bytes (the last tensor is 'second')");
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata

TEST(SafetensorsMetadata, ValuesAreStrings) {
  const auto header = parse(file(R"({"__metadata__":{"format":"pt","b":"2"}})", 0));
  ASSERT_TRUE(header.ok()) << header.error().what();
  EXPECT_EQ(header->metadata(), (Metadata{{"format", "pt"}, {"b", "2"}}));
  EXPECT_EQ(error_of(file(R"({"__metadata__":{"format":"pt","step":3}})", 0), ErrorCode::invalid_argument),
            "__metadata__: the value of 'step' must be a string, got 3");
  EXPECT_EQ(error_of(file(R"({"__metadata__":{"nested":{}}})", 0), ErrorCode::invalid_argument),
            "__metadata__: the value of 'nested' must be a string, got an object");
  EXPECT_EQ(error_of(file(R"({"__metadata__":["format"]})", 0), ErrorCode::invalid_argument),
            "__metadata__: expected an object of string values, got an array");
  EXPECT_EQ(error_of(file(R"({"__metadata__":null})", 0), ErrorCode::invalid_argument),
            "__metadata__: expected an object of string values, got null");
}

// ---------------------------------------------------------------------------------------------------------------
// Encoder rejections: whatever it returns parses back.

TEST(SafetensorsEncode, Rejections) {
  const auto error = [](const std::vector<SafetensorsEntry>& entries, const Metadata& metadata = {}) {
    const auto result = encode_safetensors_header(entries, metadata);
    return result.ok() ? std::string("encoded") : result.error().what();
  };
  EXPECT_EQ(error({{"w", "F128", {1}}}).substr(0, 23), "w: unknown dtype 'F128'");
  EXPECT_EQ(error({{"w", "F4", {2}}}), "w: sub-byte dtype F4 is not supported (its elements are not whole bytes)");
  EXPECT_EQ(error({{"w", "F32", {2, -1}}}), "w: shape[1] must be >= 0, got -1");
  EXPECT_EQ(error({{"w", "U8", {1}}, {"v", "U8", {1}}, {"w", "U8", {2}}}), "w: tensor name repeated");
  EXPECT_EQ(error({{"__metadata__", "U8", {1}}}), "__metadata__: is reserved for the metadata, not a tensor name");
  EXPECT_EQ(error({}, {{"k", "1"}, {"k", "2"}}), "__metadata__: key 'k' repeated");
  EXPECT_EQ(error({{"bad\xFF", "U8", {1}}}),
            "bad\xFF: is not valid UTF-8: line 1, column 5: invalid UTF-8 in a string: sequence starting with byte 0xFF");
  EXPECT_EQ(error({}, {{"k", "\xC3"}}).substr(0, 32), "__metadata__: is not valid UTF-8");
  EXPECT_EQ(error({{"w", "F64", {Index{1} << 61}}}), "w: 2305843009213693952 * 8 overflows int64");
  EXPECT_EQ(error({{"a", "U8", {Index{1} << 62}}, {"b", "U8", {Index{1} << 62}}}),
            "b: 4611686018427387904 + 4611686018427387904 overflows int64");
}

// ---------------------------------------------------------------------------------------------------------------
// Files on disk

class SafetensorsFile : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("shardplan_safetensors_" + std::string(info->name()) + "_" +
             std::to_string(std::random_device{}()) + ".safetensors");
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  void write(const std::vector<std::byte>& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good());
  }
  std::filesystem::path path_;
};

TEST_F(SafetensorsFile, ReadsTheHeaderOfAFileOnDisk) {
  const std::vector<SafetensorsEntry> entries = {{"a", "F32", {2, 3}}, {"b", "I8", {5}}};
  const auto encoded = encode_safetensors_header(entries, Metadata{{"format", "pt"}});
  ASSERT_TRUE(encoded.ok());
  std::vector<std::byte> bytes = encoded->bytes;
  bytes.resize(static_cast<std::size_t>(encoded->file_size()), std::byte{0x7F});
  write(bytes);
  const auto header = read_safetensors_header(path_);
  ASSERT_TRUE(header.ok()) << header.error().what();
  const auto expected = parse(bytes);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(header->tensors(), expected->tensors());
  EXPECT_EQ(header->metadata(), expected->metadata());
  EXPECT_EQ(header->file_size(), static_cast<Index>(bytes.size()));
  EXPECT_EQ(header->find("b")->file_offset, static_cast<Index>(encoded->bytes.size()) + 24);
}

TEST_F(SafetensorsFile, RejectsWhatTheParserRejects) {
  write(raw_file(100, "{}", 0));  // the header claims more bytes than the file has
  const auto truncated = read_safetensors_header(path_);
  EXPECT_EQ(truncated.error().code, ErrorCode::parse_error);
  EXPECT_EQ(truncated.error().what(), "header: header of 100 bytes does not fit in a file of 10 bytes");
  write(std::vector<std::byte>(3));
  EXPECT_EQ(read_safetensors_header(path_).error().what(),
            "header: a file of 3 bytes is too short for the 8-byte header length");
  write(file(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 2));
  EXPECT_EQ(read_safetensors_header(path_).error().what(),
            "data_offsets: tensors end at 4 but the data buffer holds 2 bytes (the last tensor is 'w')");
}

TEST_F(SafetensorsFile, MissingFile) {
  const auto missing = read_safetensors_header(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(missing.error().field, std::string_view("path"));
  const std::string message(missing.error().message.view());
  EXPECT_NE(message.find(path_.filename().string()), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  // A directory is not a file either.
  EXPECT_FALSE(read_safetensors_header(std::filesystem::temp_directory_path()).ok());
}

}  // namespace
}  // namespace shardplan
