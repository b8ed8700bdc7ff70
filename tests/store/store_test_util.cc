#include "store_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "store/digest.h"
#include "store/manifest.h"

namespace hearth::store::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hearth-store-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string testdata(const std::string& file) { return std::string(HEARTH_TESTDATA_DIR) + "/" + file; }

namespace {

bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TlsFiles make_self_signed_cert(const std::string& dir, const std::string& dns_name) {
  TlsFiles f{dir + "/cert.pem", dir + "/key.pem"};
  // An EC key: RSA key generation would cost the test most of a second.
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                          "-subj /CN=" + dns_name + " -addext subjectAltName=DNS:" + dns_name +
                          " -keyout '" + f.key + "' -out '" + f.cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
  return f;
}

LocalRegistry::LocalRegistry(const TlsFiles* tls) {
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = free_port();
    std::string cfg = dir_.path() + "/config.yml";
    std::string http = "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n";
    if (tls != nullptr) http += "  tls:\n    certificate: " + tls->cert + "\n    key: " + tls->key + "\n";
    write_all(cfg, "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " +
                       dir_.path() + "/data\n  delete:\n    enabled: true\n" + http);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test that crashed
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg.c_str(), nullptr);
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (can_connect(port_)) {
        pid_ = pid;
        break;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;  // died (port taken?): try another
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ < 0) throw std::runtime_error("docker-registry did not start");
}

LocalRegistry::~LocalRegistry() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string LocalRegistry::blob_data_path(const std::string& digest) const {
  std::string hex(digest_hex(digest));
  return dir_.path() + "/data/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

TcpProxy::TcpProxy(int target_port) : target_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("proxy: bind/listen failed");
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void TcpProxy::accept_loop() {
  while (!stop_) {
    int c = ::accept(listen_fd_, nullptr, nullptr);
    if (c < 0) {
      if (stop_) return;
      continue;
    }
    std::lock_guard<std::mutex> lk(mu_);
    workers_.emplace_back([this, c] { relay(c); });
  }
}

std::vector<std::string> TcpProxy::connect_targets() const {
  std::lock_guard<std::mutex> lk(mu_);
  return connect_targets_;
}

// Reads the CONNECT request head byte by byte (so nothing of the tunnelled stream is consumed).
bool TcpProxy::accept_connect(int client) {
  std::string head;
  char c;
  while (head.size() < 8192 && head.find("\r\n\r\n") == std::string::npos) {
    if (::read(client, &c, 1) != 1) return false;
    head.push_back(c);
  }
  if (head.rfind("CONNECT ", 0) != 0) {
    const char kNo[] = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n";
    ::send(client, kNo, sizeof kNo - 1, MSG_NOSIGNAL);
    return false;
  }
  const size_t end = head.find(' ', 8);
  {
    std::lock_guard<std::mutex> lk(mu_);
    connect_targets_.push_back(head.substr(8, end == std::string::npos ? std::string::npos : end - 8));
  }
  ++connect_requests;
  const char kOk[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  return ::send(client, kOk, sizeof kOk - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kOk - 1);
}

void TcpProxy::relay(int client) {
  int server = connect_to(target_);
  if (server < 0) {
    ::close(client);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    open_fds_.push_back(client);
    open_fds_.push_back(server);
  }
  if (http_connect && !accept_connect(client)) {
    std::lock_guard<std::mutex> lk(mu_);
    std::erase(open_fds_, client);
    std::erase(open_fds_, server);
    ::close(client);
    ::close(server);
    return;
  }
  std::atomic<bool> done{false};
  std::thread up([&] {
    char buf[16384];
    uint64_t up_bytes = 0;
    std::string tail;  // the end of the previous read, so a request line split by reads counts
    for (;;) {
      ssize_t n = ::read(client, buf, sizeof buf);
      if (n <= 0) break;
      std::string seen = tail + std::string(buf, static_cast<size_t>(n));
      for (size_t at = seen.find(" /v2/"); at != std::string::npos; at = seen.find(" /v2/", at + 1)) {
        if (at + 5 <= tail.size()) continue;  // counted with the previous read
        if (at >= 5 && seen.compare(at - 5, 5, "PATCH") == 0) ++patch_requests;
        if (at >= 4 && seen.compare(at - 4, 4, "POST") == 0) ++post_requests;
      }
      tail = seen.substr(seen.size() > 16 ? seen.size() - 16 : 0);
      up_bytes += static_cast<uint64_t>(n);
      const uint64_t limit = cut_upload_after_bytes.load();
      int left = upload_cuts_left.load();
      if (limit > 0 && up_bytes >= limit && left > 0 &&
          upload_cuts_left.compare_exchange_strong(left, left - 1)) {
        ::shutdown(client, SHUT_RDWR);  // the request body breaks off mid-way
        ::shutdown(server, SHUT_RDWR);
        break;
      }
      if (::send(server, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
      bytes_to_server += static_cast<uint64_t>(n);
    }
    ::shutdown(server, SHUT_WR);
  });
  bool cut = cuts_left.load() > 0 && cut_after_bytes.load() > 0;
  if (cut) --cuts_left;
  uint64_t sent = 0;
  char buf[4096];
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    ssize_t n = ::read(server, buf, sizeof buf);
    if (n <= 0) break;
    size_t len = static_cast<size_t>(n);
    if (cut && sent + len >= cut_after_bytes) {
      len = static_cast<size_t>(cut_after_bytes - sent);
      if (len > 0 && ::send(client, buf, len, MSG_NOSIGNAL) < 0) break;
      bytes_from_server += len;
      break;  // drop the connection mid-response
    }
    if (::send(client, buf, len, MSG_NOSIGNAL) != static_cast<ssize_t>(len)) break;
    sent += len;
    bytes_from_server += len;
    uint64_t rate = bytes_per_sec.load();
    if (rate > 0) {
      auto due = start + std::chrono::microseconds(sent * 1'000'000 / rate);
      std::this_thread::sleep_until(due);
    }
  }
  ::shutdown(client, SHUT_RDWR);
  ::shutdown(server, SHUT_RDWR);
  up.join();
  std::lock_guard<std::mutex> lk(mu_);
  std::erase(open_fds_, client);
  std::erase(open_fds_, server);
  ::close(client);
  ::close(server);
  (void)done;
}

std::string put_stories_model(Store& store, const std::string& name) {
  Manifest m;
  Layer model;
  model.media_type = kMediaModel;
  model.digest = store.import_blob_file(testdata("stories260K.gguf"), &model.size);
  m.layers.push_back(model);
  auto text = [&](const char* media, const std::string& body) {
    Layer l;
    l.media_type = media;
    l.digest = store.put_blob(body);
    l.size = body.size();
    m.layers.push_back(l);
  };
  text(kMediaTemplate, "{{ .Prompt }}");
  text(kMediaParams, R"({"stop":["</s>"],"temperature":0.5})");
  ModelConfig c;
  c.model_family = "llama";
  c.model_families = {"llama"};
  c.model_type = "292K";
  c.file_type = "F32";
  std::string cfg = c.to_json();
  m.config.media_type = kConfigMediaType;
  m.config.digest = store.put_blob(cfg);
  m.config.size = cfg.size();
  std::string raw = m.to_json();
  store.write_manifest(ModelName::parse(name), raw);
  return raw;
}

}  // namespace hearth::store::testing

namespace hearth::store::testing {

CliRun run_hearth(const std::string& models, const std::string& logs, const std::string& args,
                  const std::string& env) {
  const std::string cmd = env + " HEARTH_MODELS='" + models + "' OLLAMA_MODELS= HEARTH_NUM_THREAD=1 " +
                          "HEARTH_HOST=127.0.0.1:" + std::to_string(free_port()) + " '" + HEARTH_EXE +
                          "' " + args + " </dev/null >" + logs + "/out 2>" + logs + "/err";
  const int rc = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_all(logs + "/out");
  r.err = read_all(logs + "/err");
  return r;
}

}  // namespace hearth::store::testing
