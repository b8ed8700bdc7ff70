// /api/version answers an Ollama release at least as new as the features clients gate on; the
// timings clients print.

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hearth::testing
