#pragma once
// Internal to src/server: turning a chat or generate request into a prompt on a leased model,
// and running it with output parsed into content, thinking and tool calls. Shared by the native
// and the OpenAI handlers.

#include <functional>
#include <memory>
#include <string>

#include "server/connection_probe.h"
#include "server/server_state.h"

namespace hearth::server {

struct Run {
  std::unique_ptr<engine::Scheduler::Lease> lease;
  ResolvedModel model;
  std::string requested_name;  // echoed as "model" in responses
  std::string prompt;          // rendered text
  engine::CompletionJob job;
  std::unique_ptr<engine::OutputParser> parser;
  std::chrono::steady_clock::time_point started;
  int64_t load_ns = 0;
  bool want_context = false;   // /api/generate without raw
  bool want_logprobs = false;
};

// What a request asks the model for, after the endpoint's own fields are read.
struct Conversation {
  std::string model;
  std::vector<api::Message> messages;  // the request's own; model MESSAGEs/SYSTEM added here
  api::Json tools;
  api::Json format;
  api::Options options;
  std::optional<std::chrono::nanoseconds> keep_alive;
  std::optional<std::string> think;
  bool truncate = true;
  std::optional<bool> shift;  // unset: the model's default (shifts_by_default in generation.cc)
  bool relax_thinking = false;  // think on a model that cannot: answer without (not a 400)
  bool logprobs = false;        // report each token's log-probability...
  int top_logprobs = 0;         // ...and this many alternatives
  // generate only
  bool is_generate = false;
  bool raw = false;
  std::string raw_prompt, suffix, template_text;
  std::optional<std::vector<int32_t>> context;
};

Conversation conversation_from(const api::ChatRequest& r);
Conversation conversation_from(const api::GenerateRequest& r);

// Resolves, leases (loading when needed), renders and tokenizes. Errors before any output.
std::unique_ptr<Run> prepare_run(State& s, const Conversation& c, ConnectionProbe& probe);

// Runs the job; `emit` gets each parsed delta and returns false when the client is gone.
engine::CompletionOutcome execute_run(State& s, Run& run,
                                      const std::function<bool(const engine::OutputDelta&)>& emit,
                                      ConnectionProbe& probe);

// Handles an empty prompt / empty messages: loads the model (done_reason "load") or, with
// keep_alive 0, unloads it ("unload"). Returns the done_reason.
std::string load_or_unload(State& s, const Conversation& c, ConnectionProbe& probe);

// A parsed call numbered within its answer, with an id when the model gave none.
api::ToolCall to_api_tool_call(const chat::ToolCall& t, int index);

// Everything a non-streamed answer gathers from a run's deltas.
struct GatheredOutput {
  std::string content, thinking;
  std::vector<api::ToolCall> tool_calls;
  std::vector<engine::GeneratedLogprob> logprobs;
  void add(const engine::OutputDelta& d);
};

// Runs the job to its end, gathering the output (non-streamed answers). Error(cancelled)
// "request canceled" (499) when the client left.
GatheredOutput run_to_end(State& s, Run& run, ConnectionProbe& probe, engine::CompletionOutcome* outcome);

// A streamed answer as server-sent events with names ("event: NAME\ndata: JSON\n\n"), the shape
// of /v1/messages and /v1/responses. Each callback returns the events to send; tool calls come
// numbered across the whole answer.
using NamedEvents = std::vector<std::pair<std::string, api::Json>>;
struct NamedEventStream {
  std::function<NamedEvents()> start;
  std::function<NamedEvents(const engine::OutputDelta&, const std::vector<api::ToolCall>&)> add;
  std::function<NamedEvents(const engine::CompletionOutcome&)> finish;
  std::function<NamedEvents(int status, const std::string& message)> error;  // after the start
};
void respond_named_events(State& s, httplib::Response& res, std::shared_ptr<Run> run, ConnectionProbe probe,
                          std::shared_ptr<NamedEventStream> stream);

// Final-chunk statistics shared by generate and chat.
void add_stats(api::Json& j, const Run& run, const engine::CompletionOutcome& out);

ConnectionProbe probe_for(const httplib::Request& req);

}  // namespace hearth::server
