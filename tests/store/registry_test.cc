// Pull and push against a real registry (Debian's docker-registry) on loopback, started by the
// test, with a proxy that cuts connections to exercise resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "store/create.h"
#include "store/digest.h"
#include "store/modelfile.h"
#include "store/registry_ops.h"
#include "store_test_util.h"
#include "util/error.h"

namespace hearth::store {
namespace {

using testing::LocalRegistry;
using testing::put_stories_model;
using testing::read_all;
using testing::TcpProxy;
using testing::TempDir;
using testing::write_all;

RegistryOptions fast_options() {
  RegistryOptions o;
  o.insecure = true;
  o.min_part_size = 64 * 1024;  // the 1.2 MB model becomes many parts
  o.max_parts = 4;
  o.retry_base = std::chrono::milliseconds(10);
  o.progress_interval = std::chrono::milliseconds(5);
  return o;
}

std::vector<std::string> partial_files(const Store& s) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(s.blobs_dir())) return out;
  for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
    std::string n = e.path().filename().string();
    if (n.find("-partial") != std::string::npos) out.push_back(n);
  }
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_unique<LocalRegistry>();
    name_ = registry_->host() + "/library/stories:260k";
    Store src(src_dir_.path());
    raw_ = put_stories_model(src, name_);
    push_model(src, name_, fast_options(), nullptr);
  }
  std::unique_ptr<LocalRegistry> registry_;
  TempDir src_dir_, dst_dir_;
  std::string name_, raw_;
};

TEST_F(RegistryTest, PushDeletePullRoundTrip) {
  Store src(src_dir_.path());
  Manifest m = Manifest::parse(raw_);
  // Pushing again skips every blob the registry has.
  std::vector<Progress> events;
  push_model(src, name_, fast_options(), [&](const Progress& p) { events.push_back(p); });
  EXPECT_EQ(events.front().status, "retrieving manifest");
  EXPECT_EQ(events.back().status, "success");

  src.remove(name_);
  for (const auto& d : m.blob_digests()) EXPECT_FALSE(src.has_blob(d));

  events.clear();
  pull_model(src, name_, fast_options(), [&](const Progress& p) { events.push_back(p); });
  EXPECT_EQ(read_all(src.manifest_path(ModelName::parse(name_))), raw_);  // byte for byte
  for (const auto& l : m.layers) {
    EXPECT_EQ(sha256_file(src.blob_path(l.digest)), l.digest);
  }
  EXPECT_TRUE(partial_files(src).empty());
  // Status stream as Ollama's.
  std::vector<std::string> statuses;
  for (const auto& e : events) {
    if (statuses.empty() || statuses.back() != e.status) statuses.push_back(e.status);
  }
  ASSERT_GE(statuses.size(), 6u);
  EXPECT_EQ(statuses.front(), "pulling manifest");
  EXPECT_EQ(statuses[1], "pulling " + m.layers[0].digest.substr(7, 12));
  EXPECT_EQ(statuses[statuses.size() - 3], "verifying sha256 digest");
  EXPECT_EQ(statuses[statuses.size() - 2], "writing manifest");
  EXPECT_EQ(statuses.back(), "success");
  uint64_t last_done = 0;
  for (const auto& e : events) {
    if (e.digest == m.layers[0].digest) {
      EXPECT_EQ(e.total, m.layers[0].size);
      EXPECT_GE(e.completed, last_done);
      last_done = e.completed;
    }
  }
  EXPECT_EQ(last_done, m.layers[0].size);

  // A fresh store pulls the same model and lists it with the same digest.
  Store dst(dst_dir_.path());
  pull_model(dst, name_, fast_options(), nullptr);
  auto list = dst.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].digest, sha256_digest(raw_).substr(7));
}

// Blobs over push_chunk_size go up as PATCH chunks; a chunk whose connection breaks restarts that
// blob's upload, and the pulled model is byte for byte the pushed one.
TEST_F(RegistryTest, ChunkedPushResumesABrokenChunk) {
  TcpProxy proxy(registry_->port());
  const std::string name = proxy.host() + "/library/chunked:v1";
  TempDir src_dir, dst_dir;
  Store src(src_dir.path());
  const std::string raw = put_stories_model(src, name);
  const Manifest m = Manifest::parse(raw);
  RegistryOptions o = fast_options();
  o.push_chunk_size = 200 * 1000;  // the 1.1 MB weights blob: 6 chunks, the rest one PUT each
  proxy.cut_upload_after_bytes = 100 * 1000;  // each request has its own connection: this is
                                              // inside the first chunk's body
  proxy.upload_cuts_left = 1;
  uint64_t last = 0;
  push_model(src, name, o, [&](const Progress& p) {
    if (p.digest == m.layers[0].digest) last = p.completed;
  });
  EXPECT_EQ(proxy.upload_cuts_left.load(), 0);
  EXPECT_EQ(proxy.patch_requests.load(), 7);  // the cut one, then all 6 chunks again
  EXPECT_EQ(proxy.post_requests.load(), 5);   // one upload per blob, and the restarted one
  EXPECT_EQ(last, m.layers[0].size);

  Store dst(dst_dir.path());
  pull_model(dst, name, fast_options(), nullptr);
  EXPECT_EQ(read_all(dst.manifest_path(ModelName::parse(name))), raw);
  for (const auto& l : m.layers) EXPECT_EQ(sha256_file(dst.blob_path(l.digest)), l.digest);
}

TEST_F(RegistryTest, ResumesAfterTheConnectionIsCut) {
  TcpProxy proxy(registry_->port());
  // Push the model under the proxy's host name too, so names match the URL we pull from.
  Store src(src_dir_.path());
  std::string via = proxy.host() + "/library/stories:260k";
  src.copy(name_, via);
  push_model(src, via, fast_options(), nullptr);

  Store dst(dst_dir_.path());
  RegistryOptions o = fast_options();
  o.max_retries = 0;  // the first cut ends this pull
  proxy.cut_after_bytes = 150 * 1024;
  proxy.cuts_left = 1000;
  try {
    pull_model(dst, via, o, nullptr);
    FAIL() << "pull survived a cut connection without retries";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io) << e.what();
  }
  EXPECT_FALSE(dst.resolve(ModelName::parse(via)).has_value());
  EXPECT_FALSE(partial_files(dst).empty());  // state kept beside the partial blob

  // With retries the same cutting proxy cannot stop the pull: each part resumes where it stopped.
  uint64_t before = proxy.bytes_from_server;
  pull_model(dst, via, fast_options(), nullptr);
  uint64_t moved = proxy.bytes_from_server - before;
  Manifest m = Manifest::parse(raw_);
  EXPECT_LT(moved, m.total_size() + 64 * 1024) << "resume re-downloaded what it had";
  EXPECT_EQ(read_all(dst.manifest_path(ModelName::parse(via))), raw_);
  for (const auto& d : m.blob_digests()) EXPECT_EQ(sha256_file(dst.blob_path(d)), d);
  EXPECT_TRUE(partial_files(dst).empty());
}

TEST_F(RegistryTest, RefusesACorruptBlob) {
  Manifest m = Manifest::parse(raw_);
  std::string path = registry_->blob_data_path(m.layers[0].digest);
  std::string data = read_all(path);
  ASSERT_EQ(data.size(), m.layers[0].size);
  data[data.size() / 2] ^= 0x5a;
  write_all(path, data);
  Store dst(dst_dir_.path());
  try {
    pull_model(dst, name_, fast_options(), nullptr);
    FAIL() << "corrupt blob accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find("digest mismatch, file must be downloaded again: want " +
                                         m.layers[0].digest),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(dst.has_blob(m.layers[0].digest));
  EXPECT_FALSE(dst.resolve(ModelName::parse(name_)).has_value());
  for (const auto& f : partial_files(dst)) {  // bad data is not kept for a resume
    EXPECT_EQ(f.find(m.layers[0].digest.substr(7)), std::string::npos) << f;
  }
}

TEST_F(RegistryTest, MissingModelAndBadNames) {
  Store dst(dst_dir_.path());
  try {
    pull_model(dst, registry_->host() + "/library/nothing:here", fast_options(), nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(), "pull model manifest: file does not exist");
  }
  EXPECT_THROW(pull_model(dst, "bad name", fast_options(), nullptr), Error);
  // An http:// name needs insecure (Ollama's errInsecureProtocol); with it, it pulls.
  RegistryOptions secure = fast_options();
  secure.insecure = false;
  const std::string http_name = "http://" + name_;
  try {
    pull_model(dst, http_name, secure, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "insecure protocol http");
  }
  EXPECT_TRUE(dst.manifest_names().empty());
  pull_model(dst, http_name, fast_options(), nullptr);
  EXPECT_EQ(read_all(dst.manifest_path(ModelName::parse(name_))), raw_);
  // Nothing listens on this port: a transport error, not a hang.
  RegistryOptions o = fast_options();
  o.max_retries = 0;
  EXPECT_THROW(pull_model(dst, "127.0.0.1:" + std::to_string(testing::free_port()) + "/library/x:y", o, nullptr), Error);
}

TEST_F(RegistryTest, ConcurrentPullsOfOneModel) {
  Store dst(dst_dir_.path());
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&] {
      Store s(dst_dir_.path());
      pull_model(s, name_, fast_options(), nullptr);
      ++ok;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(read_all(dst.manifest_path(ModelName::parse(name_))), raw_);
  EXPECT_TRUE(partial_files(dst).empty());
}

// FROM a model this store does not have: create pulls it first (its statuses come first), then
// builds the new model on its layers.
TEST_F(RegistryTest, CreateFromAModelItPullsFirst) {
  Store dst(dst_dir_.path());
  std::vector<std::string> statuses;
  create_model(dst, "mine:v1", build_create_spec(Modelfile::parse("FROM " + name_ + "\nSYSTEM be brief\n"), "/"),
               fast_options(), [&](const Progress& p) { statuses.push_back(p.status); });
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.front(), "pulling manifest");
  EXPECT_EQ(statuses.back(), "success");
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), "success"), 2);  // the pull's, then create's
  EXPECT_EQ(read_all(dst.manifest_path(ModelName::parse(name_))), raw_);
  const Manifest base = Manifest::parse(raw_), mine = dst.read_manifest(ModelName::parse("mine:v1"));
  EXPECT_EQ(mine.layers.front().digest, base.layers.front().digest);  // the same weights blob
  bool has_system = false;
  for (const auto& l : mine.layers) has_system |= l.media_type == kMediaSystem && dst.read_blob(l.digest) == "be brief";
  EXPECT_TRUE(has_system);
}

// A model made FROM another one on the same registry host shares its weights layer (the layer
// remembers where it came from): the push mounts that blob from the base repository instead of
// uploading it again, and the registry then serves the derived model whole.
TEST(RegistryMount, PushOfADerivedModelMountsTheBaseWeights) {
  LocalRegistry registry;
  TcpProxy proxy(registry.port());
  TempDir src_dir, dst_dir;
  Store src(src_dir.path());
  const std::string base = proxy.host() + "/library/stories:260k";
  put_stories_model(src, base);
  push_model(src, base, fast_options(), nullptr);
  const std::string derived = proxy.host() + "/team/derived:v1";
  create_model(src, derived, build_create_spec(Modelfile::parse("FROM " + base + "\nSYSTEM be brief\n"), "/"),
               fast_options(), nullptr);
  const uint64_t sent_before = proxy.bytes_to_server.load();
  push_model(src, derived, fast_options(), nullptr);
  const uint64_t sent = proxy.bytes_to_server.load() - sent_before;
  EXPECT_LT(sent, 100'000u) << "the 1.2 MB weights went up again";

  Store dst(dst_dir.path());
  pull_model(dst, derived, fast_options(), nullptr);
  std::string pushed, pulled;
  src.read_manifest(ModelName::parse(derived), &pushed);
  dst.read_manifest(ModelName::parse(derived), &pulled);
  EXPECT_EQ(pulled, pushed);
  for (const auto& d : Manifest::parse(pulled).blob_digests()) EXPECT_EQ(sha256_file(dst.blob_path(d)), d);
}

}  // namespace
}  // namespace hearth::store
