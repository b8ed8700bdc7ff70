#pragma once
// gpt-oss's chat format, "harmony" (OpenAI's openai/harmony), as Ollama renders and parses it.
//
// A conversation is a run of messages `<|start|>{header}<|message|>{text}{end}` where the header
// is a role (system, developer, user, assistant, or a tool's name such as `functions.get_weather`),
// optionally `<|channel|>{analysis|commentary|final}`, a recipient `to=...` and a content type
// `<|constrain|>json`; the end is `<|end|>`, `<|call|>` (a tool call, end of turn) or
// `<|return|>` (the final answer, end of turn). The model thinks in the analysis channel,
// answers in the final channel and calls functions in the commentary channel.
//
// Ollama (server/routes.go shouldUseHarmony) uses this parser for a model whose family is
// gptoss / gpt-oss and whose template contains both <|start|> and <|end|>; the prompt is the
// registry's gpt-oss Go template, which render_harmony reproduces byte for byte for models that
// have no Go template (a GGUF imported on its own).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/message.h"
#include "chat/thinking.h"

namespace hearth::chat {

// gptoss or gpt-oss: Ollama's model families for gpt-oss (Ollama converts to "gptoss", llama.cpp
// writes general.architecture "gpt-oss").
bool is_harmony_family(std::string_view model_family);

// Ollama's shouldUseHarmony: a harmony family and a template with <|start|> and <|end|>.
bool uses_harmony(std::string_view model_family, std::string_view template_source);

// The `think` level harmony's "Reasoning:" line understands: "max" is "high" (Ollama maps it
// before rendering); the others pass through.
ThinkSetting harmony_think(ThinkSetting think);

// Ollama's FunctionNameMap: tool names as the model sees them (TypeScript identifiers: space, '-'
// and '.' become '_', other non-identifier characters are dropped, a leading digit gets '_',
// nothing left is "unnamed", duplicates get _2, _3...), and back. The built-in tools
// browser.search, browser.open, browser.find and python keep their names.
class HarmonyFunctionNames {
 public:
  HarmonyFunctionNames() = default;
  // Names every tool in order, as Ollama's parser Init does.
  explicit HarmonyFunctionNames(const std::vector<ToolDefinition>& tools);

  std::string add(const std::string& user_name);
  // The client's name for a name the model used; unknown names come back unchanged.
  std::string original(const std::string& harmony_name) const;
  // The tools with their function names converted (what the template sees).
  std::vector<ToolDefinition> rename(const std::vector<ToolDefinition>& tools) const;

 private:
  std::map<std::string, std::string> to_harmony_, to_user_;
};

// The tools as Ollama hands them to the gpt-oss template: names converted (HarmonyFunctionNames)
// and each parameter's `type` a list, since api.PropertyType is a []string (an older revision of
// the registry template prints `index $prop.Type 0` and ranges over the types).
std::vector<ToolDefinition> harmony_tools(const std::vector<ToolDefinition>& tools);

struct HarmonyPromptInputs {
  std::vector<Message> messages;      // system messages included, as the request has them
  std::vector<ToolDefinition> tools;  // as harmony_tools gives them
  ThinkSetting think;                 // after harmony_think
  std::string current_date;           // YYYY-MM-DD; empty: today (local time, as Ollama)
};

// The prompt Ollama's gpt-oss template renders (see the file comment of harmony_render.cc).
std::string render_harmony(const HarmonyPromptInputs& in);

// Streaming parser of a harmony response (Ollama's HarmonyMessageHandler): the analysis channel
// is thinking, the final channel (and commentary without a recipient, and unknown channels) is
// content, a message with a recipient (commentary or analysis `to=functions.NAME`) is a tool call
// whose JSON arguments are parsed when the output ends. Markers may be split across pieces: a
// partial end marker is held back until the next piece decides it. Text between messages (before
// a <|start|>) is dropped, as Ollama drops it. <|return|> and <|call|> end the response (they are
// end-of-generation tokens; if the runner passes them on, what follows is ignored).
class HarmonyParser {
 public:
  struct Output {
    std::string thinking;
    std::string content;
    std::vector<ToolCall> calls;
  };

  enum class Prefill { none, content, thinking };

  // `prefill`: the conversation ends with an assistant message that the prompt left open (its
  // content: the final channel; only thinking: the analysis channel), so the output continues
  // it. `names`: the request's tools, to give calls back their client names.
  explicit HarmonyParser(Prefill prefill = Prefill::none, HarmonyFunctionNames names = {});

  Output add(std::string_view piece);
  // End of output: the tool call (if any) is parsed. Arguments that are not a JSON object throw
  // Error(internal) "error parsing tool call: raw='...', err=...", Ollama's answer (a 500, or
  // the stream's last line).
  Output finish();

 private:
  enum class State { before_message, header, body, done };
  enum class Route { content, thinking, tool };
  void run(Output& out);
  void open_message(std::string_view header);

  HarmonyFunctionNames names_;
  State state_ = State::before_message;
  Route route_ = Route::content;
  std::string buf_;
  size_t header_scanned_ = 0;  // header bytes already searched for <|message|>
  std::optional<std::string> recipient_;  // the last tool-call message's recipient
  std::string tool_args_;
};

// Which prefill a conversation's last message asks for (the template's $prefillingContent /
// $prefillingThinkingOnly).
HarmonyParser::Prefill harmony_prefill(const std::vector<Message>& messages);

}  // namespace hearth::chat
