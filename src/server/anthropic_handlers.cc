// /v1/messages: Anthropic's Messages API over the same runs as /api/chat. Streams are SSE with
// named events ("event: content_block_delta\ndata: {...}\n\n"); errors take Anthropic's shape.

#include "api/anthropic.h"
#include "server/generation.h"

namespace hearth::server {

void handle_anthropic_messages(Call& call) {
  api::ChatRequest r = api::parse_anthropic_messages(call.json_body());
  Conversation c = conversation_from(r);
  // As Ollama: Claude Code asks for thinking from every model; one that cannot think answers
  // without it instead of failing.
  c.relax_thinking = true;
  ConnectionProbe probe = probe_for(call.req);
  std::shared_ptr<Run> run = prepare_run(call.s, c, probe);
  if (r.stream) {
    auto conv = std::make_shared<api::AnthropicStream>(api::anthropic_id("msg"), run->requested_name);
    auto events = std::make_shared<NamedEventStream>();
    const int input_tokens = static_cast<int>(run->job.prompt.size());
    events->start = [conv, input_tokens] { return conv->start(input_tokens); };
    events->add = [conv](const engine::OutputDelta& d, const std::vector<api::ToolCall>& calls) {
      return conv->add(d.thinking, d.content, calls);
    };
    events->finish = [conv](const engine::CompletionOutcome& out) {
      return conv->finish(out.done_reason, out.prompt_eval_count, out.eval_count);
    };
    events->error = [](int status, const std::string& message) {
      api::Json err = api::anthropic_error(status, message);
      err.erase("request_id");
      return NamedEvents{{"error", std::move(err)}};
    };
    respond_named_events(call.s, call.res, std::move(run), probe, std::move(events));
    return;
  }
  engine::CompletionOutcome out;
  GatheredOutput all = run_to_end(call.s, *run, probe, &out);
  api::AnthropicAnswer a{all.thinking, all.content, all.tool_calls, out.done_reason, out.prompt_eval_count, out.eval_count};
  send_json(call.res, 200, api::anthropic_message(api::anthropic_id("msg"), run->requested_name, a));
}

}  // namespace hearth::server
