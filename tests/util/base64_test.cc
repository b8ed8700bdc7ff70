#include "util/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace hearth {
namespace {

// RFC 4648 section 10 vectors, the URL alphabet without padding, round trips, and refusals.
TEST(Base64, Rfc4648VectorsRoundTripsAndErrors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(base64_encode(plain), coded);
    EXPECT_EQ(base64_decode(coded), std::string(plain));
  }
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xfe", 3)), "+//+");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xfe\x01", 4), Base64::raw_url), "-__-AQ");
  EXPECT_EQ(base64_decode("Zg"), std::string("f"));  // padding may be left out
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));  // no encoder ends with one character
  EXPECT_FALSE(base64_decode("-_"));  // URL alphabet is not decoded here
  std::mt19937 rng(3);
  for (int n = 0; n < 200; ++n) {
    std::string bytes(static_cast<size_t>(n), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << n;
  }
}

}  // namespace
}  // namespace hearth
