// engine::Scheduler directly, over the fake loader.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <future>
#include <thread>

#include "engine/scheduler.h"
#include "fake_model.h"
#include "server/server.h"
#include "util/error.h"

namespace hearth::testing {
namespace {

using namespace std::chrono_literals;

engine::LoadSpec spec(const std::string& name, int num_ctx = 512) {
  engine::LoadSpec s;
  s.name = name;
  s.model_path = "/models/" + name;
  s.num_ctx = num_ctx;
  return s;
}

class FailingLoader : public engine::ModelLoader {
 public:
  uint64_t estimate_bytes(const engine::LoadSpec&) override { return 1; }
  std::unique_ptr<engine::LoadedModel> load(const engine::LoadSpec&) override {
    throw Error(ErrorCode::corrupt, "bad file");
  }
};

TEST(Scheduler, ReloadsWhenLoadOptionsChange) {
  auto world = std::make_shared<FakeWorld>();
  engine::Scheduler s({}, std::make_shared<FakeLoader>(world));
  { auto l = s.acquire(spec("m", 512), std::nullopt, nullptr); EXPECT_EQ(l.model().num_ctx(), 512); }
  { auto l = s.acquire(spec("m", 512), std::nullopt, nullptr); }
  EXPECT_EQ(world->loads.load(), 1);
  { auto l = s.acquire(spec("m", 1024), std::nullopt, nullptr); EXPECT_EQ(l.model().num_ctx(), 1024); }
  EXPECT_EQ(world->loads.load(), 2);
  EXPECT_EQ(world->unloads.load(), 1);
}

// A model's GPU memory shows in loaded() (/api/ps size_vram), and the next model's load is told
// how much the loaded ones hold, so its placement leaves it to them.
TEST(Scheduler, GpuMemoryOfLoadedModelsGoesToTheNextLoad) {
  auto world = std::make_shared<FakeWorld>();
  world->vram_by_path["/models/a"] = 600;
  world->vram_by_path["/models/b"] = 300;
  engine::Scheduler s({}, std::make_shared<FakeLoader>(world));
  { auto l = s.acquire(spec("a"), std::nullopt, nullptr); }
  { auto l = s.acquire(spec("b"), std::nullopt, nullptr); }
  { auto l = s.acquire(spec("c"), std::nullopt, nullptr); }
  ASSERT_EQ(world->load_specs.size(), 3u);
  EXPECT_EQ(world->load_specs[0].gpu_in_use, 0u);
  EXPECT_EQ(world->load_specs[1].gpu_in_use, 600u);
  EXPECT_EQ(world->load_specs[2].gpu_in_use, 900u);
  for (const auto& m : s.loaded()) EXPECT_EQ(m.size_vram, m.name == "a" ? 600u : m.name == "b" ? 300u : 0u) << m.name;
  // num_gpu is part of what makes two loads the same: another value reloads.
  engine::LoadSpec cpu_only = spec("a");
  cpu_only.num_gpu = 0;
  { auto l = s.acquire(cpu_only, std::nullopt, nullptr); }
  EXPECT_EQ(world->load_specs.back().num_gpu, 0);
  EXPECT_EQ(world->loads.load(), 4);
}

TEST(Scheduler, LoadFailureLeavesNothingBehind) {
  engine::Scheduler s({}, std::make_shared<FailingLoader>());
  EXPECT_THROW(s.acquire(spec("m"), std::nullopt, nullptr), Error);
  EXPECT_TRUE(s.loaded().empty());
  EXPECT_EQ(s.queue_depth(), 0u);
}

// A loader that takes `delay` per load.
class SlowLoader : public engine::ModelLoader {
 public:
  SlowLoader(std::shared_ptr<FakeWorld> world, std::chrono::milliseconds delay) : fake_(std::move(world)), delay_(delay) {}
  uint64_t estimate_bytes(const engine::LoadSpec& s) override { return fake_.estimate_bytes(s); }
  std::unique_ptr<engine::LoadedModel> load(const engine::LoadSpec& s) override {
    std::this_thread::sleep_for(delay_);
    return fake_.load(s);
  }

 private:
  FakeLoader fake_;
  std::chrono::milliseconds delay_;
};

TEST(Scheduler, LoadTimeoutFailsTheRequestAndForgetsTheLoad) {
  auto world = std::make_shared<FakeWorld>();
  engine::SchedulerOptions o;
  o.load_timeout = 50ms;
  engine::Scheduler s(o, std::make_shared<SlowLoader>(world, 400ms));
  try {
    s.acquire(spec("m"), std::nullopt, nullptr);
    ADD_FAILURE() << "a load slower than load_timeout succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "timed out waiting for llama runner to start - progress 0.00 - ");
  }
  EXPECT_TRUE(s.loaded().empty());
  // The abandoned load completes in the background and is discarded.
  EXPECT_TRUE([&] {
    for (int i = 0; i < 500 && world->unloads.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    return world->unloads.load() == 1;
  }());
  // Within the limit the same load succeeds.
  engine::SchedulerOptions patient = o;
  patient.load_timeout = 5s;
  engine::Scheduler s2(patient, std::make_shared<SlowLoader>(world, 10ms));
  auto lease = s2.acquire(spec("m"), std::nullopt, nullptr);
  EXPECT_TRUE(lease);
}

TEST(Scheduler, LoadTimeoutFromTheEnvironment) {
  ::setenv("HEARTH_LOAD_TIMEOUT", "90s", 1);
  EXPECT_EQ(server::scheduler_options_from_env().load_timeout, 90s);
  ::setenv("HEARTH_LOAD_TIMEOUT", "120", 1);  // bare seconds, as Ollama reads it
  EXPECT_EQ(server::scheduler_options_from_env().load_timeout, 120s);
  ::unsetenv("HEARTH_LOAD_TIMEOUT");
  ::setenv("OLLAMA_LOAD_TIMEOUT", "1m", 1);
  EXPECT_EQ(server::scheduler_options_from_env().load_timeout, 60s);
  ::unsetenv("OLLAMA_LOAD_TIMEOUT");
  EXPECT_EQ(server::scheduler_options_from_env().load_timeout, 5min);
}

TEST(Scheduler, ExplicitUnloadWaitsForRunningRequest) {
  auto world = std::make_shared<FakeWorld>();
  engine::Scheduler s({}, std::make_shared<FakeLoader>(world));
  auto lease = s.acquire(spec("m"), std::nullopt, nullptr);
  EXPECT_TRUE(s.unload("m"));
  EXPECT_EQ(world->unloads.load(), 0);  // never under a running request
  EXPECT_EQ(s.loaded().size(), 1u);
  lease.release();
  EXPECT_EQ(world->unloads.load(), 1);
  EXPECT_FALSE(s.unload("m"));
}

TEST(Scheduler, BusyModelsAreNotEvictedAndWaitersProceedLater) {
  auto world = std::make_shared<FakeWorld>();
  engine::SchedulerOptions o;
  o.max_loaded = 1;
  engine::Scheduler s(o, std::make_shared<FakeLoader>(world));
  auto a = s.acquire(spec("a"), std::nullopt, nullptr);
  auto b = std::async(std::launch::async, [&] {
    auto l = s.acquire(spec("b"), std::nullopt, nullptr);
    return l.model().num_ctx();
  });
  for (int i = 0; i < 500 && s.queue_depth() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(s.queue_depth(), 1u);
  EXPECT_EQ(world->unloads.load(), 0);  // "a" is busy: it stays
  a.release();
  EXPECT_EQ(b.get(), 512);
  EXPECT_EQ(world->unloads.load(), 1);
  ASSERT_EQ(s.loaded().size(), 1u);
  EXPECT_EQ(s.loaded()[0].name, "b");
}

TEST(Scheduler, CancelledWaiterLeavesTheQueue) {
  auto world = std::make_shared<FakeWorld>();
  engine::Scheduler s({}, std::make_shared<FakeLoader>(world));
  auto a = s.acquire(spec("a"), std::nullopt, nullptr);
  std::atomic<bool> gone{false};
  auto waiter = std::async(std::launch::async, [&] {
    try {
      s.acquire(spec("a"), std::nullopt, [&] { return gone.load(); });
      return std::string("acquired");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  });
  for (int i = 0; i < 500 && s.queue_depth() == 0; ++i) std::this_thread::sleep_for(10ms);
  gone = true;
  EXPECT_EQ(waiter.get(), "request canceled");
  EXPECT_EQ(s.queue_depth(), 0u);
}

TEST(Scheduler, ZeroQueueRejectsAtOnce) {
  auto world = std::make_shared<FakeWorld>();
  engine::SchedulerOptions o;
  o.max_queue = 0;
  engine::Scheduler s(o, std::make_shared<FakeLoader>(world));
  auto a = s.acquire(spec("a"), std::nullopt, nullptr);
  try {
    s.acquire(spec("a"), std::nullopt, nullptr);
    FAIL() << "expected 503";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::resource_exhausted);
    EXPECT_STREQ(e.what(), engine::kServerBusyMessage);
  }
}

}  // namespace
}  // namespace hearth::testing
