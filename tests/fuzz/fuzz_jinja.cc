// libFuzzer target: parse and render arbitrary Jinja (and Go) templates against a fixed chat
// context. Hostile templates must end in a hearth::Error, never a crash, hang or huge allocation:
// the limits below bound output, steps and macro depth.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/go_template.h"
#include "chat/jinja_template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "sys"},
      {"role": "user", "content": "Hi <b>"},
      {"role": "assistant", "content": "<think>r</think>ok", "reasoning_content": "r",
       "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]},
      {"role": "tool", "content": "42"}],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  hearth::chat::JinjaRenderOptions opts;
  opts.limits.max_output_bytes = 1 << 20;
  opts.limits.max_steps = 200'000;
  opts.limits.max_call_depth = 32;
  opts.now = 1736937000;
  try {
    hearth::chat::JinjaTemplate::parse(src).render(context(), opts);
  } catch (const hearth::Error&) {
  }
  try {
    hearth::chat::GoTemplateValues v;
    v.messages = {{"system", "sys", "", {}, "", "", {}}, {"user", "hi", "", {}, "", "", {}}};
    hearth::chat::render_go_template(hearth::chat::GoTemplate::parse(src), v);
  } catch (const hearth::Error&) {
  }
  return 0;
}
