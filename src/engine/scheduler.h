#pragma once
// Model lifecycle for the server (ollama-compat.md section 8): load on first use, up to
// num_parallel requests per loaded model at once, a bounded queue for the rest (503 when full),
// keep_alive expiry, least-recently-used eviction under max_loaded and a memory budget, and never
// an unload under a running request. Written against LoadedModel so tests use a fake.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/loaded_model.h"

namespace hearth::engine {

// Ollama's message for a full queue (two spaces, as Ollama writes it).
inline constexpr const char* kServerBusyMessage =
    "server busy, please try again.  maximum pending requests exceeded";

using Nanos = std::chrono::nanoseconds;

struct SchedulerOptions {
  size_t max_loaded = 3;
  size_t max_queue = 512;       // requests that may wait for a slot or a load
  uint64_t memory_budget = 0;   // bytes; 0 = unlimited
  Nanos default_keep_alive = std::chrono::minutes(5);  // negative: forever
  // How long a load may take before the request fails (HEARTH_LOAD_TIMEOUT, Ollama's 5m); zero
  // or negative: no limit. The abandoned load finishes in the background and is discarded.
  Nanos load_timeout = std::chrono::minutes(5);
};

struct LoadedModelInfo {
  std::string name;
  std::string digest;
  std::string model_path;
  uint64_t size = 0;
  uint64_t size_vram = 0;  // of size, the bytes in GPU memory
  int context_length = 0;
  size_t active = 0;  // running requests
  bool forever = false;
  std::chrono::system_clock::time_point expires_at;  // meaningful when !forever and idle
  std::shared_ptr<LoadedModel> model;
};

class Scheduler {
 public:
  // A running request's hold on a loaded model; releasing it (destruction) frees the slot and
  // starts the keep_alive timer when it was the last one.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept { *this = std::move(o); }
    Lease& operator=(Lease&& o) noexcept;
    ~Lease() { release(); }
    LoadedModel& model() const { return *model_; }
    void release();
    explicit operator bool() const { return model_ != nullptr; }

   private:
    friend class Scheduler;
    Scheduler* owner_ = nullptr;
    std::string name_;
    uint64_t generation_ = 0;
    std::shared_ptr<LoadedModel> model_;
    std::optional<Nanos> keep_alive_;
  };

  Scheduler(SchedulerOptions options, std::shared_ptr<ModelLoader> loader);
  ~Scheduler();  // unloads everything
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Waits for a slot on `spec.name` (loading it first when needed). `keep_alive` unset means the
  // default. Throws Error(resource_exhausted, kServerBusyMessage) when the queue is full,
  // Error(cancelled, "request canceled") when `cancelled` turns true while waiting, and the
  // loader's error when loading fails, or Error(internal, "timed out waiting for llama runner to
  // start - progress 0.00 - ") when it takes longer than load_timeout.
  Lease acquire(const LoadSpec& spec, std::optional<Nanos> keep_alive,
                const std::function<bool()>& cancelled);

  // Unloads `name` now when idle, else as soon as its running requests finish. Returns false
  // when it is not loaded.
  bool unload(const std::string& name);

  std::vector<LoadedModelInfo> loaded() const;
  size_t queue_depth() const;
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Entry {
    LoadSpec spec;
    std::shared_ptr<LoadedModel> model;  // null while loading
    uint64_t generation = 0;
    uint64_t bytes = 0;
    size_t active = 0;
    bool loading = false;
    bool unload_when_idle = false;
    Nanos keep_alive{0};
    std::chrono::steady_clock::time_point last_used;
    std::chrono::steady_clock::time_point expires;  // when idle and keep_alive >= 0
  };

  void release(const std::string& name, uint64_t generation, std::optional<Nanos> keep_alive);
  // Removes idle entries (LRU first) until a model of `bytes` fits. Returns false when busy
  // models stand in the way. Unloaded models go to `graveyard` to be destroyed unlocked.
  bool make_room(uint64_t bytes, std::vector<std::shared_ptr<LoadedModel>>& graveyard);
  uint64_t used_bytes() const;
  // loader_->load(spec), bounded by options_.load_timeout.
  std::unique_ptr<LoadedModel> load_with_timeout(const LoadSpec& spec);
  void reaper_loop();

  SchedulerOptions options_;
  std::shared_ptr<ModelLoader> loader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;         // slots, loads and unloads
  std::condition_variable reaper_cv_;  // expiry changes
  std::map<std::string, Entry> models_;
  uint64_t next_generation_ = 1;
  size_t waiting_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

// Parses a keep_alive duration: Go duration text ("5m", "1h30m", "-1m", "300ms") or, when
// `bare_number_is_seconds`, a plain number of seconds. Negative means forever. Throws
// Error(invalid_argument) for anything else.
Nanos parse_keep_alive(const std::string& text, bool bare_number_is_seconds);

}  // namespace hearth::engine
