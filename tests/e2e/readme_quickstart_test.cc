// README.md's quick start is exactly two commands, and they work: the first (deps + build + run on
// the sample model) is executed here; the second is the script that runs this very suite, so it
// is checked to exist rather than run recursively.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> sh_blocks(const std::string& text) {
  std::vector<std::string> blocks;
  size_t pos = 0;
  while ((pos = text.find("```sh\n", pos)) != std::string::npos) {
    const size_t start = pos + 6;
    const size_t end = text.find("```", start);
    if (end == std::string::npos) break;
    blocks.push_back(text.substr(start, end - start));
    pos = end + 3;
  }
  return blocks;
}

struct Readme : ::testing::Test {
  std::vector<std::string> blocks;
  void SetUp() override {
    std::ifstream f(fs::path(HEARTH_SOURCE_DIR) / "README.md");
    std::stringstream ss;
    ss << f.rdbuf();
    blocks = sh_blocks(ss.str());
    ASSERT_GE(blocks.size(), 2u);
  }
};

TEST_F(Readme, QuickStartIsTwoOneLineCommands) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(std::count(blocks[i].begin(), blocks[i].end(), '\n'), 1) << blocks[i];
  }
  EXPECT_EQ(blocks[1], "bash scripts/test.sh\n");
  EXPECT_TRUE(fs::exists(fs::path(HEARTH_SOURCE_DIR) / "scripts/test.sh"));
}

TEST_F(Readme, FirstCommandBuildsAndRunsTheSampleModel) {
  // The command builds into ./build. Run it only when this suite was built there (as
  // scripts/test.sh does): the build step is then a no-op and the run is the real check. From any
  // other build directory it would start a second full build, which is not a unit test's job.
  const fs::path source = fs::canonical(HEARTH_SOURCE_DIR);
  if (fs::weakly_canonical(HEARTH_BINARY_DIR) != source / "build") {
    GTEST_SKIP() << "suite built outside ./build; scripts/test.sh runs this check";
  }
  const fs::path out = fs::temp_directory_path() / "hearth-readme-quickstart.txt";
  const std::string cmd = "cd " + source.string() + " && ( " + blocks[0].substr(0, blocks[0].size() - 1) +
                          " ) >" + out.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  fs::remove(out);
  ASSERT_EQ(WEXITSTATUS(status), 0) << ss.str();
  // Greedy continuation of "Once upon a time" (../shared/testdata/stories260K.greedy.txt, case A:
  // the vocabulary is not the model's own, so the text is gibberish but exact).
  EXPECT_NE(ss.str().find("beginout I Comment//otour"), std::string::npos) << ss.str();
}

}  // namespace
