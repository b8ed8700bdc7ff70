#pragma once
// Internal to src/server: what every handler shares, and the helpers they use to answer.

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>

#include "api/requests.h"
#include "engine/scheduler.h"
#include "server/metrics.h"
#include "server/server.h"
#include "store/store.h"
#include "util/error.h"

namespace hearth::server {

// Per-request facts for the access log line, filled by handlers on the connection's thread
// (cpp-httplib runs routing, the handler, the stream and the logger on one thread).
struct RequestLog {
  std::chrono::steady_clock::time_point start;
  std::string route;
  std::string model;
  int prompt_tokens = 0;
  int eval_tokens = 0;
};
RequestLog& request_log();

struct Server::State {
  ServerConfig config;
  std::shared_ptr<engine::Scheduler> scheduler;
  std::shared_ptr<store::Store> store;
  Metrics metrics;
  httplib::Server http;
  // /api/tags facts read from each model's GGUF, by manifest digest (clients poll the list).
  std::mutex tags_mu;
  std::map<std::string, api::Json> tags_facts;
};
using State = Server::State;

// ErrorCode -> HTTP status (the one map).
int status_for(ErrorCode code);

void send_json(httplib::Response& res, int status, const api::Json& body);
// {"error": message} with the status for `code`.
void send_error(httplib::Response& res, int status, const std::string& message);
void send_error(httplib::Response& res, const Error& e);

// The body of a request whose route was registered with a content reader, bounded by
// `max_bytes` (Error(resource_exhausted) "request body too large" beyond it).
std::string read_body(const httplib::ContentReader& reader, size_t max_bytes);

// A model from the store, with its Modelfile layers read.
struct ResolvedModel {
  store::ModelEntry entry;
  std::string display;    // "llama3.2:latest"
  std::string full_name;  // "registry.ollama.ai/library/llama3.2:latest"
  std::string gguf_path;
  std::string template_text, system, license;
  api::Options params;
  std::vector<api::Message> messages;
};
// Go's %q (strconv.Quote) of `s`, for error texts Ollama builds with it: escapes for quotes,
// backslashes and control characters; \xNN for bytes that are not UTF-8; other characters as is
// (Go also escapes the few non-printable characters above U+009F; model names never hold them).
std::string go_quote(std::string_view s);

// Throws Error(invalid_argument) "invalid model name" or Error(not_found) "model 'X' not found".
ResolvedModel resolve_model(State& s, const std::string& name);

engine::LoadSpec load_spec_for(const State& s, const ResolvedModel& m, const api::Options& opts);

// One request as its handler sees it.
struct Call {
  State& s;
  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader;  // set for methods with a body (POST, DELETE)

  // The body read whole (bounded by max_body_bytes) and parsed as a JSON object.
  api::Json json_body() const;
};

// The error body each API family answers with: Ollama's {"error": "..."}, OpenAI's
// {"error": {"message", "type", ...}}, Anthropic's {"type": "error", "error": {...}}.
enum class ErrorShape { ollama, openai, anthropic };

// A route: cpp-httplib `pattern`, the `label` the access log and metrics name it by, the error
// shape its failures take, and its handler, which throws hearth::Error for what it cannot do.
struct Route {
  const char* method;  // GET, POST or DELETE; HEAD is implied by GET
  const char* pattern;
  const char* label;
  ErrorShape errors;
  void (*handler)(Call&);
};
// The one route table (server.cc): registrations, the 404/405 rules and log labels all read it.
const std::vector<Route>& route_table();

// `e` (status from status_for) in the route's error shape.
void send_error(httplib::Response& res, ErrorShape shape, const Error& e);
void send_error(httplib::Response& res, ErrorShape shape, int status, const std::string& message);

// Handlers, one file per group.
void handle_root(Call&);  // model_handlers.cc
void handle_ui_index(Call&);  // ui_handlers.cc
void handle_ui_file(Call&);   // ui_handlers.cc
void handle_version(Call&);
void handle_tags(Call&);
void handle_ps(Call&);
void handle_show(Call&);
void handle_copy(Call&);
void handle_delete(Call&);
void handle_blob_upload(Call&);
void handle_pull(Call&);
void handle_push(Call&);
void handle_create(Call&);
void handle_metrics(Call&);
void handle_generate(Call&);  // generate_handlers.cc
void handle_chat(Call&);
void handle_openai_chat(Call&);  // openai_handlers.cc
void handle_openai_completion(Call&);
void handle_openai_models(Call&);
void handle_openai_model(Call&);
void handle_anthropic_messages(Call&);  // anthropic_handlers.cc
void handle_openai_responses(Call&);  // responses_handlers.cc
void handle_embed(Call&);  // embed_handlers.cc
void handle_legacy_embeddings(Call&);
void handle_openai_embeddings(Call&);

}  // namespace hearth::server
