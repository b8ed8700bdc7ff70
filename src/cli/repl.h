#pragma once
// The interactive chat of `hearth run MODEL` (Ollama's REPL, ollama-compat.md section 4), as logic
// without a terminal: the line editor (repl_terminal.cc) feeds it lines and Ctrl+C, and it talks
// to the server through ReplApi, so tests drive it with plain strings and a fake API.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/answer_printer.h"

namespace hearth::cli {

using Json = nlohmann::ordered_json;

struct ChatTurn {
  std::string role;
  std::string content;
  std::string thinking;
};

// What a run carries: the model, the conversation and the session's settings.
struct RunOptions {
  std::string model;
  std::string parent_model;   // from /api/show details.parent_model, for /save
  std::string system;
  std::vector<ChatTurn> messages;
  std::vector<ChatTurn> loaded_messages;  // the model's MESSAGEs, kept by /save
  Json options = Json::object();          // user-defined parameters (/set parameter)
  Json think;                             // null, true/false, or "low".."max"
  std::string format;                     // "" or "json"
  Json keep_alive;                        // null or a duration string
  bool verbose = false;
  bool wordwrap = true;
  bool hide_thinking = false;
};

// What the REPL needs from a server. The real one wraps ApiClient (run_session.cc).
class ReplApi {
 public:
  virtual ~ReplApi() = default;
  // POST /api/show. Throws hearth::Error (not_found for a missing model).
  virtual Json show(const Json& request) = 0;
  // POST /api/create (no progress shown). Throws hearth::Error.
  virtual void create(const Json& request) = 0;
  // `hearth list` output.
  virtual std::string list_table() = 0;
  // Loads a model (an empty chat). Throws hearth::Error.
  virtual void load(const std::string& model, const Json& keep_alive) = 0;
  // Streams POST /api/chat; false when cancelled (Ctrl+C). Throws hearth::Error.
  virtual bool chat(const Json& request, const std::function<bool(const Json&)>& on_chunk) = 0;
};

class Repl {
 public:
  using Sink = std::function<void(std::string_view)>;
  // `out` receives answers and command replies (stdout), `err` help and statistics (stderr).
  Repl(RunOptions options, ReplApi& api, Sink out, Sink err, AnswerStyle style);

  enum class Status { more, exit };
  // One line from the editor, without its newline.
  Status handle_line(const std::string& line);
  // Ctrl+C at the prompt: drops a half-typed multi-line message; on an empty line says how to
  // leave, as Ollama does.
  void interrupt(bool line_was_empty);
  // Ctrl+D.
  void end_of_input();

  // The editor shows "... " instead of ">>> " while a multi-line message is open.
  bool continuation() const { return multiline_ != Multiline::none; }
  // `/set history` / `/set nohistory` toggle the editor's history.
  bool history_enabled() const { return history_; }
  void set_history_enabled(bool on) { history_ = on; }
  // Terminal width changes between answers.
  void set_width(int width) { style_.width = width; }

  const RunOptions& options() const { return opts_; }
  // The /api/chat request for the conversation so far.
  Json chat_request() const;
  // The /api/create request /save sends.
  Json create_request(const std::string& name) const;

 private:
  enum class Multiline { none, prompt, system };
  void send(const std::string& text);
  void cmd_set(const std::vector<std::string>& args);
  void cmd_show(const std::vector<std::string>& args);
  void cmd_load(const std::vector<std::string>& args);
  void cmd_save(const std::vector<std::string>& args);
  void set_system(const std::string& text);
  void help(const std::string& topic);
  void print(std::string_view s) { out_(s); }
  void eprint(std::string_view s) { err_(s); }

  RunOptions opts_;
  ReplApi& api_;
  Sink out_, err_;
  AnswerStyle style_;
  Multiline multiline_ = Multiline::none;
  std::string buffer_;
  bool history_ = true;
};

// Splits on runs of spaces and tabs (Go's strings.Fields).
std::vector<std::string> split_fields(std::string_view s);

// Applies an /api/show reply to the run: parent model, the model's MESSAGEs.
void apply_show_response(RunOptions& opts, const Json& show);

// Prints `/show info` (and `hearth show MODEL`) from an /api/show reply.
std::string format_show_info(const Json& show, bool verbose);

}  // namespace hearth::cli
