// Black-box tests of `hearth serve`: start the built binary on a free loopback port with a
// temporary store, import a tiny model through /api/blobs + /api/create, and drive the endpoints.

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../store/store_test_util.h"
#include "serve_process.h"

namespace {

using Json = nlohmann::ordered_json;
using hearth::testing::ndjson;

class ServeE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/hearth-e2e-XXXXXX";
    dir_ = mkdtemp(tmpl);
    serve_ = std::make_unique<hearth::testing::ServeProcess>(dir_ + "/models", dir_ + "/serve.log",
                                                            std::vector<std::pair<std::string, std::string>>{
                                                                {"HEARTH_KEEP_ALIVE", "5m"}});
    if (!serve_->up()) ADD_FAILURE() << "hearth serve did not come up:\n" << serve_->log_text();
  }

  static void TearDownTestSuite() {
    EXPECT_TRUE(serve_->stop()) << "serve did not exit cleanly on SIGTERM";
    serve_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static httplib::Client client() { return serve_->client(); }

  static httplib::Result post(const std::string& path, const Json& body) {
    return client().Post(path.c_str(), body.dump(), "application/json");
  }

  // Uploads a GGUF from testdata and creates NAME from it (once per suite).
  static void import(const std::string& name, const std::string& file) {
    auto c = client();
    const std::string error = hearth::testing::import_testdata_model(c, name, file);
    ASSERT_EQ(error, "");
  }

  // True when this build can generate (the engine is linked in). The model must exist.
  static bool engine_available(const std::string& model) {
    auto r = post("/api/generate", {{"model", model}, {"prompt", "a"}, {"stream", false},
                                    {"options", {{"num_predict", 1}}}});
    return r && r->status == 200;
  }

  static std::string dir_;
  static std::unique_ptr<hearth::testing::ServeProcess> serve_;
};

std::string ServeE2E::dir_;
std::unique_ptr<hearth::testing::ServeProcess> ServeE2E::serve_;

TEST_F(ServeE2E, LivenessVersionAndRouting) {
  auto c = client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "Ollama is running");
  r = c.Head("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/version");
  ASSERT_TRUE(r);
  EXPECT_TRUE(Json::parse(r->body)["version"].is_string());
  r = c.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/api/chat");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = c.Get("/api/tags", {{"Host", "attacker.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = c.Options("/api/chat", {{"Origin", "http://localhost:8080"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://localhost:8080");
}

TEST_F(ServeE2E, ImportListShowCopyDelete) {
  import("stories", "stories260K.gguf");
  auto c = client();
  auto r = c.Get("/api/tags");
  ASSERT_TRUE(r);
  bool found = false;
  Json tags = Json::parse(r->body);
  for (const auto& m : tags["models"]) found = found || m["name"] == "stories:latest";
  EXPECT_TRUE(found) << r->body;

  r = post("/api/show", {{"model", "stories"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json show = Json::parse(r->body);
  EXPECT_EQ(show["model_info"]["general.architecture"], "llama");
  EXPECT_EQ(show["details"]["format"], "gguf");

  r = post("/api/copy", {{"source", "stories"}, {"destination", "tale:copy"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/v1/models/tale:copy");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["id"], "tale:copy");
  r = c.Delete("/api/delete", Json{{"model", "tale:copy"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = post("/api/show", {{"model", "tale:copy"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  r = post("/api/create", {{"model", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "neither 'from' or 'files' was specified");
}

TEST_F(ServeE2E, GenerateAndChatBothModes) {
  import("stories", "stories260K.gguf");
  if (!engine_available("stories")) GTEST_SKIP() << "this build cannot generate yet (no engine::Runner)";
  auto r = post("/api/generate", {{"model", "stories"}, {"prompt", "Once upon a time"}, {"raw", true},
                                  {"stream", false}, {"options", {{"num_predict", 8}, {"temperature", 0}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["eval_count"], 8);
  EXPECT_EQ(j["done_reason"], "length");

  r = post("/api/generate", {{"model", "stories"}, {"prompt", "Once upon a time"}, {"raw", true},
                             {"options", {{"num_predict", 8}, {"temperature", 0}}}});
  ASSERT_TRUE(r);
  auto lines = ndjson(r->body);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back()["done"], true);
  std::string streamed;
  for (const auto& l : lines) streamed += l["response"].get<std::string>();
  EXPECT_EQ(streamed, j["response"].get<std::string>());  // greedy: same text both ways

  import("qwen", "qwen2-tiny-q8_0.gguf");
  Json msgs = Json::array({{{"role", "user"}, {"content", "hi"}}});
  r = post("/api/chat", {{"model", "qwen"}, {"messages", msgs}, {"stream", false}, {"think", false},
                         {"options", {{"num_predict", 4}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["message"]["role"], "assistant");
  r = post("/api/chat", {{"model", "qwen"}, {"messages", msgs}, {"think", false}, {"options", {{"num_predict", 4}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(ndjson(r->body).back()["done"], true);

  r = post("/v1/chat/completions", {{"model", "qwen"}, {"messages", msgs}, {"max_tokens", 4}, {"stream", true}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
  r = post("/v1/completions", {{"model", "stories"}, {"prompt", "Once"}, {"max_tokens", 4}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["object"], "text_completion");

  auto c = client();
  r = c.Get("/api/ps");
  ASSERT_TRUE(r);
  EXPECT_FALSE(Json::parse(r->body)["models"].empty());
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("hearth_generated_tokens_total"), std::string::npos);
}

}  // namespace
