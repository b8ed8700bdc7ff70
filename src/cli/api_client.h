#pragma once
// A small client for the Ollama API (the server Hearth runs, or Ollama itself). Every verb uses it
// when a server answers HEAD /; the in-process fallback (connect.h) serves the same API on a
// loopback port, so each verb has exactly one code path.
//
// Errors: a reply {"error": "..."} becomes hearth::Error carrying the server's message (404 ->
// not_found, 400 -> invalid_argument, 503 -> resource_exhausted, other -> io); a connection
// failure becomes Error(io, "could not connect to hearth server, run 'hearth serve' to start it").

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace hearth::cli {

using Json = nlohmann::ordered_json;

class ApiClient {
 public:
  // `base_url`: "http://127.0.0.1:11434" (a path suffix is kept as a prefix of every route).
  // `api_key` (HEARTH_API_KEY) is sent as "Authorization: Bearer <key>" when non-empty.
  explicit ApiClient(const std::string& base_url, std::string api_key = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const std::string& base_url() const { return base_url_; }

  // HEAD / answered (any status): a server is listening.
  bool heartbeat();

  Json get(const std::string& path);
  Json post(const std::string& path, const Json& body);
  // DELETE with a JSON body (/api/delete). Throws like post().
  void del(const std::string& path, const Json& body);

  // POSTs `body` and calls `on_object` for each NDJSON line of the reply as it arrives (a
  // non-streamed single object counts as one line). `on_object` returning false, or cancel(),
  // stops the transfer and makes stream() return false; it returns true when the reply ended.
  // A line {"error": ...} throws.
  bool stream(const std::string& path, const Json& body,
              const std::function<bool(const Json&)>& on_object);

  // Aborts a running stream() from another thread (Ctrl+C watcher): closes the socket.
  void cancel();

  // Blobs: HEAD /api/blobs/<digest>, and an upload of a local file.
  bool has_blob(const std::string& digest);
  void upload_blob(const std::string& digest, const std::string& path);

 private:
  std::string route(const std::string& path) const { return prefix_ + path; }
  [[noreturn]] void throw_http(int status, const std::string& body) const;
  [[noreturn]] void throw_transport(int error) const;

  std::string base_url_;
  std::string origin_;  // scheme://host:port
  std::string prefix_;
  std::string api_key_;
  std::unique_ptr<httplib::Client> http_;
  std::atomic<bool> cancelled_{false};
};

// The client for HEARTH_HOST (HEARTH_API_KEY attached).
std::unique_ptr<ApiClient> client_from_env();

// Message of an {"error": ...} body, or the body itself (trimmed) when it is not one.
std::string error_message(int status, const std::string& body);

}  // namespace hearth::cli
