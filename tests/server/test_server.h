#pragma once
// An in-process server over a temporary store and the fake model, on a free loopback port.

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/scheduler.h"
#include "fake_model.h"
#include "server/server.h"
#include "store/store.h"

namespace hearth::testing {

using Json = nlohmann::ordered_json;

// Adds a model NAME whose "GGUF" is `content` (the fake model never reads it). Returns the
// blob path. `extra_layers`: media type -> text (template, system, params, ...).
std::string add_fake_model(store::Store& store, const std::string& name, const std::string& content,
                           const std::vector<std::pair<std::string, std::string>>& extra_layers = {},
                           const std::string& model_family = "fake");

// A named server-sent event ("event: NAME\ndata: JSON"), as /v1/messages and /v1/responses send.
struct SseEvent {
  std::string name;
  Json data;
};
// Parses a whole stream of named events; a malformed event fails the test.
std::vector<SseEvent> parse_sse(const std::string& body);

class TestServer {
 public:
  // `loader`: how models load (null: the fake model of `world`; engine::make_runner_loader():
  // real GGUFs).
  explicit TestServer(engine::SchedulerOptions sched = {}, server::ServerConfig config = default_config(),
                      std::shared_ptr<FakeWorld> world = std::make_shared<FakeWorld>(),
                      std::shared_ptr<engine::ModelLoader> loader = nullptr);
  ~TestServer();

  static server::ServerConfig default_config();

  // Stops the server and starts a new one over the same store and scheduler (start-up work such
  // as the blob prune runs again).
  void restart();

  httplib::Client client() const;
  // POST with a JSON body.
  httplib::Result post(const std::string& path, const Json& body) const;
  std::vector<Json> ndjson(const std::string& body) const;

  std::shared_ptr<FakeWorld> world;
  std::shared_ptr<engine::Scheduler> scheduler;
  std::shared_ptr<store::Store> store;
  std::unique_ptr<server::Server> server;
  std::string dir;
  server::ServerConfig config;
  int port = 0;
};

// A fresh server over the fake model with one model, "fake".
class FakeModelServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts = std::make_unique<TestServer>();
    add_fake_model(*ts->store, "fake", "FAKE-GGUF-A");
  }
  std::unique_ptr<TestServer> ts;
};

// Polls `pred` for up to 10 s (a bound for a stuck server, not a timing assertion).
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace hearth::testing
