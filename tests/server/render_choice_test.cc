// What the server asks the backend to render with: template precedence inputs and the
// think-stripping rule by model name, seen through the fake model's debug render.

#include <gtest/gtest.h>
#include <stdlib.h>

#include "test_server.h"

namespace hearth::testing {
namespace {

std::string rendered(TestServer& ts, const std::string& model) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "q"}}});
  auto r = ts.post("/api/chat", {{"model", model}, {"messages", msgs}, {"_debug_render_only", true}});
  EXPECT_TRUE(r);
  if (!r) return "";
  EXPECT_EQ(r->status, 200) << r->body;
  return Json::parse(r->body)["_debug_info"]["rendered_template"].get<std::string>();
}

TEST(RenderChoice, EarlierThinkingIsStrippedForDeepseekR1Names) {
  TestServer ts;
  for (const char* name : {"deepseek-r1:8b", "someone/deepseek-r1", "deepseek-r1-distill:7b", "fake"}) {
    add_fake_model(*ts.store, name, std::string("GGUF-") + name);
  }
  EXPECT_NE(rendered(ts, "deepseek-r1:8b").find("{strip-thinking}"), std::string::npos);
  EXPECT_NE(rendered(ts, "someone/deepseek-r1").find("{strip-thinking}"), std::string::npos);
  EXPECT_EQ(rendered(ts, "deepseek-r1-distill:7b").find("{strip-thinking}"), std::string::npos);
  EXPECT_EQ(rendered(ts, "fake").find("{strip-thinking}"), std::string::npos);
}

TEST(RenderChoice, GoTemplatePreferenceFromTheEnvironment) {
  ::unsetenv("HEARTH_GO_TEMPLATE");
  ::unsetenv("OLLAMA_GO_TEMPLATE");
  EXPECT_TRUE(server::ServerConfig::from_env().prefer_go_template);
  ::setenv("OLLAMA_GO_TEMPLATE", "0", 1);
  EXPECT_FALSE(server::ServerConfig::from_env().prefer_go_template);
  ::setenv("HEARTH_GO_TEMPLATE", "true", 1);
  EXPECT_TRUE(server::ServerConfig::from_env().prefer_go_template);
  ::unsetenv("HEARTH_GO_TEMPLATE");
  ::unsetenv("OLLAMA_GO_TEMPLATE");

  server::ServerConfig config = TestServer::default_config();
  config.prefer_go_template = false;
  TestServer ts({}, config);
  add_fake_model(*ts.store, "fake", "GGUF");
  EXPECT_NE(rendered(ts, "fake").find("{jinja-first}"), std::string::npos);
}

}  // namespace
}  // namespace hearth::testing
