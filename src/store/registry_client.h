#pragma once
// Docker Registry v2 requests for one repository (ollama-compat.md section 7): URL building
// (https, or http with `insecure`), the User-Agent, and the bearer-token challenge: on a 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` the token is fetched from the realm
// (which must be on the registry's host; the request is signed with the user's ed25519 key, as
// Ollama signs it) and the request is retried once with it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "store/http_client.h"
#include "store/model_name.h"

namespace hearth::store {

// One progress event of a pull, push or create, as Ollama's status stream carries it.
struct Progress {
  std::string status;
  std::string digest;     // set for per-layer events
  uint64_t total = 0;     // 0 when unknown / not a transfer
  uint64_t completed = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct RegistryOptions {
  bool insecure = false;  // plain http
  // Blob transfers: part size = total / max_parts clamped to [min_part_size, max_part_size].
  int max_parts = 16;
  uint64_t min_part_size = 100'000'000;
  uint64_t max_part_size = 1'000'000'000;
  int max_retries = 6;                                   // per part, on transient errors
  std::chrono::milliseconds retry_base{1000};            // backoff 1 s, 2 s, 4 s, ...
  std::chrono::milliseconds progress_interval{60};
  long low_speed_time_s = 30;                            // restart a part stalled this long
  const std::atomic<bool>* cancel = nullptr;
  bool prune_unused = true;  // "removing unused layers" after a re-pull (HEARTH_NOPRUNE)
  // Push: blobs larger than this go up as PATCH chunks of this size (no request body is larger;
  // a failed chunk restarts the blob's upload, like a failed PUT); smaller ones in one PUT.
  // 0: always one PUT.
  uint64_t push_chunk_size = 64u << 20;
  // The ed25519 key that signs token requests (signing_key.h); empty: ~/.hearth/id_ed25519,
  // made on first use when missing (Ollama makes its own at first start).
  std::string signing_key_path;
};

// A name may carry a scheme (Ollama's ParseName keeps it): `http://host/...` is refused unless
// opts.insecure, with Ollama's "insecure protocol http".
void check_name_scheme(std::string_view text, const RegistryOptions& opts);

class RegistryClient {
 public:
  RegistryClient(ModelName name, RegistryOptions opts);

  const ModelName& name() const { return name_; }
  const RegistryOptions& options() const { return opts_; }
  // "https://host" or "http://host".
  std::string base_url() const;
  // base_url() + "/v2/<ns>/<model>" + suffix.
  std::string repo_url(const std::string& suffix) const;

  // Performs `req` with the token (if any) and the User-Agent; on a 401 bearer challenge gets a
  // token and retries once. Returns the final response whatever its status.
  HttpResponse send(HttpRequest req);

  // Throws the error a non-2xx response means: 404 -> not_found "file does not exist",
  // 401/403 -> invalid_argument "unauthorized: ...", others "<code>: <body>". `what` prefixes it.
  [[noreturn]] static void throw_for_status(const HttpResponse& r, const std::string& what);

 private:
  bool fetch_token(const std::string& challenge);

  ModelName name_;
  RegistryOptions opts_;
  std::mutex mutex_;
  std::string token_;
};

// Ollama's User-Agent shape: "hearth/<ver> (amd64 linux)".
std::string registry_user_agent();

}  // namespace hearth::store
