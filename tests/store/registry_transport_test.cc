// How `hearth pull` / `hearth push` reach a registry and what they do when the disk fills, through
// the built binary (HEARTH_EXE) and Debian's docker-registry on loopback:
// - HTTPS by default, the registry's certificate checked against SSL_CERT_FILE, the connection
//   made through HTTPS_PROXY (a CONNECT proxy in the test; the registry's host name exists only
//   for the proxy, so a request that bypassed it could not connect);
// - HTTP_PROXY for a plain-http (--insecure) registry;
// - a store on a full file system: a clear error, no model, and the same pull completes once
//   there is room (a tmpfs mounted in a user + mount namespace by util-linux's unshare).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <regex>

#include "store/digest.h"
#include "store/registry_ops.h"
#include "store_test_util.h"

namespace hearth::store {
namespace {

using testing::CliRun;
using testing::LocalRegistry;
using testing::TcpProxy;
using testing::TempDir;

constexpr char kRegistryHost[] = "registry.test";  // .test never resolves (RFC 2606)

// The manifest file a store holds for `name` (empty when it holds none).
std::string stored_manifest(const std::string& models, const std::string& name) {
  Store s(models);
  auto n = s.resolve(ModelName::parse(name));
  std::string raw;
  if (n) s.read_manifest(*n, &raw);
  return raw;
}

TEST(RegistryTransport, HttpsThroughTheHttpsProxyCheckedAgainstSslCertFile) {
  TempDir certs, src, dst, untrusting, logs;
  const testing::TlsFiles tls = testing::make_self_signed_cert(certs.path(), kRegistryHost);
  LocalRegistry registry(&tls);
  TcpProxy proxy(registry.port());
  proxy.http_connect = true;
  const std::string host = std::string(kRegistryHost) + ":" + std::to_string(registry.port());
  const std::string name = host + "/library/stories:260k";
  {
    Store s(src.path());
    testing::put_stories_model(s, name);
  }
  const std::string via_proxy = "HTTPS_PROXY=http://" + proxy.host() + " https_proxy= NO_PROXY= no_proxy=";
  const std::string trusting = via_proxy + " SSL_CERT_FILE='" + tls.cert + "'";

  CliRun r = testing::run_hearth(src.path(), logs.path(), "push " + name, trusting);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  r = testing::run_hearth(dst.path(), logs.path(), "pull " + name, trusting);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("success"), std::string::npos) << r.out << r.err;
  const std::string pushed = stored_manifest(src.path(), name);
  ASSERT_FALSE(pushed.empty());
  EXPECT_EQ(stored_manifest(dst.path(), name), pushed);
  {
    Store d(dst.path());
    for (const auto& digest : Manifest::parse(pushed).blob_digests()) {
      EXPECT_EQ(sha256_file(d.blob_path(digest)), digest);
    }
  }
  // Every connection, push and pull, was a tunnel to the registry's name.
  EXPECT_GE(proxy.connect_requests.load(), 2);
  for (const auto& t : proxy.connect_targets()) EXPECT_EQ(t, host);

  // Without the CA file the self-signed certificate is refused, and nothing is stored.
  const int tunnels = proxy.connect_requests.load();
  r = testing::run_hearth(untrusting.path(), logs.path(), "pull " + name, via_proxy + " SSL_CERT_FILE=");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: pull model manifest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
  EXPECT_GT(proxy.connect_requests.load(), tunnels);
  EXPECT_TRUE(stored_manifest(untrusting.path(), name).empty());
}

TEST(RegistryTransport, PlainHttpThroughHttpProxy) {
  LocalRegistry registry;
  TcpProxy proxy(registry.port());  // forwards the proxy-form requests as they come
  TempDir src, dst, logs;
  {
    Store s(src.path());
    testing::put_stories_model(s, registry.host() + "/library/stories:260k");
    RegistryOptions o;
    o.insecure = true;
    push_model(s, registry.host() + "/library/stories:260k", o, nullptr);
  }
  const std::string name = std::string(kRegistryHost) + ":" + std::to_string(registry.port()) +
                           "/library/stories:260k";
  // Capitals, as Ollama users set it (libcurl alone reads only http_proxy).
  CliRun r = testing::run_hearth(dst.path(), logs.path(), "pull --insecure " + name,
                                 "HTTP_PROXY=http://" + proxy.host() + " http_proxy= NO_PROXY= no_proxy=");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_GT(proxy.bytes_from_server.load(), 1'000'000u);  // the 1.2 MB model came through it
  EXPECT_EQ(stored_manifest(dst.path(), name),
            stored_manifest(src.path(), registry.host() + "/library/stories:260k"));
}

bool can_mount_in_a_namespace() {
  return std::system("unshare -rm sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" "
                     "&& umount \"$d\"; rmdir \"$d\"' >/dev/null 2>&1") == 0;
}

TEST(RegistryTransport, DiskFullStopsThePullCleanlyAndItCompletesOnceThereIsRoom) {
  if (!can_mount_in_a_namespace()) {
    GTEST_SKIP() << "this kernel does not let unshare -rm mount a tmpfs (user namespaces off)";
  }
  LocalRegistry registry;
  TempDir src, mount_point, logs;
  const std::string name = registry.host() + "/library/stories:260k";
  std::string manifest;
  {
    Store s(src.path());
    manifest = testing::put_stories_model(s, name);
    RegistryOptions o;
    o.insecure = true;
    push_model(s, name, o, nullptr);
  }
  // The store lives on a 700 KiB tmpfs (the model is 1.2 MB); after the first pull fails the
  // tmpfs grows to 4 MiB and the same pull runs again. The tmpfs exists only inside the
  // namespace, so the store is copied out for the checks below.
  const std::string m = mount_point.path(), l = logs.path();
  const std::string pull = "HEARTH_MODELS=" + m + " OLLAMA_MODELS= HEARTH_HOST=127.0.0.1:" +
                           std::to_string(testing::free_port()) + " '" + HEARTH_EXE +
                           "' pull --insecure " + name + " </dev/null";
  const std::string script = "mount -t tmpfs -o size=700k tmpfs " + m + " || exit 9; " +
                             pull + " >" + l + "/first 2>&1; echo $? >" + l + "/rc1; " +
                             "cp -r " + m + " " + l + "/after-first; " +
                             "mount -o remount,size=4m " + m + " || exit 9; " +
                             pull + " >" + l + "/second 2>&1; echo $? >" + l + "/rc2; " +
                             "cp -r " + m + " " + l + "/after-second";
  ASSERT_EQ(std::system(("unshare -rm sh -c '" + script + "'").c_str()), 0);

  const std::string first = testing::read_all(l + "/first");
  EXPECT_EQ(testing::read_all(l + "/rc1"), "1\n") << first;
  EXPECT_NE(first.find("Error: "), std::string::npos) << first;
  EXPECT_NE(first.find("No space left on device"), std::string::npos) << first;
  EXPECT_EQ(first.find("success"), std::string::npos) << first;
  {
    // No model, and every blob that is visible is whole.
    Store s(l + "/after-first");
    EXPECT_TRUE(s.manifest_names().empty());
    if (std::filesystem::exists(s.blobs_dir())) {
      for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
        const std::string f = e.path().filename().string();
        if (std::regex_match(f, std::regex("sha256-[0-9a-f]{64}"))) {
          EXPECT_EQ(sha256_file(e.path().string()), "sha256:" + f.substr(7)) << f;
        }
      }
    }
  }
  const std::string second = testing::read_all(l + "/second");
  EXPECT_EQ(testing::read_all(l + "/rc2"), "0\n") << second;
  EXPECT_NE(second.find("success"), std::string::npos) << second;
  EXPECT_EQ(stored_manifest(l + "/after-second", name), manifest);
}

}  // namespace
}  // namespace hearth::store
