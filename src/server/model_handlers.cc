// Model management endpoints: /, /api/version, /api/tags, /api/show, /api/ps, /api/copy,
// /api/delete, /api/blobs/:digest, /api/pull, /api/push, /metrics.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>

#include "api/wire.h"
#include "server/generation.h"
#include "store/atomic_file.h"
#include "store/create.h"
#include "store/digest.h"
#include "store/registry_ops.h"
#include "store/show.h"
#include "util/log.h"

namespace hearth::server {

namespace {

using api::Json;

Json details_json(const store::ModelConfig& c) {
  Json d = Json::object();
  d["parent_model"] = "";
  d["format"] = c.model_format.empty() ? "gguf" : c.model_format;
  d["family"] = c.model_family;
  if (c.model_families.empty()) d["families"] = nullptr;
  else d["families"] = c.model_families;
  d["parameter_size"] = c.model_type;
  d["quantization_level"] = c.file_type;
  return d;
}

// /api/show: the store gathers everything (shared with `hearth show`); this only serialises it.
Json tensors_json(const std::string& gguf_path) {
  Json out = Json::array();
  for (const store::TensorListing& t : store::list_tensors(gguf_path)) {
    out.push_back(Json{{"name", t.name}, {"type", t.type}, {"shape", t.shape}});
  }
  return out;
}

}  // namespace

void handle_show(Call& call) {
  State& s = call.s;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  std::string name = api::get_model_field(body);
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  bool verbose = api::get_bool(body, "verbose", false);
  store::ModelName::parse(name);  // 400 "invalid model name"
  store::ShowInfo info = store::show_model(*s.store, name, verbose);
  request_log().model = info.entry.name.display();
  Json j = Json::object();
  if (!info.license.empty()) j["license"] = info.license;
  j["modelfile"] = info.modelfile;
  if (!info.parameters.empty()) j["parameters"] = info.parameters;
  j["template"] = info.template_text;
  if (!info.system.empty()) j["system"] = info.system;
  if (!info.entry.config.renderer.empty()) j["renderer"] = info.entry.config.renderer;
  if (!info.entry.config.parser.empty()) j["parser"] = info.entry.config.parser;
  j["details"] = details_json(info.entry.config);
  if (!info.messages.empty()) {
    Json msgs = Json::array();
    for (const auto& m : info.messages) msgs.push_back(Json{{"role", m.role}, {"content", m.content}});
    j["messages"] = std::move(msgs);
  }
  j["model_info"] = Json::parse(info.model_info.dump());
  if (!info.model_path.empty()) j["tensors"] = tensors_json(info.model_path);
  j["capabilities"] = info.capabilities;
  j["modified_at"] = api::time_local(info.entry.modified);
  if (!info.entry.config.requires_version.empty()) j["requires"] = info.entry.config.requires_version;
  send_json(res, 200, j);
}

namespace {

// What /api/tags adds from a model's GGUF, as Ollama's list cache does: details.context_length
// and details.embedding_length (the config's own values first) and the capabilities. A model
// whose GGUF cannot be read lists without them. Cached by manifest digest.
Json tags_facts(State& s, const store::ModelEntry& e) {
  {
    std::lock_guard<std::mutex> lk(s.tags_mu);
    if (auto it = s.tags_facts.find(e.digest); it != s.tags_facts.end()) return it->second;
  }
  Json facts = Json::object();
  uint64_t context_length = e.config.context_length, embedding_length = e.config.embedding_length;
  try {
    store::ShowInfo info = store::show_model(*s.store, e.name.full());
    const std::string arch = info.model_info.value("general.architecture", std::string());
    auto length = [&](const char* key) -> uint64_t {
      auto it = info.model_info.find(arch + key);
      return it != info.model_info.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
    };
    if (context_length == 0) context_length = length(".context_length");
    if (embedding_length == 0) embedding_length = length(".embedding_length");
    facts["capabilities"] = info.capabilities;
  } catch (const Error& err) {
    HEARTH_LOG_DEBUG("reading " + e.name.display() + " for /api/tags: " + err.what());
  }
  if (context_length != 0) facts["context_length"] = context_length;
  if (embedding_length != 0) facts["embedding_length"] = embedding_length;
  std::lock_guard<std::mutex> lk(s.tags_mu);
  s.tags_facts[e.digest] = facts;
  return facts;
}

}  // namespace

void handle_tags(Call& call) {
  State& s = call.s;
  Json models = Json::array();
  for (const auto& e : s.store->list()) {
    const Json facts = tags_facts(s, e);
    Json m = Json::object();
    m["name"] = e.name.display();
    m["model"] = e.name.display();
    m["modified_at"] = api::time_local(e.modified);
    m["size"] = e.size;
    m["digest"] = e.digest;
    Json details = details_json(e.config);
    for (const char* k : {"context_length", "embedding_length"}) {
      if (facts.contains(k)) details[k] = facts[k];
    }
    m["details"] = std::move(details);
    if (facts.contains("capabilities") && !facts["capabilities"].empty()) m["capabilities"] = facts["capabilities"];
    models.push_back(std::move(m));
  }
  Json j = Json::object();
  j["models"] = std::move(models);
  send_json(call.res, 200, j);
}

void handle_ps(Call& call) {
  State& s = call.s;
  auto loaded = s.scheduler->loaded();
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    if (a.forever != b.forever) return a.forever;
    return a.expires_at > b.expires_at;
  });
  Json models = Json::array();
  for (const auto& l : loaded) {
    Json m = Json::object();
    m["name"] = l.name;
    m["model"] = l.name;
    m["size"] = l.size;
    m["digest"] = l.digest;
    store::ModelConfig config;
    try {
      config = s.store->entry(s.store->resolve_existing(l.name)).config;
    } catch (const Error&) {
    }
    m["details"] = details_json(config);
    auto expires = l.forever ? std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 200)
                             : l.expires_at;
    m["expires_at"] = api::time_local(expires);
    m["size_vram"] = l.size_vram;
    m["context_length"] = l.context_length;
    models.push_back(std::move(m));
  }
  Json j = Json::object();
  j["models"] = std::move(models);
  send_json(call.res, 200, j);
}

void handle_blob_upload(Call& call) {
  // The store holds its gc lock for the whole upload, so a concurrent delete cannot collect it.
  bool existed = call.s.store->receive_blob(std::string(call.req.matches[1]), [&](const store::Store::BlobSink& sink) {
    return (*call.reader)(sink);
  });
  call.res.status = existed ? 200 : 201;
}

// /api/copy with Ollama's texts: `source "x" is invalid` / `destination "x" is invalid` (400) and
// `model "x" not found` (404), each naming the request's own spelling in Go's %q.
void handle_copy(Call& call) {
  Json body = call.json_body();
  std::string src = api::get_string(body, "source"), dst = api::get_string(body, "destination");
  store::ModelName parsed;
  if (!store::ModelName::try_parse(src, &parsed)) {
    throw Error(ErrorCode::invalid_argument, "source " + go_quote(src) + " is invalid");
  }
  if (!store::ModelName::try_parse(dst, &parsed)) {
    throw Error(ErrorCode::invalid_argument, "destination " + go_quote(dst) + " is invalid");
  }
  try {
    call.s.store->copy(src, dst);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
    throw Error(ErrorCode::not_found, "model " + go_quote(src) + " not found");
  }
  call.res.status = 200;
}

namespace {

// Ollama's ProgressResponse: digest, total and completed are omitempty, so a zero is left out
// (`{"status":"pulling manifest"}`; a layer with nothing done yet has total but no completed).
Json progress_json(const store::Progress& p) {
  Json j = Json::object();
  j["status"] = p.status;
  if (!p.digest.empty()) j["digest"] = p.digest;
  if (p.total != 0) j["total"] = p.total;
  if (p.completed != 0) j["completed"] = p.completed;
  return j;
}

using ProgressJob = std::function<void(const store::RegistryOptions&, const store::ProgressFn&)>;

// Runs a pull, push or create and answers as Ollama's streamResponse (NDJSON; an error is a last
// {"error"} line) or, with "stream":false, its waitForStream: the last progress object, or the
// error alone with `error_status` (pull and push: always 500; create: the error's own status).
void respond_progress(httplib::Response& res, bool stream, const store::RegistryOptions& opts,
                      ProgressJob job, int error_status) {
  if (!stream) {
    Json last = Json{{"status", "success"}};
    try {
      job(opts, [&](const store::Progress& p) { last = progress_json(p); });
    } catch (const Error& e) {
      send_error(res, error_status != 0 ? error_status : status_for(e.code()), e.what());
      return;
    }
    send_json(res, 200, last);
    return;
  }
  res.status = 200;
  res.set_chunked_content_provider("application/x-ndjson", [job, opts](size_t, httplib::DataSink& sink) {
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    store::RegistryOptions o = opts;
    o.cancel = cancel.get();
    auto write = [&](const Json& j) {
      if (cancel->load()) return;
      std::string l = j.dump() + "\n";
      if (!sink.write(l.data(), l.size())) cancel->store(true);
    };
    try {
      job(o, [&](const store::Progress& p) { write(progress_json(p)); });
    } catch (const Error& e) {
      write(Json{{"error", e.what()}});
    }
    sink.done();
    return true;
  });
}

// Pull and push stream the store's progress events.
void handle_transfer(State& s, httplib::Response& res, const Json& body, bool pull) {
  std::string name = api::get_model_field(body);
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  store::ModelName::parse(name);  // 400 before any output
  request_log().model = name;
  store::RegistryOptions opts = store::default_registry_options();
  opts.insecure = api::get_bool(body, "insecure", false);
  auto job = [&s, name, pull](const store::RegistryOptions& o, const store::ProgressFn& fn) {
    if (pull) store::pull_model(*s.store, name, o, fn);
    else store::push_model(*s.store, name, o, fn);
  };
  respond_progress(res, api::get_bool(body, "stream", true), opts, job, 500);
}

// /api/create: the request is a Modelfile in JSON; the store does the work and reports progress.
}  // namespace

void handle_create(Call& call) {
  State& s = call.s;
  Json body = call.json_body();
  std::string name = api::get_model_field(body);
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  store::ModelName::parse(name);
  request_log().model = name;
  store::CreateSpec spec;
  spec.from = api::get_string(body, "from");
  if (auto files = body.find("files"); files != body.end() && !files->is_null()) {
    if (!files->is_object()) throw Error(ErrorCode::invalid_argument, "invalid value for field \"files\": expected an object");
    for (auto it = files->begin(); it != files->end(); ++it) {
      if (!it->is_string()) throw Error(ErrorCode::invalid_argument, "invalid value for field \"files\": expected digests");
      std::string digest = store::parse_digest(it->get<std::string>());
      if (!s.store->has_blob(digest)) {
        throw Error(ErrorCode::invalid_argument, "missing blob " + digest + " (upload it with POST /api/blobs/" + digest + ")");
      }
      if (it.key().ends_with(".gguf") || spec.from_path.empty()) spec.from_path = s.store->blob_path(digest);
    }
  }
  if (spec.from.empty() && spec.from_path.empty()) {
    throw Error(ErrorCode::invalid_argument, "neither 'from' or 'files' was specified");
  }
  if (auto a = body.find("adapters"); a != body.end() && a->is_object() && !a->empty()) {
    throw Error(ErrorCode::unsupported, store::kAdaptersUnsupported);
  }
  if (body.contains("template")) {
    spec.template_text = api::get_string(body, "template");
    spec.has_template = true;
  }
  if (body.contains("system")) {
    spec.system = api::get_string(body, "system");
    spec.has_system = true;
  }
  if (auto l = body.find("license"); l != body.end() && !l->is_null()) {
    if (l->is_string()) spec.licenses.push_back(l->get<std::string>());
    else if (l->is_array()) {
      for (const auto& x : *l) {
        if (!x.is_string()) throw Error(ErrorCode::invalid_argument, "invalid value for field \"license\"");
        spec.licenses.push_back(x.get<std::string>());
      }
    } else {
      throw Error(ErrorCode::invalid_argument, "invalid value for field \"license\": expected a string or an array");
    }
  }
  if (auto p = body.find("parameters"); p != body.end() && !p->is_null()) {
    if (!p->is_object()) throw Error(ErrorCode::invalid_argument, "invalid value for field \"parameters\": expected an object");
    api::Options::parse(*p);  // type check
    spec.parameters = nlohmann::json::parse(p->dump());
  }
  if (auto m = body.find("messages"); m != body.end() && !m->is_null()) {
    if (!m->is_array()) throw Error(ErrorCode::invalid_argument, "invalid value for field \"messages\": expected an array");
    for (const auto& x : *m) {
      api::Message msg = api::parse_message(x);
      spec.messages.push_back({msg.role, msg.content});
    }
  }
  spec.quantize = api::get_string(body, "quantize");
  if (spec.quantize.empty()) spec.quantize = api::get_string(body, "quantization");
  spec.renderer = api::get_string(body, "renderer");
  spec.parser = api::get_string(body, "parser");
  spec.requires_version = api::get_string(body, "requires");
  auto job = [&s, name, spec](const store::RegistryOptions& o, const store::ProgressFn& fn) {
    store::create_model(*s.store, name, spec, o, fn);
  };
  respond_progress(call.res, api::get_bool(body, "stream", true), store::default_registry_options(), job, 0);
}

void handle_root(Call& call) { call.res.set_content("Ollama is running", "text/plain; charset=utf-8"); }

void handle_version(Call& call) { send_json(call.res, 200, Json{{"version", kHearthVersion}}); }

void handle_delete(Call& call) {
  Json body = call.json_body();
  std::string name = api::get_model_field(body);
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  store::ModelName::parse(name);
  request_log().model = name;
  call.s.store->remove(name);
  call.res.status = 200;
}

void handle_pull(Call& call) { handle_transfer(call.s, call.res, call.json_body(), true); }

void handle_push(Call& call) { handle_transfer(call.s, call.res, call.json_body(), false); }

void handle_metrics(Call& call) {
  State& s = call.s;
  call.res.set_content(s.metrics.render(s.scheduler->queue_depth(), s.scheduler->loaded().size()),
                       "text/plain; version=0.0.4; charset=utf-8");
}

// HEAD /api/blobs/:digest is answered in routes.cc's pre-routing handler (cpp-httplib maps HEAD
// onto GET routes); this is its body.
bool blob_exists(State& s, const std::string& digest_text, int* status) {
  try {
    std::string digest = store::parse_digest(digest_text);
    *status = s.store->has_blob(digest) ? 200 : 404;
  } catch (const Error&) {
    *status = 400;
  }
  return *status == 200;
}

}  // namespace hearth::server
