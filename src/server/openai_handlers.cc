// /v1/chat/completions, /v1/completions, /v1/models: OpenAI's shapes over the same runs as the
// native endpoints. Streams are SSE ("data: <json>\n\n", ending with "data: [DONE]").

#include <ctime>

#include "api/openai.h"
#include "api/wire.h"
#include "server/generation.h"

namespace hearth::server {

namespace {

using api::Json;

std::string sse(const Json& j) {
  return "data: " + j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

Json usage_json(const engine::CompletionOutcome& out) {
  Json u = Json::object();
  u["prompt_tokens"] = out.prompt_eval_count;
  u["completion_tokens"] = out.eval_count;
  u["total_tokens"] = out.prompt_eval_count + out.eval_count;
  return u;
}

struct ChunkBase {
  std::string id, model, object;
  int64_t created;
  Json make() const {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = object;
    j["created"] = created;
    j["model"] = model;
    j["system_fingerprint"] = "fp_ollama";
    return j;
  }
};

Json chat_choice_delta(const Json& delta, const Json& finish) {
  Json c = Json::object();
  c["index"] = 0;
  c["delta"] = delta;
  c["finish_reason"] = finish;
  Json arr = Json::array();
  arr.push_back(std::move(c));
  return arr;
}

// Streams or answers an OpenAI request. `chat` selects chat.completion(.chunk) vs text_completion.
void respond(State& s, httplib::Response& res, std::unique_ptr<Run> run_owned, bool stream,
             bool include_usage, bool chat, ConnectionProbe probe) {
  std::shared_ptr<Run> run(std::move(run_owned));
  ChunkBase base{api::openai_id(chat ? "chatcmpl-" : "cmpl-"), run->requested_name,
                 chat ? "chat.completion" : "text_completion",
                 static_cast<int64_t>(std::time(nullptr))};
  if (!stream) {
    engine::CompletionOutcome out;
    GatheredOutput all = run_to_end(s, *run, probe, &out);
    const std::string& content = all.content;
    const std::string& thinking = all.thinking;
    const std::vector<api::ToolCall>& calls = all.tool_calls;
    Json j = base.make();
    Json choice = Json::object();
    choice["index"] = 0;
    if (chat) {
      Json msg = Json::object();
      msg["role"] = "assistant";
      msg["content"] = content;
      if (!thinking.empty()) {
        msg["reasoning"] = thinking;
        msg["reasoning_content"] = thinking;
      }
      if (!calls.empty()) msg["tool_calls"] = api::openai_tool_calls(calls);
      choice["message"] = std::move(msg);
    } else {
      choice["text"] = content;
    }
    if (!all.logprobs.empty()) choice["logprobs"] = Json{{"content", api::logprobs_json(all.logprobs)}};
    else if (!chat) choice["logprobs"] = nullptr;
    choice["finish_reason"] = api::openai_finish_reason(out.done_reason, !calls.empty());
    j["choices"] = Json::array({choice});
    j["usage"] = usage_json(out);
    send_json(res, 200, j);
    return;
  }

  auto probe_ptr = std::make_shared<ConnectionProbe>(probe);
  base.object = chat ? "chat.completion.chunk" : "text_completion";
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [&s, run, base, chat, include_usage, probe_ptr](size_t, httplib::DataSink& sink) {
        auto write = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
        try {
          bool any_tool_calls = false;
          int tool_index = 0;
          if (chat) {
            Json first = base.make();
            Json delta = Json::object();
            delta["role"] = "assistant";
            delta["content"] = "";
            first["choices"] = chat_choice_delta(delta, nullptr);
            if (!write(sse(first))) {
              sink.done();
              return true;
            }
          }
          auto out = execute_run(s, *run, [&](const engine::OutputDelta& d) {
            // The delta's logprobs ride on the first chunk written for it (as Ollama's, they may
            // cover text that a later chunk of the same delta carries).
            Json logprobs = d.logprobs.empty() ? Json(nullptr) : Json{{"content", api::logprobs_json(d.logprobs)}};
            auto write_chunk = [&](Json j) {
              if (!logprobs.is_null()) j["choices"][0]["logprobs"] = std::exchange(logprobs, nullptr);
              return write(sse(j));
            };
            if (!chat) {
              Json j = base.make();
              Json choice = Json::object();
              choice["text"] = d.content + d.thinking;
              choice["index"] = 0;
              choice["finish_reason"] = nullptr;
              j["choices"] = Json::array({choice});
              return write_chunk(std::move(j));
            }
            // A delta with both reasoning and content goes out as two chunks.
            if (!d.thinking.empty()) {
              Json j = base.make();
              Json delta = Json::object();
              delta["role"] = "assistant";
              delta["content"] = "";
              delta["reasoning"] = d.thinking;
              delta["reasoning_content"] = d.thinking;
              j["choices"] = chat_choice_delta(delta, nullptr);
              if (!write_chunk(std::move(j))) return false;
            }
            if (!d.content.empty()) {
              Json j = base.make();
              Json delta = Json::object();
              delta["role"] = "assistant";
              delta["content"] = d.content;
              j["choices"] = chat_choice_delta(delta, nullptr);
              if (!write_chunk(std::move(j))) return false;
            }
            if (!d.tool_calls.empty()) {
              std::vector<api::ToolCall> calls;
              for (const auto& t : d.tool_calls) calls.push_back(to_api_tool_call(t, tool_index++));
              Json tc = api::openai_tool_calls(calls);
              for (size_t i = 0; i < tc.size(); ++i) tc[i]["index"] = calls[i].index;
              Json j = base.make();
              Json delta = Json::object();
              delta["role"] = "assistant";
              delta["content"] = "";
              delta["tool_calls"] = std::move(tc);
              j["choices"] = chat_choice_delta(delta, nullptr);
              any_tool_calls = true;
              if (!write_chunk(std::move(j))) return false;
            }
            if (!logprobs.is_null()) {  // a delta of logprobs alone (the text was held back)
              Json j = base.make();
              Json delta = Json::object();
              delta["role"] = "assistant";
              delta["content"] = "";
              j["choices"] = chat_choice_delta(delta, nullptr);
              if (!write_chunk(std::move(j))) return false;
            }
            return true;
          }, *probe_ptr);
          if (out.done_reason != "cancelled") {
            Json fin = base.make();
            std::string reason = api::openai_finish_reason(out.done_reason, any_tool_calls);
            if (chat) {
              fin["choices"] = chat_choice_delta(Json::object(), reason);
            } else {
              Json choice = Json::object();
              choice["text"] = "";
              choice["index"] = 0;
              choice["finish_reason"] = reason;
              fin["choices"] = Json::array({choice});
            }
            write(sse(fin));
            if (include_usage) {
              Json u = base.make();
              u["choices"] = Json::array();
              u["usage"] = usage_json(out);
              write(sse(u));
            }
            write("data: [DONE]\n\n");
          }
        } catch (const Error& e) {
          write(sse(api::openai_error(status_for(e.code()), e.what())));
        } catch (const std::exception& e) {
          write(sse(api::openai_error(500, std::string("internal error: ") + e.what())));
        }
        sink.done();
        return true;
      });
}

Json model_object(const store::ModelEntry& e) {
  Json j = Json::object();
  j["id"] = e.name.display();
  j["object"] = "model";
  j["created"] = static_cast<int64_t>(std::chrono::system_clock::to_time_t(e.modified));
  j["owned_by"] = e.name.ns;
  return j;
}

}  // namespace

void handle_openai_chat(Call& call) {
  api::OpenAIChatRequest r = api::parse_openai_chat(call.json_body());
  ConnectionProbe probe = probe_for(call.req);
  auto run = prepare_run(call.s, conversation_from(r.chat), probe);
  respond(call.s, call.res, std::move(run), r.chat.stream, r.include_usage, true, probe);
}

void handle_openai_completion(Call& call) {
  api::OpenAICompletionRequest r = api::parse_openai_completion(call.json_body());
  ConnectionProbe probe = probe_for(call.req);
  auto run = prepare_run(call.s, conversation_from(r.generate), probe);
  respond(call.s, call.res, std::move(run), r.generate.stream, r.include_usage, false, probe);
}

void handle_openai_models(Call& call) {
  Json data = Json::array();
  for (const auto& e : call.s.store->list()) data.push_back(model_object(e));
  Json j = Json::object();
  j["object"] = "list";
  j["data"] = std::move(data);
  send_json(call.res, 200, j);
}

void handle_openai_model(Call& call) {
  store::ModelName resolved = call.s.store->resolve_existing(std::string(call.req.matches[1]));
  send_json(call.res, 200, model_object(call.s.store->entry(resolved)));
}

}  // namespace hearth::server
