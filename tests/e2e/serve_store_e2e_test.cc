// `hearth serve` and the model verbs against real stores: the start-up prune, /api/pull from a
// local docker-registry, /api/create with quantization from an uploaded blob, and the texts of
// `hearth cp` / `hearth ls` without a server (ollama-compat.md sections 1, 4 and 6).

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

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

// `hearth serve --help` lists the variable among the server's, as `ollama serve --help` does.
TEST(ServeStoreE2E, ServeHelpListsNoPrune) {
  TempDir dir;
  auto run = store::testing::run_hearth(dir.path() + "/models", dir.path(), "serve --help");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("HEARTH_NOPRUNE             Do not prune model blobs on startup\n"), std::string::npos)
      << run.out;
  // The GPU and cache variables too (the Vulkan backend's, and Ollama's cache knobs).
  for (const char* v : {"HEARTH_GPU ", "HEARTH_VULKAN_DEVICE", "HEARTH_GPU_OVERHEAD", "HEARTH_KV_CACHE_TYPE",
                        "HEARTH_FLASH_ATTENTION"}) {
    EXPECT_NE(run.out.find(v), std::string::npos) << v;
  }
}

class ServePullE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_unique<LocalRegistry>();
    name_ = registry_->host() + "/library/stories:260k";
    store::Store src(src_dir_.path());
    raw_ = store::testing::put_stories_model(src, name_);
    store::RegistryOptions o;
    o.insecure = true;
    store::push_model(src, name_, o, nullptr);
    serve_ = std::make_unique<ServeProcess>(dir_.path() + "/models", dir_.path() + "/serve.log");
    ASSERT_TRUE(serve_->up()) << serve_->log_text();
  }
  httplib::Result post(const std::string& path, const Json& body) {
    return serve_->client().Post(path.c_str(), body.dump(), "application/json");
  }
  TempDir src_dir_, dir_;
  std::unique_ptr<LocalRegistry> registry_;
  std::unique_ptr<ServeProcess> serve_;
  std::string name_, raw_;
};

// POST /api/pull streams Ollama's statuses, with Go's omitempty on total/completed.
TEST_F(ServePullE2E, PullStreamsOllamaStatusesThenListsTheModel) {
  auto r = post("/api/pull", {{"model", name_}, {"insecure", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  std::vector<Json> lines = ndjson(r->body);
  ASSERT_GE(lines.size(), 5u) << r->body;
  EXPECT_EQ(lines.front().dump(), R"({"status":"pulling manifest"})");
  const size_t n = lines.size();
  EXPECT_EQ(lines[n - 3].dump(), R"({"status":"verifying sha256 digest"})");
  EXPECT_EQ(lines[n - 2].dump(), R"({"status":"writing manifest"})");
  EXPECT_EQ(lines[n - 1].dump(), R"({"status":"success"})");

  store::Manifest m = store::Manifest::parse(raw_);
  std::vector<store::Layer> layers = m.layers;
  layers.push_back(m.config);
  std::map<std::string, std::vector<Json>> per_digest;
  for (size_t i = 1; i + 3 < n; ++i) {
    const Json& l = lines[i];
    ASSERT_TRUE(l.contains("digest")) << l.dump();
    per_digest[l["digest"]].push_back(l);
  }
  ASSERT_EQ(per_digest.size(), layers.size()) << r->body;
  for (const auto& layer : layers) {
    const auto& events = per_digest[layer.digest];
    ASSERT_FALSE(events.empty()) << layer.digest;
    const std::string status = "pulling " + std::string(store::digest_hex(layer.digest).substr(0, 12));
    for (const auto& e : events) {
      EXPECT_EQ(e["status"], status);
      EXPECT_EQ(e["total"], layer.size);
      // omitempty: a zero completed is left out, never sent as 0.
      EXPECT_TRUE(!e.contains("completed") || e["completed"].get<uint64_t>() > 0) << e.dump();
    }
    EXPECT_FALSE(events.front().contains("completed")) << events.front().dump();  // nothing done yet
    EXPECT_EQ(events.back()["completed"], layer.size);
  }

  bool listed = false;
  auto tags = serve_->client().Get("/api/tags");
  ASSERT_TRUE(tags);
  const Json listing = Json::parse(tags->body);
  for (const auto& t : listing["models"]) {
    if (t["name"] == name_) {
      listed = true;
      EXPECT_EQ(t["digest"], std::string(store::digest_hex(store::sha256_digest(raw_))));
    }
  }
  EXPECT_TRUE(listed) << tags->body;
}

// Ollama's waitForStream answers a failed non-streaming pull with 500 and the error alone; the
// stream form ends with an {"error"} line after a 200.
TEST_F(ServePullE2E, MissingModelFailsWith500WhenNotStreaming) {
  const std::string missing = registry_->host() + "/library/nope:1";
  auto r = post("/api/pull", {{"model", missing}, {"insecure", true}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":"pull model manifest: file does not exist"})");
  r = post("/api/pull", {{"model", missing}, {"insecure", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::vector<Json> lines = ndjson(r->body);
  ASSERT_EQ(lines.size(), 2u) << r->body;
  EXPECT_EQ(lines[0].dump(), R"({"status":"pulling manifest"})");
  EXPECT_EQ(lines[1].dump(), R"({"error":"pull model manifest: file does not exist"})");

  r = post("/api/pull", {{"model", name_}, {"insecure", true}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"success"})");
}

// POST /api/blobs/:digest, then /api/create from that blob with quantize q8_0: the model is
// created and answers /api/generate.
TEST(ServeCreateE2E, QuantizedCreateFromUploadedBlobGenerates) {
  TempDir dir;
  ServeProcess serve(dir.path() + "/models", dir.path() + "/serve.log");
  ASSERT_TRUE(serve.up()) << serve.log_text();
  const std::string bytes = store::testing::read_all(store::testing::testdata("stories260K.gguf"));
  ASSERT_FALSE(bytes.empty());
  const std::string digest = store::sha256_digest(bytes);
  auto c = serve.client();
  auto r = c.Post(("/api/blobs/" + digest).c_str(), bytes, "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;

  r = c.Post("/api/create",
             Json{{"model", "tiny:q8"}, {"files", {{"stories260K.gguf", digest}}}, {"quantize", "q8_0"}}.dump(),
             "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::vector<Json> lines = ndjson(r->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().dump(), R"({"status":"success"})") << r->body;
  bool quantizing = false;
  for (const auto& l : lines) {
    ASSERT_FALSE(l.contains("error")) << r->body;
    EXPECT_TRUE(!l.contains("completed") || l["completed"].get<uint64_t>() > 0) << l.dump();
    quantizing = quantizing || l["status"] == "quantizing F32 model to Q8_0";
  }
  EXPECT_TRUE(quantizing) << r->body;

  r = c.Post("/api/show", Json{{"model", "tiny:q8"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["details"]["quantization_level"], "Q8_0");

  r = c.Post("/api/generate",
             Json{{"model", "tiny:q8"}, {"prompt", "Once upon a time"}, {"raw", true}, {"stream", false},
                  {"options", {{"num_predict", 4}, {"temperature", 0}}}}
                 .dump(),
             "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["eval_count"], 4);
  EXPECT_FALSE(j["response"].get<std::string>().empty());
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
// Only `hearth serve` prunes: a verb run without a server (its own server, one command long) does
// not scan the store and leaves an orphan blob for the next `hearth serve`.
TEST(CliStoreE2E, VerbsWithoutServerDoNotPrune) {
  TempDir dir;
  const std::string models = dir.path() + "/models";
  store::Store st(models);
  store::testing::put_stories_model(st, "stories:260k");
  const std::string orphan = st.put_blob("no manifest names these bytes");
  auto run = store::testing::run_hearth(models, dir.path(), "cp stories:260k tale:1");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("running in-process"), std::string::npos) << run.err;  // its own server ran
  EXPECT_TRUE(st.has_blob(orphan));
}

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
