#pragma once
// Small pieces of Ollama's wire format shared by every endpoint: timestamps, durations, tool
// calls, and random ids.

#include <chrono>
#include <string>
#include <vector>

#include "api/requests.h"
#include "engine/loaded_model.h"

namespace hearth::api {

// RFC 3339 with nanoseconds in UTC ("2026-11-28T10:59:49.123456789Z"): `created_at`.
std::string time_utc_nano(std::chrono::system_clock::time_point t);
// RFC 3339 in local time with its offset ("2026-11-28T11:59:49.1234+01:00"): `modified_at`,
// `expires_at`.
std::string time_local(std::chrono::system_clock::time_point t);
// Go's time.Duration text: "5m0s", "1h0m0s", "300ms", "0s".
std::string format_duration(std::chrono::nanoseconds d);

// "call_" + 8 lowercase alphanumerics.
std::string random_call_id();

// A server-sent event with a name: "event: NAME\ndata: JSON\n\n" (Anthropic's and the Responses
// API's streams; invalid UTF-8 replaced).
std::string sse_event(const std::string& name, const Json& data);

// Ollama's logprobs: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}] (bytes
// and top_logprobs left out when empty). The same array is OpenAI's choices[].logprobs.content.
Json logprobs_json(const std::vector<engine::GeneratedLogprob>& logprobs);

// Native tool calls: [{id, function:{index, name, arguments:{...}}}].
Json tool_calls_json(const std::vector<ToolCall>& calls);

}  // namespace hearth::api
