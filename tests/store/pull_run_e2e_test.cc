// The whole path a user takes, through the built binary (HEARTH_EXE): a model pushed to a
// docker-registry on loopback, deleted locally, `hearth pull HOST/library/stories:260k
// --insecure`, then `hearth run stories:260k` (the short name) generates the model's greedy
// reference text (testdata/stories260K.greedy.txt, case A).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "store/registry_ops.h"
#include "store_test_util.h"

namespace hearth::store {
namespace {

using testing::LocalRegistry;
using testing::TempDir;

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
  testing::CliRun r = testing::run_hearth(models.path(), logs.path(), "rm " + name);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  {
    Store s(models.path());
    ASSERT_FALSE(s.resolve(ModelName::parse(name)).has_value());
    EXPECT_EQ(s.prune(), 0u);  // rm collected every blob already
  }

  r = testing::run_hearth(models.path(), logs.path(), "pull " + name + " --insecure");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("success"), std::string::npos) << r.out << r.err;

  // The short name resolves to the pulled model (no model under the default host).
  r = testing::run_hearth(models.path(), logs.path(),
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
