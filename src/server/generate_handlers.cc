// /api/generate and /api/chat: NDJSON streams (or one object with "stream":false), the final
// chunk with statistics, and errors after the first byte as a last {"error":...} line.

#include "api/wire.h"
#include "server/generation.h"

namespace hearth::server {

namespace {

using api::Json;

std::string now_utc() { return api::time_utc_nano(std::chrono::system_clock::now()); }

Json chat_message(const std::string& content, const std::string& thinking,
                  const std::vector<api::ToolCall>& calls) {
  Json msg = Json::object();
  msg["role"] = "assistant";
  msg["content"] = content;
  if (!thinking.empty()) msg["thinking"] = thinking;
  if (!calls.empty()) msg["tool_calls"] = api::tool_calls_json(calls);
  return msg;
}

Json chunk_head(const std::string& model) {
  Json j = Json::object();
  j["model"] = model;
  j["created_at"] = now_utc();
  return j;
}

Json load_response(const std::string& model, const std::string& reason, bool chat) {
  Json j = chunk_head(model);
  if (chat) j["message"] = chat_message("", "", {});
  else j["response"] = "";
  j["done"] = true;
  j["done_reason"] = reason;
  return j;
}

Json debug_response(const Run& run) {
  Json j = chunk_head(run.requested_name);
  Json info = Json::object();
  info["rendered_template"] = run.prompt;
  size_t images = 0;
  info["image_count"] = images;
  j["_debug_info"] = std::move(info);
  return j;
}

std::string line(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Streams or answers one run. `chat` picks the chunk shape.
void respond(State& s, httplib::Response& res, std::unique_ptr<Run> run_owned, bool stream,
             bool chat, ConnectionProbe probe) {
  std::shared_ptr<Run> run(std::move(run_owned));
  auto final_chunk = [chat, run](const engine::CompletionOutcome& out, const GatheredOutput* all) {
    Json j = chunk_head(run->requested_name);
    if (chat) {
      j["message"] = all ? chat_message(all->content, all->thinking, all->tool_calls)
                         : chat_message("", "", {});
    } else {
      j["response"] = all ? all->content : "";
      if (all && !all->thinking.empty()) j["thinking"] = all->thinking;
    }
    if (all && !all->logprobs.empty()) j["logprobs"] = api::logprobs_json(all->logprobs);
    j["done"] = true;
    j["done_reason"] = out.done_reason;
    if (!chat && run->want_context) j["context"] = out.context;
    add_stats(j, *run, out);
    return j;
  };

  if (!stream) {
    engine::CompletionOutcome out;
    GatheredOutput all = run_to_end(s, *run, probe, &out);
    send_json(res, 200, final_chunk(out, &all));
    return;
  }

  auto probe_ptr = std::make_shared<ConnectionProbe>(probe);
  res.status = 200;
  res.set_chunked_content_provider(
      "application/x-ndjson", [&s, run, chat, probe_ptr, final_chunk](size_t, httplib::DataSink& sink) {
        auto write = [&sink](const Json& j) {
          std::string l = line(j);
          return sink.write(l.data(), l.size());
        };
        try {
          int tool_index = 0;
          auto out = execute_run(s, *run, [&](const engine::OutputDelta& d) {
            Json j = chunk_head(run->requested_name);
            if (chat) {
              std::vector<api::ToolCall> calls;
              for (const auto& t : d.tool_calls) calls.push_back(to_api_tool_call(t, tool_index++));
              j["message"] = chat_message(calls.empty() ? d.content : "", d.thinking, calls);
              if (!calls.empty() && !d.content.empty()) {
                Json text = chunk_head(run->requested_name);
                text["message"] = chat_message(d.content, "", {});
                text["done"] = false;
                if (!write(text)) return false;
              }
            } else {
              j["response"] = d.content;
              if (!d.thinking.empty()) j["thinking"] = d.thinking;
            }
            if (!d.logprobs.empty()) j["logprobs"] = api::logprobs_json(d.logprobs);
            j["done"] = false;
            return write(j);
          }, *probe_ptr);
          if (out.done_reason != "cancelled") write(final_chunk(out, nullptr));
        } catch (const Error& e) {
          Json err = Json::object();
          err["error"] = e.what();
          write(err);
        } catch (const std::exception& e) {
          Json err = Json::object();
          err["error"] = std::string("internal error: ") + e.what();
          write(err);
        }
        sink.done();
        return true;
      });
}

}  // namespace

void handle_generate(Call& call) {
  State& s = call.s;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  api::GenerateRequest r = api::parse_generate_request(body);
  if (r.model.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  ConnectionProbe probe = probe_for(call.req);
  Conversation c = conversation_from(r);
  if (r.prompt.empty() && r.suffix.empty() && !r.debug_render_only) {
    std::string reason = load_or_unload(s, c, probe);
    send_json(res, 200, load_response(r.model, reason, false));
    return;
  }
  auto run = prepare_run(s, c, probe);
  if (r.debug_render_only) {
    send_json(res, 200, debug_response(*run));
    return;
  }
  respond(s, res, std::move(run), r.stream, false, probe);
}

void handle_chat(Call& call) {
  State& s = call.s;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  api::ChatRequest r = api::parse_chat_request(body);
  if (r.model.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  ConnectionProbe probe = probe_for(call.req);
  Conversation c = conversation_from(r);
  if (r.messages.empty() && !r.debug_render_only) {
    std::string reason = load_or_unload(s, c, probe);
    send_json(res, 200, load_response(r.model, reason, true));
    return;
  }
  auto run = prepare_run(s, c, probe);
  if (r.debug_render_only) {
    send_json(res, 200, debug_response(*run));
    return;
  }
  respond(s, res, std::move(run), r.stream, true, probe);
}

}  // namespace hearth::server
