#include <fstream>

#include "server/server_state.h"

namespace hearth::server {

RequestLog& request_log() {
  thread_local RequestLog log;
  return log;
}

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::unsupported: return 400;
    case ErrorCode::not_found: return 404;
    case ErrorCode::resource_exhausted: return 503;
    case ErrorCode::cancelled: return 499;
    case ErrorCode::corrupt:
    case ErrorCode::io:
    case ErrorCode::internal: return 500;
  }
  return 500;
}

void send_json(httplib::Response& res, int status, const api::Json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, api::Json::error_handler_t::replace), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  api::Json j = api::Json::object();
  j["error"] = message;
  send_json(res, status, j);
}

void send_error(httplib::Response& res, const Error& e) {
  int status = status_for(e.code());
  if (e.code() == ErrorCode::resource_exhausted &&
      std::string(e.what()) == "request body too large") {
    status = 413;
  }
  send_error(res, status, e.what());
}

std::string read_body(const httplib::ContentReader& reader, size_t max_bytes) {
  std::string body;
  bool too_big = false;
  reader([&](const char* data, size_t n) {
    if (body.size() + n > max_bytes) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_big) throw Error(ErrorCode::resource_exhausted, "request body too large");
  return body;
}

ResolvedModel resolve_model(State& s, const std::string& name) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  store::ModelName parsed = store::ModelName::parse(name);  // invalid model name
  ResolvedModel m;
  store::ModelName on_disk = s.store->resolve_existing(name);
  m.entry = s.store->entry(on_disk);
  m.display = on_disk.display();
  m.full_name = on_disk.full();
  (void)parsed;
  const store::Manifest& man = m.entry.manifest;
  const store::Layer* model = man.find_layer(store::kMediaModel);
  if (model == nullptr) {
    throw Error(ErrorCode::invalid_argument, "\"" + name + "\" does not support generate");
  }
  m.gguf_path = s.store->blob_path(model->digest);
  auto text_layer = [&](const char* media) -> std::string {
    const store::Layer* l = man.find_layer(media);
    return l != nullptr ? s.store->read_blob(l->digest) : std::string();
  };
  m.template_text = text_layer(store::kMediaTemplate);
  m.system = text_layer(store::kMediaSystem);
  m.license = text_layer(store::kMediaLicense);
  std::string params = text_layer(store::kMediaParams);
  if (!params.empty()) {
    api::Json pj = api::Json::parse(params, nullptr, false);
    if (pj.is_object()) m.params = api::Options::parse(pj);
  }
  std::string messages = text_layer(store::kMediaMessages);
  if (!messages.empty()) {
    api::Json mj = api::Json::parse(messages, nullptr, false);
    if (mj.is_array()) {
      for (const auto& x : mj) m.messages.push_back(api::parse_message(x));
    }
  }
  return m;
}

engine::LoadSpec load_spec_for(const State& s, const ResolvedModel& m, const api::Options& opts) {
  engine::LoadSpec spec;
  spec.name = m.display;
  spec.model_path = m.gguf_path;
  spec.digest = m.entry.digest;
  spec.num_ctx = std::max(opts.num_ctx.value_or(s.config.default_num_ctx), 4);
  spec.num_parallel = std::max(s.config.num_parallel, 1);
  spec.num_thread = opts.num_thread.value_or(s.config.num_thread);
  spec.kv_cache_type = s.config.kv_cache_type;
  return spec;
}

}  // namespace hearth::server
