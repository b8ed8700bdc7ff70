// /api/version answers an Ollama release at least as new as the features clients gate on; the
// timings clients print.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "test_server.h"

namespace hearth::testing {
namespace {

std::vector<int> semver(const std::string& v) {
  std::vector<int> parts;
  std::istringstream in(v);
  std::string p;
  while (std::getline(in, p, '.')) parts.push_back(std::stoi(p));
  return parts;
}

TEST(Version, NoClientTakesHearthForAnOutdatedOllama) {
  TestServer ts;
  auto r = ts.client().Get("/api/version");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string version = Json::parse(r->body)["version"];
  const std::vector<int> v = semver(version);
  ASSERT_EQ(v.size(), 3u) << version;
  EXPECT_GE(v, (std::vector<int>{0, 1, 16})) << "Open WebUI's REQUIRED_OLLAMA_VERSION";
  EXPECT_GE(v, (std::vector<int>{0, 9, 0})) << "think / thinking (Ollama v0.9.0)";
  EXPECT_GE(v, (std::vector<int>{0, 33, 0})) << "the Ollama release ollama-compat.md describes";
  r = ts.client().Head("/api/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// `/set verbose` prints "load duration:" only when it is positive: a warm model must still report
// the time from the request to the model being ready, as Ollama does (14.87ms on a warm GPU model).
TEST(LoadDuration, PositiveOnAWarmModel) {
  TestServer ts;
  add_fake_model(*ts.store, "fake", "GGUF");
  for (const char* path : {"/api/generate", "/api/generate", "/api/chat"}) {
    Json body = {{"model", "fake"}, {"stream", false}};
    if (std::string(path) == "/api/chat") body["messages"] = Json::array({{{"role", "user"}, {"content", "hi"}}});
    else body["prompt"] = "hi";
    auto r = ts.post(path, body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_GT(Json::parse(r->body)["load_duration"].get<int64_t>(), 0) << path;
  }
  EXPECT_EQ(ts.world->loads.load(), 1);  // the later requests found it loaded
}

// /api/tags lists what Ollama's list now carries per model; /api/show the tensors and the
// renderer, parser and requires of the config.
TEST(ModelListing, TagsAndShowCarryTheGgufFacts) {
  TestServer ts;
  std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf", std::ios::binary);
  const std::string gguf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(gguf.empty());
  add_fake_model(*ts.store, "storied", gguf);
  add_fake_model(*ts.store, "unreadable", "NOT-A-GGUF");
  auto r = ts.client().Get("/api/tags");
  ASSERT_TRUE(r);
  Json models = Json::parse(r->body)["models"];
  ASSERT_EQ(models.size(), 2u);
  const Json& storied = models[0]["name"] == "storied:latest" ? models[0] : models[1];
  const Json& unreadable = models[0]["name"] == "storied:latest" ? models[1] : models[0];
  EXPECT_EQ(storied["details"]["context_length"], 128);
  EXPECT_EQ(storied["details"]["embedding_length"], 64);
  EXPECT_EQ(storied["capabilities"], Json::array({"completion"}));
  EXPECT_FALSE(unreadable["details"].contains("context_length"));
  EXPECT_FALSE(unreadable.contains("capabilities"));

  r = ts.post("/api/create", {{"model", "styled"}, {"from", "storied"}, {"renderer", "qwen3-coder"},
                              {"parser", "qwen3-coder"}, {"requires", "0.12.0"}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  r = ts.post("/api/show", {{"model", "styled"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json show = Json::parse(r->body);
  EXPECT_EQ(show["renderer"], "qwen3-coder");
  EXPECT_EQ(show["parser"], "qwen3-coder");
  EXPECT_EQ(show["requires"], "0.12.0");
  ASSERT_TRUE(show["tensors"].is_array());
  ASSERT_FALSE(show["tensors"].empty());
  bool found = false;
  for (const auto& t : show["tensors"]) {
    if (t["name"] != "token_embd.weight") continue;
    found = true;
    EXPECT_EQ(t["type"], "F32");
    EXPECT_EQ(t["shape"], Json::array({64, 512}));
  }
  EXPECT_TRUE(found) << show["tensors"].dump();
}

}  // namespace
}  // namespace hearth::testing
