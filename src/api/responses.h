#pragma once
// OpenAI's Responses API (/v1/responses) as Ollama serves it: the request becomes a native chat
// request, and the answer (or its SSE stream) is built from the run's output. Ollama keeps no
// state between responses (no previous_response_id, store false).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/requests.h"

namespace hearth::api {

struct ResponsesRequest {
  ChatRequest chat;
  // Echoed in the response object.
  std::string instructions;
  Json tools = Json::array();            // as sent
  Json text_format = Json{{"type", "text"}};
  std::string reasoning_effort, reasoning_summary;
  std::optional<double> temperature, top_p;
  std::optional<int> max_output_tokens;
  std::string truncation = "disabled";
  bool background = false;
};

// Throws Error(invalid_argument) with Ollama's texts ("input[1]: unknown input item type: \"x\"").
ResponsesRequest parse_responses_request(const Json& body);

struct ResponsesAnswer {
  std::string thinking, content;
  std::vector<ToolCall> tool_calls;
  int input_tokens = 0, output_tokens = 0;
};

// The non-streamed response object (status "completed"): a reasoning item when there was
// thinking, then the function_call items, or else one message item with the text.
Json responses_response(const ResponsesRequest& r, const std::string& response_id, const std::string& item_id,
                        const ResponsesAnswer& a);

// The SSE stream, in Ollama's event order: response.created, response.in_progress; per output
// item response.output_item.added ... response.output_item.done (reasoning: reasoning_summary_
// text.delta/.done; message: content_part.added, output_text.delta..., output_text.done,
// content_part.done; function_call: function_call_arguments.delta/.done); response.completed.
// Every event carries its `type` and a `sequence_number` from 0.
class ResponsesStream {
 public:
  using Event = std::pair<std::string, Json>;
  ResponsesStream(const ResponsesRequest& r, std::string response_id, std::string item_id)
      : request_(r), response_id_(std::move(response_id)), item_id_(std::move(item_id)) {}

  std::vector<Event> start();
  std::vector<Event> add(const std::string& thinking, const std::string& content, const std::vector<ToolCall>& calls);
  std::vector<Event> finish(int input_tokens, int output_tokens);
  // An error after the stream started: {"type":"error","code","message","param"}.
  Event error(const std::string& message);

 private:
  Event event(const char* type, Json data);
  void finish_reasoning(std::vector<Event>& out);

  const ResponsesRequest& request_;
  std::string response_id_, item_id_;
  int sequence_ = 0;
  int output_index_ = 0;
  bool reasoning_open_ = false, text_open_ = false, tool_calls_sent_ = false;
  std::string reasoning_id_, thinking_, text_;
  Json completed_ = Json::array();
};

// "resp_<n>" / "msg_<n>" / "rs_<n>" with n in 0..999998, as Ollama does.
std::string responses_id(const char* prefix);

}  // namespace hearth::api
