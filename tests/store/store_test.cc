#include "store/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "store/digest.h"
#include "store/show.h"
#include "store_test_util.h"
#include "util/error.h"

namespace hearth::store {
namespace {

using testing::put_stories_model;
using testing::read_all;
using testing::TempDir;
using testing::write_all;

size_t count_blobs(const Store& s) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
    if (e.path().filename().string().rfind("sha256-", 0) == 0) ++n;
  }
  return n;
}

TEST(Store, RootFromEnvironment) {
  unsetenv("HEARTH_MODELS");
  setenv("OLLAMA_MODELS", "/x/ollama/models", 1);
  EXPECT_EQ(Store::default_root(), "/x/ollama/models");
  setenv("HEARTH_MODELS", "/y/hearth", 1);
  EXPECT_EQ(Store::default_root(), "/y/hearth");
  unsetenv("HEARTH_MODELS");
  unsetenv("OLLAMA_MODELS");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(Store::default_root(), "/home/someone/.hearth/models");
}

// A store written by hand exactly as Ollama lays it out (ollama-compat.md section 6): manifests
// with the legacy "rootfs" config field, a namespaced model, a host with a port.
TEST(Store, ReadsOllamaLayout) {
  TempDir dir;
  const std::string root = dir.path();
  auto blob = [&](const std::string& body) {
    std::string d = sha256_digest(body);
    write_all(root + "/blobs/sha256-" + d.substr(7), body);
    return d;
  };
  std::string weights = read_all(testing::testdata("stories260K.gguf"));
  std::string wd = blob(weights);
  std::string td = blob("{{ .Prompt }}");
  const std::string params = "{\"stop\":[\"<|im_end|>\"],\"temperature\":0.6,\"top_k\":20}";
  std::string pd = blob(params);
  std::string cfg =
      "{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],"
      "\"model_type\":\"292.10K\",\"file_type\":\"F32\",\"architecture\":\"amd64\",\"os\":\"linux\","
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + wd + "\"]}}";
  std::string cd = blob(cfg);
  std::string manifest =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
      "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" + cd +
      "\",\"size\":" + std::to_string(cfg.size()) + "},\"layers\":["
      "{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"" + wd + "\",\"size\":" +
      std::to_string(weights.size()) + "},"
      "{\"mediaType\":\"application/vnd.ollama.image.template\",\"digest\":\"" + td + "\",\"size\":13},"
      "{\"mediaType\":\"application/vnd.ollama.image.params\",\"digest\":\"" + pd + "\",\"size\":" + std::to_string(params.size()) + "}]}";
  write_all(root + "/manifests/registry.ollama.ai/library/stories/260k", manifest);
  write_all(root + "/manifests/registry.ollama.ai/jmorgan/Stories/latest", manifest);
  write_all(root + "/manifests/localhost:5000/library/stories/q8", manifest);

  Store s(root);
  auto all = s.list();
  ASSERT_EQ(all.size(), 3u);
  std::set<std::string> names;
  for (const auto& e : all) {
    names.insert(e.name.display());
    EXPECT_EQ(e.digest, sha256_digest(manifest).substr(7));
    EXPECT_EQ(e.size, weights.size() + 13 + params.size() + cfg.size());
    EXPECT_EQ(e.config.model_family, "llama");
    EXPECT_EQ(e.config.file_type, "F32");
  }
  EXPECT_TRUE(names.count("stories:260k"));
  EXPECT_TRUE(names.count("jmorgan/Stories:latest"));
  EXPECT_TRUE(names.count("localhost:5000/library/stories:q8"));
  // Lookup is case-insensitive and keeps the on-disk spelling.
  ModelName r = s.resolve_existing("JMorgan/stories");
  EXPECT_EQ(r.model, "Stories");
  EXPECT_EQ(r.ns, "jmorgan");
  // A short name finds a model under another host when it is the only one.
  EXPECT_EQ(s.resolve_existing("stories:q8").host, "localhost:5000");
  EXPECT_THROW(s.resolve_existing("stories:nope"), Error);

  ShowInfo info = show_model(s, "stories:260k");
  EXPECT_EQ(info.template_text, "{{ .Prompt }}");
  EXPECT_EQ(info.details.parameter_size, "292.10K");
  EXPECT_EQ(info.parameters,
            "stop                           \"<|im_end|>\"\n"
            "temperature                    0.6\n"
            "top_k                          20");
  EXPECT_EQ(info.model_info.value("general.architecture", ""), "llama");
  EXPECT_FALSE(info.model_info.contains("general.name"));
  EXPECT_EQ(info.capabilities, std::vector<std::string>{"completion"});
  EXPECT_NE(info.modelfile.find("FROM " + s.blob_path(wd)), std::string::npos);
  EXPECT_NE(info.modelfile.find("PARAMETER stop <|im_end|>"), std::string::npos);
}

TEST(Store, CopyDeleteAndBlobGarbage) {
  TempDir dir;
  Store s(dir.path());
  std::string raw = put_stories_model(s, "stories:a");
  size_t blobs = count_blobs(s);
  EXPECT_EQ(blobs, 4u);
  s.copy("stories:a", "other/copy:b");
  EXPECT_EQ(read_all(s.manifest_path(ModelName::parse("other/copy:b"))), raw);
  // A second model sharing the weights but with its own template.
  Manifest m = Manifest::parse(raw);
  m.layers[1].digest = s.put_blob("{{ .System }}");
  m.layers[1].size = 13;
  s.write_manifest(ModelName::parse("stories:c"), m.to_json());
  EXPECT_EQ(count_blobs(s), 5u);

  s.remove("stories:a");
  EXPECT_EQ(count_blobs(s), 5u);  // the copy still uses every blob
  s.remove("other/copy:b");
  EXPECT_EQ(count_blobs(s), 4u);  // only the old template went
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/manifests/registry.ollama.ai/other"));
  s.remove("stories:c");
  EXPECT_EQ(count_blobs(s), 0u);
  try {
    s.remove("stories:c");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(), "model 'stories:c' not found");
  }
  EXPECT_THROW(s.copy("missing", "x"), Error);
  EXPECT_THROW(s.copy("stories:c", "bad name"), Error);
}

TEST(Store, WriteManifestNeedsEveryBlob) {
  TempDir dir;
  Store s(dir.path());
  std::string raw = put_stories_model(s, "stories:a");
  Manifest m = Manifest::parse(raw);
  m.layers[1].digest = sha256_digest("not stored");
  EXPECT_THROW(s.write_manifest(ModelName::parse("x"), m.to_json()), Error);
  m = Manifest::parse(raw);
  m.layers[1].size += 1;
  EXPECT_THROW(s.write_manifest(ModelName::parse("x"), m.to_json()), Error);
  EXPECT_FALSE(s.resolve(ModelName::parse("x")).has_value());
}

TEST(Store, PruneRemovesOrphansAndDeadTempFiles) {
  TempDir dir;
  Store s(dir.path());
  put_stories_model(s, "stories:a");
  std::string orphan = s.put_blob("orphan");
  write_all(s.blobs_dir() + "/sha256-abc.tmp-1-2", "junk");
  write_all(s.blobs_dir() + "/sha256-" + std::string(64, 'e') + "-partial", "kept for resume");
  EXPECT_EQ(s.prune(), 2u);
  EXPECT_FALSE(s.has_blob(orphan));
  EXPECT_TRUE(std::filesystem::exists(s.blobs_dir() + "/sha256-" + std::string(64, 'e') + "-partial"));
  EXPECT_EQ(count_blobs(s), 5u);  // 4 referenced + the partial
}

TEST(Store, RemoveDefersBlobsWhileAWriterRuns) {
  TempDir dir;
  Store s(dir.path());
  put_stories_model(s, "stories:a");
  {
    FileLock writer = s.lock_gc_shared();  // as a pull in progress holds it
    s.remove("stories:a");
    EXPECT_EQ(count_blobs(s), 4u);
    // Start-up's prune does not wait for the writer: it skips, removing nothing.
    EXPECT_FALSE(s.try_prune().has_value());
    EXPECT_EQ(count_blobs(s), 4u);
  }
  EXPECT_EQ(s.try_prune(), std::optional<size_t>(4u));
  EXPECT_EQ(s.prune(), 0u);
}

TEST(Store, ModelLockSerialisesAcrossThreads) {
  TempDir dir;
  Store s(dir.path());
  ModelName a = ModelName::parse("m:a"), a_upper = ModelName::parse("M:A"), b = ModelName::parse("m:b");
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] {
      FileLock l = s.lock_model(i % 2 ? a : a_upper);  // same model, two spellings
      int now = ++inside;
      max_inside = std::max(max_inside.load(), now);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      --inside;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(max_inside.load(), 1);
  FileLock la = s.lock_model(a);
  FileLock lb = FileLock::try_acquire(s.root() + "/.locks/x", FileLock::Mode::exclusive);
  EXPECT_TRUE(lb.held());
  FileLock lb2 = s.lock_model(b);  // a different model proceeds
  EXPECT_TRUE(lb2.held());
}

size_t count_temp_files(const Store& s) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
  }
  return n;
}

// POST /api/blobs/:digest: the upload holds the shared gc lock from start to rename, so a delete
// that runs meanwhile defers its blob GC instead of racing the upload.
TEST(Store, ReceiveBlobHoldsTheGcLockForTheWholeUpload) {
  TempDir dir;
  Store s(dir.path());
  put_stories_model(s, "stories:a");
  const std::string body(100000, 'x');
  const std::string digest = sha256_digest(body);
  std::promise<void> halfway, go;
  std::shared_future<void> go_f = go.get_future().share();
  bool existed = true;
  std::thread upload([&] {
    existed = s.receive_blob(digest, [&](const Store::BlobSink& sink) {
      if (!sink(body.data(), 50000)) return false;
      halfway.set_value();
      go_f.wait();
      return sink(body.data() + 50000, 50000);
    });
  });
  halfway.get_future().wait();
  EXPECT_FALSE(FileLock::try_acquire(s.root() + "/.locks/gc", FileLock::Mode::exclusive).held());
  EXPECT_EQ(count_temp_files(s), 1u);
  s.remove("stories:a");
  EXPECT_EQ(count_blobs(s) - count_temp_files(s), 4u);  // deferred: the upload is a writer
  go.set_value();
  upload.join();
  EXPECT_FALSE(existed);
  EXPECT_EQ(s.read_blob(digest, body.size()), body);
  EXPECT_EQ(count_temp_files(s), 0u);
  EXPECT_TRUE(FileLock::try_acquire(s.root() + "/.locks/gc", FileLock::Mode::exclusive).held());

  // Present already: drained, reported as existing.
  size_t drained = 0;
  EXPECT_TRUE(s.receive_blob(digest, [&](const Store::BlobSink& sink) {
    drained += body.size();
    return sink(body.data(), body.size());
  }));
  EXPECT_EQ(drained, body.size());

  // Wrong bytes and a broken transfer leave nothing behind and release the lock.
  const std::string other = sha256_digest("other");
  try {
    s.receive_blob(other, [&](const Store::BlobSink& sink) { return sink("not other", 9); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos);
  }
  try {
    s.receive_blob(other, [&](const Store::BlobSink& sink) { return sink("oth", 3) && false; });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
  }
  EXPECT_FALSE(s.has_blob(other));
  EXPECT_EQ(count_temp_files(s), 0u);
  EXPECT_THROW(s.receive_blob("sha256:../x", [](const Store::BlobSink&) { return true; }), Error);
  EXPECT_TRUE(FileLock::try_acquire(s.root() + "/.locks/gc", FileLock::Mode::exclusive).held());
  EXPECT_EQ(s.prune(), 5u);  // the 4 deferred blobs and the unreferenced upload
}

TEST(Store, RejectsHostileDigestsAndManifests) {
  TempDir dir;
  Store s(dir.path());
  EXPECT_THROW(s.blob_path("sha256:../../etc/passwd"), Error);
  EXPECT_THROW(Manifest::parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}"), Error);
  EXPECT_THROW(Manifest::parse("[]"), Error);
  EXPECT_THROW(Manifest::parse("{\"schemaVersion\":1}"), Error);
  EXPECT_THROW(Manifest::parse("not json"), Error);
}

}  // namespace
}  // namespace hearth::store
