// Fault injection: `hearth pull` runs as a child process through a throttled proxy and is killed
// with SIGKILL at random points; after each kill the store must be consistent, and the next pull
// must complete.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "store/digest.h"
#include "store/registry_ops.h"
#include "store_test_util.h"

namespace hearth::store {
namespace {

using testing::LocalRegistry;
using testing::TcpProxy;
using testing::TempDir;

// Everything is prepared before fork(): between fork and exec the child (of a process with
// proxy threads) only calls async-signal-safe functions.
pid_t spawn_hearth(const std::vector<std::string>& args, const std::string& models,
                   const std::string& out_file) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string v = *e;
    if (v.rfind("HEARTH_MODELS=", 0) == 0 || v.rfind("OLLAMA_MODELS=", 0) == 0) continue;
    env.push_back(v);
  }
  env.push_back("HEARTH_MODELS=" + models);
  std::vector<char*> envp;
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> all = {HEARTH_EXE};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(HEARTH_EXE, argv.data(), envp.data());
    ::_exit(127);
  }
  if (fd >= 0) ::close(fd);
  return pid;
}

// The invariants a crash must never break.
void expect_consistent(const Store& s, const std::string& when) {
  for (const auto& n : s.manifest_names()) {
    Manifest m = s.read_manifest(n);
    for (const auto& d : m.blob_digests()) {
      EXPECT_TRUE(s.has_blob(d)) << when << ": manifest " << n.display() << " without blob " << d;
    }
  }
  if (!std::filesystem::exists(s.blobs_dir())) return;
  for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
    std::string f = e.path().filename().string();
    if (f.size() != 7 + 64 || f.rfind("sha256-", 0) != 0) continue;  // partial / temp files
    EXPECT_EQ(sha256_file(e.path().string()), "sha256:" + f.substr(7)) << when << ": " << f;
  }
}

TEST(PullKill, KilledPullsLeaveTheStoreConsistent) {
  LocalRegistry registry;
  TcpProxy proxy(registry.port());
  std::string name = proxy.host() + "/library/stories:260k";
  TempDir src_dir, dst_dir, logs;
  {
    Store src(src_dir.path());
    testing::put_stories_model(src, name);
    RegistryOptions o;
    o.insecure = true;
    push_model(src, name, o, nullptr);
  }
  // About 1.2 MB at 4 MB/s: a pull takes ~0.3 s, so random kills land in every phase.
  proxy.bytes_per_sec = 4'000'000;
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> delay_ms(0, 350);
  Store dst(dst_dir.path());
  int completed_before_kill = 0;
  for (int i = 0; i < 20; ++i) {
    pid_t pid = spawn_hearth({"pull", "--insecure", name}, dst_dir.path(), logs.path() + "/log");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++completed_before_kill;
    expect_consistent(dst, "after kill " + std::to_string(i));
    // Start the next round from scratch now and then, so early phases are hit again.
    if (i % 4 == 3 && dst.resolve(ModelName::parse(name))) dst.remove(name);
  }
  proxy.bytes_per_sec = 0;
  pid_t pid = spawn_hearth({"pull", "--insecure", name}, dst_dir.path(), logs.path() + "/log");
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::read_all(logs.path() + "/log");
  expect_consistent(dst, "final");
  ASSERT_TRUE(dst.resolve(ModelName::parse(name)).has_value());
  std::string out = testing::read_all(logs.path() + "/log");
  EXPECT_NE(out.find("success"), std::string::npos) << out;
  RecordProperty("completed_before_kill", completed_before_kill);
}

TEST(PullKill, CliPullListCopyRemove) {
  LocalRegistry registry;
  std::string name = registry.host() + "/library/stories:260k";
  TempDir src_dir, dst_dir, logs;
  {
    Store src(src_dir.path());
    testing::put_stories_model(src, name);
    RegistryOptions o;
    o.insecure = true;
    push_model(src, name, o, nullptr);
  }
  auto run = [&](const std::vector<std::string>& args) {
    pid_t pid = spawn_hearth(args, dst_dir.path(), logs.path() + "/out");
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    // Verbs that need an API run an in-process server when none answers, and say so on stderr
    // (merged into this output); that note is not what is tested here.
    std::string out = testing::read_all(logs.path() + "/out");
    const std::string note = "no hearth server at ";
    if (out.rfind(note, 0) == 0) out.erase(0, out.find('\n') + 1);
    return std::make_pair(WEXITSTATUS(status), out);
  };
  auto [rc, out] = run({"pull", "--insecure", name});
  ASSERT_EQ(rc, 0) << out;
  // Into a pipe: each step once, each layer bar when it completes.
  EXPECT_EQ(out.rfind("pulling manifest\n", 0), 0u) << out;
  EXPECT_NE(out.find("verifying sha256 digest\nwriting manifest\nsuccess\n"), std::string::npos) << out;
  EXPECT_NE(out.find(": 100% "), std::string::npos) << out;

  // The short name resolves to the model pulled from the local registry.
  Store dst(dst_dir.path());
  EXPECT_EQ(dst.resolve_existing("stories:260k").host, registry.host());

  std::tie(rc, out) = run({"cp", "stories:260k", "mine:v1"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "copied 'stories:260k' to 'mine:v1'\n");
  std::tie(rc, out) = run({"list"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.rfind("NAME ", 0), 0u) << out;
  EXPECT_NE(out.find("mine:v1 "), std::string::npos) << out;
  EXPECT_NE(out.find(registry.host() + "/library/stories:260k    "), std::string::npos) << out;
  EXPECT_NE(out.find("1.2 MB    Less than a second ago"), std::string::npos) << out;
  std::tie(rc, out) = run({"rm", "mine:v1"});
  EXPECT_EQ(out, "deleted 'mine:v1'\n");
  std::tie(rc, out) = run({"rm", "mine:v1"});
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out, "Error: model 'mine:v1' not found\n");
  std::tie(rc, out) = run({"pull", "--insecure", registry.host() + "/library/none:x"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("Error: pull model manifest: file does not exist"), std::string::npos) << out;
}

}  // namespace
}  // namespace hearth::store
