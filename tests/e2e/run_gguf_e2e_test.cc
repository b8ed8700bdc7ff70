// `hearth run PATH.gguf` end to end: the built binary (HEARTH_EXE) on stories260K with --raw and
// greedy sampling prints exactly the reference text; --verbose adds Ollama's statistics block on
// stderr; the prompt can come from stdin; stop strings and errors behave.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

const std::string kModel = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";

struct CliRun {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `hearth <args>` through the shell with stdin from `stdin_text` (empty: /dev/null).
CliRun hearth(const std::string& args, const std::string& stdin_text = "") {
  // One set of files per test: CTest may run tests of this file at the same time.
  const std::string base = ::testing::TempDir() + "/hearth_run_e2e_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string input = "/dev/null";
  if (!stdin_text.empty()) {
    input = base + ".in";
    std::ofstream(input) << stdin_text;
  }
  const std::string cmd = std::string("HEARTH_NUM_THREAD=1 '") + HEARTH_EXE + "' " + args + " <" +
                          input + " >" + base + ".out 2>" + base + ".err";
  CliRun r;
  const int rc = std::system(cmd.c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

std::string reference_text() {
  std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/stories260K.greedy.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("output_text: ", 0) == 0) return line.substr(13);
  }
  return "";
}

TEST(RunGguf, RawGreedyPrintsTheReferenceText) {
  const CliRun r = hearth("run '" + kModel + "' 'Once upon a time' --raw -p temperature=0 -p num_predict=64");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, reference_text() + "\n");
}

TEST(RunGguf, VerbosePrintsStatisticsOnStderr) {
  const CliRun r = hearth("run '" + kModel + "' 'Once upon a time' --raw --verbose -p temperature=0 -p num_predict=8");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("beginout I Comment", 0), 0u) << r.out;
  for (const char* label : {"total duration:", "load duration:", "prompt eval count:    11 token(s)",
                            "prompt eval duration:", "prompt eval rate:", "eval count:           8 token(s)",
                            "eval duration:", "eval rate:"}) {
    EXPECT_NE(r.err.find(label), std::string::npos) << label << "\n" << r.err;
  }
  EXPECT_EQ(r.out.find("duration"), std::string::npos);
}

TEST(RunGguf, PromptFromStdinAndStopString) {
  const CliRun r = hearth("run '" + kModel + "' --raw -p temperature=0 -p stop=Comment", "Once upon a time");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "beginout I \n");
}

TEST(RunGguf, MissingKeyOrFileIsAnErrorExit) {
  const CliRun r = hearth("run /nonexistent/model.gguf hi --raw");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Error"), std::string::npos) << r.err;
}

}  // namespace
