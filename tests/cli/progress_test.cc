#include "cli/progress.h"

#include <gtest/gtest.h>
#include <stdio.h>

namespace hearth::cli {
namespace {

std::string captured(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(ProgressBar, Layout) {
  const std::string done = render_bar("pulling 6a0746a1ec1a", 4'700'000'000, 4'700'000'000, 0, 80);
  EXPECT_EQ(done.rfind("pulling 6a0746a1ec1a: 100% ▕", 0), 0u) << done;
  EXPECT_NE(done.find("█▏ 4.7 GB"), std::string::npos) << done;
  const std::string half = render_bar("pulling abc", 50, 100, 10, 80);
  EXPECT_NE(half.find(" 50% ▕"), std::string::npos) << half;
  EXPECT_NE(half.find("50 B/100 B  10 B/s  5s"), std::string::npos) << half;
  // Half the cells are full.
  const size_t open = half.find("▕") + std::string("▕").size();
  const std::string cells_text = half.substr(open, half.find("▏") - open);
  size_t full = 0, empty = 0;
  for (size_t i = 0; i < cells_text.size();) {
    if (cells_text[i] == ' ') {
      ++empty, ++i;
    } else {
      ++full, i += std::string("█").size();
    }
  }
  EXPECT_GE(full + empty, 10u);
  EXPECT_EQ(full, (full + empty) / 2);
}

TEST(ProgressDisplay, PlainLinesWhenNotATerminal) {
  FILE* f = tmpfile();
  {
    ProgressDisplay p(f, false);
    p.update("pulling manifest", "", 0, 0);
    p.update("pulling manifest", "", 0, 0);
    p.update("pulling 0123456789ab", "sha256:0123456789ab", 1000, 0);
    p.update("pulling 0123456789ab", "sha256:0123456789ab", 1000, 500);
    p.update("pulling 0123456789ab", "sha256:0123456789ab", 1000, 1000);
    p.update("pulling 0123456789ab", "sha256:0123456789ab", 1000, 1000);
    p.update("verifying sha256 digest", "", 0, 0);
    p.update("writing manifest", "", 0, 0);
    p.update("success", "", 0, 0);
  }
  const std::string s = captured(f);
  fclose(f);
  EXPECT_EQ(s.find('\x1b'), std::string::npos);
  EXPECT_EQ(s.find("pulling manifest\npulling 0123456789ab:   0% ▕"), 0u) << s;
  EXPECT_NE(s.find("\npulling 0123456789ab: 100% ▕"), std::string::npos) << s;
  EXPECT_NE(s.find("▏ 1 KB\nverifying sha256 digest\nwriting manifest\nsuccess\n"), std::string::npos)
      << s;
  EXPECT_EQ(s.find("50%"), std::string::npos);  // no intermediate lines
}

TEST(ProgressDisplay, TerminalRedrawsInPlace) {
  FILE* f = tmpfile();
  {
    ProgressDisplay p(f, true);
    p.update("pulling manifest", "", 0, 0);
    p.update("pulling aa", "sha256:aa", 100, 100);
    p.update("success", "", 0, 0);
  }
  const std::string s = captured(f);
  fclose(f);
  EXPECT_NE(s.find("\x1b[1A"), std::string::npos);  // cursor back up over earlier lines
  EXPECT_NE(s.find("\x1b[Ksuccess"), std::string::npos);
  EXPECT_EQ(s.back(), '\n');
}

}  // namespace
}  // namespace hearth::cli
