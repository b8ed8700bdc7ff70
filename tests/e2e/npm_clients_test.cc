// Real clients, unmodified, from the npm registry: @anthropic-ai/sdk (/v1/messages) and openai
// (/v1/responses) drive `hearth serve` on a tiny model (tests/e2e/npm/clients.mjs). The packages,
// pinned in tests/e2e/npm/package-lock.json, are installed under the build dir with `npm ci` on
// first use (scripts/deps.sh installs Node and npm).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../store/store_test_util.h"
#include "serve_process.h"

namespace {

namespace fs = std::filesystem;

// Runs `command` through the shell; returns its exit status and fills `output` (stdout+stderr).
int run(const std::string& command, std::string* output) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  return pclose(p);
}

// The client folder under the build dir, with node_modules matching the committed lock file.
std::string prepare_clients(std::string* log) {
  const fs::path src = fs::path(HEARTH_SOURCE_DIR) / "tests/e2e/npm";
  const fs::path dir = fs::path(HEARTH_BINARY_DIR) / "npm-clients";
  fs::create_directories(dir);
  const std::string lock = hearth::store::testing::read_all((src / "package-lock.json").string());
  const bool installed = fs::exists(dir / "node_modules/openai/package.json") &&
                         fs::exists(dir / "node_modules/@anthropic-ai/sdk/package.json") &&
                         hearth::store::testing::read_all((dir / "package-lock.json").string()) == lock;
  for (const char* f : {"package.json", "package-lock.json", "clients.mjs"}) {
    fs::copy_file(src / f, dir / f, fs::copy_options::overwrite_existing);
  }
  if (!installed && run("cd '" + dir.string() + "' && npm ci --no-audit --no-fund --ignore-scripts", log) != 0) {
    return "";
  }
  return dir.string();
}

TEST(NpmClients, AnthropicAndOpenAISdksAgainstHearthServe) {
  std::string log;
  ASSERT_EQ(run("node --version", &log), 0) << "Node is required (scripts/deps.sh installs it): " << log;
  const std::string dir = prepare_clients(&log);
  ASSERT_FALSE(dir.empty()) << "npm ci failed:\n" << log;

  char tmpl[] = "/tmp/hearth-npm-XXXXXX";
  const std::string tmp = mkdtemp(tmpl);
  const std::string key = "npm-test-key";
  {
    hearth::testing::ServeProcess serve(tmp + "/models", tmp + "/serve.log", {{"HEARTH_API_KEY", key}});
    ASSERT_TRUE(serve.up()) << serve.log_text();
    auto c = serve.client();
    c.set_bearer_token_auth(key);
    // Qwen3's template renders tools and thinking, as the clients' requests need.
    ASSERT_EQ(hearth::testing::import_testdata_model(c, "qwen3-tiny", "qwen3-tiny-q8_0.gguf"), "");

    std::string out;
    const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
    const int status = run("cd '" + dir + "' && HEARTH_URL=" + url + " HEARTH_MODEL=qwen3-tiny HEARTH_KEY=" + key +
                               " node clients.mjs",
                           &out);
    EXPECT_EQ(status, 0) << out << "\nserver log:\n" << serve.log_text();
    for (const char* name : {"anthropic messages.create", "anthropic messages.stream", "anthropic tools with a tool_result turn",
                             "anthropic error shape", "openai responses.create", "openai responses.stream",
                             "openai responses with a function_call_output turn"}) {
      EXPECT_NE(out.find(std::string("ok ") + name + "\n"), std::string::npos) << name << "\n" << out;
    }
    EXPECT_TRUE(serve.stop());
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace
