// The whole path a user takes, through the built binary (HEARTH_EXE): a model pushed to a
// docker-registry on loopback, deleted locally, `hearth pull HOST/library/stories:260k
// --insecure`, then `hearth run stories:260k` (the short name) generates the model's greedy
// reference text (testdata/stories260K.greedy.txt, case A).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "store/registry_ops.h"
#include "store_test_util.h"

namespace hearth::store {
namespace {

using testing::LocalRegistry;
using testing::TempDir;

struct CliRun {
  int status = -1;
  std::string out, err;
};

// `hearth <args>` with the given store, and HEARTH_HOST on a port where nothing listens, so that
// a server someone runs on the default port is never used.
CliRun hearth(const std::string& models, const std::string& logs, const std::string& args) {
  const std::string cmd = "HEARTH_MODELS='" + models + "' OLLAMA_MODELS= HEARTH_NUM_THREAD=1 " +
                          "HEARTH_HOST=127.0.0.1:" + std::to_string(testing::free_port()) + " '" +
                          HEARTH_EXE + "' " + args + " </dev/null >" + logs + "/out 2>" + logs +
                          "/err";
  const int rc = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = testing::read_all(logs + "/out");
  r.err = testing::read_all(logs + "/err");
  return r;
}

std::string reference_text() {
  std::ifstream in(testing::testdata("stories260K.greedy.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("output_text: ", 0) == 0) return line.substr(13);
  }
  return "";
}

TEST(PullRunE2e, PullWithTheCliThenRunTheShortName) {
  LocalRegistry registry;
  TempDir models, logs;
  const std::string name = registry.host() + "/library/stories:260k";
  {
    Store s(models.path());
    testing::put_stories_model(s, name);
    RegistryOptions o;
    o.insecure = true;
    push_model(s, name, o, nullptr);
  }
  CliRun r = hearth(models.path(), logs.path(), "rm " + name);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  {
    Store s(models.path());
    ASSERT_FALSE(s.resolve(ModelName::parse(name)).has_value());
    EXPECT_EQ(s.prune(), 0u);  // rm collected every blob already
  }

  r = hearth(models.path(), logs.path(), "pull " + name + " --insecure");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("success"), std::string::npos) << r.out << r.err;

  // The short name resolves to the pulled model (no model under the default host).
  r = hearth(models.path(), logs.path(),
             "run stories:260k 'Once upon a time' --raw -p temperature=0 -p num_predict=64");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::string ref = reference_text();
  ASSERT_FALSE(ref.empty());
  // The run verb ends the answer with newlines (how many is the CLI's business).
  std::string text = r.out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  EXPECT_EQ(text, ref) << r.err;
  EXPECT_NE(r.out.size(), text.size());
}

}  // namespace
}  // namespace hearth::store
