#pragma once
// The OpenAI-compatible surface (ollama-compat.md section 2): requests are translated into the
// native ones, with OpenAI's defaults (temperature and top_p 1.0), and errors use OpenAI's shape.

#include <optional>
#include <string>

#include "api/requests.h"

namespace hearth::api {

struct OpenAIChatRequest {
  ChatRequest chat;
  bool include_usage = false;
};

struct OpenAICompletionRequest {
  GenerateRequest generate;
  bool include_usage = false;
};

// Throw Error(invalid_argument) with OpenAI-style messages ("[] is too short - 'messages'").
OpenAIChatRequest parse_openai_chat(const Json& body);
OpenAICompletionRequest parse_openai_completion(const Json& body);

// The base64 payload of a data: URL (image parts); other URLs are a 400, as in Ollama.
std::string image_from_data_url(const std::string& url);

// reasoning effort -> think: none false, minimal low, low/medium/high/max, xhigh/ultra max.
std::optional<std::string> think_from_reasoning_effort(const std::string& effort);

// {"error":{"message","type","param":null,"code":null}}; type from the HTTP status.
Json openai_error(int status, const std::string& message);

// OpenAI tool calls: [{id, index, type:"function", function:{name, arguments:"<json text>"}}].
Json openai_tool_calls(const std::vector<ToolCall>& calls);

// "stop", "length" or "tool_calls".
std::string openai_finish_reason(const std::string& done_reason, bool has_tool_calls);

// "chatcmpl-<n>" / "cmpl-<n>" with n in 0..998, as Ollama does.
std::string openai_id(const char* prefix);

}  // namespace hearth::api
