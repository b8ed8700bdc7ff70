#include "chat/output_parser.h"

namespace hearth::chat {

ChatOutputParser::ChatOutputParser(OutputParserOptions o) : tools_(o.tool_format, std::move(o.tool_names)) {
  if (o.thinking_tags)
    thinking_ = std::make_unique<ThinkingParser>(o.thinking_tags->first, o.thinking_tags->second, o.start_in_thinking);
}

void ChatOutputParser::route(ThinkingParser::Output t, Output& out, bool final) {
  out.thinking += t.thinking;
  ToolCallParser::Output c = tools_.add(t.content);
  out.content += c.content;
  for (auto& call : c.calls) out.calls.push_back(std::move(call));
  if (final) {
    c = tools_.finish();
    out.content += c.content;
    for (auto& call : c.calls) out.calls.push_back(std::move(call));
  }
}

ChatOutputParser::Output ChatOutputParser::add(std::string_view piece) {
  Output out;
  ThinkingParser::Output t;
  if (thinking_) t = thinking_->add(piece);
  else t.content = std::string(piece);
  route(std::move(t), out, false);
  return out;
}

ChatOutputParser::Output ChatOutputParser::finish() {
  Output out;
  ThinkingParser::Output t;
  if (thinking_) t = thinking_->finish();
  route(std::move(t), out, true);
  return out;
}

}  // namespace hearth::chat
