#pragma once
// Tool calls in model output: which syntax a template teaches its model, and an incremental
// parser that turns output pieces into content plus whole ToolCalls.

#include <string>
#include <string_view>
#include <vector>

#include "chat/message.h"

namespace hearth::chat {

enum class ToolCallFormat {
  none,
  hermes,    // Qwen 2.5/3, Hermes: <tool_call>{"name": ..., "arguments": {...}}</tool_call>
  deepseek,  // DeepSeek-R1/V3: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>name\n```json\n{...}\n```<｜tool▁call▁end｜>...
  json,      // Llama 3.x: the reply is a bare JSON object {"name": ..., "parameters"|"arguments": {...}}
};

// The syntax a Jinja or Go template renders tool calls in (none when it renders no tools).
ToolCallFormat detect_tool_call_format(std::string_view template_source);

// Whether a template can render tool definitions (Ollama's `tools` capability: a Go template
// that uses .Tools, a Jinja template that mentions tools or tool_call).
bool template_supports_tools(std::string_view template_source);

class ToolCallParser {
 public:
  struct Output {
    std::string content;
    std::vector<ToolCall> calls;
  };

  // `tool_names`: the request's tools; a JSON-format call must name one of them.
  ToolCallParser(ToolCallFormat format, std::vector<std::string> tool_names);

  Output add(std::string_view piece);
  // End of output: an unterminated call is parsed if it is complete JSON, else returned as content.
  Output finish();

 private:
  void run(Output& out, bool final);
  bool parse_hermes_block(std::string_view body, Output& out);
  bool parse_deepseek_block(std::string_view body, Output& out);
  bool parse_json_calls(std::string_view body, Output& out);
  bool add_call(const std::string& name, const nlohmann::ordered_json& args, Output& out);

  ToolCallFormat format_;
  std::vector<std::string> names_;
  std::string buf_;
  bool in_call_ = false;    // inside an opening tag (or, for json, a leading object)
  bool abandoned_ = false;  // json: text came first, so the reply is plain content
  bool seen_text_ = false;
  int next_index_ = 0;
};

}  // namespace hearth::chat
