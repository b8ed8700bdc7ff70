// Drives the real `hearth` binary in a pseudo-terminal against a scripted server (HEARTH_HOST):
// the interactive chat, Ctrl+C, """ input, /set verbose, thinking, /save + /load, history, and
// the non-interactive forms.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_fake_ollama.h"
#include "cli_pty.h"

namespace hearth::test {
namespace {

namespace fs = std::filesystem;

struct CliFixture : ::testing::Test {
  FakeOllama server;
  fs::path home;
  void SetUp() override {
    char tmpl[] = "/tmp/hearth-cli-XXXXXX";
    home = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(home); }
  std::vector<std::string> env() const {
    return {"HEARTH_HOST=" + server.host(), "HOME=" + home.string(), "TERM=xterm-256color",
            "HEARTH_NOHISTORY="};
  }
  // Runs hearth with a pipe for stdin/stdout (not a terminal); returns stdout, *err gets stderr.
  std::string run_piped(const std::string& args, const std::string& input, std::string* err = nullptr,
                        int* rc = nullptr) {
    const fs::path in = home / "stdin.txt", out = home / "stdout.txt", er = home / "stderr.txt";
    std::ofstream(in) << input;
    const std::string cmd = "HEARTH_HOST=" + server.host() + " HOME=" + home.string() + " " +
                            HEARTH_EXE + " " + args + " <" + in.string() + " >" + out.string() +
                            " 2>" + er.string();
    const int status = std::system(cmd.c_str());
    if (rc) *rc = WEXITSTATUS(status);
    auto slurp = [](const fs::path& p) {
      std::ifstream f(p);
      std::stringstream ss;
      ss << f.rdbuf();
      return ss.str();
    };
    if (err) *err = slurp(er);
    return slurp(out);
  }
};

TEST_F(CliFixture, InteractiveChatStreamsThinksAndShowsVerboseStats) {
  PtyProcess p({HEARTH_EXE, "run", "thinker"}, env());
  ASSERT_TRUE(p.expect(">>> ")) << p.output();
  p.type("/set verbose\r");
  ASSERT_TRUE(p.expect("Set 'verbose' mode.")) << p.output();
  ASSERT_TRUE(p.expect(">>> "));
  p.type("hello there\r");
  ASSERT_TRUE(p.expect("Thinking...")) << p.output();
  ASSERT_TRUE(p.expect("Pondering.")) << p.output();
  ASSERT_TRUE(p.expect("...done thinking.")) << p.output();
  ASSERT_TRUE(p.expect("You said: hello there")) << p.output();
  ASSERT_TRUE(p.expect("total duration:       1.5s")) << p.output();
  ASSERT_TRUE(p.expect("prompt eval rate:     200.00 tokens/s")) << p.output();
  ASSERT_TRUE(p.expect("eval rate:            20.00 tokens/s")) << p.output();
  ASSERT_TRUE(p.expect(">>> "));
  p.type("/bye\r");
  EXPECT_EQ(p.wait(), 0) << p.output();
  std::lock_guard<std::mutex> lk(server.mu);
  ASSERT_EQ(server.chats.size(), 1u);
  EXPECT_EQ(server.chats[0]["think"], true);  // a thinking model thinks by default
}

// A Ctrl+D typed before the line editor has the terminal in raw mode (type-ahead, or a key
// pressed the moment the prompt shows: libedit prints the prompt first) reaches the kernel in
// canonical mode, which keeps it as a NUL byte; raw mode then reads that NUL. It must still
// leave. Typed here right after the start, long before the first prompt.
TEST_F(CliFixture, CtrlDTypedBeforeRawModeStillLeaves) {
  PtyProcess p({HEARTH_EXE, "run", "m"}, env());
  p.type("\x04");
  EXPECT_EQ(p.wait(20), 0) << p.output();
}

TEST_F(CliFixture, CtrlCStopsTheAnswerAndTheSessionGoesOn) {
  PtyProcess p({HEARTH_EXE, "run", "m"}, env());
  ASSERT_TRUE(p.expect(">>> ")) << p.output();
  p.type("be slow\r");
  ASSERT_TRUE(p.expect("tick tick ")) << p.output();
  p.type("\x03");
  ASSERT_TRUE(p.expect(">>> ")) << p.output();
  for (int i = 0; i < 100 && !server.slow_client_gone; ++i) usleep(100000);
  EXPECT_TRUE(server.slow_client_gone);  // the request was really aborted
  p.type("and now?\r");
  ASSERT_TRUE(p.expect("You said: and now?")) << p.output();
  ASSERT_TRUE(p.expect(">>> "));
  // Ctrl+C on an empty line only explains how to leave; Ctrl+D leaves.
  p.type("\x03");
  ASSERT_TRUE(p.expect("Use Ctrl + d or /bye to exit.")) << p.output();
  ASSERT_TRUE(p.expect(">>> "));
  p.type("\x04");
  EXPECT_EQ(p.wait(), 0) << p.output();
  std::lock_guard<std::mutex> lk(server.mu);
  ASSERT_EQ(server.chats.size(), 2u);
  // The cancelled answer is not part of the conversation.
  const auto& msgs = server.chats[1]["messages"];
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["content"], "be slow");
  EXPECT_EQ(msgs[1]["content"], "and now?");
}

TEST_F(CliFixture, TripleQuotedMultiLineInput) {
  PtyProcess p({HEARTH_EXE, "run", "m"}, env());
  ASSERT_TRUE(p.expect(">>> ")) << p.output();
  p.type("\"\"\"first line\r");
  ASSERT_TRUE(p.expect("... ")) << p.output();
  p.type("second line\"\"\"\r");
  ASSERT_TRUE(p.expect("You said: first line")) << p.output();
  ASSERT_TRUE(p.expect(">>> "));
  p.type("/bye\r");
  EXPECT_EQ(p.wait(), 0);
  std::lock_guard<std::mutex> lk(server.mu);
  ASSERT_EQ(server.chats.size(), 1u);
  EXPECT_EQ(server.chats[0]["messages"][0]["content"], "first line\nsecond line");
}

TEST_F(CliFixture, SaveThenLoadAndHistoryAcrossSessions) {
  {
    PtyProcess p({HEARTH_EXE, "run", "m"}, env());
    ASSERT_TRUE(p.expect(">>> ")) << p.output();
    p.type("/set system Be brief.\r");
    ASSERT_TRUE(p.expect("Set system message.")) << p.output();
    p.type("remember me\r");
    ASSERT_TRUE(p.expect("You said: remember me")) << p.output();
    ASSERT_TRUE(p.expect(">>> "));
    p.type("/save mine\r");
    ASSERT_TRUE(p.expect("Created new model 'mine'")) << p.output();
    p.type("/load mine\r");
    ASSERT_TRUE(p.expect("Loading model 'mine'")) << p.output();
    ASSERT_TRUE(p.expect(">>> "));
    p.type("after load\r");
    ASSERT_TRUE(p.expect("You said: after load")) << p.output();
    ASSERT_TRUE(p.expect(">>> "));
    p.type("/bye\r");
    EXPECT_EQ(p.wait(), 0);
  }
  {
    std::lock_guard<std::mutex> lk(server.mu);
    ASSERT_EQ(server.creates.size(), 1u);
    const auto& c = server.creates[0];
    EXPECT_EQ(c["model"], "mine");
    EXPECT_EQ(c["from"], "m");
    EXPECT_EQ(c["system"], "Be brief.");
    ASSERT_EQ(c["messages"].size(), 3u);
    EXPECT_EQ(c["messages"][1]["content"], "remember me");
    EXPECT_EQ(server.chats.back()["model"], "mine");
    EXPECT_EQ(server.chats.back()["messages"].size(), 1u);  // /load starts a fresh conversation
  }
  // History persists in ~/.hearth/history, and the next session can recall it with Up.
  std::ifstream h(home / ".hearth" / "history");
  std::stringstream ss;
  ss << h.rdbuf();
  EXPECT_NE(ss.str().find("remember"), std::string::npos) << ss.str();
  PtyProcess p({HEARTH_EXE, "run", "m"}, env());
  ASSERT_TRUE(p.expect(">>> ")) << p.output();
  p.type("\x1b[A\x1b[A\r");  // Up twice: "after load" then "/bye"... the entry before /bye
  ASSERT_TRUE(p.expect("You said: after load")) << p.output();
  p.type("/bye\r");
  EXPECT_EQ(p.wait(), 0);
}

TEST_F(CliFixture, NonInteractivePrintsOnlyTheAnswer) {
  std::string err;
  EXPECT_EQ(run_piped("run m", "tell me\n", &err), "Answer.\n\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(run_piped("run m \"a prompt\"", ""), "Answer.\n\n");
  std::lock_guard<std::mutex> lk(server.mu);
  EXPECT_EQ(server.generates.back()["prompt"], "a prompt");
  EXPECT_EQ(server.generates[server.generates.size() - 2]["prompt"], "tell me\n");
}

TEST_F(CliFixture, RunPullsAMissingModelWithPlainProgress) {
  std::string err;
  int rc = 0;
  EXPECT_EQ(run_piped("run fresh \"hi\"", "", &err, &rc), "Answer.\n\n");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(err.find("pulling manifest\n"), std::string::npos) << err;
  EXPECT_NE(err.find("pulling 0123456789ab: 100%"), std::string::npos) << err;
  EXPECT_NE(err.find("success\n"), std::string::npos) << err;
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;  // no terminal codes in a pipe
}

TEST_F(CliFixture, PsShowStopVersion) {
  std::string out = run_piped("ps", "");
  EXPECT_EQ(out.rfind("NAME        ID              SIZE    PROCESSOR    CONTEXT    UNTIL\n", 0), 0u) << out;
  EXPECT_NE(out.find("m:latest    abcdef012345    2 GB    100% CPU     4096       "), std::string::npos) << out;
  out = run_piped("show m", "");
  EXPECT_NE(out.find("  Model\n    architecture      llama\n    parameters        260K\n"), std::string::npos) << out;
  EXPECT_EQ(run_piped("show m --template", ""), "{{ .Prompt }}");
  std::string err;
  int rc = 0;
  run_piped("show m --template --system", "", &err, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("only one of"), std::string::npos);
  run_piped("stop ghost", "", &err, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("couldn't find model \"ghost\" to stop"), std::string::npos) << err;
  EXPECT_NE(run_piped("-v", "").find("hearth version is 0.0.0-fake\nWarning: client version is"),
            std::string::npos);
}

}  // namespace
}  // namespace hearth::test
