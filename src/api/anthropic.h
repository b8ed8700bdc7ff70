#pragma once
// The Anthropic Messages API (/v1/messages) as Ollama serves it: requests become native chat
// requests, answers and streams are built from native outputs, errors take Anthropic's shape.

#include <string>
#include <utility>
#include <vector>

#include "api/requests.h"

namespace hearth::api {

// Throws Error(invalid_argument) with Ollama's texts ("model is required", "max_tokens is required
// and must be positive", "messages is required", "tool_use block missing required 'id' field").
// max_tokens becomes num_predict; system (a string or text blocks) a first system message;
// tool_result blocks tool messages (before the user's own text, as Ollama orders them).
ChatRequest parse_anthropic_messages(const Json& body);

// "end_turn", "max_tokens", "tool_use" (any tool call), or "stop_sequence".
std::string anthropic_stop_reason(const std::string& done_reason, bool has_tool_calls);

// What a finished (or finishing) answer holds.
struct AnthropicAnswer {
  std::string thinking, content;
  std::vector<ToolCall> tool_calls;
  std::string done_reason;
  int input_tokens = 0, output_tokens = 0;
};

// The non-streamed message: thinking, text and tool_use blocks in that order.
Json anthropic_message(const std::string& id, const std::string& model, const AnthropicAnswer& a);

// Turns a run's deltas into Anthropic's stream: message_start, then for each block
// content_block_start / content_block_delta... / content_block_stop (thinking, text, tool_use with
// its whole input as one input_json_delta), then message_delta (stop_reason, usage) and
// message_stop. The event order is Ollama's StreamConverter's.
class AnthropicStream {
 public:
  using Event = std::pair<std::string, Json>;  // SSE event name, data
  AnthropicStream(std::string id, std::string model) : id_(std::move(id)), model_(std::move(model)) {}

  std::vector<Event> start(int input_tokens);
  std::vector<Event> add(const std::string& thinking, const std::string& content, const std::vector<ToolCall>& calls);
  std::vector<Event> finish(const std::string& done_reason, int input_tokens, int output_tokens);

 private:
  void stop_block(std::vector<Event>& out);
  void start_block(std::vector<Event>& out, Json block);
  Json delta(Json d) const;

  std::string id_, model_;
  int index_ = 0;
  enum class Open { none, thinking, text } open_ = Open::none;
  bool thinking_done_ = false;
  bool any_tool_calls_ = false;
};

// {"type":"error","error":{"type","message"},"request_id":"req_..."}; type from the HTTP status.
Json anthropic_error(int status, const std::string& message);

// prefix + "_" + 24 random hex digits ("msg_...", "req_..."), as Ollama's generateID.
std::string anthropic_id(const char* prefix);

}  // namespace hearth::api
