#pragma once
// Native request types (/api/generate, /api/chat) and their strict decoding: a field of the wrong
// type is a 400 that names the field; unknown top-level fields are ignored, as Go's decoder does.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/options.h"
#include "chat/message.h"

namespace hearth::api {

// The conversation types are chat's (one definition from the wire to the templates).
using ToolCall = chat::ToolCall;
using Message = chat::Message;

struct GenerateRequest {
  std::string model;
  std::string prompt, suffix, system, template_text;
  std::optional<std::vector<int32_t>> context;
  bool raw = false;
  Json format;  // null, "json" or a schema object
  std::vector<std::string> images;
  Options options;
  std::optional<std::chrono::nanoseconds> keep_alive;
  std::optional<std::string> think;  // "true", "false", "low", "medium", "high", "max"
  bool stream = true;
  bool truncate = true;
  std::optional<bool> shift;  // unset: the model's default (Ollama: off for deepseek2)
  bool logprobs = false;
  int top_logprobs = 0;
  bool debug_render_only = false;
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  Json tools;  // null or an array
  Json format;
  Options options;
  std::optional<std::chrono::nanoseconds> keep_alive;
  std::optional<std::string> think;
  bool stream = true;
  bool truncate = true;
  std::optional<bool> shift;  // unset: the model's default (Ollama: off for deepseek2)
  bool logprobs = false;
  int top_logprobs = 0;
  bool debug_render_only = false;
};

// Parses a request body: Error(invalid_argument) "missing request body" for an empty one, or the
// parser's message for bad JSON. The top level must be an object.
Json parse_body(const std::string& body);

GenerateRequest parse_generate_request(const Json& body);
ChatRequest parse_chat_request(const Json& body);
Message parse_message(const Json& m);

// The function name of the tool call `call_id` in `history` (latest first), or "": tool results
// of the OpenAI-style APIs carry only the call's id, and templates print the name.
std::string tool_name_for(const std::vector<Message>& history, const std::string& call_id);

// keep_alive: a duration string ("5m", "-1m", "0") or a number of seconds.
std::optional<std::chrono::nanoseconds> parse_keep_alive_field(const Json& v);
// think: a bool or one of "low", "medium", "high", "max" (400 "invalid think value" otherwise).
std::optional<std::string> parse_think_field(const Json& v);
// format: null, "", "json" or a JSON schema object.
void validate_format(const Json& v);

// Field helpers shared by the other decoders. Each throws Error(invalid_argument) naming `key`.
std::string get_string(const Json& obj, const char* key, const std::string& fallback = {});
bool get_bool(const Json& obj, const char* key, bool fallback);

// The model name from `model`, or the legacy `name`.
std::string get_model_field(const Json& obj);

}  // namespace hearth::api
