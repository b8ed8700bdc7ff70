#include "util/env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/cpu_features.h"

namespace hearth {
namespace {

TEST(Env, HearthWinsThenOllamaThenDefault) {
  unsetenv("HEARTH_KEEP_ALIVE");
  unsetenv("OLLAMA_KEEP_ALIVE");
  EXPECT_EQ(env_value("HEARTH_KEEP_ALIVE"), "5m");
  EXPECT_FALSE(env_is_set("HEARTH_KEEP_ALIVE"));
  setenv("OLLAMA_KEEP_ALIVE", "10m", 1);
  EXPECT_EQ(env_value("HEARTH_KEEP_ALIVE"), "10m");
  setenv("HEARTH_KEEP_ALIVE", "1h", 1);
  EXPECT_EQ(env_value("HEARTH_KEEP_ALIVE"), "1h");
  unsetenv("HEARTH_KEEP_ALIVE");
  unsetenv("OLLAMA_KEEP_ALIVE");
}

TEST(CpuFeatures, TierParsingAndPinning) {
  CpuTier t;
  EXPECT_TRUE(parse_cpu_tier("avx2", &t));
  EXPECT_EQ(t, CpuTier::avx2);
  EXPECT_FALSE(parse_cpu_tier("sse", &t));
  CpuTier before = cpu_tier();
  set_cpu_tier(CpuTier::ref);
  EXPECT_EQ(cpu_tier(), CpuTier::ref);
  set_cpu_tier(CpuTier::avx512);
  EXPECT_LE(cpu_tier(), cpu_max_tier());
  set_cpu_tier(before);
  EXPECT_GE(cpu_physical_cores(), 1);
}

}  // namespace
}  // namespace hearth
