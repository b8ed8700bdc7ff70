// /v1/messages: Anthropic's Messages API over the same runs as /api/chat. Streams are SSE with
// named events ("event: content_block_delta\ndata: {...}\n\n"); errors take Anthropic's shape.

#include "api/anthropic.h"
#include "server/generation.h"

namespace hearth::server {

namespace {

using api::Json;

void respond_stream(State& s, httplib::Response& res, std::shared_ptr<Run> run, ConnectionProbe probe) {
  auto probe_ptr = std::make_shared<ConnectionProbe>(probe);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&s, run, probe_ptr](size_t, httplib::DataSink& sink) {
    auto write = [&sink](const std::vector<api::AnthropicStream::Event>& events) {
      for (const auto& [name, data] : events) {
        const std::string text = api::sse_event(name, data);
        if (!sink.write(text.data(), text.size())) return false;
      }
      return true;
    };
    try {
      api::AnthropicStream stream(api::anthropic_id("msg"), run->requested_name);
      const int input_tokens = static_cast<int>(run->job.prompt.size());
      if (write(stream.start(input_tokens))) {
        int tool_index = 0;
        auto out = execute_run(s, *run, [&](const engine::OutputDelta& d) {
          std::vector<api::ToolCall> calls;
          for (const auto& t : d.tool_calls) calls.push_back(to_api_tool_call(t, tool_index++));
          return write(stream.add(d.thinking, d.content, calls));
        }, *probe_ptr);
        if (out.done_reason != "cancelled") write(stream.finish(out.done_reason, out.prompt_eval_count, out.eval_count));
      }
    } catch (const Error& e) {
      const Json err = api::anthropic_error(status_for(e.code()), e.what());
      write({{"error", Json{{"type", "error"}, {"error", err["error"]}}}});
    } catch (const std::exception& e) {
      const Json err = api::anthropic_error(500, std::string("internal error: ") + e.what());
      write({{"error", Json{{"type", "error"}, {"error", err["error"]}}}});
    }
    sink.done();
    return true;
  });
}

}  // namespace

void handle_anthropic_messages(Call& call) {
  api::ChatRequest r = api::parse_anthropic_messages(call.json_body());
  Conversation c = conversation_from(r);
  // As Ollama: Claude Code asks for thinking from every model; one that cannot think answers
  // without it instead of failing.
  c.relax_thinking = true;
  ConnectionProbe probe = probe_for(call.req);
  std::shared_ptr<Run> run = prepare_run(call.s, c, probe);
  if (r.stream) {
    respond_stream(call.s, call.res, std::move(run), probe);
    return;
  }
  api::AnthropicAnswer a;
  auto out = execute_run(call.s, *run, [&](const engine::OutputDelta& d) {
    a.thinking += d.thinking;
    a.content += d.content;
    for (const auto& t : d.tool_calls) a.tool_calls.push_back(to_api_tool_call(t, static_cast<int>(a.tool_calls.size())));
    return true;
  }, probe);
  if (out.done_reason == "cancelled") throw Error(ErrorCode::cancelled, "request canceled");
  a.done_reason = out.done_reason;
  a.input_tokens = out.prompt_eval_count;
  a.output_tokens = out.eval_count;
  send_json(call.res, 200, api::anthropic_message(api::anthropic_id("msg"), run->requested_name, a));
}

}  // namespace hearth::server
