#pragma once
// Thinking (reasoning) support: the `think` request field with Ollama's defaults, the streaming
// splitter of model output into thinking and content, and the history filter that removes
// <think> blocks from earlier assistant turns.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/message.h"

namespace hearth::chat {

// The resolved `think` setting. Templates see .Think / .ThinkLevel / .IsThinkSet (Go) or
// enable_thinking (Jinja).
struct ThinkSetting {
  bool enabled = false;
  bool explicitly_set = false;  // the request carried `think`
  std::string level;            // "low" | "medium" | "high" ("" when disabled)
};

// Applies Ollama's rules to the request's `think` value (null/absent, bool, or a level string):
// absent -> on when the model can think; true -> level "medium"; a level is itself ("max" too: only
// harmony maps it to "high", see harmony_think); other strings
// -> 400 "invalid think value"; true or a level on a model that cannot think -> 400
// "\"<model>\" does not support thinking". Throws Error(invalid_argument).
ThinkSetting resolve_think(const nlohmann::json& think, bool model_can_think, const std::string& model_name);

// Splits a model's output stream into thinking and content as pieces arrive, whatever the
// piece boundaries (a tag may be split across pieces). Ollama's state machine: leading
// whitespace is skipped; the opening tag must come first, else everything is content;
// whitespace right after either tag is dropped.
class ThinkingParser {
 public:
  struct Output {
    std::string thinking;
    std::string content;
  };

  // `start_in_thinking`: the prompt already ends with the opening tag (DeepSeek-R1 templates).
  explicit ThinkingParser(std::string open_tag = "<think>", std::string close_tag = "</think>",
                          bool start_in_thinking = false);

  Output add(std::string_view piece);
  // End of output: anything held back (a partial tag) is released.
  Output finish();

  bool in_thinking() const { return state_ == State::thinking_ws || state_ == State::thinking; }

 private:
  enum class State { looking, thinking_ws, thinking, done_ws, done };
  std::string open_, close_;
  State state_;
  std::string buf_;
};

// True when `prompt` ends (ignoring trailing whitespace) with `open_tag`: the model's output
// then starts inside its thinking.
bool prompt_opens_thinking(std::string_view prompt, std::string_view open_tag = "<think>");

// Ollama's filterThinkTags: for assistant messages before the last user message, the
// <think>...</think> part of `content` is removed (the `thinking` field is left alone). The
// server applies it to thinking-family models (qwen3, deepseek-r1).
void filter_think_tags(std::vector<Message>& messages);

}  // namespace hearth::chat
