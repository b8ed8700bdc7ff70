#include "chat/prompt.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

bool contains_any(std::string_view s, std::initializer_list<std::string_view> needles) {
  for (auto n : needles)
    if (s.find(n) != std::string_view::npos) return true;
  return false;
}

}  // namespace

Json jinja_chat_context(const PromptInputs& in, std::string_view src) {
  const bool object_args =
      contains_any(src, {"arguments | tojson", "arguments|tojson", "arguments is string", "arguments|items",
                         "arguments | items", "arguments is mapping"}) ||
      src.find("arguments") == std::string_view::npos;
  const bool null_content_for_calls = contains_any(src, {"content'] is none", "content is none", "content\"] is none"});
  Json messages = Json::array();
  for (const auto& m : in.messages) {
    Json j = Json::object();
    j["role"] = m.role;
    if (m.role == "assistant" && m.content.empty() && !m.tool_calls.empty() && null_content_for_calls)
      j["content"] = nullptr;
    else
      j["content"] = m.content;
    if (!m.thinking.empty()) j["reasoning_content"] = m.thinking;
    if (!m.tool_calls.empty()) {
      Json calls = Json::array();
      for (const auto& c : m.tool_calls) {
        Json call = Json::object();
        if (!c.id.empty()) call["id"] = c.id;
        call["type"] = "function";
        Json fn = Json::object();
        fn["name"] = c.name;
        fn["arguments"] = object_args ? c.arguments : Json(c.arguments.dump());
        call["function"] = fn;
        calls.push_back(call);
      }
      j["tool_calls"] = calls;
    }
    if (m.role == "tool") {
      if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
      if (!m.tool_name.empty()) j["name"] = m.tool_name;
    }
    messages.push_back(std::move(j));
  }
  Json ctx = Json::object();
  ctx["messages"] = std::move(messages);
  if (in.tools.empty()) {
    ctx["tools"] = nullptr;
  } else {
    Json tools = Json::array();
    for (const auto& t : in.tools) tools.push_back(t);
    ctx["tools"] = std::move(tools);
  }
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = in.add_generation_prompt;
  ctx["bos_token"] = in.bos_token;
  ctx["eos_token"] = in.eos_token;
  ctx["enable_thinking"] = in.think.enabled;
  return ctx;
}

std::string render_jinja_chat(const JinjaTemplate& tmpl, std::string_view src, const PromptInputs& in,
                              const JinjaRenderOptions& options) {
  return tmpl.render(jinja_chat_context(in, src), options);
}

}  // namespace hearth::chat
