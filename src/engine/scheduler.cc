#include "engine/scheduler.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <future>

#include "util/error.h"
#include "util/log.h"

namespace hearth::engine {

namespace {
using SteadyClock = std::chrono::steady_clock;
constexpr auto kWaitPoll = std::chrono::milliseconds(25);  // how often a waiter checks its client
}  // namespace

Scheduler::Lease& Scheduler::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    name_ = std::move(o.name_);
    generation_ = o.generation_;
    model_ = std::move(o.model_);
    keep_alive_ = o.keep_alive_;
    o.owner_ = nullptr;
    o.model_.reset();
  }
  return *this;
}

void Scheduler::Lease::release() {
  if (owner_ != nullptr) {
    model_.reset();
    owner_->release(name_, generation_, keep_alive_);
    owner_ = nullptr;
  }
}

Scheduler::Scheduler(SchedulerOptions options, std::shared_ptr<ModelLoader> loader)
    : options_(options), loader_(std::move(loader)) {
  reaper_ = std::thread([this] { reaper_loop(); });
}

Scheduler::~Scheduler() {
  std::map<std::string, Entry> doomed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
    doomed.swap(models_);
  }
  cv_.notify_all();
  reaper_cv_.notify_all();
  reaper_.join();
  doomed.clear();  // backends are destroyed outside the lock
}

uint64_t Scheduler::used_bytes() const {
  uint64_t sum = 0;
  for (const auto& [name, e] : models_) sum += e.bytes;
  return sum;
}

bool Scheduler::make_room(uint64_t bytes, std::vector<std::shared_ptr<LoadedModel>>& graveyard) {
  for (;;) {
    size_t count = models_.size();
    bool fits = count < std::max<size_t>(options_.max_loaded, 1) &&
                (options_.memory_budget == 0 || count == 0 ||
                 used_bytes() + bytes <= options_.memory_budget);
    if (fits) return true;
    auto victim = models_.end();
    for (auto it = models_.begin(); it != models_.end(); ++it) {
      const Entry& e = it->second;
      if (e.active != 0 || e.loading) continue;
      if (victim == models_.end() || e.last_used < victim->second.last_used) victim = it;
    }
    if (victim == models_.end()) return false;
    HEARTH_LOG_INFO("unloading " + victim->first + " to make room");
    graveyard.push_back(std::move(victim->second.model));
    models_.erase(victim);
  }
}

Scheduler::Lease Scheduler::acquire(const LoadSpec& spec, std::optional<Nanos> keep_alive,
                                    const std::function<bool()>& cancelled) {
  const uint64_t estimate = loader_->estimate_bytes(spec);
  const size_t slots = static_cast<size_t>(std::max(spec.num_parallel, 1));
  std::vector<std::shared_ptr<LoadedModel>> graveyard;
  std::unique_lock<std::mutex> lk(mu_);
  bool queued = false;
  struct Unqueue {
    Scheduler* s;
    bool* queued;
    ~Unqueue() {
      if (*queued) --s->waiting_;  // runs with mu_ held: every exit below holds the lock
    }
  } unqueue{this, &queued};

  auto make_lease = [&](Entry& e) {
    Lease lease;
    lease.owner_ = this;
    lease.name_ = spec.name;
    lease.generation_ = e.generation;
    lease.model_ = e.model;
    lease.keep_alive_ = keep_alive;
    return lease;
  };

  for (;;) {
    if (stopping_) throw Error(ErrorCode::cancelled, "server is shutting down");
    if (!graveyard.empty()) {
      lk.unlock();
      graveyard.clear();
      lk.lock();
      continue;
    }
    auto it = models_.find(spec.name);
    if (it != models_.end() && !it->second.loading) {
      Entry& e = it->second;
      if (!e.spec.same_load(spec)) {
        if (e.active == 0) {  // different load options: reload
          graveyard.push_back(std::move(e.model));
          models_.erase(it);
          continue;
        }
      } else if (e.active < slots) {
        ++e.active;
        e.unload_when_idle = false;
        e.last_used = SteadyClock::now();
        reaper_cv_.notify_all();
        return make_lease(e);
      }
    } else if (it == models_.end() && make_room(estimate, graveyard)) {
      Entry& e = models_[spec.name];
      e.spec = spec;
      e.loading = true;
      e.generation = next_generation_++;
      e.bytes = estimate;
      e.last_used = SteadyClock::now();
      const uint64_t generation = e.generation;
      LoadSpec load = spec;  // the GPU memory the loaded models hold is not this one's to take
      for (const auto& [other, o] : models_) {
        if (o.model) load.gpu_in_use += o.model->vram_bytes();
      }
      lk.unlock();
      graveyard.clear();
      auto started = SteadyClock::now();
      std::unique_ptr<LoadedModel> loaded_model;
      try {
        loaded_model = load_with_timeout(load);
      } catch (...) {
        lk.lock();
        auto again = models_.find(spec.name);
        if (again != models_.end() && again->second.generation == generation) models_.erase(again);
        cv_.notify_all();
        throw;
      }
      double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
      lk.lock();
      auto again = models_.find(spec.name);
      if (again == models_.end() || again->second.generation != generation) {
        // Shut down while loading; the graveyard is destroyed after the lock is released.
        graveyard.push_back(std::shared_ptr<LoadedModel>(std::move(loaded_model)));
        throw Error(ErrorCode::cancelled, "server is shutting down");
      }
      Entry& loaded = again->second;
      loaded.model = std::shared_ptr<LoadedModel>(std::move(loaded_model));
      loaded.loading = false;
      loaded.bytes = std::max(loaded.model->memory_bytes(), estimate);
      loaded.active = 1;
      loaded.last_used = SteadyClock::now();
      cv_.notify_all();
      HEARTH_LOG_INFO("loaded " + spec.name + " in " + std::to_string(seconds) + " s");
      return make_lease(loaded);
    }
    if (!graveyard.empty()) continue;
    // Wait for a slot, a load or an unload.
    if (!queued) {
      if (waiting_ >= options_.max_queue) {
        throw Error(ErrorCode::resource_exhausted, kServerBusyMessage);
      }
      ++waiting_;
      queued = true;
    }
    cv_.wait_for(lk, kWaitPoll);
    if (cancelled) {
      lk.unlock();
      bool gone = false;
      try {
        gone = cancelled();
      } catch (...) {
        gone = true;
      }
      lk.lock();
      if (gone) throw Error(ErrorCode::cancelled, "request canceled");
    }
  }
}

std::unique_ptr<LoadedModel> Scheduler::load_with_timeout(const LoadSpec& spec) {
  if (options_.load_timeout.count() <= 0) return loader_->load(spec);
  // The load runs on its own thread so that the request can give up on it; the thread owns
  // everything it touches (the loader is shared), so it may outlive this call or the scheduler.
  auto task = std::make_shared<std::packaged_task<std::unique_ptr<LoadedModel>()>>(
      [loader = loader_, spec] { return loader->load(spec); });
  std::future<std::unique_ptr<LoadedModel>> result = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (result.wait_for(options_.load_timeout) == std::future_status::timeout) {
    // Ollama's text; it reports load progress, which an in-process mmap load does not have.
    HEARTH_LOG_WARN("load of " + spec.name + " exceeded HEARTH_LOAD_TIMEOUT; giving up on it");
    throw Error(ErrorCode::internal, "timed out waiting for llama runner to start - progress 0.00 - ");
  }
  return result.get();
}

void Scheduler::release(const std::string& name, uint64_t generation,
                        std::optional<Nanos> keep_alive) {
  std::shared_ptr<LoadedModel> doomed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = models_.find(name);
    if (it == models_.end() || it->second.generation != generation) return;
    Entry& e = it->second;
    if (e.active > 0) --e.active;
    e.last_used = SteadyClock::now();
    e.keep_alive = keep_alive.value_or(options_.default_keep_alive);
    if (e.active == 0) {
      if (e.unload_when_idle || e.keep_alive.count() == 0) {
        doomed = std::move(e.model);
        models_.erase(it);
      } else if (e.keep_alive.count() > 0) {
        e.expires = e.last_used + e.keep_alive;
      }
    }
  }
  cv_.notify_all();
  reaper_cv_.notify_all();
  doomed.reset();
}

bool Scheduler::unload(const std::string& name) {
  std::shared_ptr<LoadedModel> doomed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return false;
    if (it->second.active == 0 && !it->second.loading) {
      doomed = std::move(it->second.model);
      models_.erase(it);
    } else {
      it->second.unload_when_idle = true;
    }
  }
  cv_.notify_all();
  doomed.reset();
  return true;
}

std::vector<LoadedModelInfo> Scheduler::loaded() const {
  std::vector<LoadedModelInfo> out;
  std::lock_guard<std::mutex> lk(mu_);
  auto steady_now = SteadyClock::now();
  auto system_now = std::chrono::system_clock::now();
  for (const auto& [name, e] : models_) {
    if (e.loading) continue;
    LoadedModelInfo info;
    info.name = name;
    info.digest = e.spec.digest;
    info.model_path = e.spec.model_path;
    info.size = e.bytes;
    info.size_vram = e.model ? std::min(e.model->vram_bytes(), e.bytes) : 0;
    info.context_length = e.model ? e.model->num_ctx() : e.spec.num_ctx;
    info.active = e.active;
    info.forever = e.keep_alive.count() < 0;
    if (e.active == 0 && e.keep_alive.count() > 0) {
      info.expires_at = system_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                         e.expires - steady_now);
    } else {
      info.expires_at = system_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                         e.keep_alive.count() > 0 ? e.keep_alive : Nanos(0));
    }
    info.model = e.model;
    out.push_back(std::move(info));
  }
  return out;
}

size_t Scheduler::queue_depth() const {
  std::lock_guard<std::mutex> lk(mu_);
  return waiting_;
}

void Scheduler::reaper_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    auto now = SteadyClock::now();
    std::vector<std::shared_ptr<LoadedModel>> graveyard;
    std::optional<SteadyClock::time_point> next;
    for (auto it = models_.begin(); it != models_.end();) {
      Entry& e = it->second;
      if (e.active == 0 && !e.loading && e.keep_alive.count() > 0) {
        if (e.expires <= now) {
          HEARTH_LOG_INFO("keep_alive expired, unloading " + it->first);
          graveyard.push_back(std::move(e.model));
          it = models_.erase(it);
          continue;
        }
        if (!next || e.expires < *next) next = e.expires;
      }
      ++it;
    }
    if (!graveyard.empty()) {
      lk.unlock();
      graveyard.clear();
      cv_.notify_all();
      lk.lock();
      continue;
    }
    if (next) {
      reaper_cv_.wait_until(lk, *next);
    } else {
      reaper_cv_.wait(lk);
    }
  }
}

Nanos parse_keep_alive(const std::string& raw, bool bare_number_is_seconds) {
  std::string text;
  for (char c : raw) {
    if (!std::isspace(static_cast<unsigned char>(c))) text += c;
  }
  auto bad = [&] {
    return Error(ErrorCode::invalid_argument, "time: invalid duration \"" + raw + "\"");
  };
  if (text.empty()) throw bad();
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) throw bad();
  // A bare number: seconds (environment form), or Go's lone "0".
  bool all_numeric = text.find_first_not_of("0123456789.", i) == std::string::npos;
  if (all_numeric) {
    char* end = nullptr;
    double v = std::strtod(text.c_str() + i, &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) throw bad();
    if (!bare_number_is_seconds && v != 0) throw bad();
    double ns = v * 1e9;
    if (ns > 9.2e18) ns = 9.2e18;
    return Nanos(static_cast<int64_t>(negative ? -ns : ns));
  }
  double total = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) throw bad();
    std::string number = text.substr(start, i - start);
    if (number == ".") throw bad();
    double v = std::strtod(number.c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.') ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else throw bad();
    total += v * scale;
  }
  if (total > 9.2e18) total = 9.2e18;
  return Nanos(static_cast<int64_t>(negative ? -total : total));
}

}  // namespace hearth::engine
