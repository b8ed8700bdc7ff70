#include <cstdio>
#include <fstream>

#include "api/anthropic.h"
#include "api/openai.h"
#include "server/server_state.h"
#include "util/check.h"
#include "util/utf8.h"

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

void send_error(httplib::Response& res, ErrorShape shape, int status, const std::string& message) {
  switch (shape) {
    case ErrorShape::ollama: send_error(res, status, message); return;
    case ErrorShape::openai: send_json(res, status, api::openai_error(status, message)); return;
    case ErrorShape::anthropic: send_json(res, status, api::anthropic_error(status, message)); return;
  }
}

void send_error(httplib::Response& res, ErrorShape shape, const Error& e) {
  if (shape == ErrorShape::ollama) {
    send_error(res, e);
    return;
  }
  send_error(res, shape, status_for(e.code()), e.what());
}

api::Json Call::json_body() const {
  HEARTH_CHECK(reader != nullptr);
  return api::parse_body(read_body(*reader, s.config.max_body_bytes));
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  auto hex = [&](const char* format, unsigned v) {
    char buf[12];
    std::snprintf(buf, sizeof buf, format, v);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<uint8_t>(s[i]);
    int more = 0;
    uint8_t lo = 0, hi = 0;
    if (b >= 0x80) {
      bool ok = utf8_lead(b, &more, &lo, &hi) && i + more < s.size();
      for (int k = 1; ok && k <= more; ++k) {
        auto c = static_cast<uint8_t>(s[i + k]);
        ok = c >= (k == 1 ? lo : 0x80) && c <= (k == 1 ? hi : 0xBF);
      }
      if (!ok) {
        hex("\\x%02x", b);
        ++i;
      } else if (b == 0xC2 && static_cast<uint8_t>(s[i + 1]) < 0xA0) {
        hex("\\u%04x", static_cast<uint8_t>(s[i + 1]));  // C1 controls U+0080-U+009F
        i += 2;
      } else {
        out.append(s.substr(i, more + 1));
        i += more + 1;
      }
      continue;
    }
    switch (b) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (b < 0x20 || b == 0x7f) hex("\\x%02x", b);
        else out += static_cast<char>(b);
    }
    ++i;
  }
  return out + "\"";
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
  // Old Ollama stores keep the template in a legacy "prompt" layer; as in Ollama's GetModel,
  // either media type is the template, the later layer winning.
  for (const auto& l : man.layers) {
    if (l.media_type == store::kMediaTemplate || l.media_type == store::kMediaPrompt) {
      m.template_text = s.store->read_blob(l.digest);
    }
  }
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
  spec.num_gpu = opts.num_gpu.value_or(-1);
  return spec;
}

}  // namespace hearth::server
