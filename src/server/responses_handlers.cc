// /v1/responses: OpenAI's Responses API over the same runs as /api/chat, stateless as Ollama's.
// Streams are SSE with named events; errors take OpenAI's shape.

#include "api/responses.h"
#include "server/generation.h"

namespace hearth::server {

void handle_openai_responses(Call& call) {
  auto r = std::make_shared<api::ResponsesRequest>(api::parse_responses_request(call.json_body()));
  ConnectionProbe probe = probe_for(call.req);
  std::shared_ptr<Run> run = prepare_run(call.s, conversation_from(r->chat), probe);
  const std::string response_id = api::responses_id("resp_"), item_id = api::responses_id("msg_");
  if (r->chat.stream) {
    auto conv = std::make_shared<api::ResponsesStream>(*r, response_id, item_id);
    auto events = std::make_shared<NamedEventStream>();
    // `conv` reads the request it was made from: the callbacks keep it alive.
    events->start = [conv, r] { return conv->start(); };
    events->add = [conv](const engine::OutputDelta& d, const std::vector<api::ToolCall>& calls) {
      return conv->add(d.thinking, d.content, calls);
    };
    events->finish = [conv](const engine::CompletionOutcome& out) {
      return conv->finish(out.prompt_eval_count, out.eval_count);
    };
    events->error = [conv](int, const std::string& message) { return NamedEvents{conv->error(message)}; };
    respond_named_events(call.s, call.res, std::move(run), probe, std::move(events));
    return;
  }
  engine::CompletionOutcome out;
  GatheredOutput all = run_to_end(call.s, *run, probe, &out);
  api::ResponsesAnswer a{all.thinking, all.content, all.tool_calls, out.prompt_eval_count, out.eval_count};
  send_json(call.res, 200, api::responses_response(*r, response_id, item_id, a));
}

}  // namespace hearth::server
