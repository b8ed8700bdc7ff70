#pragma once
// The one message type of a conversation, from every wire format (Ollama /api/chat, OpenAI /v1,
// Anthropic /v1/messages, the Responses API) through the server and the engine to the chat
// templates. Tool definitions stay JSON values: their schema is the client's, and templates
// print it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::chat {

struct ToolCall {
  std::string id;        // "call_xxxxxxxx" (empty when the client sent none)
  int index = 0;         // position within its message
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // key order preserved
};

struct Message {
  std::string role;      // system, user, assistant, tool (lowercased on decode)
  std::string content;
  std::string thinking;  // assistant reasoning (Ollama `thinking`, OpenAI `reasoning_content`)
  std::vector<ToolCall> tool_calls;
  std::string tool_name;     // role "tool": which function produced this result
  std::string tool_call_id;  // role "tool": the call it answers
  std::vector<std::string> images;  // base64, as the wire carries them
};

// A message with only a role and text.
inline Message text_message(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

// {type:"function", function:{name, description, parameters}} as the client sent it.
using ToolDefinition = nlohmann::ordered_json;

// Ollama's 400 text when tools are sent to a model whose template cannot render them;
// the server formats it with the model's full name ("registry.ollama.ai/library/m:tag").
inline constexpr const char* kToolsNotSupportedFormat = "%s does not support tools";
inline constexpr const char* kThinkingNotSupportedFormat = "\"%s\" does not support thinking";
std::string tools_not_supported_message(const std::string& full_model_name);
std::string thinking_not_supported_message(const std::string& model_name);

}  // namespace hearth::chat
