#pragma once
// The server's generic output parser, used when a model has no dedicated one: text between the
// thinking tags (only when they open the response, after leading whitespace) is thinking, and
// JSON between tool-call tags (`<tool_call>{"name":..,"arguments":{..}}</tool_call>`) becomes
// tool calls. Partial tags at the end of a piece are held back until the next piece decides them.

#include <string>

#include "chat/partial_tag.h"
#include "engine/loaded_model.h"

namespace hearth::server {

struct TagParserOptions {
  bool thinking = false;          // parse thinking at all
  bool start_in_thinking = false; // the prompt already opened the thinking block
  std::string think_open = "<think>", think_close = "</think>";
  bool tools = false;
  std::string tool_open = "<tool_call>", tool_close = "</tool_call>";
};

class TagOutputParser : public engine::OutputParser {
 public:
  explicit TagOutputParser(TagParserOptions options);
  engine::OutputDelta add(std::string_view piece) override;
  engine::OutputDelta finish() override;

 private:
  enum class State { leading, thinking, after_thinking, content, tool_call };
  void step(engine::OutputDelta& out, bool final);
  void finish_tool_call(engine::OutputDelta& out, bool final);

  TagParserOptions o_;
  State state_;
  std::string buf_;
};

using chat::partial_tag_suffix;  // chat/partial_tag.h

}  // namespace hearth::server
