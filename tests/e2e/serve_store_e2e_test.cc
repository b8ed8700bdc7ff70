// `hearth serve` and the model verbs against real stores: the start-up prune, /api/pull from a
// local docker-registry, /api/create with quantization from an uploaded blob, and the texts of
// `hearth cp` / `hearth ls` without a server (ollama-compat.md sections 1, 4 and 6).

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../store/store_test_util.h"
#include "serve_process.h"
#include "store/digest.h"
#include "store/registry_ops.h"

namespace hearth::testing {
namespace {

using Json = nlohmann::ordered_json;
using store::testing::LocalRegistry;
using store::testing::TempDir;

std::vector<std::string> tag_names(const ServeProcess& serve) {
  auto r = serve.client().Get("/api/tags");
  std::vector<std::string> names;
  if (!r) return names;
  const Json tags = Json::parse(r->body);
  for (const auto& m : tags["models"]) names.push_back(m["name"]);
  return names;
}

// Ollama prunes at start-up unless OLLAMA_NOPRUNE: blobs no manifest names and temp files of dead
// writers go; the model's own blobs stay.
TEST(ServeStoreE2E, StartUpPrunesUnusedBlobsUnlessNoPrune) {
  TempDir dir;
  const std::string models = dir.path() + "/models";
  store::Store st(models);
  store::testing::put_stories_model(st, "stories:260k");
  const std::string orphan = st.put_blob("no manifest names these bytes");
  const std::string dead_temp = st.blobs_dir() + "/sha256-abc.tmp-1-2";
  store::testing::write_all(dead_temp, "junk");
  {
    ServeProcess serve(models, dir.path() + "/serve1.log", {{"OLLAMA_NOPRUNE", "1"}});
    ASSERT_TRUE(serve.up()) << serve.log_text();
    EXPECT_TRUE(st.has_blob(orphan));
    EXPECT_TRUE(std::filesystem::exists(dead_temp));
  }
  ServeProcess serve(models, dir.path() + "/serve2.log");
  ASSERT_TRUE(serve.up()) << serve.log_text();
  EXPECT_FALSE(st.has_blob(orphan));
  EXPECT_FALSE(std::filesystem::exists(dead_temp));
  EXPECT_NE(serve.log_text().find("pruned 2 unused blob files"), std::string::npos) << serve.log_text();
  EXPECT_EQ(tag_names(serve), std::vector<std::string>{"stories:260k"});
  auto r = serve.client().Post("/api/show", Json{{"model", "stories:260k"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

// Without a server `hearth cp` runs the in-process server and prints Ollama's texts.
TEST(CliStoreE2E, CopyErrorsWithoutServer) {
  TempDir dir;
  const std::string models = dir.path() + "/models";
  store::Store st(models);
  store::testing::put_stories_model(st, "stories:260k");

  auto run = store::testing::run_hearth(models, dir.path(), "cp nope x");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("Error: model \"nope\" not found\n"), std::string::npos) << run.err;
  run = store::testing::run_hearth(models, dir.path(), "cp 'bad name!' x");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("Error: source \"bad name!\" is invalid\n"), std::string::npos) << run.err;
  run = store::testing::run_hearth(models, dir.path(), "cp stories:260k 'x y'");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("Error: destination \"x y\" is invalid\n"), std::string::npos) << run.err;
  run = store::testing::run_hearth(models, dir.path(), "cp Stories:260K tale:1");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "copied 'Stories:260K' to 'tale:1'\n");
  EXPECT_EQ(st.read_manifest(store::ModelName::parse("tale:1")).to_json(),
            st.read_manifest(store::ModelName::parse("stories:260k")).to_json());
}

// Without a server `hearth ls PREFIX` reads the store and, as Ollama, ignores case.
TEST(CliStoreE2E, ListPrefixIgnoresCaseWithoutServer) {
  TempDir dir;
  const std::string models = dir.path() + "/models";
  store::Store st(models);
  store::testing::put_stories_model(st, "stories:260k");
  st.copy("stories:260k", "tale:1");
  auto run = store::testing::run_hearth(models, dir.path(), "ls STOR");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("stories:260k"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("tale:1"), std::string::npos) << run.out;
  run = store::testing::run_hearth(models, dir.path(), "ls Tale");
  EXPECT_NE(run.out.find("tale:1"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("stories"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace hearth::testing
