#include "server/generation.h"

#include <algorithm>

#include "api/wire.h"
#include "engine/context_fit.h"
#include "server/tag_output_parser.h"
#include "store/model_details.h"
#include "util/log.h"

namespace hearth::server {

namespace {

bool think_requested(const std::optional<std::string>& think) {
  return think && *think != "false";
}

std::string trim_right(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// Without a `shift` field, Ollama shifts the context of every model but the deepseek2 family's
// (supportsContextShift), by the manifest's family; Hearth falls back to the architecture where a
// manifest names no family.
bool shifts_by_default(const ResolvedModel& m, const engine::ModelFacts& facts) {
  const store::ModelConfig& cfg = m.entry.config;
  const bool deepseek2 = cfg.model_family == "deepseek2" ||
                         std::find(cfg.model_families.begin(), cfg.model_families.end(), "deepseek2") !=
                             cfg.model_families.end() ||
                         (cfg.model_family.empty() && facts.arch == "deepseek2");
  return !deepseek2;
}

}  // namespace

ConnectionProbe probe_for(const httplib::Request& req) {
  return ConnectionProbe(req.remote_addr, req.remote_port, req.local_addr, req.local_port);
}

Conversation conversation_from(const api::ChatRequest& r) {
  Conversation c;
  c.model = r.model;
  c.messages = r.messages;
  c.tools = r.tools;
  c.format = r.format;
  c.options = r.options;
  c.keep_alive = r.keep_alive;
  c.think = r.think;
  c.truncate = r.truncate;
  c.shift = r.shift;
  c.logprobs = r.logprobs;
  c.top_logprobs = r.top_logprobs;
  return c;
}

Conversation conversation_from(const api::GenerateRequest& r) {
  Conversation c;
  c.model = r.model;
  c.is_generate = true;
  c.raw = r.raw;
  c.raw_prompt = r.prompt;
  c.suffix = r.suffix;
  c.template_text = r.template_text;
  c.context = r.context;
  c.format = r.format;
  c.options = r.options;
  c.keep_alive = r.keep_alive;
  c.think = r.think;
  c.truncate = r.truncate;
  c.shift = r.shift;
  c.logprobs = r.logprobs;
  c.top_logprobs = r.top_logprobs;
  if (!r.system.empty()) c.messages.push_back(chat::text_message("system", r.system));
  api::Message user = chat::text_message("user", r.prompt);
  user.images = r.images;
  c.messages.push_back(std::move(user));
  return c;
}

std::string load_or_unload(State& s, const Conversation& c, ConnectionProbe& probe) {
  ResolvedModel m = resolve_model(s, c.model);
  request_log().model = m.display;
  if (c.keep_alive && c.keep_alive->count() == 0) {
    s.scheduler->unload(m.display);
    return "unload";
  }
  api::Options opts = m.params;
  opts.overlay(c.options);
  auto lease = s.scheduler->acquire(load_spec_for(s, m, opts), c.keep_alive,
                                    [&probe] { return !probe.alive(); });
  return "load";
}

std::unique_ptr<Run> prepare_run(State& s, const Conversation& c, ConnectionProbe& probe) {
  auto run = std::make_unique<Run>();
  run->started = std::chrono::steady_clock::now();
  run->requested_name = c.model;
  run->model = resolve_model(s, c.model);
  request_log().model = run->model.display;
  const ResolvedModel& m = run->model;
  // As Ollama, before loading: an embedding model (its GGUF has <arch>.pooling_type) lacks the
  // completion capability, so generate and chat are refused with its 400. A file that does not
  // parse is left to the loader, whose error names the problem.
  bool embedding_only = false;
  try {
    embedding_only = store::read_gguf_details(gguf::File::open(m.gguf_path)).has_pooling;
  } catch (const Error&) {
  }
  if (embedding_only) {
    throw Error(ErrorCode::invalid_argument,
                go_quote(c.model) + " does not support " + (c.is_generate ? "generate" : "chat"));
  }

  api::Options opts = m.params;
  opts.overlay(c.options);
  engine::LoadSpec spec = load_spec_for(s, m, opts);
  run->lease = std::make_unique<engine::Scheduler::Lease>(
      s.scheduler->acquire(spec, c.keep_alive, [&probe] { return !probe.alive(); }));
  // Ollama's load_duration runs from the request's start to the model being ready, so a warm
  // model reports the few milliseconds of lookup and scheduling rather than nothing.
  run->load_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - run->started).count();
  engine::LoadedModel& loaded = run->lease->model();
  const engine::ModelFacts& facts = loaded.facts();

  std::optional<std::string> think = c.think;
  if (think_requested(think) && !facts.thinking) {
    if (!c.relax_thinking) throw Error(ErrorCode::invalid_argument, "\"" + c.model + "\" does not support thinking");
    think.reset();
  }
  bool has_tools = c.tools.is_array() && !c.tools.empty();
  if (has_tools && !facts.tools) {
    throw Error(ErrorCode::invalid_argument, m.full_name + " does not support tools");
  }
  // Images reach no model yet; rather than answer as if it had seen them, refuse as Ollama does
  // for a model without the vision capability.
  const bool has_images = std::any_of(c.messages.begin(), c.messages.end(), [](const api::Message& msg) {
    return !msg.images.empty();
  });
  if (has_images && !facts.vision) {
    throw Error(ErrorCode::invalid_argument, m.full_name + " does not support vision");
  }
  if (!c.suffix.empty() && !facts.insert) {
    throw Error(ErrorCode::invalid_argument, "\"" + c.model + "\" does not support insert");
  }

  engine::RenderRequest render;
  render.tools_json = has_tools ? c.tools.dump() : "";
  render.think = think;
  if (!think && facts.thinking) render.think = "true";  // thinking models default to on
  render.request_template = c.template_text;
  render.modelfile_template = m.template_text;
  render.prefer_go_template = s.config.prefer_go_template;
  // Ollama's rule (filterThinkTags): the qwen3 family, and any model named deepseek-r1.
  render.strip_earlier_thinking = facts.arch.rfind("qwen3", 0) == 0 || m.entry.config.model_family == "qwen3" ||
                                  m.entry.name.model == "deepseek-r1";
  render.suffix = c.suffix;
  render.model_family = m.entry.config.model_family;

  const int num_ctx = loaded.num_ctx();
  std::vector<int32_t> tokens;
  if (c.raw) {
    run->prompt = c.raw_prompt;
    tokens = loaded.tokenize(run->prompt, true);
  } else {
    // The model's MESSAGEs come first (generate: only without `context`), then its SYSTEM unless
    // the conversation brings its own.
    std::vector<api::Message> all;
    bool own_system = !c.messages.empty() && c.messages.front().role == "system";
    if (!own_system && !m.system.empty()) all.push_back(chat::text_message("system", m.system));
    if (!c.is_generate || !c.context) all.insert(all.end(), m.messages.begin(), m.messages.end());
    all.insert(all.end(), c.messages.begin(), c.messages.end());

    // Truncation: drop whole messages from the front (never system messages or the last one)
    // until the rendered prompt fits.
    std::vector<bool> dropped(all.size(), false);
    std::string prefix = c.context ? loaded.detokenize(*c.context) : std::string();
    for (;;) {
      render.messages.clear();
      for (size_t i = 0; i < all.size(); ++i) {
        if (!dropped[i]) render.messages.push_back(all[i]);
      }
      run->prompt = prefix + loaded.render(render);
      tokens = loaded.tokenize(run->prompt, true);
      size_t image_tokens = 0;
      for (size_t i = 0; i < all.size(); ++i) {
        if (!dropped[i]) image_tokens += 768 * all[i].images.size();
      }
      // Ollama counts the rendered prompt's tokens without the BOS (chatPrompt's tokenize).
      const size_t counted = tokens.size() - (facts.adds_bos && !tokens.empty() ? 1 : 0);
      if (!c.truncate || counted + image_tokens <= static_cast<size_t>(num_ctx)) break;
      size_t victim = all.size();
      for (size_t i = 0; i + 1 < all.size(); ++i) {
        if (!dropped[i] && all[i].role != "system") {
          victim = i;
          break;
        }
      }
      if (victim == all.size()) break;
      dropped[victim] = true;
    }
  }

  // Ollama's rule (completionPromptForRequest): one position must stay free to generate into.
  // truncate:false sends the prompt on as it is, and llama-server refuses it (its words, which
  // Ollama passes on); with the shift off there is nothing to truncate it with.
  const bool shift = c.shift.value_or(shifts_by_default(m, facts));
  if (!engine::prompt_fits(tokens.size(), num_ctx)) {
    if (!c.truncate) {
      throw Error(ErrorCode::invalid_argument, "request (" + std::to_string(tokens.size()) +
                                                   " tokens) exceeds the available context size (" +
                                                   std::to_string(num_ctx) + " tokens), try increasing it");
    }
    if (!shift) {
      throw Error(ErrorCode::invalid_argument,
                  "the prompt is longer than the context length currently available to the model; shorten the "
                  "prompt, adjust the context length in settings, or use a model with a longer context length");
    }
    const int keep = engine::context_keep(opts.num_keep.value_or(4), tokens.size(), facts.adds_bos, num_ctx);
    auto cut = engine::cut_prompt(tokens, num_ctx, keep);
    HEARTH_LOG_WARN("truncating input prompt limit=" + std::to_string(num_ctx) + " prompt=" +
                    std::to_string(tokens.size()) + " keep=" + std::to_string(keep) + " new=" + std::to_string(cut.size()));
    tokens = std::move(cut);
  }

  run->job.prompt = std::move(tokens);
  run->job.sampling = opts.sampling();
  run->job.num_predict = opts.num_predict.value_or(-1);
  run->job.stop = opts.stop.value_or(std::vector<std::string>{});
  run->job.num_keep = opts.num_keep.value_or(4);
  run->job.shift = shift;
  if (c.format.is_string()) run->job.format = c.format.get<std::string>();
  else if (c.format.is_object()) run->job.format = c.format.dump();
  run->job.thinking = !c.raw && facts.thinking && render.think && *render.think != "false";
  run->want_context = c.is_generate && !c.raw;
  run->want_logprobs = c.logprobs || c.top_logprobs > 0;
  run->job.top_logprobs = c.top_logprobs;

  run->parser = c.raw ? nullptr : loaded.make_output_parser(render, run->prompt);
  if (!run->parser) {
    TagParserOptions po;
    po.thinking = facts.thinking && !c.raw && render.think && *render.think != "false";
    po.start_in_thinking = po.thinking && trim_right(run->prompt).size() >= po.think_open.size() &&
                           trim_right(run->prompt).ends_with(po.think_open);
    po.tools = has_tools;
    run->parser = std::make_unique<TagOutputParser>(po);
  }
  run->job.render_special = run->parser->needs_special_tokens();
  if (!run->job.format.empty()) run->job.format_after = run->parser->answer_marker();
  return run;
}

engine::CompletionOutcome execute_run(State& s, Run& run,
                                      const std::function<bool(const engine::OutputDelta&)>& emit,
                                      ConnectionProbe& probe) {
  bool client_gone = false;
  // A token's log-probability arrives before its text; it leaves with the next delta that has
  // any (a parser may hold text back), the rest with the last one.
  std::vector<engine::GeneratedLogprob> pending;
  if (run.want_logprobs) {
    run.job.on_logprob = [&pending](engine::GeneratedLogprob lp) { pending.push_back(std::move(lp)); };
  }
  std::string raw_output;  // the model's text as it came, for `context`
  run.job.on_piece = [&](std::string_view piece) {
    if (run.want_context) raw_output += piece;
    engine::OutputDelta d = run.parser->add(piece);
    if (!d.empty()) d.logprobs = std::exchange(pending, {});
    if (!d.empty() && !emit(d)) {
      client_gone = true;
      return false;
    }
    if (!probe.alive()) {
      client_gone = true;
      return false;
    }
    return true;
  };
  s.metrics.stream_started();
  engine::CompletionOutcome out;
  try {
    out = run.lease->model().complete(run.job);
  } catch (...) {
    s.metrics.stream_finished();
    throw;
  }
  s.metrics.stream_finished();
  s.metrics.count_tokens(out.prompt_eval_count, out.prompt_eval_ns, out.eval_count, out.eval_ns);
  request_log().prompt_tokens = out.prompt_eval_count;
  request_log().eval_tokens = out.eval_count;
  if (client_gone) out.done_reason = "cancelled";
  // Ollama's `context`: the whole rendered prompt (uncut) and the answer's text, tokenized again
  // without special tokens, so a client that sends it back loses nothing a cut dropped.
  if (run.want_context) out.context = run.lease->model().tokenize(run.prompt + raw_output, false);
  if (out.done_reason != "cancelled") {
    engine::OutputDelta tail = run.parser->finish();
    tail.logprobs = std::exchange(pending, {});
    if (!tail.empty() || !tail.logprobs.empty()) emit(tail);
  }
  return out;
}

api::ToolCall to_api_tool_call(const chat::ToolCall& t, int index) {
  api::ToolCall c = t;
  if (c.id.empty()) c.id = api::random_call_id();
  c.index = index;
  return c;
}

void GatheredOutput::add(const engine::OutputDelta& d) {
  logprobs.insert(logprobs.end(), d.logprobs.begin(), d.logprobs.end());
  content += d.content;
  thinking += d.thinking;
  for (const auto& t : d.tool_calls) tool_calls.push_back(to_api_tool_call(t, static_cast<int>(tool_calls.size())));
}

GatheredOutput run_to_end(State& s, Run& run, ConnectionProbe& probe, engine::CompletionOutcome* outcome) {
  GatheredOutput all;
  *outcome = execute_run(s, run, [&all](const engine::OutputDelta& d) {
    all.add(d);
    return true;
  }, probe);
  if (outcome->done_reason == "cancelled") throw Error(ErrorCode::cancelled, "request canceled");
  return all;
}

void respond_named_events(State& s, httplib::Response& res, std::shared_ptr<Run> run, ConnectionProbe probe,
                          std::shared_ptr<NamedEventStream> stream) {
  auto probe_ptr = std::make_shared<ConnectionProbe>(probe);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&s, run, probe_ptr, stream](size_t, httplib::DataSink& sink) {
    auto write = [&sink](const NamedEvents& events) {
      for (const auto& [name, data] : events) {
        const std::string text = api::sse_event(name, data);
        if (!sink.write(text.data(), text.size())) return false;
      }
      return true;
    };
    try {
      if (write(stream->start())) {
        int tool_index = 0;
        auto out = execute_run(s, *run, [&](const engine::OutputDelta& d) {
          std::vector<api::ToolCall> calls;
          for (const auto& t : d.tool_calls) calls.push_back(to_api_tool_call(t, tool_index++));
          return write(stream->add(d, calls));
        }, *probe_ptr);
        if (out.done_reason != "cancelled") write(stream->finish(out));
      }
    } catch (const Error& e) {
      write(stream->error(status_for(e.code()), e.what()));
    } catch (const std::exception& e) {
      write(stream->error(500, std::string("internal error: ") + e.what()));
    }
    sink.done();
    return true;
  });
}

void add_stats(api::Json& j, const Run& run, const engine::CompletionOutcome& out) {
  auto total = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - run.started)
                   .count();
  j["total_duration"] = total;
  j["load_duration"] = run.load_ns;
  j["prompt_eval_count"] = out.prompt_eval_count;
  j["prompt_eval_duration"] = out.prompt_eval_ns;
  j["eval_count"] = out.eval_count;
  j["eval_duration"] = out.eval_ns;
}

}  // namespace hearth::server
