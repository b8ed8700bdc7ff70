// `hearth run MODEL [PROMPT]`: a GGUF path runs in-process here; a model name goes through the
// API (run_session.cc), exactly as Ollama's run does.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"
#include "cli/connect.h"
#include "cli/format.h"
#include "cli/run_local.h"
#include "cli/run_session.h"
#include "cli/verbs.h"
#include "engine/runner.h"
#include "util/error.h"

namespace hearth::cli {

namespace {

using Clock = std::chrono::steady_clock;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct RunSettings {
  engine::LoadOptions load;
  engine::CompletionRequest request;
};

// -p name=value, typed as Modelfile PARAMETERs are; unknown names are ignored with a warning,
// as Ollama does for request options.
RunSettings settings_from_params(const std::vector<std::string>& params) {
  RunSettings s;
  sample::SamplerOptions& o = s.request.sampling;
  const Json options = parse_param_flags(params);
  for (const auto& item : options.items()) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture those.
    const std::string& name = item.key();
    const Json& v = item.value();
    auto num = [&]() -> double {
      if (!v.is_number()) {
        throw Error(ErrorCode::invalid_argument, "parameter '" + name + "' must be a number");
      }
      return v.get<double>();
    };
    if (name == "temperature") o.temperature = static_cast<float>(num());
    else if (name == "top_k") o.top_k = static_cast<int>(num());
    else if (name == "top_p") o.top_p = static_cast<float>(num());
    else if (name == "min_p") o.min_p = static_cast<float>(num());
    else if (name == "typical_p") o.typical_p = static_cast<float>(num());
    else if (name == "repeat_penalty") o.repeat_penalty = static_cast<float>(num());
    else if (name == "repeat_last_n") o.repeat_last_n = static_cast<int>(num());
    else if (name == "presence_penalty") o.presence_penalty = static_cast<float>(num());
    else if (name == "frequency_penalty") o.frequency_penalty = static_cast<float>(num());
    else if (name == "seed") o.seed = static_cast<int64_t>(num());
    else if (name == "num_predict") s.request.num_predict = static_cast<int>(num());
    else if (name == "num_keep") s.request.num_keep = static_cast<int>(num());
    else if (name == "num_ctx") s.load.num_ctx = static_cast<int>(num());
    else if (name == "num_thread") s.load.num_thread = static_cast<int>(num());
    else if (name == "num_batch") s.load.num_batch = static_cast<int>(num());
    else if (name == "stop") {
      if (v.is_array()) {
        for (const auto& e : v) s.request.stop.push_back(e.is_string() ? e.get<std::string>() : e.dump());
      } else {
        s.request.stop.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      }
    } else {
      std::fprintf(stderr, "Warning: invalid option provided: %s\n", name.c_str());
    }
  }
  return s;
}

// One user message through the model's chat template (Hugging Face's apply_chat_template
// variables). A model without a template gets the prompt as it is.
std::string apply_template(const engine::Runner& r, const std::string& prompt) {
  const std::string tmpl = r.chat_template();
  if (tmpl.empty()) return prompt;
  nlohmann::ordered_json ctx;
  ctx["messages"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", prompt}}});
  ctx["add_generation_prompt"] = true;
  ctx["bos_token"] = r.bos_token();
  ctx["eos_token"] = r.eos_token();
  return chat::JinjaTemplate::parse(tmpl).render(ctx);
}

}  // namespace

bool is_gguf_path(const std::string& model) {
  // "x.gguf" is a path even when missing (the load error then names it); store names never end so.
  if (ends_with(model, ".gguf")) return true;
  struct stat st{};
  return model.find('/') != std::string::npos && stat(model.c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

void run_gguf_file(const LocalRunOptions& opt) {
  const Clock::time_point t0 = Clock::now();
  RunSettings s = settings_from_params(opt.params);
  std::unique_ptr<engine::Runner> runner = engine::Runner::load(opt.path, s.load);
  const std::string text = opt.raw ? opt.prompt : apply_template(*runner, opt.prompt);
  // A raw prompt is plain text (control-token spellings stay text); a rendered template means
  // its control tokens.
  s.request.prompt = runner->tokenize(text, true, !opt.raw);
  if (s.request.prompt.empty()) throw Error(ErrorCode::invalid_argument, "the prompt is empty");
  s.request.on_piece = [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  const engine::CompletionResult res = runner->complete(s.request);
  std::printf("\n");
  std::fflush(stdout);
  if (opt.verbose) {
    nlohmann::json m;
    m["total_duration"] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    m["load_duration"] = runner->load_ns();
    m["prompt_eval_count"] = res.prompt_eval_count;
    m["prompt_eval_duration"] = res.prompt_eval_ns;
    m["eval_count"] = res.eval_count;
    m["eval_duration"] = res.eval_ns;
    const std::string summary = metrics_summary(m);
    std::fprintf(stderr, "%s", summary.c_str());
  }
}

void add_run_verb(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model (a name from the store, or a .gguf path)");
  add_run_flags(*cmd, *flags);
  cmd->callback([flags] {
    if (!is_gguf_path(flags->model)) {
      std::unique_ptr<Connection> conn = connect(true);
      run_model(conn->client(), *flags);
      return;
    }
    LocalRunOptions o;
    o.path = flags->model;
    o.raw = flags->raw;
    o.verbose = flags->verbose;
    o.params = flags->params;
    for (size_t i = 0; i < flags->prompt.size(); ++i) o.prompt += (i ? " " : "") + flags->prompt[i];
    if (isatty(STDIN_FILENO) != 1) {
      // Piped input comes first, as Ollama prepends stdin to the prompt argument.
      std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      if (!in.empty()) o.prompt = o.prompt.empty() ? in : in + " " + o.prompt;
    }
    if (o.prompt.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  "running a .gguf file needs a prompt (argument or stdin)");
    }
    run_gguf_file(o);
  });
}

}  // namespace hearth::cli
