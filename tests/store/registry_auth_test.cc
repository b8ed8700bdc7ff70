// The bearer-token challenge, redirects and error mapping, against a small fake registry
// (cpp-httplib) on loopback.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstring>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

#include "store/digest.h"
#include "store/registry_ops.h"
#include "store/signing_key.h"
#include "store_test_util.h"
#include "util/error.h"

namespace hearth::store {
namespace {

class FakeRegistry {
 public:
  FakeRegistry() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeRegistry() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(RegistryAuth, BearerChallengeThenRedirectedBlob) {
  FakeRegistry reg;
  testing::TempDir dir;
  const std::string blob = "weights";
  const std::string cfg = "{}";
  Manifest m;
  m.config = {kConfigMediaType, sha256_digest(cfg), cfg.size(), "", ""};
  m.layers.push_back({kMediaModel, sha256_digest(blob), blob.size(), "", ""});
  const std::string manifest = m.to_json();
  std::atomic<int> token_requests{0};
  std::string scope_seen;
  auto authorized = [](const httplib::Request& r) { return r.get_header_value("Authorization") == "Bearer t0k"; };
  auto challenge = [&](httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"http://" + reg.host() +
                                           "/token\",service=\"fake\",scope=\"repository:library/m:pull\"");
  };
  std::string token_auth_seen;
  reg.server().Get("/token", [&](const httplib::Request& r, httplib::Response& res) {
    ++token_requests;
    scope_seen = r.get_param_value("scope");
    token_auth_seen = r.get_header_value("Authorization");
    res.set_content(R"({"token":"t0k"})", "application/json");
  });
  reg.server().Get("/v2/library/m/manifests/latest", [&](const httplib::Request& r, httplib::Response& res) {
    if (!authorized(r)) return challenge(res);
    res.set_content(manifest, kManifestMediaType);
  });
  reg.server().Get(R"(/v2/library/m/blobs/(sha256:[0-9a-f]+))", [&](const httplib::Request& r, httplib::Response& res) {
    if (!authorized(r)) return challenge(res);
    res.status = 307;  // as a registry sends blobs to its CDN
    res.set_header("Location", "/cdn/" + r.matches[1].str());
  });
  reg.server().Get(R"(/cdn/(sha256:[0-9a-f]+))", [&](const httplib::Request& r, httplib::Response& res) {
    std::string body = r.matches[1].str() == m.config.digest ? cfg : blob;
    // Honour the Range header (httplib does it for set_content).
    res.set_content(body, "application/octet-stream");
  });
  Store s(dir.path());
  RegistryOptions o;
  o.insecure = true;
  o.signing_key_path = dir.path() + "/keys/id_ed25519";  // never the user's home
  pull_model(s, reg.host() + "/library/m", o, nullptr);
  EXPECT_EQ(token_requests.load(), 1);
  EXPECT_EQ(scope_seen, "repository:library/m:pull");
  EXPECT_EQ(s.read_blob(m.layers[0].digest), blob);
  EXPECT_EQ(testing::read_all(s.manifest_path(ModelName::parse(reg.host() + "/library/m"))), manifest);
  EXPECT_FALSE(token_auth_seen.empty());  // signed

  // No key can be made there (/dev/null is no directory): the token request goes unsigned and
  // this registry, which hands out anonymous tokens, still serves the pull.
  testing::TempDir dir2;
  Store s2(dir2.path());
  o.signing_key_path = "/dev/null/id_ed25519";
  pull_model(s2, reg.host() + "/library/m", o, nullptr);
  EXPECT_EQ(s2.read_blob(m.layers[0].digest), blob);
  EXPECT_EQ(token_requests.load(), 2);
  EXPECT_EQ(token_auth_seen, "");
}

TEST(RegistryAuth, ErrorsAreClear) {
  FakeRegistry reg;
  testing::TempDir dir;
  reg.server().Get("/v2/library/denied/manifests/latest", [](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_content(R"({"errors":[{"code":"UNAUTHORIZED"}]})", "application/json");
  });
  reg.server().Get("/v2/library/foreign/manifests/latest", [](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"http://evil.example/token\",service=\"x\"");
  });
  reg.server().Get("/v2/library/broken/manifests/latest", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad request", "text/plain");
  });
  reg.server().Get("/v2/library/garbage/manifests/latest", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("not a manifest", "text/plain");
  });
  Store s(dir.path());
  RegistryOptions o;
  o.insecure = true;
  o.signing_key_path = dir.path() + "/keys/id_ed25519";
  auto err = [&](const std::string& model) {
    try {
      pull_model(s, reg.host() + "/library/" + model, o, nullptr);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err("denied").rfind("pull model manifest: unauthorized: 401", 0), 0u) << err("denied");
  EXPECT_NE(err("foreign").find("does not match registry host"), std::string::npos) << err("foreign");
  EXPECT_EQ(err("broken"), "pull model manifest: 400: bad request");
  EXPECT_EQ(err("garbage"), "pull model manifest: manifest: invalid JSON");
  EXPECT_TRUE(s.manifest_names().empty());
}

// Blobs sent to a CDN on another host (a 307 with an absolute URL), which answers 503, 429 and
// 502 before it serves: the pull retries with backoff and completes, and the registry's bearer
// token never reaches the other host. A CDN that keeps failing ends the pull with the status
// after max_retries, and no model is written.
TEST(RegistryAuth, TransientStatusesAreRetriedAndTheCdnGetsNoToken) {
  FakeRegistry reg, cdn;
  testing::TempDir dir;
  const std::string blob(200'000, 'w');
  const std::string cfg = "{}";
  Manifest m;
  m.config = {kConfigMediaType, sha256_digest(cfg), cfg.size(), "", ""};
  m.layers.push_back({kMediaModel, sha256_digest(blob), blob.size(), "", ""});
  const std::string manifest = m.to_json();
  auto authorized = [](const httplib::Request& r) { return r.get_header_value("Authorization") == "Bearer t0k"; };
  reg.server().Get("/token", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"token":"t0k"})", "application/json");
  });
  auto challenge = [&](httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"http://" + reg.host() + "/token\",service=\"fake\"");
  };
  reg.server().Get(R"(/v2/library/(\w+)/manifests/latest)", [&](const httplib::Request& r, httplib::Response& res) {
    if (!authorized(r)) return challenge(res);
    res.set_content(manifest, kManifestMediaType);
  });
  reg.server().Get(R"(/v2/library/(\w+)/blobs/(sha256:[0-9a-f]+))", [&](const httplib::Request& r, httplib::Response& res) {
    if (!authorized(r)) return challenge(res);
    res.status = 307;
    res.set_header("Location", "http://" + cdn.host() + "/" + r.matches[1].str() + "/" + r.matches[2].str());
  });
  std::mutex mu;
  std::vector<int> answers;  // status of every CDN answer, in order
  int tokens_seen = 0;
  int failures_left = 3;
  cdn.server().Get(R"(/(\w+)/(sha256:[0-9a-f]+))", [&](const httplib::Request& r, httplib::Response& res) {
    std::lock_guard<std::mutex> lk(mu);
    if (r.has_header("Authorization")) ++tokens_seen;
    const bool always_down = r.matches[1].str() == "down";
    if (always_down || failures_left > 0) {
      static const int kStatuses[] = {503, 429, 502};
      res.status = kStatuses[answers.size() % 3];
      if (!always_down) --failures_left;
      answers.push_back(res.status);
      return;
    }
    answers.push_back(200);
    res.set_content(r.matches[2].str() == m.config.digest ? cfg : blob, "application/octet-stream");
  });
  Store s(dir.path());
  RegistryOptions o;
  o.insecure = true;
  o.signing_key_path = dir.path() + "/keys/id_ed25519";
  o.retry_base = std::chrono::milliseconds(1);
  o.max_retries = 4;
  pull_model(s, reg.host() + "/library/m", o, nullptr);
  EXPECT_EQ(s.read_blob(m.layers[0].digest), blob);
  {
    std::lock_guard<std::mutex> lk(mu);
    ASSERT_GE(answers.size(), 5u);  // 3 failures, then the two blobs
    EXPECT_EQ(answers[0], 503);
    EXPECT_EQ(answers[1], 429);
    EXPECT_EQ(answers[2], 502);
    EXPECT_EQ(tokens_seen, 0);
  }

  testing::TempDir dir2;
  Store s2(dir2.path());
  try {
    pull_model(s2, reg.host() + "/library/down", o, nullptr);
    FAIL() << "a CDN that never answers 200 must fail the pull";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("giving up after 4 retries"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(s2.manifest_names().empty());
}

// Ollama's token request: the realm URL with its query sorted (nonce, scope, service, ts), and
// `Authorization: <SSH wire public key, base64>:<ed25519 signature, base64>` over
// "GET,<that URL>,<base64 of the hex SHA-256 of an empty body>". The fake token server checks
// the signature with OpenSSL against the public key it was sent; the key is made on first use
// as an OpenSSH key file (0600, .pub beside it) that ssh-keygen reads, and reused after.
TEST(RegistryAuth, TokenRequestsAreSignedWithTheUsersKey) {
  FakeRegistry reg;
  testing::TempDir dir;
  const std::string blob = "weights", cfg = "{}";
  Manifest m;
  m.config = {kConfigMediaType, sha256_digest(cfg), cfg.size(), "", ""};
  m.layers.push_back({kMediaModel, sha256_digest(blob), blob.size(), "", ""});
  const std::string manifest = m.to_json();
  std::mutex mu;
  std::vector<std::string> keys_seen, problems;
  reg.server().Get("/token", [&](const httplib::Request& r, httplib::Response& res) {
    std::lock_guard<std::mutex> lk(mu);
    const std::string auth = r.get_header_value("Authorization");
    const size_t colon = auth.find(':');
    const std::string url = "http://" + reg.host() + r.target;
    const std::regex sorted(R"(/token\?nonce=[A-Za-z0-9_-]{22}&scope=repository%3Alibrary%2Fm%3Apull&service=fake&ts=[0-9]+)");
    if (!std::regex_match(r.target, sorted)) problems.push_back("query: " + r.target);
    unsigned char wire[256], sig[128];
    const int wire_len = colon == std::string::npos ? -1
        : EVP_DecodeBlock(wire, reinterpret_cast<const unsigned char*>(auth.data()), static_cast<int>(colon));
    const std::string sig_b64 = colon == std::string::npos ? "" : auth.substr(colon + 1);
    const int sig_len = EVP_DecodeBlock(sig, reinterpret_cast<const unsigned char*>(sig_b64.data()),
                                        static_cast<int>(sig_b64.size()));
    // SSH wire form: uint32 11, "ssh-ed25519", uint32 32, the key (51 bytes; base64 pads to 54).
    if (wire_len < 51 || std::memcmp(wire + 4, "ssh-ed25519", 11) != 0 || sig_len < 64) {
      problems.push_back("header: " + auth);
      res.status = 401;
      return;
    }
    keys_seen.push_back(auth.substr(0, colon));
    const std::string hex_of_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    unsigned char hex_b64[128];
    const int n = EVP_EncodeBlock(hex_b64, reinterpret_cast<const unsigned char*>(hex_of_empty.data()), 64);
    const std::string data = "GET," + url + "," + std::string(reinterpret_cast<char*>(hex_b64), static_cast<size_t>(n));
    EVP_PKEY* pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, wire + 19, 32);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = pub != nullptr && ctx != nullptr &&
                    EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pub) == 1 &&
                    EVP_DigestVerify(ctx, sig, 64, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    if (!ok) {
      problems.push_back("bad signature over " + data);
      res.status = 401;
      return;
    }
    res.set_content(R"({"token":"signed"})", "application/json");
  });
  auto serve = [&](const httplib::Request& r, httplib::Response& res, const std::string& body, const char* type) {
    if (r.get_header_value("Authorization") != "Bearer signed") {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"http://" + reg.host() +
                                             "/token\",service=\"fake\",scope=\"repository:library/m:pull\"");
      return;
    }
    res.set_content(body, type);
  };
  reg.server().Get("/v2/library/m/manifests/latest",
                   [&](const httplib::Request& r, httplib::Response& res) { serve(r, res, manifest, kManifestMediaType); });
  reg.server().Get(R"(/v2/library/m/blobs/(sha256:[0-9a-f]+))", [&](const httplib::Request& r, httplib::Response& res) {
    serve(r, res, r.matches[1].str() == m.config.digest ? cfg : blob, "application/octet-stream");
  });

  const std::string key_path = dir.path() + "/home/.hearth/id_ed25519";
  RegistryOptions o;
  o.insecure = true;
  o.signing_key_path = key_path;
  for (const char* store_dir : {"/a", "/b"}) {
    Store s(dir.path() + store_dir);
    pull_model(s, reg.host() + "/library/m", o, nullptr);
    EXPECT_EQ(s.read_blob(m.layers[0].digest), blob);
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    for (const auto& p : problems) ADD_FAILURE() << p;
    ASSERT_GE(keys_seen.size(), 2u);
    for (const auto& k : keys_seen) EXPECT_EQ(k, keys_seen.front());  // made once, then reused
  }
  struct stat st{};
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string pub_line = testing::read_all(key_path + ".pub");
  EXPECT_EQ(pub_line, "ssh-ed25519 " + keys_seen.front() + "\n");
  EXPECT_EQ(SigningKey::load(key_path).public_key_line() + "\n", pub_line);
  // OpenSSH's own reader takes the file (when ssh-keygen is installed: openssh-client).
  if (std::system("command -v ssh-keygen >/dev/null 2>&1") == 0) {
    const std::string out = dir.path() + "/derived.pub";
    ASSERT_EQ(std::system(("ssh-keygen -y -f '" + key_path + "' > '" + out + "'").c_str()), 0);
    EXPECT_EQ(testing::read_all(out).substr(0, pub_line.size() - 1), pub_line.substr(0, pub_line.size() - 1));
  }
  // Bad key files are refused with a clear error; a missing one is not_found.
  testing::write_all(dir.path() + "/bad", "not a key");
  EXPECT_THROW(SigningKey::load(dir.path() + "/bad"), Error);
  try {
    SigningKey::load(dir.path() + "/missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  std::string text = testing::read_all(key_path);
  text[text.find('\n') + 40] ^= 1;  // one base64 character of the key body changed
  testing::write_all(dir.path() + "/flipped", text);
  EXPECT_THROW(SigningKey::load(dir.path() + "/flipped"), Error);
}

}  // namespace
}  // namespace hearth::store
