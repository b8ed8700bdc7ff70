#pragma once
// `hearth serve` (the built binary) as a child process on a free loopback port over a given store,
// its stderr in a log file. Stopped with SIGTERM when destroyed.

#include <httplib.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::testing {

// The objects of an NDJSON body, one a line.
std::vector<nlohmann::ordered_json> ndjson(const std::string& body);

// Uploads testdata/FILE through /api/blobs and creates NAME from it with /api/create. Returns ""
// on success, else what went wrong.
std::string import_testdata_model(httplib::Client& c, const std::string& name, const std::string& file);

class ServeProcess {
 public:
  // `env`: variables set in the child (an empty value unsets it). HEARTH_API_KEY, OLLAMA_HOST,
  // HEARTH_NOPRUNE and OLLAMA_NOPRUNE are unset unless `env` sets them.
  ServeProcess(const std::string& models, const std::string& log,
               const std::vector<std::pair<std::string, std::string>>& env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // True once GET / answered 200 (polled for up to 10 s in the constructor).
  bool up() const { return up_; }
  int port() const { return port_; }
  httplib::Client client() const;
  std::string log_text() const;
  // SIGTERM and wait; true when the server exited normally.
  bool stop();

 private:
  std::string log_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool up_ = false;
};

}  // namespace hearth::testing
