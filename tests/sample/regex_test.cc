// The pattern engine against std::regex (ECMAScript, regex_search over wide strings: code points
// on Linux), the independent reference: for every pattern of a list, random strings and mutations
// of a matching example must get the same answer from both. Every live DFA state must still be
// completable into a match (checked by std::regex), and patterns outside the subset are refused.

#include "sample/regex.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "sample/rng.h"

namespace hearth::sample {
namespace {

std::u32string decode(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const int more = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    uint32_t cp = more == 0 ? b : b & (0x3Fu >> more);
    for (int k = 1; k <= more; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3Fu);
    out.push_back(cp);
    i += static_cast<size_t>(more) + 1;
  }
  return out;
}

std::wstring wide(const std::u32string& s) { return std::wstring(s.begin(), s.end()); }

struct PatternCase {
  std::string pattern;
  std::string example;  // a string both engines must match
};

const std::vector<PatternCase> kCases = {
    {"^[a-z]+$", "abc"},
    {"^[0-9]{3}-[0-9]{4}$", "555-1234"},
    {"^\\d{1,3}(\\.\\d{1,3}){3}$", "192.168.0.1"},
    {"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[a-zA-Z]{2,}$", "a.b@c.io"},
    {"^(red|green|blue)$", "green"},
    {"ab*c", "xabbbcx"},
    {"^a|b$", "ab"},
    {"x$|^y", "ya"},
    {"^(?:ab)+c?$", "ababc"},
    {"^[^\\s@]+$", "x"},
    {"^\\w+\\s\\w+$", "hi you"},
    {"^.{2,4}$", "\xC3\xA9\xE2\x82\xAC"},
    {"^[\\u00e0-\\u00ff]*x$", "\xC3\xA9x"},
    {"^\\x41+\\/$", "AA/"},
    {"^(a|ab)(c|bcd)(d*)$", "abcd"},
    {"^$", ""},
    {"", "anything"},
    {"^a{0}b$", "b"},
    {"^(a*)*b$", "aab"},
    {"a[]|b", "b"},
    {"^[^]$", "x"},
    {"^\\W\\D\\S$", "- x"},
    {"[.]\\.\\$\\^", "x..$^y"},
    {"^(a|b)*?c{2,}?$", "abcc"},
    {"^\\t\\n?\\r*$", "\t\n"},
    {"^[\\w.-]+$", "a.b-c_d"},
    {"^[a\\-z]$", "-"},
    {"^[-a]+$", "-a"},
    {"^[a-]$", "-"},
    {"^\\(\\d\\)$", "(1)"},
    {"^[^a-z0-9]{2}$", "A!"},
    {"^(((a)))b|c{1,2}d?$", "ab"},
    {"^\\u20ac\\d+$", "\xE2\x82\xAC" "12"},
    {"^ab]c}$", "ab]c}"},
    {"^[\\b]\\0$", std::string("\b\0", 2)},
    {"^(?:[01]\\d|2[0-3]):[0-5]\\d$", "23:59"},
    {"^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$", "2024-02-29"},
    {"colou?r", "my color"},
    {"^.*$", "a\xF0\x9F\x98\x80"},
    {"^[^\"\\\\]*$", "plain"},
    {"a.c", "a\xE2\x80\xA8" "cabc"},
    {"^(ab|a)(bc|c)?$", "abc"},
    {"^[a-c]{2}[x-z]{0,2}$", "abzz"},
};

std::u32string alphabet_for(const std::string& pattern) {
  std::set<char32_t> chars;
  for (char32_t c : decode(pattern)) chars.insert(c);
  for (char32_t c : std::u32string(U"abcxAZ019-_.@ \t\n\r$^()]}\u00e9\u20ac\U0001F600\u2028\u00a0/:")) chars.insert(c);
  chars.insert(0);
  chars.insert(8);
  return std::u32string(chars.begin(), chars.end());
}

TEST(Regex, AgreesWithStdRegexOnRandomStrings) {
  Rng rng(2024);
  size_t matched = 0, unmatched = 0;
  for (const PatternCase& c : kCases) {
    std::string why;
    auto re = Regex::compile(c.pattern, &why);
    ASSERT_NE(re, nullptr) << c.pattern << ": " << why;
    const std::wregex ref(wide(decode(c.pattern)), std::regex::ECMAScript);
    const std::u32string example = decode(c.example);
    ASSERT_TRUE(std::regex_search(wide(example), ref)) << c.pattern;
    EXPECT_TRUE(re->matches(std::u32string_view(example))) << c.pattern;
    const std::u32string alphabet = alphabet_for(c.pattern);
    for (int i = 0; i < 600; ++i) {
      std::u32string s;
      if (i % 2 == 0) {
        const size_t len = rng.next_u64() % 11;
        for (size_t k = 0; k < len; ++k) s += alphabet[rng.next_u64() % alphabet.size()];
      } else {
        s = example;
        for (int k = 0, n = 1 + static_cast<int>(rng.next_u64() % 2); k < n; ++k) {
          const size_t pos = rng.next_u64() % (s.size() + 1);
          const char32_t ch = alphabet[rng.next_u64() % alphabet.size()];
          switch (rng.next_u64() % 3) {
            case 0: if (pos < s.size()) s.erase(pos, 1); break;
            case 1: s.insert(pos, 1, ch); break;
            default: if (pos < s.size()) s[pos] = ch; break;
          }
        }
      }
      const bool want = std::regex_search(wide(s), ref);
      ASSERT_EQ(re->matches(std::u32string_view(s)), want)
          << "pattern " << c.pattern << " string #" << i << " (" << s.size() << " code points)";
      (want ? matched : unmatched) += 1;
    }
  }
  // Both answers are common, so neither side can be trivially right.
  EXPECT_GT(matched, 3000u);
  EXPECT_GT(unmatched, 3000u);
}

// From every state a prefix reaches, following min_remaining down with characters of the
// alphabet leads to a string std::regex matches.
TEST(Regex, EveryLiveStateCanStillMatch) {
  Rng rng(77);
  size_t completed = 0;
  for (const PatternCase& c : kCases) {
    auto re = Regex::compile(c.pattern);
    ASSERT_NE(re, nullptr);
    const std::wregex ref(wide(decode(c.pattern)), std::regex::ECMAScript);
    const std::u32string alphabet = alphabet_for(c.pattern);
    for (int i = 0; i < 200; ++i) {
      std::u32string s;
      uint32_t state = re->start();
      const size_t len = rng.next_u64() % 8;
      for (size_t k = 0; k < len; ++k) {
        const char32_t ch = alphabet[rng.next_u64() % alphabet.size()];
        const uint32_t next = re->next(state, ch);
        if (next == Regex::kDead) continue;
        state = next;
        s += ch;
      }
      bool stuck = false;
      while (!re->accepting(state) && !stuck) {
        const uint32_t need = re->min_remaining(state);
        ASSERT_NE(need, Regex::kUnbounded) << c.pattern;
        stuck = true;
        for (char32_t ch : alphabet) {
          const uint32_t next = re->next(state, ch);
          if (next != Regex::kDead && re->min_remaining(next) + 1 == need) {
            state = next;
            s += ch;
            stuck = false;
            break;
          }
        }
      }
      if (stuck) continue;  // the needed character is not in the alphabet
      ++completed;
      ASSERT_TRUE(std::regex_search(wide(s), ref)) << c.pattern << " completed string #" << i;
    }
  }
  EXPECT_GT(completed, 5000u);
}

TEST(Regex, LengthBoundsOfCompletions) {
  auto re = Regex::compile("^[0-9]{3}-[0-9]{2,4}$");
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(re->min_remaining(re->start()), 6u);
  EXPECT_EQ(re->max_remaining(re->start()), 8u);
  auto open = Regex::compile("^a+$");
  EXPECT_EQ(open->max_remaining(open->start()), Regex::kUnbounded);
  auto never = Regex::compile("^a[]$");
  ASSERT_NE(never, nullptr);
  EXPECT_TRUE(never->empty());
  EXPECT_FALSE(never->matches(std::string_view("a")));
}

// Random patterns (untrusted input): compile never crashes; whatever compiles and std::regex
// also takes must agree with it on random strings.
TEST(Regex, RandomPatternsCompileSafelyAndAgree) {
  const std::vector<std::string> atoms = {"a", "b", "c", ".", "\\d", "\\w", "\\s", "\\W", "[ab]", "[^a]", "[a-c]",
                                          "(", ")", "|", "*", "+", "?", "{1,2}", "{2}", "{0,}", "^", "$", "\\.",
                                          "[", "]", "-", "\\", "(?:", "{", "}", "\xC3\xA9", "[\\d\\s]", "\\u00e9"};
  const std::u32string alphabet = U"abc.1 -_\u00e9x";
  Rng rng(5);
  int compiled = 0, compared = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string p;
    for (int k = 0, n = 1 + static_cast<int>(rng.next_u64() % 8); k < n; ++k) p += atoms[rng.next_u64() % atoms.size()];
    auto re = Regex::compile(p);
    if (!re) continue;
    ++compiled;
    std::wregex ref;
    try {
      ref = std::wregex(wide(decode(p)), std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      continue;
    }
    ++compared;
    for (int s = 0; s < 30; ++s) {
      std::u32string text;
      for (size_t k = 0, n = rng.next_u64() % 7; k < n; ++k) text += alphabet[rng.next_u64() % alphabet.size()];
      ASSERT_EQ(re->matches(std::u32string_view(text)), std::regex_search(wide(text), ref)) << "pattern " << p;
    }
  }
  EXPECT_GT(compiled, 500);
  EXPECT_GT(compared, 500);
}

TEST(Regex, UnsupportedPatternsAreRefusedWithAReason) {
  for (const char* p : {"(a)\\1", "(?=a)b", "(?!a)b", "(?<n>a)", "\\bword", "a{2,1}", "a**", "*a", "(a", "a)",
                        "[a", "\\p{L}", "a{1001}", "\\k", "\\c", "[\\d-z]", "\\ud83d", "\\01", "a{", "a\\",
                        "(a{1000}){1000}", "(a|b)*a(a|b){12}", "^*", "\xC3"}) {
    std::string why;
    EXPECT_EQ(Regex::compile(p, &why), nullptr) << p;
    EXPECT_FALSE(why.empty()) << p;
  }
}

}  // namespace
}  // namespace hearth::sample
