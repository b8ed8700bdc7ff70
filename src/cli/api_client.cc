#include "cli/api_client.h"

#include <httplib.h>

#include <cstdio>
#include <fstream>

#include "cli/host.h"
#include "util/env.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

// A reply larger than this that is not streamed is a broken server, not a model list.
constexpr size_t kMaxReplyBytes = 64u << 20;
constexpr size_t kMaxLineBytes = 16u << 20;

ErrorCode code_for_status(int status) {
  switch (status) {
    case 400: return ErrorCode::invalid_argument;
    case 404: return ErrorCode::not_found;
    case 503: return ErrorCode::resource_exhausted;
    default: return ErrorCode::io;
  }
}

}  // namespace

std::string error_message(int status, const std::string& body) {
  try {
    auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      return j["error"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  std::string s = body;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty()) s = "server replied with status " + std::to_string(status);
  return s;
}

ApiClient::ApiClient(const std::string& base_url, std::string api_key)
    : base_url_(base_url), api_key_(std::move(api_key)) {
  // httplib wants scheme://host:port; a path becomes a prefix of every route.
  std::string origin = base_url;
  size_t scheme_end = origin.find("://");
  size_t path_start = origin.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start != std::string::npos) {
    prefix_ = origin.substr(path_start);
    origin.resize(path_start);
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  }
  origin_ = origin;
  http_ = std::make_unique<httplib::Client>(origin);
  http_->set_connection_timeout(5, 0);
  // Long: a model load or a slow first token is normal; Ctrl+C uses cancel().
  http_->set_read_timeout(3600, 0);
  http_->set_write_timeout(3600, 0);
  http_->set_keep_alive(false);
  httplib::Headers headers = {{"User-Agent", "hearth-cli"}, {"Accept", "application/x-ndjson"}};
  if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
  http_->set_default_headers(headers);
}

ApiClient::~ApiClient() = default;

void ApiClient::throw_http(int status, const std::string& body) const {
  throw Error(code_for_status(status), error_message(status, body));
}

void ApiClient::throw_transport(int error) const {
  auto e = static_cast<httplib::Error>(error);
  if (e == httplib::Error::Connection) {
    throw Error(ErrorCode::io, "could not connect to hearth server, run 'hearth serve' to start it");
  }
  throw Error(ErrorCode::io, "request to " + base_url_ + " failed: " + httplib::to_string(e));
}

bool ApiClient::heartbeat() {
  httplib::Client probe(origin_);
  probe.set_connection_timeout(2, 0);
  probe.set_read_timeout(5, 0);
  auto res = probe.Head((prefix_.empty() ? "/" : prefix_ + "/").c_str());
  return static_cast<bool>(res);
}

Json ApiClient::get(const std::string& path) {
  auto res = http_->Get(route(path).c_str());
  if (!res) throw_transport(static_cast<int>(res.error()));
  if (res->status >= 400) throw_http(res->status, res->body);
  if (res->body.empty()) return Json::object();
  try {
    return Json::parse(res->body);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, std::string("bad reply from server: ") + e.what());
  }
}

Json ApiClient::post(const std::string& path, const Json& body) {
  Json last = Json::object();
  Json request = body;
  if (!request.contains("stream")) request["stream"] = false;
  stream(path, request, [&](const Json& j) {
    last = j;
    return true;
  });
  return last;
}

void ApiClient::del(const std::string& path, const Json& body) {
  auto res = http_->Delete(route(path).c_str(), body.dump(), "application/json");
  if (!res) throw_transport(static_cast<int>(res.error()));
  if (res->status >= 400) throw_http(res->status, res->body);
}

bool ApiClient::stream(const std::string& path, const Json& body,
                       const std::function<bool(const Json&)>& on_object) {
  cancelled_ = false;
  httplib::Request req;
  req.method = "POST";
  req.path = route(path);
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  int status = 0;
  std::string pending;     // bytes of an unfinished line
  std::string error_body;  // the whole body of an error reply
  bool stopped = false;
  std::string callback_error;
  ErrorCode callback_code = ErrorCode::internal;
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  auto deliver = [&](const std::string& line) -> bool {
    if (line.find_first_not_of(" \r\t") == std::string::npos) return true;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      callback_error = std::string("bad reply from server: ") + e.what();
      callback_code = ErrorCode::corrupt;
      return false;
    }
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      callback_error = j["error"].get<std::string>();
      callback_code = ErrorCode::io;
      return false;
    }
    try {
      if (!on_object(j)) {
        stopped = true;
        return false;
      }
    } catch (const Error& e) {
      callback_error = e.what();
      callback_code = e.code();
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (cancelled_) {
      stopped = true;
      return false;
    }
    if (status >= 400) {
      if (error_body.size() + len > kMaxReplyBytes) return false;
      error_body.append(data, len);
      return true;
    }
    pending.append(data, len);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!deliver(pending.substr(start, nl - start))) return false;
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLineBytes) {
      callback_error = "bad reply from server: line too long";
      callback_code = ErrorCode::corrupt;
      return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool ok = http_->send(req, res, err);
  if (!callback_error.empty()) throw Error(callback_code, callback_error);
  if (stopped || cancelled_) return false;
  if (!ok) throw_transport(static_cast<int>(err));
  if (status == 0) status = res.status;
  if (status >= 400) throw_http(status, error_body.empty() ? res.body : error_body);
  if (!pending.empty() && !deliver(pending)) {
    if (!callback_error.empty()) throw Error(callback_code, callback_error);
    return false;
  }
  return true;
}

void ApiClient::cancel() {
  cancelled_ = true;
  http_->stop();
}

bool ApiClient::has_blob(const std::string& digest) {
  auto res = http_->Head(route("/api/blobs/" + digest).c_str());
  if (!res) throw_transport(static_cast<int>(res.error()));
  return res->status == 200;
}

void ApiClient::upload_blob(const std::string& digest, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot open " + path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  auto res = http_->Post(
      route("/api/blobs/" + digest).c_str(), size,
      [&](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buf(std::min<size_t>(length, 1 << 20));
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) return false;
        sink.write(buf.data(), got);
        return true;
      },
      "application/octet-stream");
  if (!res) throw_transport(static_cast<int>(res.error()));
  if (res->status >= 400) throw_http(res->status, res->body);
}

std::unique_ptr<ApiClient> client_from_env() {
  return std::make_unique<ApiClient>(host_from_env().client_url(), env_value("HEARTH_API_KEY"));
}

}  // namespace hearth::cli
