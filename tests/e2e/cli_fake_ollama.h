#pragma once
// A scripted stand-in for the Hearth/Ollama server, so CLI tests exercise the real `hearth`
// binary (terminal handling, flags, output) without loading a model. Answers:
//   chat: "You said: <last user message>" in small pieces, preceded by thinking "Pondering."
//         when the request has think=true; a message containing "slow" streams "tick " until
//         the client disconnects (Ctrl+C test);
//   generate: "Answer." (an empty prompt only loads);
//   pull: progress events then adds the model; create: records the request and adds the model.

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::test {

class FakeOllama {
 public:
  FakeOllama();
  ~FakeOllama();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  std::mutex mu;
  std::set<std::string> models = {"m:latest", "thinker:latest"};
  std::vector<nlohmann::json> chats, creates, generates;
  std::atomic<bool> slow_client_gone{false};

 private:
  static std::string canonical(std::string name);
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace hearth::test
