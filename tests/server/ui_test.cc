// The built-in page at /ui (src/server/ui_handlers.cc): the embedded files are web/dist's bytes,
// public under HEARTH_API_KEY (the page asks for the key for its API calls), behind the same Host
// check as the API, GET only. The page itself is tested in chromium by web/test (ctest web_ui_*).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "test_server.h"

namespace hearth::testing {
namespace {

std::string dist_file(const std::string& name) {
  std::ifstream in(std::string(HEARTH_SOURCE_DIR) + "/web/dist/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int status_of(httplib::Result r) { return r ? r->status : -1; }

TEST(UiPage, ServesTheBuiltFilesWithTheirTypes) {
  TestServer ts;
  auto c = ts.client();
  for (const char* path : {"/ui", "/ui/", "/ui/index.html"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r->body, dist_file("index.html"));
    EXPECT_NE(r->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  }
  auto js = c.Get("/ui/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->body, dist_file("app.js"));
  EXPECT_GT(js->body.size(), 1000u);
  auto css = c.Get("/ui/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css->body, dist_file("style.css"));

  EXPECT_EQ(status_of(c.Get("/ui/missing.js")), 404);
  EXPECT_EQ(status_of(c.Get("/ui/a/b.js")), 404);
  EXPECT_EQ(status_of(c.Post("/ui", "x", "text/plain")), 405);
  // Ollama clients probe / for its text: unchanged by the page.
  auto root = c.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->body, "Ollama is running");
}

TEST(UiPage, PublicUnderApiKeyButNotPastTheHostCheck) {
  server::ServerConfig config = TestServer::default_config();
  config.api_key = "s3cret";
  TestServer ts({}, config);
  auto c = ts.client();
  EXPECT_EQ(status_of(c.Get("/ui")), 200);
  EXPECT_EQ(status_of(c.Get("/api/tags")), 401);
  EXPECT_EQ(status_of(c.Get("/ui/app.js", {{"Host", "evil.example:11434"}})), 403);
}

}  // namespace
}  // namespace hearth::testing
