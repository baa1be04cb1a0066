// Fuzzes the JSON reader and the config.json reader. Invariants: never crashes; every error is a parse_error (JSON)
// or names a field (config) and says something; what parses prints canonically (a small printer below) and re-parses
// to an equal value whose print is the same text; the typed getters agree with the kinds.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shardplan/core/json.hpp"
#include "shardplan/model/config_json.hpp"

using namespace shardplan;

namespace {

void print(const JsonValue& value, std::string& out);

void print_string(std::string_view text, std::string& out) {
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += "0123456789abcdef"[byte >> 4];
      out += "0123456789abcdef"[byte & 0xF];
    } else {
      out += c;  // the reader guarantees valid UTF-8
    }
  }
  out += '"';
}

void print(const JsonValue& value, std::string& out) {
  switch (value.kind()) {
    case JsonKind::null: out += "null"; break;
    case JsonKind::boolean: out += value.as_bool() ? "true" : "false"; break;
    case JsonKind::integer: out += std::to_string(value.as_int()); break;
    case JsonKind::number: {
      char text[40];
      const char* end = std::to_chars(text, text + sizeof text, value.as_double()).ptr;
      const std::string_view printed(text, static_cast<std::size_t>(end - text));
      out += printed;
      if (printed.find_first_of(".e") == std::string_view::npos) out += ".0";  // stay a double, not an integer
      break;
    }
    case JsonKind::string: print_string(value.as_string(), out); break;
    case JsonKind::array:
      out += '[';
      for (std::size_t i = 0; i < value.items().size(); ++i) {
        if (i > 0) out += ',';
        print(value.items()[i], out);
      }
      out += ']';
      break;
    case JsonKind::object:
      out += '{';
      for (std::size_t i = 0; i < value.members().size(); ++i) {
        if (i > 0) out += ',';
        print_string(value.members()[i].key(), out);
        out += ':';
        print(value.members()[i].value, out);
      }
      out += '}';
      break;
  }
}

void check_getters(const JsonValue& object) {
  for (const JsonMember& member : object.members()) {
    const JsonValue* found = object.find(member.key());
    if (found != &member.value) std::abort();  // keys are unique: find returns this very member
    if (object.get_int(member.key()).ok() != member.value.is_int()) std::abort();
    if (object.get_string(member.key()).ok() != member.value.is_string()) std::abort();
    if (object.get_double(member.key()).ok() != member.value.is_number()) std::abort();
    if (object.get_array(member.key()).ok() != member.value.is_array()) std::abort();
    if (object.get_object(member.key()).ok() != member.value.is_object()) std::abort();
    if (member.value.is_object()) check_getters(member.value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto config = model_config_from_json(text);
  if (!config.ok() && config.error().message.empty()) std::abort();
  if (config.ok() && (config->hidden_size <= 0 || config->num_key_value_heads <= 0 || config->head_dim <= 0 ||
                      config->num_attention_heads % config->num_key_value_heads != 0 ||
                      config->num_experts_per_tok > config->num_experts)) {
    std::abort();
  }

  const auto parsed = parse_json(text);
  if (!parsed.ok()) {
    if (parsed.error().code != ErrorCode::parse_error || !parsed.error().message.view().starts_with("line ")) {
      std::abort();
    }
    return 0;
  }
  if (parsed->is_object()) check_getters(*parsed);
  std::string printed;
  print(*parsed, printed);
  const auto reparsed = parse_json(printed);
  if (!reparsed.ok() || !(*reparsed == *parsed)) std::abort();
  std::string printed_again;
  print(*reparsed, printed_again);
  if (printed_again != printed) std::abort();
  return 0;
}
