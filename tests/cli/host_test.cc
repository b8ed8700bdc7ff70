#include "cli/host.h"

#include <gtest/gtest.h>

namespace hearth::cli {
namespace {

TEST(Host, OllamaForms) {
  EXPECT_EQ(parse_host("").url(), "http://127.0.0.1:11434");
  EXPECT_EQ(parse_host("example.com").url(), "http://example.com:11434");
  EXPECT_EQ(parse_host("10.0.0.5:8080").url(), "http://10.0.0.5:8080");
  EXPECT_EQ(parse_host(":11435").url(), "http://:11435");
  EXPECT_EQ(parse_host(":11435").client_url(), "http://127.0.0.1:11435");
  EXPECT_EQ(parse_host("0.0.0.0").client_url(), "http://127.0.0.1:11434");
  EXPECT_EQ(parse_host("https://gpu.example").url(), "https://gpu.example:443");
  EXPECT_EQ(parse_host("http://gpu.example").url(), "http://gpu.example:80");
  EXPECT_EQ(parse_host("http://h:9/api/base").url(), "http://h:9/api/base");
  EXPECT_EQ(parse_host("[::1]:9000").url(), "http://[::1]:9000");
  EXPECT_EQ(parse_host("  \"127.0.0.1:1234\"  ").url(), "http://127.0.0.1:1234");
}

TEST(Host, BadPortFallsBackToDefault) {
  EXPECT_EQ(parse_host("h:99999").port, 11434);
  EXPECT_EQ(parse_host("h:abc").port, 11434);
  EXPECT_EQ(parse_host("https://h:x").port, 443);
}

}  // namespace
}  // namespace hearth::cli
