#include "cli/api_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "util/error.h"

namespace hearth::cli {
namespace {

// A tiny stand-in for the server on a loopback port.
class FakeServer {
 public:
  httplib::Server srv;
  std::atomic<bool> client_gone{false};
  FakeServer() {
    srv.Get("/api/tags", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"models":[{"name":"a:latest"}]})", "application/json");
    });
    srv.Post("/api/show", [](const httplib::Request& req, httplib::Response& res) {
      auto j = nlohmann::json::parse(req.body);
      if (j["model"] == "nope") {
        res.status = 404;
        res.set_content(R"({"error":"model 'nope' not found"})", "application/json");
        return;
      }
      res.set_content(R"({"modelfile":"FROM x"})", "application/json");
    });
    srv.Post("/api/chat", [](const httplib::Request&, httplib::Response& res) {
      // Three lines delivered in awkward pieces, the last without a newline.
      res.set_chunked_content_provider("application/x-ndjson", [](size_t, httplib::DataSink& sink) {
        const std::string body = "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}";
        for (size_t i = 0; i < body.size(); i += 5) sink.write(body.data() + i, std::min<size_t>(5, body.size() - i));
        sink.done();
        return true;
      });
    });
    srv.Post("/api/midstream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/x-ndjson", [](size_t, httplib::DataSink& sink) {
        const std::string body = "{\"n\":1}\n{\"error\":\"model ran out of memory\"}\n";
        sink.write(body.data(), body.size());
        sink.done();
        return true;
      });
    });
    srv.Post("/api/endless", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/x-ndjson", [this](size_t, httplib::DataSink& sink) {
        // Streams until the client goes away (bounded so a broken test cannot hang forever).
        for (int i = 0; i < 100000; ++i) {
          const std::string line = "{\"n\":" + std::to_string(i) + "}\n";
          if (!sink.write(line.data(), line.size())) {
            client_gone = true;
            return false;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        sink.done();
        return true;
      });
    });
    port_ = srv.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    srv.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::thread thread_;
};

TEST(ApiClient, GetPostAndErrors) {
  FakeServer s;
  ApiClient c(s.url());
  EXPECT_TRUE(c.heartbeat());
  EXPECT_EQ(c.get("/api/tags")["models"][0]["name"], "a:latest");
  EXPECT_EQ(c.post("/api/show", {{"model", "x"}})["modelfile"], "FROM x");
  try {
    c.post("/api/show", {{"model", "nope"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(), "model 'nope' not found");
  }
  try {
    c.get("/api/missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(ApiClient, StreamSplitsLinesAcrossChunks) {
  FakeServer s;
  ApiClient c(s.url());
  std::vector<int> seen;
  EXPECT_TRUE(c.stream("/api/chat", {{"model", "m"}}, [&](const Json& j) {
    seen.push_back(j["n"].get<int>());
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
}

TEST(ApiClient, ErrorLineMidStreamThrows) {
  FakeServer s;
  ApiClient c(s.url());
  int n = 0;
  try {
    c.stream("/api/midstream", Json::object(), [&](const Json&) { return ++n, true; });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model ran out of memory");
  }
  EXPECT_EQ(n, 1);
}

TEST(ApiClient, CallbackStopAndCancelEndTheStream) {
  FakeServer s;
  ApiClient c(s.url());
  int n = 0;
  EXPECT_FALSE(c.stream("/api/endless", Json::object(), [&](const Json&) { return ++n < 5; }));
  EXPECT_EQ(n, 5);

  std::atomic<int> m{0};
  std::thread canceller([&] {
    while (m < 3) std::this_thread::yield();
    c.cancel();
  });
  EXPECT_FALSE(c.stream("/api/endless", Json::object(), [&](const Json&) { return ++m, true; }));
  canceller.join();
  EXPECT_GE(m.load(), 3);
}

TEST(ApiClient, NoServerIsAClearError) {
  // Port 1 on loopback: nothing listens there in a test environment.
  ApiClient c("http://127.0.0.1:1");
  EXPECT_FALSE(c.heartbeat());
  try {
    c.get("/api/tags");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "could not connect to hearth server, run 'hearth serve' to start it");
  }
}

TEST(ApiClient, ErrorMessageFromBody) {
  EXPECT_EQ(error_message(400, R"({"error":"invalid model name"})"), "invalid model name");
  EXPECT_EQ(error_message(404, "404 page not found\n"), "404 page not found");
  EXPECT_EQ(error_message(500, ""), "server replied with status 500");
}

}  // namespace
}  // namespace hearth::cli
