#include "cli/run_session.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/answer_printer.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/repl_terminal.h"
#include "cli/transfer.h"
#include "store/modelfile.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

void write_out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}
void write_err(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_not_found(const Error& e) {
  return e.code() == ErrorCode::not_found || std::string(e.what()).find("not found") != std::string::npos;
}

// Streams one request with Ctrl+C cancelling it; false when cancelled.
bool cancellable_stream(ApiClient& client, const std::string& path, const Json& body,
                        const std::function<bool(const Json&)>& on_chunk) {
  InterruptScope scope;
  InterruptWatcher watcher([&] { client.cancel(); });
  const bool done = client.stream(path, body, on_chunk);
  return done && !watcher.fired();
}

void generate_once(ApiClient& client, const RunFlags& flags, const Json& options, const Json& think,
                   const std::string& prompt) {
  Json req = {{"model", flags.model}, {"prompt", prompt}};
  if (flags.format == "json") req["format"] = "json";
  if (!options.empty()) req["options"] = options;
  if (!think.is_null()) req["think"] = think;
  if (!flags.keepalive.empty()) req["keep_alive"] = flags.keepalive;
  if (flags.raw) req["raw"] = true;
  const bool tty = isatty(STDOUT_FILENO) == 1;
  AnswerStyle style;
  style.width = terminal_width();
  style.wrap = tty && !flags.nowordwrap;
  style.hide_thinking = flags.hidethinking;
  style.color = tty;
  AnswerPrinter printer(write_out, style);
  Json last;
  const bool finished = cancellable_stream(client, "/api/generate", req, [&](const Json& r) {
    last = r;
    printer.thinking(r.value("thinking", ""));
    printer.content(r.value("response", ""));
    return true;
  });
  printer.finish();
  if (!prompt.empty()) write_out("\n\n");
  if (finished && flags.verbose && last.value("done", false)) write_err(metrics_summary(last));
}

}  // namespace

Json think_value(const std::string& flag) {
  if (flag.empty() || flag == "true") return true;
  if (flag == "false") return false;
  if (flag == "high" || flag == "medium" || flag == "low" || flag == "max") return flag;
  throw Error(ErrorCode::invalid_argument,
              "invalid value for --think: \"" + flag +
                  "\" (must be true, false, high, medium, low, or max)");
}

Json parse_param_flags(const std::vector<std::string>& params) {
  Json options = Json::object();
  for (const auto& p : params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ErrorCode::invalid_argument, "parameter \"" + p + "\" must be name=value");
    }
    const std::string name = p.substr(0, eq);
    Json v = store::parse_parameter_value(name, p.substr(eq + 1));
    if (v.is_array() && options.contains(name) && options[name].is_array()) {
      for (auto& e : v) options[name].push_back(e);
    } else {
      options[name] = v;
    }
  }
  return options;
}

void add_run_flags(CLI::App& cmd, RunFlags& f) {
  cmd.add_option("model", f.model, "Model name")->required();
  cmd.add_option("prompt", f.prompt, "Prompt (one-shot)");
  cmd.add_option("--keepalive", f.keepalive, "Duration to keep a model loaded (e.g. 5m)");
  cmd.add_flag("--verbose", f.verbose, "Show timings for response");
  cmd.add_flag("--insecure", f.insecure, "Use an insecure registry");
  cmd.add_flag("--nowordwrap", f.nowordwrap, "Don't wrap words to the next line automatically");
  cmd.add_option("--format", f.format, "Response format (e.g. json)");
  // A flag with an optional "=value" (Ollama's NoOptDefVal): a bare --think never takes the
  // prompt that follows it as its value.
  cmd.add_flag("--think{true}", f.think,
               "Enable thinking mode: true/false or high/medium/low/max");
  cmd.add_flag("--hidethinking", f.hidethinking, "Hide thinking output (if provided)");
  cmd.add_flag("--raw", f.raw, "Send the prompt without the chat template");
  // One value per -p, so the prompt after the last one stays the prompt.
  cmd.add_option("-p,--parameter", f.params, "Set a parameter, name=value (repeatable)")
      ->allow_extra_args(false);
}

Json ApiRepl::show(const Json& request) { return client_.post("/api/show", request); }

void ApiRepl::create(const Json& request) {
  Json r = request;
  r["stream"] = false;
  client_.post("/api/create", r);
}

std::string ApiRepl::list_table() { return cli::list_table(client_); }

void ApiRepl::load(const std::string& model, const Json& keep_alive) {
  Json req = {{"model", model}};
  if (!keep_alive.is_null()) req["keep_alive"] = keep_alive;
  client_.stream("/api/generate", req, [](const Json&) { return true; });
}

bool ApiRepl::chat(const Json& request, const std::function<bool(const Json&)>& on_chunk) {
  return cancellable_stream(client_, "/api/chat", request, on_chunk);
}

std::string list_table(const std::vector<ListRow>& models, const std::string& prefix) {
  std::vector<std::vector<std::string>> rows;
  const auto now = std::chrono::system_clock::now();
  for (const auto& m : models) {
    if (!prefix.empty() && lower(m.name).rfind(lower(prefix), 0) != 0) continue;
    rows.push_back({m.name, m.digest.substr(0, 12), human_bytes(m.size), human_time(m.modified, now, "Never")});
  }
  return format_table({"NAME", "ID", "SIZE", "MODIFIED"}, rows);
}

std::string list_table(ApiClient& client, const std::string& prefix) {
  Json tags = client.get("/api/tags");
  std::vector<ListRow> models;
  for (const auto& m : tags.value("models", Json::array())) {
    models.push_back({m.value("name", ""), m.value("digest", ""), m.value("size", int64_t{0}),
                      parse_rfc3339(m.value("modified_at", ""))});
  }
  return list_table(models, prefix);
}

void run_model(ApiClient& client, const RunFlags& flags) {
  Json options = parse_param_flags(flags.params);
  Json think;
  if (!flags.think.empty()) think = think_value(flags.think);
  if (!flags.format.empty() && flags.format != "json") {
    throw Error(ErrorCode::invalid_argument, "invalid format: \"" + flags.format + "\"");
  }

  bool interactive = true;
  std::vector<std::string> prompts = flags.prompt;
  if (isatty(STDIN_FILENO) != 1) {
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!in.empty()) prompts.insert(prompts.begin(), in);
    interactive = false;
  }
  std::string prompt;
  for (size_t i = 0; i < prompts.size(); ++i) prompt += (i ? " " : "") + prompts[i];
  if (!prompts.empty()) interactive = false;
  if (isatty(STDOUT_FILENO) != 1) interactive = false;

  // Show, pulling the model first when the server does not have it.
  Json info;
  try {
    info = client.post("/api/show", {{"model", flags.model}});
  } catch (const Error& e) {
    if (!is_not_found(e)) throw;
    pull_with_progress(client, flags.model, flags.insecure);
    info = client.post("/api/show", {{"model", flags.model}});
  }
  // A thinking model thinks unless told otherwise (Ollama's inferThinkingOption).
  if (think.is_null()) {
    for (const auto& c : info.value("capabilities", Json::array())) {
      if (c == "thinking") think = true;
    }
  }
  for (const auto& c : info.value("capabilities", Json::array())) {
    if (c == "embedding") {
      if (prompt.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    "embedding models require input text. Usage: hearth run " + flags.model +
                        " \"your text here\"");
      }
      Json r = client.post("/api/embed", {{"model", flags.model}, {"input", prompt}});
      write_out(r.value("embeddings", Json::array()).at(0).dump() + "\n");
      return;
    }
  }

  if (!interactive) {
    generate_once(client, flags, options, think, prompt);
    return;
  }

  RunOptions opts;
  opts.model = flags.model;
  opts.options = options;
  opts.think = think;
  opts.format = flags.format;
  opts.verbose = flags.verbose;
  opts.wordwrap = !flags.nowordwrap;
  opts.hide_thinking = flags.hidethinking;
  if (!flags.keepalive.empty()) opts.keep_alive = flags.keepalive;
  apply_show_response(opts, info);

  ApiRepl api(client);
  api.load(opts.model, opts.keep_alive);
  AnswerStyle style;
  style.width = terminal_width();
  style.color = true;
  for (const auto& m : opts.loaded_messages) {
    if (m.role == "user") write_out(">>> " + m.content + "\n");
    if (m.role == "assistant") {
      AnswerPrinter p(write_out, style);
      p.content(m.content);
      p.finish();
      write_out("\n\n");
    }
  }
  InterruptScope scope;
  Repl repl(opts, api, write_out, write_err, style);
  run_repl_on_terminal(repl);
}

}  // namespace hearth::cli
