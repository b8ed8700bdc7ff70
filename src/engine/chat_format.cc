#include "engine/chat_format.h"

#include "chat/go_template.h"
#include "chat/harmony.h"

namespace hearth::engine {
namespace {

using OJson = nlohmann::ordered_json;

class HarmonyOutputParser : public OutputParser {
 public:
  HarmonyOutputParser(chat::HarmonyParser::Prefill prefill, chat::HarmonyFunctionNames names)
      : parser_(prefill, std::move(names)) {}

  OutputDelta add(std::string_view piece) override { return delta(parser_.add(piece)); }
  OutputDelta finish() override { return delta(parser_.finish()); }
  bool needs_special_tokens() const override { return true; }
  std::string answer_marker() const override { return "<|channel|>final<|message|>"; }

 private:
  static OutputDelta delta(chat::HarmonyParser::Output o) {
    OutputDelta d;
    d.thinking = std::move(o.thinking);
    d.content = std::move(o.content);
    d.tool_calls = std::move(o.calls);
    return d;
  }
  chat::HarmonyParser parser_;
};

}  // namespace

chat::ThinkSetting think_setting(const std::optional<std::string>& think, bool can_think) {
  chat::ThinkSetting t;
  if (!think) {
    t.enabled = can_think;
    t.level = can_think ? "medium" : "";
    return t;
  }
  t.explicitly_set = true;
  if (*think == "false") return t;
  t.enabled = true;
  // Ollama's ThinkValue.String(): true is "medium", a level is itself ("max" included; only
  // harmony maps it, to "high").
  t.level = *think == "true" ? "medium" : *think;
  return t;
}

std::vector<chat::ToolDefinition> request_tools(const RenderRequest& r) {
  std::vector<chat::ToolDefinition> tools;
  if (r.tools_json.empty()) return tools;
  OJson t = OJson::parse(r.tools_json, nullptr, false);
  if (t.is_array()) {
    for (auto& x : t) tools.push_back(x);
  }
  return tools;
}

bool harmony_applies(const RenderRequest& r, std::string_view arch, std::string_view gguf_template) {
  const std::string_view family = r.model_family.empty() ? arch : std::string_view(r.model_family);
  return chat::uses_harmony(family, r.modelfile_template.empty() ? gguf_template : r.modelfile_template);
}

std::string render_harmony_request(const RenderRequest& r, bool can_think) {
  std::vector<chat::ToolDefinition> tools = chat::harmony_tools(request_tools(r));
  const chat::ThinkSetting think = chat::harmony_think(think_setting(r.think, can_think));
  const std::string& go_template = r.request_template.empty() ? r.modelfile_template : r.request_template;
  if (!go_template.empty()) {
    chat::GoTemplateValues v;
    v.messages = r.messages;
    v.tools = std::move(tools);
    v.think = think;
    return chat::render_go_template(chat::GoTemplate::parse(go_template), v);
  }
  chat::HarmonyPromptInputs in;
  in.messages = r.messages;
  in.tools = std::move(tools);
  in.think = think;
  return chat::render_harmony(in);
}

std::unique_ptr<OutputParser> make_harmony_output_parser(const RenderRequest& r) {
  // /api/generate renders no assistant message to continue; chat may end with one.
  return std::make_unique<HarmonyOutputParser>(chat::harmony_prefill(r.messages),
                                               chat::HarmonyFunctionNames(request_tools(r)));
}

}  // namespace hearth::engine
