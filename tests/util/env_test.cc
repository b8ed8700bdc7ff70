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

// Ollama's envconfig: values lose surrounding white space and quotes; a set boolean is true
// unless Go's ParseBool reads it as false.
TEST(Env, TrimmedAsOllamaAndBooleansAsGo) {
  unsetenv("HEARTH_HOST");
  setenv("OLLAMA_HOST", "  \"0.0.0.0:11434\" ", 1);
  EXPECT_EQ(env_value("HEARTH_HOST"), "0.0.0.0:11434");
  setenv("HEARTH_HOST", " '' ", 1);  // empty after trimming: the fallback applies
  EXPECT_EQ(env_value("HEARTH_HOST"), "0.0.0.0:11434");
  unsetenv("HEARTH_HOST");
  unsetenv("OLLAMA_HOST");
  unsetenv("OLLAMA_NOPRUNE");
  for (const char* v : {"1", "true", "TRUE", "t", "yes", "on", " 1 ", "\"1\"", "anything"}) {
    setenv("HEARTH_NOPRUNE", v, 1);
    EXPECT_TRUE(env_flag("HEARTH_NOPRUNE")) << v;
  }
  for (const char* v : {"0", "f", "F", "false", "FALSE", "False", "", "  ", "'false'"}) {
    setenv("HEARTH_NOPRUNE", v, 1);
    EXPECT_FALSE(env_flag("HEARTH_NOPRUNE")) << v;
  }
  unsetenv("HEARTH_NOPRUNE");
  EXPECT_FALSE(env_flag("HEARTH_NOPRUNE"));
}

// Go's strconv.ParseUint(v, 10, 64), as Ollama's envconfig.Uint: the fallback for anything else.
TEST(Env, UnsignedNumbersAsOllama) {
  unsetenv("HEARTH_MAX_QUEUE");
  unsetenv("OLLAMA_MAX_QUEUE");
  EXPECT_EQ(env_uint("HEARTH_MAX_QUEUE", 7), 512u);  // the declared default
  unsetenv("OLLAMA_CONTEXT_LENGTH");
  unsetenv("HEARTH_CONTEXT_LENGTH");
  EXPECT_EQ(env_uint("HEARTH_CONTEXT_LENGTH", 7), 7u);
  setenv("HEARTH_CONTEXT_LENGTH", " \"18446744073709551615\" ", 1);
  EXPECT_EQ(env_uint("HEARTH_CONTEXT_LENGTH", 7), UINT64_MAX);
  setenv("HEARTH_CONTEXT_LENGTH", "0", 1);
  EXPECT_EQ(env_uint("HEARTH_CONTEXT_LENGTH", 7), 0u);
  for (const char* v : {"18446744073709551616", "-1", "+1", "1.5", "8k", "abc", "1e3", "0x10"}) {
    setenv("HEARTH_CONTEXT_LENGTH", v, 1);
    EXPECT_EQ(env_uint("HEARTH_CONTEXT_LENGTH", 7), 7u) << v;
  }
  unsetenv("HEARTH_CONTEXT_LENGTH");
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
