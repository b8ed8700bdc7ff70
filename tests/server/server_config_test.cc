// ServerConfig::from_env(): the environment read as Ollama's envconfig reads it.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <climits>
#include <optional>
#include <string>

#include "engine/devices.h"
#include "server/server.h"

namespace hearth::server {
namespace {

// Puts a variable back as the test found it, so other tests in this binary do not see ours.
class SavedEnv {
 public:
  explicit SavedEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) value_ = v;
  }
  ~SavedEnv() {
    if (value_) {
      setenv(name_, value_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> value_;
};

// OLLAMA_CONTEXT_LENGTH is envconfig.Uint(..., 0), and 0 means the VRAM-based default: so do
// unset and anything ParseUint refuses (with a warning), instead of a partial parse.
TEST(ServerConfigFromEnv, ContextLengthIsAWholeUnsignedNumberElseTheDefault) {
  SavedEnv hearth("HEARTH_CONTEXT_LENGTH"), ollama("OLLAMA_CONTEXT_LENGTH");
  unsetenv("HEARTH_CONTEXT_LENGTH");
  unsetenv("OLLAMA_CONTEXT_LENGTH");
  const int automatic = engine::default_context_length();
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, automatic);
  for (const char* v : {"0", "abc", "8k", "-1", "1.5", "+5", "0x100", "8 192", "99999999999999999999999"}) {
    setenv("HEARTH_CONTEXT_LENGTH", v, 1);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(ServerConfig::from_env().default_num_ctx, automatic) << v;
    const std::string log = ::testing::internal::GetCapturedStderr();
    if (std::string(v) != "0") {
      EXPECT_NE(log.find("invalid environment variable"), std::string::npos) << v << ": " << log;
      EXPECT_NE(log.find(std::string("HEARTH_CONTEXT_LENGTH='") + v + "'"), std::string::npos) << log;
    }
  }
  setenv("HEARTH_CONTEXT_LENGTH", "8192", 1);
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, 8192);
  setenv("HEARTH_CONTEXT_LENGTH", " '16384' ", 1);
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, 16384);
  setenv("HEARTH_CONTEXT_LENGTH", "2", 1);
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, 4);
  setenv("HEARTH_CONTEXT_LENGTH", "99999999999", 1);
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, INT_MAX);
  unsetenv("HEARTH_CONTEXT_LENGTH");
  setenv("OLLAMA_CONTEXT_LENGTH", "2048", 1);
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, 2048);
  setenv("OLLAMA_CONTEXT_LENGTH", "8k", 1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ServerConfig::from_env().default_num_ctx, automatic);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("OLLAMA_CONTEXT_LENGTH='8k'"), std::string::npos);
}

// The counts are envconfig.Uint too: a malformed value is the default, not its leading digits;
// OLLAMA_MAX_LOADED_MODELS 0 (its default) is 3 a GPU, 3 without one.
TEST(ServerConfigFromEnv, CountsAreWholeUnsignedNumbers) {
  SavedEnv parallel("HEARTH_NUM_PARALLEL"), loaded("HEARTH_MAX_LOADED_MODELS"), queue("HEARTH_MAX_QUEUE"),
      gpu("HEARTH_GPU");
  setenv("HEARTH_GPU", "0", 1);
  setenv("HEARTH_NUM_PARALLEL", "8k", 1);
  setenv("HEARTH_MAX_LOADED_MODELS", "0", 1);
  setenv("HEARTH_MAX_QUEUE", "-1", 1);
  EXPECT_EQ(ServerConfig::from_env().num_parallel, 1);
  engine::SchedulerOptions o = scheduler_options_from_env();
  EXPECT_EQ(o.max_loaded, 3u);
  EXPECT_EQ(o.max_queue, 512u);
  setenv("HEARTH_NUM_PARALLEL", "4", 1);
  setenv("HEARTH_MAX_LOADED_MODELS", "2", 1);
  setenv("HEARTH_MAX_QUEUE", "0", 1);
  EXPECT_EQ(ServerConfig::from_env().num_parallel, 4);
  o = scheduler_options_from_env();
  EXPECT_EQ(o.max_loaded, 2u);
  EXPECT_EQ(o.max_queue, 0u);
}

}  // namespace
}  // namespace hearth::server
