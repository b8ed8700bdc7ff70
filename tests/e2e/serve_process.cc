#include "serve_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "../store/store_test_util.h"
#include "store/digest.h"

namespace hearth::testing {

std::vector<nlohmann::ordered_json> ndjson(const std::string& body) {
  std::vector<nlohmann::ordered_json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::ordered_json::parse(line));
  }
  return out;
}

std::string import_testdata_model(httplib::Client& c, const std::string& name, const std::string& file) {
  const std::string bytes = store::testing::read_all(std::string(HEARTH_TESTDATA_DIR) + "/" + file);
  if (bytes.empty()) return "cannot read " + file;
  const std::string digest = store::sha256_digest(bytes);
  auto r = c.Post(("/api/blobs/" + digest).c_str(), bytes, "application/octet-stream");
  if (!r || (r->status != 201 && r->status != 200)) return "blob upload failed: " + (r ? r->body : std::string("no answer"));
  nlohmann::ordered_json body = {{"model", name}, {"files", {{file, digest}}}};
  r = c.Post("/api/create", body.dump(), "application/json");
  if (!r || r->status != 200) return "create failed: " + (r ? r->body : std::string("no answer"));
  auto lines = ndjson(r->body);
  if (lines.empty() || lines.back()["status"] != "success") return "create did not succeed: " + r->body;
  return "";
}

ServeProcess::ServeProcess(const std::string& models, const std::string& log,
                           const std::vector<std::pair<std::string, std::string>>& env)
    : log_(log), port_(store::testing::free_port()) {
  pid_ = fork();
  if (pid_ == 0) {
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    setenv("HEARTH_HOST", host.c_str(), 1);
    setenv("HEARTH_MODELS", models.c_str(), 1);
    for (const char* name : {"HEARTH_API_KEY", "OLLAMA_HOST", "HEARTH_NOPRUNE", "OLLAMA_NOPRUNE"}) unsetenv(name);
    for (const auto& [name, value] : env) {
      if (value.empty()) unsetenv(name.c_str());
      else setenv(name.c_str(), value.c_str(), 1);
    }
    FILE* f = freopen(log_.c_str(), "w", stderr);
    (void)f;
    execl(HEARTH_EXE, HEARTH_EXE, "serve", static_cast<char*>(nullptr));
    _exit(127);
  }
  httplib::Client c("127.0.0.1", port_);
  for (int i = 0; i < 500 && !up_; ++i) {
    auto r = c.Get("/");
    up_ = r && r->status == 200;
    if (!up_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ServeProcess::~ServeProcess() { stop(); }

bool ServeProcess::stop() {
  if (pid_ <= 0) return false;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status);
}

httplib::Client ServeProcess::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120, 0);
  return c;
}

std::string ServeProcess::log_text() const {
  std::ifstream in(log_, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace hearth::testing
