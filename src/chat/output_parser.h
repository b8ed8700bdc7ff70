#pragma once
// The model's output stream split three ways, as /api/chat reports it: thinking, content and
// whole tool calls. Thinking is split first (tool calls inside thinking stay thinking), then the
// content goes through the tool-call parser.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/thinking.h"
#include "chat/tool_calls.h"

namespace hearth::chat {

struct OutputParserOptions {
  // Thinking tags when thinking is on (infer_thinking_tags), else nullopt.
  std::optional<std::pair<std::string, std::string>> thinking_tags;
  bool start_in_thinking = false;  // prompt_opens_thinking(rendered prompt)
  ToolCallFormat tool_format = ToolCallFormat::none;  // none unless the request has tools
  std::vector<std::string> tool_names;
};

class ChatOutputParser {
 public:
  struct Output {
    std::string thinking;
    std::string content;
    std::vector<ToolCall> calls;
  };

  explicit ChatOutputParser(OutputParserOptions options);

  Output add(std::string_view piece);
  Output finish();

 private:
  void route(ThinkingParser::Output t, Output& out, bool final);

  std::unique_ptr<ThinkingParser> thinking_;
  ToolCallParser tools_;
};

}  // namespace hearth::chat
