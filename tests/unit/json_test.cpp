// The strict JSON reader: exact values of every kind, string escapes and UTF-8, the int64/double boundary, every
// rejection with its line/column message, duplicate keys, the depth limit, the typed getters, constant evaluation,
// and a property test: random documents printed by a small writer (with random whitespace and escapes) parse back
// to equal values.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/test_support.hpp"
#include "shardplan/core/json.hpp"

namespace shardplan {

[[maybe_unused]] static void PrintTo(const JsonValue& value, std::ostream* os) { *os << value.describe().view(); }

namespace {

using testing_support::Random;

JsonValue parse(std::string_view text) {
  auto result = parse_json(text);
  EXPECT_TRUE(result.ok()) << text << " -> " << result.error().what();
  return result.ok() ? std::move(result).value() : JsonValue();
}

std::string error_of(std::string_view text) {
  const auto result = parse_json(text);
  if (result.ok()) return std::string("parsed: ").append(result->describe().view());
  EXPECT_EQ(result.error().code, ErrorCode::parse_error) << text;
  return result.error().what();
}

JsonMember member(std::string_view key, JsonValue value) {
  return JsonMember{std::vector<char>(key.begin(), key.end()), std::move(value)};
}

// ---------------------------------------------------------------------------------------------------------------
// Compile time: a document parsed, queried and rejected inside constant expressions.

constexpr std::string_view kConfig = R"({
  "hidden_size": 4096, "rms_norm_eps": 1e-05, "name": "llama\u00e9", "tie": false,
  "layers": [0, 1, -2], "rope": {"theta": 500000.0}, "dropout": null
})";
static_assert(parse_json(kConfig)->get_int("hidden_size").value() == 4096);
static_assert(parse_json(kConfig)->get_double("rms_norm_eps").value() == 1e-05);
static_assert(parse_json(kConfig)->get_string("name").value() == "llama\xC3\xA9");
static_assert(!parse_json(kConfig)->get_bool("tie").value());
static_assert(parse_json(kConfig)->get_array("layers")->back().as_int() == -2);
static_assert(parse_json(kConfig)->get_object("rope").value()->get_double("theta").value() == 500000.0);
static_assert(parse_json(kConfig)->find("dropout")->is_null());
static_assert(parse_json(kConfig)->size() == 7);
static_assert(parse_json(kConfig)->get_int("name").error().message == "expected an integer, got \"llama\xC3\xA9\"");
static_assert(parse_json("[1,]").error().message ==
              "line 1, column 4: expected a value after ',' in an array, found ']' (a trailing comma)");
static_assert(parse_json("-9223372036854775808")->as_int() == std::numeric_limits<Index>::min());
static_assert(parse_json("10000000000000000000")->as_double() == 1e19);  // beyond int64: a double
// Numbers that need more than one exact IEEE operation are refused in constant evaluation, not approximated.
static_assert(parse_json("0.30000000000000004441").error().message ==
              "line 1, column 1: number 0.30000000000000004441 needs run-time conversion (more than 2^53 or an "
              "exponent beyond 22)");

// ---------------------------------------------------------------------------------------------------------------
// Values

TEST(JsonValues, EveryKind) {
  EXPECT_EQ(parse("null"), JsonValue());
  EXPECT_TRUE(parse("null").is_null());
  EXPECT_EQ(parse("true"), JsonValue::boolean(true));
  EXPECT_EQ(parse("false"), JsonValue::boolean(false));
  EXPECT_EQ(parse("0"), JsonValue::integer(0));
  EXPECT_EQ(parse("-17"), JsonValue::integer(-17));
  EXPECT_EQ(parse("4096").as_int(), 4096);
  EXPECT_EQ(parse("2.5"), JsonValue::number(2.5));
  EXPECT_EQ(parse("\"bf16\"").as_string(), "bf16");
  EXPECT_EQ(parse("\"\"").as_string(), "");
  EXPECT_EQ(parse("[]"), JsonValue::array({}));
  EXPECT_EQ(parse("{}"), JsonValue::object({}));
  EXPECT_EQ(parse(" \t\r\n [ 1 , \"a\" , [ ] , { } , null ] \n"),
            JsonValue::array({JsonValue::integer(1), JsonValue::string("a"), JsonValue::array({}),
                              JsonValue::object({}), JsonValue()}));
  EXPECT_EQ(parse(R"({"b": 1, "a": {"c": [true]}})"),
            JsonValue::object({member("b", JsonValue::integer(1)),
                               member("a", JsonValue::object({member("c", JsonValue::array({JsonValue::boolean(
                                                                                true)}))}))}));
}

TEST(JsonValues, KindsAreDistinct) {
  EXPECT_NE(parse("1"), parse("1.0"));  // an integer and a double are different kinds
  EXPECT_EQ(parse("1.0"), parse("1.00"));
  EXPECT_EQ(parse("1.0"), parse("1e0"));
  EXPECT_NE(parse("0"), parse("false"));
  EXPECT_NE(parse("null"), parse("[]"));
  EXPECT_NE(parse(R"({"a":1,"b":2})"), parse(R"({"b":2,"a":1})"));  // document order is kept and compared
  EXPECT_EQ(parse("1.0").kind(), JsonKind::number);
  EXPECT_TRUE(parse("1.0").is_number());
  EXPECT_TRUE(parse("1").is_number());
}

TEST(JsonValues, MembersKeepDocumentOrder) {
  const JsonValue object = parse(R"({"z": 1, "a": 2, "m": 3})");
  ASSERT_EQ(object.members().size(), 3u);
  EXPECT_EQ(object.members()[0].key(), "z");
  EXPECT_EQ(object.members()[1].key(), "a");
  EXPECT_EQ(object.members()[2].key(), "m");
  EXPECT_EQ(object.find("m")->as_int(), 3);
  EXPECT_EQ(object.find("q"), nullptr);
  EXPECT_TRUE(object.contains("a"));
  EXPECT_EQ(parse("[1]").find("a"), nullptr);  // not an object
  EXPECT_EQ(parse("[1,2]").size(), 2u);
  EXPECT_EQ(parse("7").size(), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Strings

TEST(JsonStrings, Escapes) {
  EXPECT_EQ(parse(R"("\" \\ \/ \b \f \n \r \t")").as_string(), "\" \\ / \b \f \n \r \t");
  EXPECT_EQ(parse(R"("\u0041\u00e9\u00E9\u20ac")").as_string(), "A\xC3\xA9\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse(R"("\u0000")").as_string(), std::string_view("\0", 1));  // embedded NUL, length kept
  EXPECT_EQ(parse(R"("\u007f\u0080\u07ff\u0800\uffff")").as_string(),
            "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF");
  // Surrogate pairs become one 4-byte UTF-8 sequence.
  EXPECT_EQ(parse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(parse(R"("\uD800\uDC00")").as_string(), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(parse(R"("\udbff\udfff")").as_string(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(parse(R"("a\ud83d\ude00b")").as_string(), "a\xF0\x9F\x98\x80" "b");
}

TEST(JsonStrings, RawUtf8PassesThrough) {
  EXPECT_EQ(parse("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F\"").as_string(),
            "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F");
  EXPECT_EQ(parse("\"\xF4\x8F\xBF\xBF\"").as_string(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(parse("\"\xEF\xBF\xBF\"").as_string(), "\xEF\xBF\xBF");          // U+FFFF, a noncharacter but valid
}

TEST(JsonStrings, Rejections) {
  EXPECT_EQ(error_of(R"("\ud800")"), "json: line 1, column 2: \\uD800 is a high surrogate not followed by a \\u low "
                                     "surrogate");
  EXPECT_EQ(error_of(R"("\ud800x")"), "json: line 1, column 2: \\uD800 is a high surrogate not followed by a \\u low "
                                      "surrogate");
  EXPECT_EQ(error_of(R"("\ud800\u0041")"),
            "json: line 1, column 2: \\uD800 is a high surrogate followed by \\u0041, not by a low surrogate");
  EXPECT_EQ(error_of(R"("\ud800\ud800")"),
            "json: line 1, column 2: \\uD800 is a high surrogate followed by \\uD800, not by a low surrogate");
  EXPECT_EQ(error_of(R"(["ok", "\udc00"])"), "json: line 1, column 9: \\uDC00 is a low surrogate without a high one");
  EXPECT_EQ(error_of(R"("\x")"), "json: line 1, column 2: invalid escape in a string: '\\' followed by 'x'");
  EXPECT_EQ(error_of(R"("\U0041")"), "json: line 1, column 2: invalid escape in a string: '\\' followed by 'U'");
  EXPECT_EQ(error_of(R"("\u12g4")"), "json: line 1, column 6: expected 4 hex digits after '\\u', found 'g'");
  EXPECT_EQ(error_of(R"("\u12)"), "json: line 1, column 6: expected 4 hex digits after '\\u', found end of input");
  EXPECT_EQ(error_of("\"\\"), "json: line 1, column 2: invalid escape in a string: '\\' followed by end of input");
  EXPECT_EQ(error_of("\"ab"),
            "json: line 1, column 4: expected '\"' to close the string opened at line 1, column 1, found end of input");
  EXPECT_EQ(error_of("\"a\nb\""), "json: line 1, column 3: control character 0x0A must be escaped in a string");
  EXPECT_EQ(error_of("\"a\tb\""), "json: line 1, column 3: control character 0x09 must be escaped in a string");
  EXPECT_EQ(error_of(std::string_view("\"\0\"", 3)),
            "json: line 1, column 2: control character 0x00 must be escaped in a string");
  EXPECT_EQ(error_of("'single'"), "json: line 1, column 1: expected a value, found '''");
}

TEST(JsonStrings, InvalidUtf8) {
  const auto bad = [](std::string_view text, std::string_view lead) {
    std::string expected = "json: line 1, column 3: invalid UTF-8 in a string: sequence starting with byte ";
    expected += lead;
    EXPECT_EQ(error_of(text), expected) << testing::PrintToString(text);
  };
  bad("\"a\x80\"", "0x80");                  // a lone continuation byte
  bad("\"a\xC0\xAF\"", "0xC0");              // overlong '/'
  bad("\"a\xC1\xBF\"", "0xC1");              // overlong
  bad("\"a\xE0\x80\xAF\"", "0xE0");          // overlong 3-byte
  bad("\"a\xF0\x80\x80\xAF\"", "0xF0");      // overlong 4-byte
  bad("\"a\xED\xA0\x80\"", "0xED");          // U+D800 encoded directly
  bad("\"a\xF4\x90\x80\x80\"", "0xF4");      // above U+10FFFF
  bad("\"a\xF5\x80\x80\x80\"", "0xF5");      // no such lead byte
  bad("\"a\xFF\"", "0xFF");
  bad("\"a\xC3\"", "0xC3");                  // truncated by the closing quote
  bad("\"a\xE2\x82\"", "0xE2");
  bad("\"a\xC3", "0xC3");                    // truncated by the end of input
  bad("\"a\xE2\x82\x41\"", "0xE2");          // an ASCII byte where a continuation should be
  EXPECT_EQ(error_of("\xEF\xBB\xBF{}"), "json: line 1, column 1: expected a value, found byte 0xEF");  // a BOM
  EXPECT_EQ(error_of("[\xC3\xA9]"), "json: line 1, column 2: expected a value, found byte 0xC3");
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers

TEST(JsonNumbers, Int64IsExact) {
  EXPECT_EQ(parse("9223372036854775807"), JsonValue::integer(std::numeric_limits<Index>::max()));
  EXPECT_EQ(parse("-9223372036854775808"), JsonValue::integer(std::numeric_limits<Index>::min()));
  EXPECT_EQ(parse("-0"), JsonValue::integer(0));
  EXPECT_EQ(parse("[0,-1,10,123456789012]"),
            JsonValue::array({JsonValue::integer(0), JsonValue::integer(-1), JsonValue::integer(10),
                              JsonValue::integer(123456789012)}));
}

TEST(JsonNumbers, BeyondInt64IsADouble) {
  const JsonValue above = parse("9223372036854775808");
  EXPECT_EQ(above.kind(), JsonKind::number);
  EXPECT_EQ(above.as_double(), 9223372036854775808.0);
  EXPECT_EQ(above.number_text(), "9223372036854775808");
  const JsonValue below = parse("-9223372036854775809");
  EXPECT_EQ(below.kind(), JsonKind::number);
  EXPECT_EQ(below.as_double(), -9223372036854775808.0);
  EXPECT_EQ(parse("100000000000000000000000000000").as_double(), 1e29);
  // int_value reports it as an overflow, not as a type error.
  const auto overflow = above.int_value("vocab_size");
  EXPECT_EQ(overflow.error().code, ErrorCode::overflow);
  EXPECT_EQ(overflow.error().what(), "vocab_size: integer 9223372036854775808 does not fit in int64");
}

TEST(JsonNumbers, DoublesAreCorrectlyRounded) {
  const auto value = [](std::string_view text) { return parse(text).as_double(); };
  EXPECT_EQ(value("0.5"), 0.5);
  EXPECT_EQ(value("-2.25"), -2.25);
  EXPECT_EQ(value("1e-05"), 1e-05);
  EXPECT_EQ(value("1E5"), 100000.0);
  EXPECT_EQ(value("1e+2"), 100.0);
  EXPECT_EQ(value("500000.0"), 500000.0);
  EXPECT_EQ(value("0.1"), 0.1);
  EXPECT_EQ(value("0.30000000000000004"), 0.30000000000000004);
  EXPECT_EQ(value("3.141592653589793238462643383279"), 3.141592653589793);  // more digits than a double holds
  EXPECT_EQ(value("0.1000000000000000055511151231257827"), 0.1);
  EXPECT_EQ(value("1.7976931348623157e308"), std::numeric_limits<double>::max());
  EXPECT_EQ(value("2.2250738585072014e-308"), std::numeric_limits<double>::min());
  EXPECT_EQ(value("4.9e-324"), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(value("0.000000000000000000000000000001"), 1e-30);
  EXPECT_EQ(value("123456789012345678901234567890e-10"), 12345678901234567890.1234567890);
  // Too small for a double: rounds to (signed) zero. Too large: an error.
  EXPECT_EQ(value("1e-400"), 0.0);
  EXPECT_TRUE(std::signbit(value("-1e-400")));
  EXPECT_TRUE(std::signbit(value("-0.0")));
  EXPECT_EQ(value("0e999999999999999999999"), 0.0);
  EXPECT_EQ(error_of("1e400"), "json: line 1, column 1: number 1e400 is outside the range of a double");
  EXPECT_EQ(error_of("[1, -1.8e308]"), "json: line 1, column 5: number -1.8e308 is outside the range of a double");
}

TEST(JsonNumbers, FastPathAgreesWithFromChars) {
  Random random(20240617);
  for (int i = 0; i < 20000; ++i) {
    std::string text = random.percent(30) ? "-" : "";
    text += std::to_string(random.uniform(0, 9));
    if (random.percent(70)) {
      text += '.';
      const Index digits = random.uniform(1, 18);
      for (Index d = 0; d < digits; ++d) text += static_cast<char>('0' + random.uniform(0, 9));
    }
    if (random.percent(60)) {
      text += random.percent(50) ? "e" : "E";
      text += std::to_string(random.uniform(-340, 310));
    }
    double expected = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), expected);
    if (status == std::errc::result_out_of_range) continue;  // covered above
    ASSERT_EQ(status, std::errc()) << text;
    const JsonValue parsed = parse(text);
    ASSERT_TRUE(parsed.is_number()) << text;
    EXPECT_EQ(parsed.as_double(), expected) << text;
  }
}

TEST(JsonNumbers, Rejections) {
  EXPECT_EQ(error_of("01"), "json: line 1, column 2: numbers must not have leading zeros, found '1'");
  EXPECT_EQ(error_of("-012"), "json: line 1, column 3: numbers must not have leading zeros, found '1'");
  EXPECT_EQ(error_of("00"), "json: line 1, column 2: numbers must not have leading zeros, found '0'");
  EXPECT_EQ(error_of("-"), "json: line 1, column 2: expected a digit after '-', found end of input");
  EXPECT_EQ(error_of("-a"), "json: line 1, column 2: expected a digit after '-', found 'a'");
  EXPECT_EQ(error_of("- 1"), "json: line 1, column 2: expected a digit after '-', found byte 0x20");
  EXPECT_EQ(error_of("1."), "json: line 1, column 3: expected a digit after '.', found end of input");
  EXPECT_EQ(error_of("1.e5"), "json: line 1, column 3: expected a digit after '.', found 'e'");
  EXPECT_EQ(error_of("1e"), "json: line 1, column 3: expected a digit in the exponent, found end of input");
  EXPECT_EQ(error_of("1e+"), "json: line 1, column 4: expected a digit in the exponent, found end of input");
  EXPECT_EQ(error_of(".5"), "json: line 1, column 1: expected a value, found '.'");
  EXPECT_EQ(error_of("+1"), "json: line 1, column 1: expected a value, found '+'");
  EXPECT_EQ(error_of("NaN"), "json: line 1, column 1: expected a value, found 'NaN'");
  EXPECT_EQ(error_of("Infinity"), "json: line 1, column 1: expected a value, found 'Infinity'");
  EXPECT_EQ(error_of("-Infinity"), "json: line 1, column 2: expected a digit after '-', found 'Infinity'");
  EXPECT_EQ(error_of("0x10"), "json: line 1, column 2: expected end of input after the top-level value, found 'x'");
  EXPECT_EQ(error_of("1_000"), "json: line 1, column 2: expected end of input after the top-level value, found '_'");
}

// ---------------------------------------------------------------------------------------------------------------
// Structure

TEST(JsonStructure, Rejections) {
  EXPECT_EQ(error_of(""), "json: line 1, column 1: expected a value, found end of input");
  EXPECT_EQ(error_of("  \n "), "json: line 2, column 2: expected a value, found end of input");
  EXPECT_EQ(error_of("[1,]"), "json: line 1, column 4: expected a value after ',' in an array, found ']' (a trailing "
                              "comma)");
  EXPECT_EQ(error_of("{\"a\":1,}"), "json: line 1, column 8: expected a string key after ',' in an object, found "
                                    "'}' (a trailing comma)");
  EXPECT_EQ(error_of("[,1]"), "json: line 1, column 2: expected a value, found ','");
  EXPECT_EQ(error_of("[1 2]"), "json: line 1, column 4: expected ',' or ']' after an array element, found '2'");
  EXPECT_EQ(error_of("[1"), "json: line 1, column 3: expected ',' or ']' after an array element, found end of input");
  EXPECT_EQ(error_of("[1}"), "json: line 1, column 3: expected ',' or ']' after an array element, found '}'");
  EXPECT_EQ(error_of("{"), "json: line 1, column 2: expected a string key or '}' in an object, found end of input");
  EXPECT_EQ(error_of("{a:1}"), "json: line 1, column 2: expected a string key or '}' in an object, found 'a'");
  EXPECT_EQ(error_of("{'a':1}"), "json: line 1, column 2: expected a string key or '}' in an object, found '''");
  EXPECT_EQ(error_of("{1:2}"), "json: line 1, column 2: expected a string key or '}' in an object, found '1'");
  EXPECT_EQ(error_of("{\"a\" 1}"), "json: line 1, column 6: expected ':' after an object key, found '1'");
  EXPECT_EQ(error_of("{\"a\":}"), "json: line 1, column 6: expected a value, found '}'");
  EXPECT_EQ(error_of("{\"a\":1 \"b\":2}"),
            "json: line 1, column 8: expected ',' or '}' after an object member, found '\"'");
  EXPECT_EQ(error_of("{\"a\":1]"), "json: line 1, column 7: expected ',' or '}' after an object member, found ']'");
  EXPECT_EQ(error_of("{\"a\":1,,}"), "json: line 1, column 8: expected a string key after ',' in an object, found "
                                     "','");
  EXPECT_EQ(error_of("1 2"), "json: line 1, column 3: expected end of input after the top-level value, found '2'");
  EXPECT_EQ(error_of("{} {}"), "json: line 1, column 4: expected end of input after the top-level value, found '{'");
  EXPECT_EQ(error_of("truex"), "json: line 1, column 5: expected end of input after the top-level value, found 'x'");
  EXPECT_EQ(error_of("nul"), "json: line 1, column 1: expected a value, found 'nul'");
  EXPECT_EQ(error_of("True"), "json: line 1, column 1: expected a value, found 'True'");
  EXPECT_EQ(error_of("None"), "json: line 1, column 1: expected a value, found 'None'");
  EXPECT_EQ(error_of("\f1"), "json: line 1, column 1: expected a value, found byte 0x0C");  // not JSON whitespace
  EXPECT_EQ(error_of("\xC2\xA0" "1"), "json: line 1, column 1: expected a value, found byte 0xC2");
}

TEST(JsonStructure, CommentsAreRejected) {
  EXPECT_EQ(error_of("// config\n{}"), "json: line 1, column 1: expected a value, found '/'");
  EXPECT_EQ(error_of("{} // done"), "json: line 1, column 4: expected end of input after the top-level value, found "
                                    "'/'");
  EXPECT_EQ(error_of("[1, /* two */ 2]"), "json: line 1, column 5: expected a value, found '/'");
  EXPECT_EQ(error_of("{\"a\": 1 # x\n}"),
            "json: line 1, column 9: expected ',' or '}' after an object member, found '#'");
}

TEST(JsonStructure, LineAndColumnCountBytesAndNewlines) {
  const std::string_view text = "{\n  \"a\": 1,\n  \"b\": [1, 2],\n  \"c\": 3\n  \"d\": 4\n}";
  EXPECT_EQ(error_of(text), "json: line 5, column 3: expected ',' or '}' after an object member, found '\"'");
  EXPECT_EQ(error_of("{\r\n  \"a\": 1,\r\n  \"b\" 2}"),
            "json: line 3, column 7: expected ':' after an object key, found '2'");
  EXPECT_EQ(error_of("[\"\xC3\xA9\xC3\xA9\", x]"), "json: line 1, column 10: expected a value, found 'x'");  // bytes
  EXPECT_EQ(error_of("{\n\"a\": [1,\n2,\n]}"),
            "json: line 4, column 1: expected a value after ',' in an array, found ']' (a trailing comma)");
  const auto named = parse_json("[1,,]", "config.json");
  EXPECT_EQ(named.error().what(), "config.json: line 1, column 4: expected a value, found ','");
  EXPECT_EQ(named.error().field, std::string_view("config.json"));
}

TEST(JsonStructure, DuplicateKeys) {
  EXPECT_EQ(error_of(R"({"a": 1, "b": 2, "a": 3})"),
            "json: line 1, column 18: duplicate key \"a\" in an object (first at line 1, column 2)");
  EXPECT_EQ(error_of("{\n  \"hidden_size\": 1,\n  \"x\": 0,\n  \"hidden_size\": 2\n}"),
            "json: line 4, column 3: duplicate key \"hidden_size\" in an object (first at line 2, column 3)");
  // Escapes are decoded before comparing: "\u0061" is "a".
  EXPECT_EQ(error_of(R"({"a": 1, "\u0061": 2})"),
            "json: line 1, column 10: duplicate key \"a\" in an object (first at line 1, column 2)");
  // The first repeat in document order is reported, whatever the key order.
  EXPECT_EQ(error_of(R"({"z": 1, "a": 1, "z": 2, "a": 2})"),
            "json: line 1, column 18: duplicate key \"z\" in an object (first at line 1, column 2)");
  EXPECT_EQ(error_of(R"({"x": {"k": 1, "k": 2}})"),
            "json: line 1, column 16: duplicate key \"k\" in an object (first at line 1, column 8)");
  // The same key in different objects, or differing only in case, is fine.
  EXPECT_TRUE(parse_json(R"({"k": {"k": 1}, "j": [{"k": 1}, {"k": 2}], "K": 0})").ok());
  EXPECT_TRUE(parse_json(R"({"": 1, " ": 2})").ok());
  EXPECT_EQ(error_of(R"({"": 1, "": 2})"),
            "json: line 1, column 9: duplicate key \"\" in an object (first at line 1, column 2)");
  // Many members: detected without quadratic work.
  std::string big = "{";
  for (int i = 0; i < 50000; ++i) {
    // Appended piecewise: GCC 12's -Wrestrict misfires on `"literal" + std::string` at -O2.
    big += "\"k";
    big += std::to_string(i);
    big += "\":0,";
  }
  big += "\"k123\":0}";
  std::string expected = "json: line 1, column ";
  expected += std::to_string(big.rfind("\"k123\"") + 1);
  expected += ": duplicate key \"k123\" in an object (first at line 1, column ";
  expected += std::to_string(big.find("\"k123\"") + 1);
  expected += ")";
  EXPECT_EQ(error_of(big), expected);
}

TEST(JsonStructure, DepthLimit) {
  const auto nested = [](std::size_t depth, char open, char close) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += open == '{' ? "{\"a\":" : "[";
    text += "0";
    for (std::size_t i = 0; i < depth; ++i) text += close;
    return text;
  };
  EXPECT_EQ(kJsonMaxDepth, 128u);
  const JsonValue deepest = parse(nested(128, '[', ']'));
  const JsonValue* inner = &deepest;
  for (int i = 0; i < 128; ++i) inner = &inner->items()[0];
  EXPECT_EQ(*inner, JsonValue::integer(0));
  EXPECT_EQ(error_of(nested(129, '[', ']')), "json: line 1, column 129: arrays and objects nested deeper than 128");
  EXPECT_TRUE(parse_json(nested(128, '{', '}')).ok());
  EXPECT_EQ(error_of(nested(129, '{', '}')), "json: line 1, column 641: arrays and objects nested deeper than 128");
  // Far deeper input is still an error, not a stack overflow.
  EXPECT_EQ(error_of(std::string(1'000'000, '[')),
            "json: line 1, column 129: arrays and objects nested deeper than 128");
}

// ---------------------------------------------------------------------------------------------------------------
// Typed getters

TEST(JsonGetters, ValuesAndErrors) {
  const JsonValue config = parse(R"({"hidden_size": 4096, "name": "llama", "eps": 1e-5, "tie": true, "dims": [1, 2],
                                     "rope": {"theta": 1}, "null": null, "big": 1e3, "bf": "4096"})");
  EXPECT_EQ(config.get_int("hidden_size").value(), 4096);
  EXPECT_EQ(config.get_string("name").value(), "llama");
  EXPECT_EQ(config.get_double("eps").value(), 1e-5);
  EXPECT_EQ(config.get_double("hidden_size").value(), 4096.0);  // an integer is a number too
  EXPECT_TRUE(config.get_bool("tie").value());
  EXPECT_EQ(config.get_array("dims")->size(), 2u);
  EXPECT_EQ(config.get_object("rope").value()->get_int("theta").value(), 1);
  EXPECT_TRUE(config.get("null").value()->is_null());

  const auto what = [](const auto& result) { return result.error().what(); };
  EXPECT_EQ(what(config.get_int("missing")), "missing: missing");
  EXPECT_EQ(what(config.get_int("name")), "name: expected an integer, got \"llama\"");
  EXPECT_EQ(what(config.get_int("bf")), "bf: expected an integer, got \"4096\"");
  EXPECT_EQ(what(config.get_int("eps")), "eps: expected an integer, got 1e-5");
  EXPECT_EQ(what(config.get_int("big")), "big: expected an integer, got 1e3");  // integral, but not an integer
  EXPECT_EQ(what(config.get_int("null")), "null: expected an integer, got null");
  EXPECT_EQ(what(config.get_string("tie")), "tie: expected a string, got true");
  EXPECT_EQ(what(config.get_bool("dims")), "dims: expected a boolean, got an array");
  EXPECT_EQ(what(config.get_array("rope")), "rope: expected an array, got an object");
  EXPECT_EQ(what(config.get_object("hidden_size")), "hidden_size: expected an object, got 4096");
  EXPECT_EQ(what(config.get_double("name")), "name: expected a number, got \"llama\"");
  // A path names nested fields.
  EXPECT_EQ(what(config.get_object("rope").value()->get_string("theta", "rope.theta")),
            "rope.theta: expected a string, got 1");
  EXPECT_EQ(what(config.get_object("rope").value()->get_int("factor", "rope.factor")), "rope.factor: missing");
  EXPECT_EQ(what(parse("[1]").get_int("a")), "a: expected an object, got an array");
  EXPECT_EQ(config.get_int("name").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parse(R"({"s": "0123456789012345678901234567890123456789"})").get_int("s").error().what(),
            "s: expected an integer, got \"012345678901234567890123456789012345...\"");
}

TEST(JsonGetters, ValueConversions) {
  EXPECT_EQ(parse("12").int_value("x").value(), 12);
  EXPECT_EQ(parse("\"a\"").string_value("x").value(), "a");
  EXPECT_EQ(parse("[1]").array_value("x")->front().as_int(), 1);
  EXPECT_EQ(parse("1.5").double_value("x").value(), 1.5);
  EXPECT_EQ(parse("false").bool_value("x").value(), false);
  EXPECT_EQ(parse("{}").object_value("x").value()->size(), 0u);
  EXPECT_EQ(parse("1.5").int_value("x").error().what(), "x: expected an integer, got 1.5");
  EXPECT_EQ(JsonValue::number(2.5).describe(), std::string_view("a number"));  // no source text
  EXPECT_EQ(JsonValue::number(2.5, "2.50").describe(), std::string_view("2.50"));
}

// ---------------------------------------------------------------------------------------------------------------
// Property: random documents written with random whitespace and escapes parse back to equal values.

class Writer {
 public:
  explicit Writer(Random& random) : random_(random) {}

  std::string write(const JsonValue& value) {
    out_.clear();
    space();
    value_of(value);
    space();
    return out_;
  }

 private:
  void space() {
    static constexpr char kSpaces[] = {' ', '\t', '\n', '\r'};
    while (random_.percent(15)) out_ += kSpaces[random_.index(4)];
  }
  void string_of(std::string_view text) {
    out_ += '"';
    for (std::size_t i = 0; i < text.size();) {
      const auto byte = static_cast<unsigned char>(text[i]);
      const std::size_t length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
      if (byte == '"' || byte == '\\') {
        out_ += '\\';
        out_ += text[i];
      } else if (byte < 0x20 || random_.percent(10)) {
        escape(decode(text.substr(i, length)));
      } else {
        out_ += text.substr(i, length);
      }
      i += length;
    }
    out_ += '"';
  }
  static unsigned decode(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(s[i])); };
    if (s.size() == 1) return b(0);
    if (s.size() == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    if (s.size() == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
  void escape(unsigned code) {
    if (code >= 0x10000) {
      escape(0xD800 + ((code - 0x10000) >> 10));
      escape(0xDC00 + ((code - 0x10000) & 0x3FF));
      return;
    }
    static constexpr std::string_view kShort = "\b\f\n\r\t/";
    if (const std::size_t i = kShort.find(static_cast<char>(code)); code < 0x80 && i != std::string_view::npos &&
                                                                   random_.percent(50)) {
      out_ += '\\';
      out_ += "bfnrt/"[i];
      return;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, random_.percent(50) ? "\\u%04x" : "\\u%04X", code);
    out_ += hex;
  }
  void value_of(const JsonValue& value) {
    switch (value.kind()) {
      case JsonKind::null: out_ += "null"; break;
      case JsonKind::boolean: out_ += value.as_bool() ? "true" : "false"; break;
      case JsonKind::integer: out_ += std::to_string(value.as_int()); break;
      case JsonKind::number: {
        char text[40];
        const auto end = std::to_chars(text, text + sizeof text, value.as_double()).ptr;
        std::string_view printed(text, static_cast<std::size_t>(end - text));
        out_ += printed;
        if (printed.find_first_of(".e") == std::string_view::npos) out_ += ".0";  // stay a double
        break;
      }
      case JsonKind::string: string_of(value.as_string()); break;
      case JsonKind::array:
        out_ += '[';
        for (std::size_t i = 0; i < value.items().size(); ++i) {
          if (i > 0) out_ += ',';
          space();
          value_of(value.items()[i]);
          space();
        }
        out_ += ']';
        break;
      case JsonKind::object:
        out_ += '{';
        for (std::size_t i = 0; i < value.members().size(); ++i) {
          if (i > 0) out_ += ',';
          space();
          string_of(value.members()[i].key());
          space();
          out_ += ':';
          space();
          value_of(value.members()[i].value);
          space();
        }
        out_ += '}';
        break;
    }
  }

  Random& random_;
  std::string out_;
};

/// UTF-8 of a random code point: mostly ASCII (incl. control characters, quotes, backslashes), some of every length.
std::string random_char(Random& random) {
  const Index range = random.uniform(0, 3);
  unsigned code = static_cast<unsigned>(range == 0 ? random.uniform(0, 0x7F)
                                        : range == 1 ? random.uniform(0x80, 0x7FF)
                                        : range == 2 ? random.uniform(0x800, 0xFFFF)
                                                     : random.uniform(0x10000, 0x10FFFF));
  if (code >= 0xD800 && code <= 0xDFFF) code = 'x';  // not a character
  std::string out;
  const auto push = [&](unsigned b) { out += static_cast<char>(static_cast<unsigned char>(b)); };
  if (code < 0x80) {
    push(code);
  } else if (code < 0x800) {
    push(0xC0 | (code >> 6));
    push(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    push(0xE0 | (code >> 12));
    push(0x80 | ((code >> 6) & 0x3F));
    push(0x80 | (code & 0x3F));
  } else {
    push(0xF0 | (code >> 18));
    push(0x80 | ((code >> 12) & 0x3F));
    push(0x80 | ((code >> 6) & 0x3F));
    push(0x80 | (code & 0x3F));
  }
  return out;
}

std::string random_string(Random& random) {
  std::string out;
  const Index length = random.uniform(0, 6);
  for (Index i = 0; i < length; ++i) out += random_char(random);
  return out;
}

double random_double(Random& random) {
  if (random.percent(50)) return static_cast<double>(random.uniform(-100000, 100000)) / 64.0;
  double value = 0;
  do {
    const auto bits = (static_cast<std::uint64_t>(random.uniform(0, 0xFFFFFFFF)) << 32) |
                      static_cast<std::uint64_t>(random.uniform(0, 0xFFFFFFFF));
    std::memcpy(&value, &bits, sizeof value);
  } while (!std::isfinite(value));
  return value;
}

JsonValue random_value(Random& random, int depth) {
  const Index kind = random.uniform(0, depth >= 4 ? 4 : 6);
  switch (kind) {
    case 0: return random.percent(30) ? JsonValue() : JsonValue::boolean(random.percent(50));
    case 1: {
      const Index extreme = random.uniform(0, 9);
      if (extreme == 0) return JsonValue::integer(std::numeric_limits<Index>::min());
      if (extreme == 1) return JsonValue::integer(std::numeric_limits<Index>::max());
      return JsonValue::integer(random.uniform(-1000000, 1000000));
    }
    case 2: return JsonValue::number(random_double(random));
    case 3:
    case 4: return JsonValue::string(random_string(random));
    case 5: {
      std::vector<JsonValue> items;
      const Index count = random.uniform(0, 5);
      for (Index i = 0; i < count; ++i) items.push_back(random_value(random, depth + 1));
      return JsonValue::array(std::move(items));
    }
    default: {
      std::vector<JsonMember> members;
      const Index count = random.uniform(0, 5);
      for (Index i = 0; i < count; ++i) {
        std::string key = random_string(random);
        key += '#';  // unique within the object
        key += std::to_string(i);
        members.push_back(member(key, random_value(random, depth + 1)));
      }
      return JsonValue::object(std::move(members));
    }
  }
}

TEST(JsonProperty, WrittenDocumentsParseBackEqual) {
  Random random(7);
  Writer writer(random);
  for (int i = 0; i < 3000; ++i) {
    const JsonValue original = random_value(random, 0);
    const std::string text = writer.write(original);
    const auto parsed = parse_json(text);
    ASSERT_TRUE(parsed.ok()) << text << " -> " << parsed.error().what();
    ASSERT_EQ(*parsed, original) << text;
    // Cutting a document inside its value leaves an error (a cut number may still be a number).
    const std::size_t cut = random.index(text.size());
    const auto truncated = parse_json(std::string_view(text).substr(0, cut));
    if (truncated.ok()) {
      EXPECT_TRUE(*truncated == original || original.is_number()) << text.substr(0, cut);
    } else {
      EXPECT_FALSE(truncated.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace shardplan
