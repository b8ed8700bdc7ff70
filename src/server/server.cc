// The route table, the middleware (Host check, CORS, API key, body limits, 404/405), the access
// log, and the Server's life cycle.

#include "server/server.h"

#include <unistd.h>

#include <algorithm>
#include <regex>

#include "engine/devices.h"
#include "server/server_state.h"
#include "util/check.h"
#include "util/env.h"
#include "util/log.h"

namespace hearth::server {

bool blob_exists(State& s, const std::string& digest_text, int* status);  // model_handlers.cc
bool is_ui_path(const std::string& path);                                  // ui_handlers.cc

const std::vector<Route>& route_table() {
  using E = ErrorShape;
  static const std::vector<Route> table = {
      {"GET", "/", "/", E::ollama, handle_root},
      {"GET", "/api/version", "/api/version", E::ollama, handle_version},
      {"POST", "/api/generate", "/api/generate", E::ollama, handle_generate},
      {"POST", "/api/chat", "/api/chat", E::ollama, handle_chat},
      {"POST", "/api/embed", "/api/embed", E::ollama, handle_embed},
      {"POST", "/api/embeddings", "/api/embeddings", E::ollama, handle_legacy_embeddings},
      {"GET", "/api/tags", "/api/tags", E::ollama, handle_tags},
      {"POST", "/api/show", "/api/show", E::ollama, handle_show},
      {"GET", "/api/ps", "/api/ps", E::ollama, handle_ps},
      {"POST", "/api/pull", "/api/pull", E::ollama, handle_pull},
      {"POST", "/api/push", "/api/push", E::ollama, handle_push},
      {"POST", "/api/create", "/api/create", E::ollama, handle_create},
      {"POST", "/api/copy", "/api/copy", E::ollama, handle_copy},
      {"DELETE", "/api/delete", "/api/delete", E::ollama, handle_delete},
      // HEAD of a blob is answered before routing (pre_route): cpp-httplib sends HEAD to GET routes.
      {"POST", "/api/blobs/([^/]+)", "/api/blobs/:digest", E::ollama, handle_blob_upload},
      {"POST", "/v1/chat/completions", "/v1/chat/completions", E::openai, handle_openai_chat},
      {"POST", "/v1/completions", "/v1/completions", E::openai, handle_openai_completion},
      {"POST", "/v1/embeddings", "/v1/embeddings", E::openai, handle_openai_embeddings},
      {"POST", "/v1/responses", "/v1/responses", E::openai, handle_openai_responses},
      {"POST", "/v1/messages", "/v1/messages", E::anthropic, handle_anthropic_messages},
      {"GET", "/v1/models", "/v1/models", E::openai, handle_openai_models},
      {"GET", "/v1/models/(.+)", "/v1/models/:model", E::openai, handle_openai_model},
      {"GET", "/metrics", "/metrics", E::ollama, handle_metrics},
      // The web page (web/dist, compiled in): public files, like "/".
      {"GET", "/ui", "/ui", E::ollama, handle_ui_index},
      {"GET", "/ui/", "/ui", E::ollama, handle_ui_index},
      {"GET", "/ui/([A-Za-z0-9_.-]+)", "/ui", E::ollama, handle_ui_file},
  };
  return table;
}

namespace {

// The compiled patterns of route_table(), in its order.
const std::vector<std::regex>& route_patterns() {
  static const std::vector<std::regex> patterns = [] {
    std::vector<std::regex> p;
    for (const Route& r : route_table()) p.emplace_back(r.pattern);
    return p;
  }();
  return patterns;
}

// 0: route and method known; 404: no such path; 405: path known, method not.
int route_status(const std::string& method, const std::string& path) {
  bool path_known = false;
  const auto& table = route_table();
  for (size_t i = 0; i < table.size(); ++i) {
    if (!std::regex_match(path, route_patterns()[i])) continue;
    path_known = true;
    const std::string m = table[i].method;
    if (m == method || (method == "HEAD" && m == "GET") || (method == "HEAD" && table[i].handler == handle_blob_upload)) {
      return 0;
    }
  }
  return path_known ? 405 : 404;
}

void add_route(State& s, const Route& route) {
  const std::string method = route.method;
  if (method == "GET") {
    s.http.Get(route.pattern, [&s, &route](const httplib::Request& req, httplib::Response& res) {
      request_log().route = route.label;
      Call call{s, req, res, nullptr};
      try {
        route.handler(call);
      } catch (const Error& e) {
        send_error(res, route.errors, e);
      }
    });
    return;
  }
  auto with_body = [&s, &route](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    request_log().route = route.label;
    Call call{s, req, res, &reader};
    try {
      route.handler(call);
    } catch (const Error& e) {
      send_error(res, route.errors, e);
    }
  };
  if (method == "POST") s.http.Post(route.pattern, with_body);
  else if (method == "DELETE") s.http.Delete(route.pattern, with_body);
  else HEARTH_CHECK(false);
}

// The error shape of the first route `path` matches; Ollama's for unknown paths.
ErrorShape error_shape_of(const std::string& path) {
  const auto& table = route_table();
  for (size_t i = 0; i < table.size(); ++i) {
    if (std::regex_match(path, route_patterns()[i])) return table[i].errors;
  }
  return ErrorShape::ollama;
}

bool method_has_reader(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

void set_text(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain");
}

httplib::Server::HandlerResponse pre_route(State& s, const httplib::Request& req, httplib::Response& res) {
  RequestLog& log = request_log();
  log = RequestLog{};
  log.start = std::chrono::steady_clock::now();
  log.route = req.path;
  HEARTH_LOG_DEBUG("request " + req.method + " " + req.path + " from " + req.remote_addr);

  if (is_loopback_host(s.config.bind.host) && !host_header_allowed(req.get_header_value("Host"))) {
    res.status = 403;
    return httplib::Server::HandlerResponse::Handled;
  }

  std::string origin = req.get_header_value("Origin");
  if (!origin.empty()) {
    bool same_origin = origin == "http://" + req.get_header_value("Host") ||
                       origin == "https://" + req.get_header_value("Host");
    if (!same_origin && !origin_allowed(s.config.origins, origin)) {
      res.status = 403;
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    if (req.method == "OPTIONS") {
      res.set_header("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
      std::string wanted = req.get_header_value("Access-Control-Request-Headers");
      // The fixed list plus any x-stainless-* header the OpenAI SDK asks for.
      std::string allowed =
          "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,OpenAI-Beta,x-api-key,anthropic-version,"
          "anthropic-beta,anthropic-dangerous-direct-browser-access";
      size_t start = 0;
      while (start < wanted.size()) {
        size_t comma = wanted.find(',', start);
        std::string h = wanted.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        h.erase(0, h.find_first_not_of(' '));
        std::string lower = h;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.rfind("x-stainless-", 0) == 0) allowed += "," + h;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      res.set_header("Access-Control-Allow-Headers", allowed);
      res.set_header("Access-Control-Max-Age", "43200");
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  if (req.method == "OPTIONS") {
    res.status = 204;
    return httplib::Server::HandlerResponse::Handled;
  }

  // The web page's files are public like the liveness text: the page then asks for the key.
  bool liveness = (req.path == "/" || is_ui_path(req.path)) && (req.method == "GET" || req.method == "HEAD");
  // Anthropic's SDKs send the key as x-api-key instead of a bearer token.
  if (!s.config.api_key.empty() && !liveness &&
      !bearer_matches(req.get_header_value("Authorization"), s.config.api_key) &&
      !bearer_matches("Bearer " + req.get_header_value("x-api-key"), s.config.api_key)) {
    // In the error shape of the API asked (an SDK raises its own authentication error from it).
    send_error(res, error_shape_of(req.path), 401, "unauthorized");
    return httplib::Server::HandlerResponse::Handled;
  }

  int status = route_status(req.method, req.path);
  if (status == 404) {
    set_text(res, 404, "404 page not found");
    return httplib::Server::HandlerResponse::Handled;
  }
  if (status == 405) {
    set_text(res, 405, "405 method not allowed");
    return httplib::Server::HandlerResponse::Handled;
  }
  // Bodies of routes without a streaming reader are read whole by cpp-httplib: bound them here.
  if (!method_has_reader(req.method)) {
    uint64_t length = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    if (length > s.config.max_body_bytes || req.get_header_value("Transfer-Encoding") == "chunked") {
      send_error(res, 413, "request body too large");
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  if (req.method == "HEAD" && req.path.rfind("/api/blobs/", 0) == 0) {
    log.route = "/api/blobs/:digest";
    int code = 0;
    blob_exists(s, req.path.substr(std::string("/api/blobs/").size()), &code);
    res.status = code;
    return httplib::Server::HandlerResponse::Handled;
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

void log_request(State& s, const httplib::Request& req, const httplib::Response& res) {
  RequestLog& log = request_log();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - log.start).count();
  s.metrics.count_request(req.method, log.route.empty() ? req.path : log.route, res.status, seconds);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3fms", seconds * 1e3);
  std::string line = req.method + " " + req.path + " status=" + std::to_string(res.status) +
                     " duration=" + buf + " client=" + req.remote_addr;
  if (!log.model.empty()) line += " model=" + log.model;
  if (log.prompt_tokens > 0 || log.eval_tokens > 0) {
    line += " prompt_tokens=" + std::to_string(log.prompt_tokens) +
            " eval_tokens=" + std::to_string(log.eval_tokens);
  }
  HEARTH_LOG_INFO(line);
}

// Ollama deletes the blobs no manifest references when it starts (unless OLLAMA_NOPRUNE), so a
// crashed pull or a hand-deleted manifest does not leak disk. A pull or create running in another
// process holds the store's shared gc lock; rather than wait for it (prune would), start-up skips
// the prune and leaves it to the next start.
void prune_unused_blobs(store::Store& st) {
  if (env_flag("HEARTH_NOPRUNE")) return;
  try {
    const std::optional<size_t> removed = st.try_prune();
    if (!removed) {
      HEARTH_LOG_INFO("not pruning unused blobs: a pull or create is running");
      return;
    }
    if (*removed > 0) HEARTH_LOG_INFO("pruned " + std::to_string(*removed) + " unused blob files from " + st.blobs_dir());
  } catch (const Error& e) {
    HEARTH_LOG_WARN(std::string("pruning unused blobs: ") + e.what());
  }
}

}  // namespace

ServerConfig ServerConfig::from_env() {
  ServerConfig c;
  c.bind = parse_host(env_value("HEARTH_HOST"));
  c.origins = allowed_origins(env_value("HEARTH_ORIGINS"));
  c.api_key = env_value("HEARTH_API_KEY");
  c.num_parallel = std::max(env_count("HEARTH_NUM_PARALLEL", 1), 1);
  c.default_num_ctx = engine::context_length_from_env();
  c.num_thread = env_count("HEARTH_NUM_THREAD", 0);
  c.kv_cache_type = env_value("HEARTH_KV_CACHE_TYPE");
  c.prefer_go_template = !env_is_set("HEARTH_GO_TEMPLATE") || env_flag("HEARTH_GO_TEMPLATE");
  return c;
}

engine::SchedulerOptions scheduler_options_from_env() {
  engine::SchedulerOptions o;
  // 0 (or malformed) is Ollama's automatic setting: 3 models per GPU, 3 without one.
  const int max_loaded = env_count("HEARTH_MAX_LOADED_MODELS", 0);
  o.max_loaded = max_loaded > 0 ? static_cast<size_t>(max_loaded) : 3 * std::max<size_t>(engine::gpu_count(), 1);
  o.max_queue = static_cast<size_t>(env_count("HEARTH_MAX_QUEUE", 512));
  // Memory budget: HEARTH_MAX_MEMORY bytes, else 80% of physical memory (Ollama's share of free
  // memory it lets a new model's prediction take before evicting).
  std::string mem = env_value("HEARTH_MAX_MEMORY");
  uint64_t budget = 0;
  if (!mem.empty()) {
    budget = std::strtoull(mem.c_str(), nullptr, 10);
  } else {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) budget = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 10 * 8;
  }
  o.memory_budget = budget;
  std::string ka = env_value("HEARTH_KEEP_ALIVE");
  try {
    o.default_keep_alive = engine::parse_keep_alive(ka, true);
  } catch (const Error& e) {
    HEARTH_LOG_WARN(std::string("HEARTH_KEEP_ALIVE: ") + e.what() + ", using 5m");
  }
  // Ollama's OLLAMA_LOAD_TIMEOUT: a Go duration or seconds; zero or negative means no limit.
  std::string load_timeout = env_value("HEARTH_LOAD_TIMEOUT");
  try {
    o.load_timeout = engine::parse_keep_alive(load_timeout, true);
  } catch (const Error& e) {
    HEARTH_LOG_WARN(std::string("HEARTH_LOAD_TIMEOUT: ") + e.what() + ", using 5m");
  }
  return o;
}

Server::Server(ServerConfig config, std::shared_ptr<engine::Scheduler> scheduler,
               std::shared_ptr<store::Store> store)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.config = std::move(config);
  s.scheduler = std::move(scheduler);
  s.store = std::move(store);
  size_t threads = s.config.http_threads;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(std::numeric_limits<size_t>::max());
  s.http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    return pre_route(s, req, res);
  });
  s.http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) { log_request(s, req, res); });
  s.http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    HEARTH_LOG_ERROR(what);
    send_error(res, 500, what);
  });
  for (const Route& route : route_table()) add_route(s, route);
}

Server::~Server() { stop(); }

int Server::bind() {
  State& s = *state_;
  if (s.config.bind.port == 0) {
    port_ = s.http.bind_to_any_port(s.config.bind.host);
  } else {
    port_ = s.http.bind_to_port(s.config.bind.host, s.config.bind.port) ? s.config.bind.port : -1;
  }
  if (port_ <= 0) {
    throw Error(ErrorCode::io, "listen tcp " + s.config.bind.display() + ": bind: address already in use or unavailable");
  }
  if (s.config.prune_on_start) prune_unused_blobs(*s.store);
  return port_;
}

void Server::listen() {
  HEARTH_LOG_INFO("Listening on " + state_->config.bind.host + ":" + std::to_string(port_) +
                  " (version " + kHearthVersion + ")");
  BindAddress bound = state_->config.bind;
  bound.port = port_;
  HEARTH_LOG_INFO("Web page: http://" + bound.display() + "/ui");
  // As Ollama logs its inference compute: what models can run on here.
  const std::vector<std::string> devices = engine::compute_devices();
  for (const std::string& d : devices) HEARTH_LOG_INFO("inference compute: " + d);
  if (devices.empty()) HEARTH_LOG_INFO("inference compute: CPU only (no Vulkan GPU found, or HEARTH_GPU=0)");
  state_->http.listen_after_bind();
}

int Server::start_background() {
  int port = bind();
  thread_ = std::thread([this] { state_->http.listen_after_bind(); });
  while (!state_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void Server::stop() {
  if (state_) state_->http.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace hearth::server
