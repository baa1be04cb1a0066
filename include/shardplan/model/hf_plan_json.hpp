#pragma once
// Plans written the way HF transformers writes them, so that a built-in plan can be read, compared with a model's
// configuration_<family>.py, edited and given back to `--plan`:
//   {"base_model_tp_plan":{"embed_tokens":"embedding_rowwise","layers.*.self_attn.q_proj":"colwise",...},
//    "base_model_ep_plan":{...},"base_model_sp_plan":{...},"_tp_plan":{"lm_head":"colwise_gather_output"},...}
// Keys under the base model lose their `model.` prefix and go to the base_model_*_plan member; the others (lm_head)
// to the model-level `_tp_plan` / `_ep_plan` / `_sp_plan`. Compact JSON (no spaces), keys in plan order. A member
// with no entries is left out (base_model_tp_plan is always written).
#include "shardplan/core/cxx20.hpp"

#include <string>
#include <string_view>

#include "shardplan/model/plan.hpp"

namespace shardplan {

namespace hf_plan_detail {

inline void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

/// Appends `"member":{key:style,...}` for the entries of `plan` under the base model (`base` true, prefix dropped) or
/// outside it; nothing when there are none, unless `always`.
inline void append_dict(std::string& out, std::string_view member, const Plan& plan, bool base, bool always = false) {
  constexpr std::string_view kPrefix = "model.";
  bool any = always;
  for (const PlanEntry& entry : plan) any = any || entry.key.view().starts_with(kPrefix) == base;
  if (!any) return;
  if (out.size() > 1) out += ',';
  append_json_string(out, member);
  out += ":{";
  bool first = true;
  for (const PlanEntry& entry : plan) {
    const std::string_view key = entry.key.view();
    if (key.starts_with(kPrefix) != base) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, base ? key.substr(kPrefix.size()) : key);
    out += ':';
    append_json_string(out, to_string(entry.style));
  }
  out += '}';
}

}  // namespace hf_plan_detail

/// `plans` as one HF-format JSON object (see the top of this file); plan_set_from_json reads it back.
[[nodiscard]] inline std::string hf_plan_json(const PlanSet& plans) {
  std::string out = "{";
  hf_plan_detail::append_dict(out, "base_model_tp_plan", plans.tp, true, true);
  hf_plan_detail::append_dict(out, "base_model_ep_plan", plans.ep, true);
  hf_plan_detail::append_dict(out, "base_model_sp_plan", plans.sp, true);
  hf_plan_detail::append_dict(out, "_tp_plan", plans.tp, false);
  hf_plan_detail::append_dict(out, "_ep_plan", plans.ep, false);
  hf_plan_detail::append_dict(out, "_sp_plan", plans.sp, false);
  out += '}';
  return out;
}

}  // namespace shardplan
