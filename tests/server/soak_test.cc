// Soak: 8 clients hammer the server with streamed and whole requests on both APIs and drop
// connections at random points. The server must not crash, and every slot and queue place must
// be free at the end. HEARTH_SOAK_SECONDS sets the duration (CTest runs a short one; run
// `HEARTH_SOAK_SECONDS=300 hearth_server_tests --gtest_filter=Soak.*` for the long one).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "test_server.h"

namespace hearth::testing {
namespace {

using namespace std::chrono_literals;

TEST(Soak, ConcurrentClientsWithRandomDisconnects) {
  const char* env = std::getenv("HEARTH_SOAK_SECONDS");
  const double seconds = env != nullptr ? std::atof(env) : 8.0;
  engine::SchedulerOptions o;
  o.max_queue = 4;
  server::ServerConfig config = TestServer::default_config();
  config.num_parallel = 2;
  TestServer ts(o, config);
  add_fake_model(*ts.store, "fake", "FAKE-GGUF-A");
  add_fake_model(*ts.store, "other", "FAKE-GGUF-B");
  ts.world->reply = std::string(120, 'x') + " done";
  ts.world->piece_size = 2;
  ts.world->piece_delay_ms = 1;

  std::atomic<int> ok{0}, busy{0}, dropped{0}, failed{0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      while (std::chrono::steady_clock::now() < deadline) {
        int kind = static_cast<int>(rng() % 4);
        bool stream = rng() % 2 == 0;
        int drop_after = rng() % 3 == 0 ? static_cast<int>(rng() % 20) : -1;  // a third disconnect
        const char* model = rng() % 5 == 0 ? "other" : "fake";
        Json body;
        std::string path;
        Json msgs = Json::array({{{"role", "user"}, {"content", "hello"}}});
        switch (kind) {
          case 0: path = "/api/generate"; body = {{"model", model}, {"prompt", "hi"}, {"stream", stream}}; break;
          case 1: path = "/api/chat"; body = {{"model", model}, {"messages", msgs}, {"stream", stream}}; break;
          case 2: path = "/v1/chat/completions"; body = {{"model", model}, {"messages", msgs}, {"stream", stream}}; break;
          default: path = "/v1/completions"; body = {{"model", model}, {"prompt", "hi"}, {"stream", stream}}; break;
        }
        httplib::Client c("127.0.0.1", ts.port);
        c.set_read_timeout(30, 0);
        httplib::Request req;
        req.method = "POST";
        req.path = path;
        req.body = body.dump();
        req.set_header("Content-Type", "application/json");
        size_t received = 0;
        int status = 0;
        req.response_handler = [&](const httplib::Response& r) {
          status = r.status;
          return true;
        };
        req.content_receiver = [&](const char*, size_t n, uint64_t, uint64_t) {
          received += n;
          return drop_after < 0 || received < static_cast<size_t>(drop_after) * 10;
        };
        auto res = c.send(req);
        if (drop_after >= 0 && !res) ++dropped;
        else if (status == 200) ++ok;
        else if (status == 503) ++busy;
        else ++failed;
      }
    });
  }
  for (auto& c : clients) c.join();

  // Everything drains: no slot, queue place or sequence is left behind.
  bool drained = false;
  for (int i = 0; i < 1000 && !drained; ++i) {
    drained = ts.world->active.load() == 0 && ts.scheduler->queue_depth() == 0;
    for (const auto& l : ts.scheduler->loaded()) drained = drained && l.active == 0;
    if (!drained) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(drained);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_LE(ts.world->max_active.load(), 4);  // 2 slots x 2 models
  auto r = ts.post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::printf("soak %.0fs: ok=%d busy=%d dropped=%d failed=%d cancels=%d max_active=%d\n", seconds,
              ok.load(), busy.load(), dropped.load(), failed.load(), ts.world->cancels.load(),
              ts.world->max_active.load());
}

}  // namespace
}  // namespace hearth::testing
