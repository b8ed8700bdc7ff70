#pragma once
// A thin synchronous HTTP client over libcurl for the registry code: one request per call, its
// own easy handle (so threads can run requests in parallel), redirects followed (at most 10),
// proxies from the usual environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), CA store
// from SSL_CERT_FILE / SSL_CERT_DIR when set (as Go's client, so Ollama, does), bodies streamed in
// and out through callbacks.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hearth::store {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Request body: either `body`, or `read_body` filling up to n bytes and returning the count
  // (0 at the end) with `body_size` set.
  std::string body;
  std::function<size_t(char* buf, size_t n)> read_body;
  uint64_t body_size = 0;
  // Response body of a 2xx response: given to `on_data` with the status (return false to abort)
  // if set; other bodies (and all when it is unset) are collected into HttpResponse::body up to
  // `max_body` bytes (more is an error).
  std::function<bool(long status, const char* data, size_t n)> on_data;
  uint64_t max_body = 4u << 20;
  bool follow_redirects = true;
  long connect_timeout_s = 30;
  long low_speed_time_s = 30;  // abort a transfer stalled (< 1 B/s) this long
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercased names, last value wins
  std::string effective_url;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Transport failure (connection refused or reset, timeout, TLS, DNS): Error(io) with curl's
// message. A cancel gives Error(cancelled); an on_data refusal gives the error on_data stored
// (rethrown by the caller); an over-long collected body gives Error(resource_exhausted).
HttpResponse http_perform(const HttpRequest& req);

// Percent-encodes a query value.
std::string url_escape(const std::string& s);

}  // namespace hearth::store
