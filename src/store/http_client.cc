#include "store/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "util/error.h"

namespace hearth::store {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Ctx {
  const HttpRequest* req;
  HttpResponse* resp;
  bool too_big = false;
  bool refused = false;
};

size_t on_write(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<Ctx*>(ud);
  size_t len = size * n;
  // Bodies of redirect and error responses are collected, never streamed into a blob.
  if (c->req->on_data && c->resp->status >= 200 && c->resp->status < 300) {
    if (!c->req->on_data(c->resp->status, p, len)) {
      c->refused = true;
      return 0;
    }
    return len;
  }
  if (c->resp->body.size() + len > c->req->max_body) {
    c->too_big = true;
    return 0;
  }
  c->resp->body.append(p, len);
  return len;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<Ctx*>(ud);
  size_t len = size * n;
  std::string line(p, len);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): reset what we know.
    c->resp->headers.clear();
    c->resp->body.clear();
    auto sp = line.find(' ');
    if (sp != std::string::npos) c->resp->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return len;
  std::string name = line.substr(0, colon);
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.pop_back();
  }
  c->resp->headers[name] = value;
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* ud) {
  auto* r = static_cast<const HttpRequest*>(ud);
  return r->read_body(buf, size * n);
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* r = static_cast<const HttpRequest*>(ud);
  return (r->cancel != nullptr && r->cancel->load()) ? 1 : 0;
}

const char* env_value(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// What Go's client (and so Ollama) honours beyond libcurl's defaults: SSL_CERT_FILE / SSL_CERT_DIR
// replace the system CA store, and HTTP_PROXY in capitals serves http:// URLs (libcurl reads only
// the lower-case http_proxy, against httpoxy, which concerns CGI servers, not this client).
// HTTPS_PROXY / https_proxy / NO_PROXY are libcurl's own.
void set_environment_options(CURL* h, const std::string& url) {
  if (const char* f = env_value("SSL_CERT_FILE")) curl_easy_setopt(h, CURLOPT_CAINFO, f);
  if (const char* d = env_value("SSL_CERT_DIR")) curl_easy_setopt(h, CURLOPT_CAPATH, d);
  if (url.rfind("http://", 0) == 0 && env_value("http_proxy") == nullptr) {
    if (const char* p = env_value("HTTP_PROXY")) curl_easy_setopt(h, CURLOPT_PROXY, p);
  }
}

}  // namespace

std::string url_escape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

HttpResponse http_perform(const HttpRequest& req) {
  global_init();
  CURL* h = curl_easy_init();
  if (h == nullptr) throw Error(ErrorCode::internal, "curl_easy_init failed");
  HttpResponse resp;
  Ctx ctx{&req, &resp};
  curl_slist* hdrs = nullptr;
  for (const auto& hd : req.headers) hdrs = curl_slist_append(hdrs, hd.c_str());
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    // curl adds "Expect: 100-continue" for large bodies; registries do not need the round trip.
    hdrs = curl_slist_append(hdrs, "Expect:");
  }
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req.low_speed_time_s);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &req);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
  char detail[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
  set_environment_options(h, req.url);
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.read_body) {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &req);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
      // CURLOPT_UPLOAD turns the method into PUT; CUSTOMREQUEST above restores PATCH/POST.
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  CURLcode rc = curl_easy_perform(h);
  char* eff = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != nullptr) {
    resp.effective_url = eff;
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0) resp.status = code;
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    if (ctx.refused) throw Error(ErrorCode::cancelled, "download refused by writer");
    if (ctx.too_big) {
      throw Error(ErrorCode::resource_exhausted, req.url + ": response body is too large");
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw Error(ErrorCode::cancelled, "cancelled");
    // The error buffer says which certificate or host failed; curl_easy_strerror only the class.
    throw Error(ErrorCode::io, req.method + " " + req.url + ": " +
                                   (detail[0] != '\0' ? detail : curl_easy_strerror(rc)));
  }
  return resp;
}

}  // namespace hearth::store
