#include "sample/stop_matcher.h"

#include <gtest/gtest.h>

namespace hearth::sample {
namespace {

// Feeds the pieces, returns what was emitted (concatenated) plus the flush if no stop matched.
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += m.push(p);
  if (!m.stopped()) out += m.flush();
  return out;
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  StopMatcher m({});
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.push("hello <"), "hello <");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, StopInsideOnePiece) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("Hello</s>world"), "Hello");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "</s>");
  EXPECT_EQ(m.push("more"), "");
}

TEST(StopMatcher, StopAcrossPieceBoundariesIsHeldThenCut) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("Hello <"), "Hello ");  // "<" might start the stop
  EXPECT_EQ(m.push("/"), "");
  EXPECT_EQ(m.push("s"), "");
  EXPECT_EQ(m.push("> world"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, HeldTextIsReleasedWhenTheMatchBreaks) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("a </"), "a ");
  EXPECT_EQ(m.push("b>"), "</b>");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("<"), "");
  EXPECT_EQ(m.flush(), "<");  // end of generation releases the tail
}

TEST(StopMatcher, OverlappingPrefixesFindTheLaterStart) {
  // "aab": after "aa" both a's are held; "ab" then completes the stop starting at index 1.
  StopMatcher m({"aab"});
  EXPECT_EQ(m.push("aa"), "");
  EXPECT_EQ(m.push("ab"), "a");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"World", "lo W", "<|im_end|>"});
  EXPECT_EQ(run(m, {"Hel", "lo Wor", "ld"}), "Hel");
  EXPECT_EQ(m.matched(), "lo W");
  StopMatcher n({"<|im_end|>", "\n\nUser:"});
  EXPECT_EQ(run(n, {"The answer", "\n", "\nUs", "er", ": hi"}), "The answer");
  EXPECT_EQ(n.matched(), "\n\nUser:");
}

TEST(StopMatcher, ByteByByteFeedingMatchesWholeFeeding) {
  const std::string text = "one <|im_end|> two";
  for (const std::string& stop : {std::string("<|im_end|>"), std::string("two"),
                                  std::string("absent")}) {
    StopMatcher whole({stop});
    std::string a = run(whole, {text});
    StopMatcher bytes({stop});
    std::vector<std::string> pieces;
    for (char c : text) pieces.emplace_back(1, c);
    EXPECT_EQ(run(bytes, pieces), a) << stop;
    size_t pos = text.find(stop);
    EXPECT_EQ(a, pos == std::string::npos ? text : text.substr(0, pos)) << stop;
  }
}

TEST(StopMatcher, MultiByteStopStrings) {
  StopMatcher m({"<｜User｜>"});
  std::string s = "hi<｜User｜>";
  // Split inside a multi-byte character.
  EXPECT_EQ(m.push(s.substr(0, 4)), "hi");
  EXPECT_EQ(m.push(s.substr(4)), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  StopMatcher m({"", "x"});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_FALSE(m.stopped());
}

}  // namespace
}  // namespace hearth::sample
