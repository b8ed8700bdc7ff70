#include "cli/repl.h"

#include <cstdio>

#include "cli/format.h"
#include "store/model_name.h"
#include "store/modelfile.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

constexpr std::string_view kFence = R"(""")";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool cut_suffix(std::string& s, std::string_view suffix) {
  if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
    return true;
  }
  return false;
}

Json turn_json(const ChatTurn& t) {
  Json m = {{"role", t.role}, {"content", t.content}};
  if (!t.thinking.empty()) m["thinking"] = t.thinking;
  return m;
}

std::string json_value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {  // Go's %v of a slice: [a b]
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + json_value_text(v[i]);
    return s + "]";
  }
  return v.dump();
}

}  // namespace

std::vector<std::string> split_fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

void apply_show_response(RunOptions& opts, const Json& show) {
  opts.parent_model.clear();
  if (auto d = show.find("details"); d != show.end() && d->is_object()) {
    if (auto p = d->find("parent_model"); p != d->end() && p->is_string()) {
      opts.parent_model = p->get<std::string>();
    }
  }
  opts.loaded_messages.clear();
  if (auto m = show.find("messages"); m != show.end() && m->is_array()) {
    for (const auto& x : *m) {
      if (!x.is_object()) continue;
      opts.loaded_messages.push_back({x.value("role", ""), x.value("content", ""), ""});
    }
  }
}

std::string format_show_info(const Json& show, bool verbose) {
  std::string out;
  auto section = [&](const char* title, const std::vector<std::vector<std::string>>& rows) {
    out += std::string("  ") + title + "\n";
    out += format_table({}, rows);
    out += "\n";
  };
  auto number_text = [](const Json& v) {
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number()) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", v.get<double>());
      return std::string(b);
    }
    return json_value_text(v);
  };
  const Json info = show.value("model_info", Json::object());
  const Json details = show.value("details", Json::object());
  std::vector<std::vector<std::string>> rows;
  if (!info.empty()) {
    const std::string arch = info.value("general.architecture", "");
    if (!arch.empty()) rows.push_back({"", "architecture", arch});
    std::string params = details.value("parameter_size", "");
    if (params.empty() && info.contains("general.parameter_count")) {
      params = number_text(info["general.parameter_count"]);
    }
    if (!params.empty()) rows.push_back({"", "parameters", params});
    if (auto it = info.find(arch + ".context_length"); it != info.end()) {
      rows.push_back({"", "context length", number_text(*it)});
    }
    if (auto it = info.find(arch + ".embedding_length"); it != info.end()) {
      rows.push_back({"", "embedding length", number_text(*it)});
    }
  } else {
    rows.push_back({"", "architecture", details.value("family", "")});
    rows.push_back({"", "parameters", details.value("parameter_size", "")});
  }
  rows.push_back({"", "quantization", details.value("quantization_level", "")});
  if (show.contains("requires") && show["requires"].is_string()) {
    rows.push_back({"", "requires", show["requires"].get<std::string>()});
  }
  section("Model", rows);
  if (auto caps = show.find("capabilities"); caps != show.end() && caps->is_array() && !caps->empty()) {
    rows.clear();
    for (const auto& c : *caps) rows.push_back({"", json_value_text(c)});
    section("Capabilities", rows);
  }
  const std::string parameters = show.value("parameters", "");
  if (!parameters.empty()) {
    rows.clear();
    size_t start = 0;
    while (start <= parameters.size()) {
      size_t nl = parameters.find('\n', start);
      std::string line = parameters.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      auto f = split_fields(line);
      if (!f.empty()) {
        f.insert(f.begin(), "");
        rows.push_back(f);
      }
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    section("Parameters", rows);
  }
  if (verbose && !info.empty()) {
    rows.clear();
    for (const auto& [k, v] : info.items()) {  // the server sends keys sorted
      std::string text;
      if (v.is_array()) {
        // Arrays show only what fits in ten columns, then how many more there are.
        size_t shown = 0, width = 1;
        for (size_t i = 0; i < v.size(); ++i) {
          size_t w = json_value_text(v[i]).size() + (i > 0 ? 2 : 0);
          if (width + w > 10 && i > 0) break;
          width += w;
          ++shown;
        }
        text = "[";
        for (size_t i = 0; i < shown; ++i) text += (i ? " " : "") + json_value_text(v[i]);
        text += shown < v.size() ? " ...+" + std::to_string(v.size() - shown) + " more]" : "]";
      } else {
        text = number_text(v);
      }
      rows.push_back({"", k, text});
    }
    section("Metadata", rows);
  }
  if (auto t = show.find("tensors"); verbose && t != show.end() && t->is_array() && !t->empty()) {
    rows.clear();
    for (const auto& x : *t) {
      rows.push_back({"", x.value("name", ""), x.value("type", ""),
                      json_value_text(x.value("shape", Json::array()))});
    }
    section("Tensors", rows);
  }
  auto head = [&](const std::string& s) {
    std::vector<std::vector<std::string>> r;
    size_t count = 0, start = 0;
    while (start < s.size()) {
      size_t nl = s.find('\n', start);
      std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? s.size() : nl + 1;
      auto f = split_fields(line);
      if (f.empty()) continue;
      size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
      if (++count <= 2) r.push_back({"", line.substr(b, e - b + 1)});
    }
    if (count > 2) r.push_back({"", "..."});
    return r;
  };
  const std::string system = show.value("system", "");
  if (!system.empty()) section("System", head(system));
  const std::string license = show.value("license", "");
  if (!license.empty()) section("License", head(license));
  return out;
}

Repl::Repl(RunOptions options, ReplApi& api, Sink out, Sink err, AnswerStyle style)
    : opts_(std::move(options)), api_(api), out_(std::move(out)), err_(std::move(err)),
      style_(style) {}

Json Repl::chat_request() const {
  Json req = {{"model", opts_.model}, {"messages", Json::array()}};
  for (const auto& m : opts_.messages) req["messages"].push_back(turn_json(m));
  if (!opts_.format.empty()) req["format"] = opts_.format;
  if (!opts_.options.empty()) req["options"] = opts_.options;
  if (!opts_.think.is_null()) req["think"] = opts_.think;
  if (!opts_.keep_alive.is_null()) req["keep_alive"] = opts_.keep_alive;
  return req;
}

Json Repl::create_request(const std::string& name) const {
  std::string from = opts_.model;
  store::ModelName parsed;
  if (!opts_.parent_model.empty() && store::ModelName::try_parse(opts_.parent_model, &parsed)) {
    from = opts_.parent_model;
  }
  Json req = {{"model", name}, {"from", from}};
  if (!opts_.system.empty()) req["system"] = opts_.system;
  if (!opts_.options.empty()) req["parameters"] = opts_.options;
  Json msgs = Json::array();
  for (const auto& m : opts_.loaded_messages) msgs.push_back(turn_json(m));
  for (const auto& m : opts_.messages) msgs.push_back(turn_json(m));
  if (!msgs.empty()) req["messages"] = msgs;
  return req;
}

void Repl::interrupt(bool line_was_empty) {
  if (line_was_empty && multiline_ == Multiline::none) {
    print("\nUse Ctrl + d or /bye to exit.\n");
  }
  multiline_ = Multiline::none;
  buffer_.clear();
}

void Repl::end_of_input() { print("\n"); }

Repl::Status Repl::handle_line(const std::string& raw) {
  std::string line = raw;
  if (multiline_ != Multiline::none) {
    const bool closed = cut_suffix(line, kFence);
    buffer_ += line;
    if (!closed) {
      buffer_ += "\n";
      return Status::more;
    }
    const Multiline kind = multiline_;
    multiline_ = Multiline::none;
    if (kind == Multiline::system) {
      set_system(buffer_);
      buffer_.clear();
      return Status::more;
    }
  } else if (starts_with(line, kFence)) {
    line = line.substr(kFence.size());
    const bool closed = cut_suffix(line, kFence);
    buffer_ += line;
    if (!closed) {
      buffer_ += "\n";
      multiline_ = Multiline::prompt;
      return Status::more;
    }
  } else if (starts_with(line, "/")) {
    const auto args = split_fields(line);
    const std::string& cmd = args.empty() ? line : args[0];
    if (starts_with(line, "/list")) {
      print(api_.list_table());
    } else if (starts_with(line, "/load")) {
      cmd_load(args);
    } else if (starts_with(line, "/save")) {
      cmd_save(args);
    } else if (starts_with(line, "/clear")) {
      opts_.messages.clear();
      if (!opts_.system.empty()) opts_.messages.push_back({"system", opts_.system, ""});
      print("Cleared session context\n");
    } else if (starts_with(line, "/set")) {
      cmd_set(args);
    } else if (starts_with(line, "/show")) {
      cmd_show(args);
    } else if (starts_with(line, "/help") || starts_with(line, "/?")) {
      help(args.size() > 1 ? args[1] : "");
    } else if (starts_with(line, "/exit") || starts_with(line, "/bye")) {
      return Status::exit;
    } else {
      print("Unknown command '" + cmd + "'. Type /? for help\n");
    }
    return Status::more;
  } else {
    buffer_ += line;
  }
  if (!buffer_.empty() && multiline_ == Multiline::none) {
    std::string text;
    text.swap(buffer_);
    send(text);
  }
  return Status::more;
}

void Repl::send(const std::string& text) {
  opts_.messages.push_back({"user", text, ""});
  AnswerStyle style = style_;
  style.wrap = opts_.wordwrap;
  style.hide_thinking = opts_.hide_thinking;
  AnswerPrinter printer(out_, style);
  Json last;
  std::string role = "assistant";
  bool finished = false;
  try {
    finished = api_.chat(chat_request(), [&](const Json& chunk) {
      last = chunk;
      if (auto m = chunk.find("message"); m != chunk.end() && m->is_object()) {
        role = m->value("role", role);
        printer.thinking(m->value("thinking", ""));
        printer.content(m->value("content", ""));
      }
      return true;
    });
  } catch (const Error& e) {
    printer.finish();
    const std::string msg = e.what();
    if (msg.find("does not support thinking") != std::string::npos ||
        msg.find("invalid think value") != std::string::npos) {
      print("error: " + msg + "\n");
      return;
    }
    throw;
  }
  printer.finish();
  if (!finished) {  // Ctrl+C: the answer is dropped, the session goes on
    print("\n");
    return;
  }
  print("\n\n");
  if (opts_.verbose) eprint(metrics_summary(last));
  opts_.messages.push_back({role, printer.content_text(), printer.thinking_text()});
}

void Repl::set_system(const std::string& text) {
  opts_.system = text;
  ChatTurn turn{"system", text, ""};
  if (!opts_.messages.empty() && opts_.messages.back().role == "system") {
    opts_.messages.back() = turn;
  } else {
    opts_.messages.push_back(turn);
  }
  print("Set system message.\n");
}

void Repl::cmd_set(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    help("set");
    return;
  }
  const std::string& what = args[1];
  if (what == "history") {
    history_ = true;
  } else if (what == "nohistory") {
    history_ = false;
  } else if (what == "wordwrap") {
    opts_.wordwrap = true;
    print("Set 'wordwrap' mode.\n");
  } else if (what == "nowordwrap") {
    opts_.wordwrap = false;
    print("Set 'nowordwrap' mode.\n");
  } else if (what == "verbose") {
    opts_.verbose = true;
    print("Set 'verbose' mode.\n");
  } else if (what == "quiet") {
    opts_.verbose = false;
    print("Set 'quiet' mode.\n");
  } else if (what == "think") {
    if (args.size() > 2) {
      opts_.think = args[2];
      print("Set 'think' mode to '" + args[2] + "'.\n");
    } else {
      opts_.think = true;
      print("Set 'think' mode.\n");
    }
  } else if (what == "nothink") {
    opts_.think = false;
    print("Set 'nothink' mode.\n");
  } else if (what == "format") {
    if (args.size() < 3 || args[2] != "json") {
      print("Invalid or missing format. For 'json' mode use '/set format json'\n");
    } else {
      opts_.format = "json";
      print("Set format to 'json' mode.\n");
    }
  } else if (what == "noformat") {
    opts_.format.clear();
    print("Disabled format.\n");
  } else if (what == "parameter") {
    if (args.size() < 4) {
      help("parameters");
      return;
    }
    const std::string& name = args[2];
    Json value;
    std::string joined;
    try {
      for (size_t i = 3; i < args.size(); ++i) {
        Json v = store::parse_parameter_value(name, args[i]);
        if (v.is_array()) {
          if (!value.is_array()) value = Json::array();
          for (auto& e : v) value.push_back(e);
        } else if (i == 3) {
          value = v;
        }
        joined += (i > 3 ? ", " : "") + args[i];
      }
    } catch (const Error& e) {
      print(std::string("Couldn't set parameter: \"") + e.what() + "\"\n");
      return;
    }
    opts_.options[name] = value;
    print("Set parameter '" + name + "' to '" + joined + "'\n");
  } else if (what == "system") {
    if (args.size() < 3) {
      help("set");
      return;
    }
    // The text after "/set system", spaces collapsed as Ollama's Fields/Join does.
    std::string text;
    for (size_t i = 2; i < args.size(); ++i) text += (i > 2 ? " " : "") + args[i];
    if (starts_with(text, kFence)) {
      text = text.substr(kFence.size());
      if (!cut_suffix(text, kFence)) {
        buffer_ = text + "\n";
        multiline_ = Multiline::system;
        return;
      }
    }
    set_system(text);
  } else {
    print("Unknown command '/set " + what + "'. Type /? for help\n");
  }
}

void Repl::cmd_show(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    help("show");
    return;
  }
  Json req = {{"model", opts_.model}};
  if (!opts_.system.empty()) req["system"] = opts_.system;
  if (!opts_.options.empty()) req["options"] = opts_.options;
  Json resp;
  try {
    resp = api_.show(req);
  } catch (const Error&) {
    print("error: couldn't get model\n");
    return;
  }
  const std::string& what = args[1];
  auto field = [&](const char* k) { return resp.value(k, std::string()); };
  if (what == "info") {
    eprint(format_show_info(resp, false));
  } else if (what == "license") {
    print(field("license").empty() ? "No license was specified for this model.\n"
                                   : field("license") + "\n");
  } else if (what == "modelfile") {
    print(field("modelfile") + "\n");
  } else if (what == "parameters") {
    print("Model defined parameters:\n");
    if (field("parameters").empty()) {
      print("  No additional parameters were specified for this model.\n");
    } else {
      std::string p = field("parameters");
      size_t start = 0;
      while (start < p.size()) {
        size_t nl = p.find('\n', start);
        std::string l = p.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (!l.empty()) print("  " + l + "\n");
        start = nl == std::string::npos ? p.size() : nl + 1;
      }
    }
    print("\n");
    if (!opts_.options.empty()) {
      print("User defined parameters:\n");
      for (const auto& [k, v] : opts_.options.items()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "  %-30s ", k.c_str());
        print(buf + json_value_text(v) + "\n");
      }
      print("\n");
    }
  } else if (what == "system") {
    if (!opts_.system.empty()) {
      print(opts_.system + "\n\n");
    } else if (!field("system").empty()) {
      print(field("system") + "\n\n");
    } else {
      print("No system message was specified for this model.\n");
    }
  } else if (what == "template") {
    print(field("template").empty() ? "No prompt template was specified for this model.\n"
                                    : field("template") + "\n");
  } else {
    print("Unknown command '/show " + what + "'. Type /? for help\n");
  }
}

void Repl::cmd_load(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    print("Usage:\n  /load <modelname>\n");
    return;
  }
  RunOptions saved = opts_;
  opts_.model = args[1];
  opts_.messages.clear();
  opts_.loaded_messages.clear();
  print("Loading model '" + opts_.model + "'\n");
  try {
    Json info = api_.show({{"model", opts_.model}});
    apply_show_response(opts_, info);
    api_.load(opts_.model, opts_.keep_alive);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found || std::string(e.what()).find("not found") != std::string::npos) {
      print("Couldn't find model '" + opts_.model + "'\n");
      opts_ = saved;
      return;
    }
    throw;
  }
}

void Repl::cmd_save(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    print("Usage:\n  /save <modelname>\n");
    return;
  }
  try {
    api_.create(create_request(args[1]));
  } catch (const Error& e) {
    if (std::string(e.what()).find("invalid model name") != std::string::npos) {
      print("error: The model name '" + args[1] + "' is invalid\n");
      return;
    }
    throw;
  }
  print("Created new model '" + args[1] + "'\n");
}

void Repl::help(const std::string& topic) {
  if (topic == "set" || topic == "/set") {
    eprint(
        "Available Commands:\n"
        "  /set parameter ...     Set a parameter\n"
        "  /set system <string>   Set system message\n"
        "  /set history           Enable history\n"
        "  /set nohistory         Disable history\n"
        "  /set wordwrap          Enable wordwrap\n"
        "  /set nowordwrap        Disable wordwrap\n"
        "  /set format json       Enable JSON mode\n"
        "  /set noformat          Disable formatting\n"
        "  /set verbose           Show LLM stats\n"
        "  /set quiet             Disable LLM stats\n"
        "  /set think             Enable thinking\n"
        "  /set nothink           Disable thinking\n"
        "\n");
  } else if (topic == "show" || topic == "/show") {
    eprint(
        "Available Commands:\n"
        "  /show info         Show details for this model\n"
        "  /show license      Show model license\n"
        "  /show modelfile    Show Modelfile for this model\n"
        "  /show parameters   Show parameters for this model\n"
        "  /show system       Show system message\n"
        "  /show template     Show prompt template\n"
        "\n");
  } else if (topic == "shortcut" || topic == "shortcuts") {
    eprint(
        "Available keyboard shortcuts:\n"
        "  Ctrl + a            Move to the beginning of the line (Home)\n"
        "  Ctrl + e            Move to the end of the line (End)\n"
        "   Alt + b            Move back (left) one word\n"
        "   Alt + f            Move forward (right) one word\n"
        "  Ctrl + k            Delete the sentence after the cursor\n"
        "  Ctrl + u            Delete the sentence before the cursor\n"
        "  Ctrl + w            Delete the word before the cursor\n"
        "\n"
        "  Ctrl + l            Clear the screen\n"
        "  Ctrl + c            Stop the model from responding\n"
        "  Ctrl + d            Exit hearth (/bye)\n"
        "\n");
  } else if (topic == "parameters") {
    eprint(
        "Available Parameters:\n"
        "  /set parameter seed <int>             Random number seed\n"
        "  /set parameter num_predict <int>      Max number of tokens to predict\n"
        "  /set parameter top_k <int>            Pick from top k num of tokens\n"
        "  /set parameter top_p <float>          Pick token based on sum of probabilities\n"
        "  /set parameter min_p <float>          Pick token based on top token probability * min_p\n"
        "  /set parameter num_ctx <int>          Set the context size\n"
        "  /set parameter temperature <float>    Set creativity level\n"
        "  /set parameter repeat_penalty <float> How strongly to penalize repetitions\n"
        "  /set parameter repeat_last_n <int>    Set how far back to look for repetitions\n"
        "  /set parameter num_gpu <int>          The number of layers to send to the GPU\n"
        "  /set parameter stop <string> <string> ...   Set the stop parameters\n"
        "\n");
  } else if (topic.empty()) {
    eprint(
        "Available Commands:\n"
        "  /set            Set session variables\n"
        "  /show           Show model information\n"
        "  /load <model>   Load a session or model\n"
        "  /save <model>   Save your current session\n"
        "  /clear          Clear session context\n"
        "  /bye            Exit\n"
        "  /?, /help       Help for a command\n"
        "  /? shortcuts    Help for keyboard shortcuts\n"
        "\n"
        "Use \"\"\" to begin a multi-line message.\n"
        "\n");
  }
}

}  // namespace hearth::cli
