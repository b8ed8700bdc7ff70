#pragma once
// Helpers for the store tests: temp dirs, a docker-registry started on a free loopback port, a
// TCP proxy that can cut or throttle connections, and small models put straight into a store.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace hearth::store::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int free_port();
std::string read_all(const std::string& path);
void write_all(const std::string& path, const std::string& data);

// A self-signed certificate and its key for `dns_name` (subjectAltName), made by the openssl
// command in `dir`; the certificate file doubles as the CA file a client trusts.
struct TlsFiles {
  std::string cert, key;
};
TlsFiles make_self_signed_cert(const std::string& dir, const std::string& dns_name);

// /usr/bin/docker-registry with filesystem storage in a temp dir, on 127.0.0.1:<free port>;
// HTTPS with `tls` when given.
class LocalRegistry {
 public:
  LocalRegistry() : LocalRegistry(nullptr) {}
  explicit LocalRegistry(const TlsFiles* tls);
  ~LocalRegistry();
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // The registry's data file for a blob (to corrupt it).
  std::string blob_data_path(const std::string& digest) const;

 private:
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
};

// Forwards 127.0.0.1:port() to 127.0.0.1:target. Each connection is cut after
// `cut_after_bytes` bytes from the server (0 = never) while `cuts_left` > 0; `bytes_per_sec`
// (0 = unlimited) throttles the server-to-client direction.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::atomic<uint64_t> cut_after_bytes{0};
  std::atomic<int> cuts_left{0};
  std::atomic<uint64_t> bytes_per_sec{0};
  std::atomic<uint64_t> bytes_from_server{0};
  // Client-to-server direction: PATCH and POST requests to /v2/ seen, and `upload_cuts_left`
  // connections cut once they have carried `cut_upload_after_bytes` bytes.
  std::atomic<int> patch_requests{0};
  std::atomic<uint64_t> bytes_to_server{0};
  std::atomic<int> post_requests{0};
  std::atomic<uint64_t> cut_upload_after_bytes{0};
  std::atomic<int> upload_cuts_left{0};
  // Acts as an HTTPS proxy: each connection must open with `CONNECT host:port`, answered 200,
  // then tunnelled to the target (whatever host it names). Set before clients connect.
  std::atomic<bool> http_connect{false};
  std::atomic<int> connect_requests{0};
  std::vector<std::string> connect_targets() const;

 private:
  bool accept_connect(int client);
  void accept_loop();
  void relay(int client);
  int target_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::vector<std::string> connect_targets_;
  mutable std::mutex mu_;
};

// Puts testdata/stories260K.gguf, a template, params and a config into the store under `name`
// (no create: the store alone). Returns the manifest text.
std::string put_stories_model(Store& store, const std::string& name);

std::string testdata(const std::string& file);

// `hearth <args>` (the built binary, through sh) with the store `models`, `env` prepended
// ("NAME=value ..."), stdin from /dev/null, and HEARTH_HOST on a port where nothing listens, so a
// server someone runs on the default port is never used. Output files go to `logs`.
struct CliRun {
  int status = -1;
  std::string out, err;
};
CliRun run_hearth(const std::string& models, const std::string& logs, const std::string& args,
                  const std::string& env = "");

}  // namespace hearth::store::testing
