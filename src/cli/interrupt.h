#pragma once
// Ctrl+C for the CLI: a SIGINT handler that only counts (installed without SA_RESTART, so a
// blocked read returns EINTR), and a watcher that turns a Ctrl+C during a request into a call that
// aborts it (ApiClient::cancel), leaving the process and the session alive.

#include <atomic>
#include <functional>
#include <thread>

namespace hearth::cli {

// Installs the handler for the lifetime of the object and restores the previous one after.
// Scopes nest; create and destroy them on the main thread.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

// How many SIGINTs arrived since start (the handler only increments it).
unsigned interrupt_count();

// A descriptor that becomes readable when a SIGINT arrives (the handler also writes a byte to a
// pipe), so a reader can wait on it beside stdin: a signal that lands just before a blocking read
// starts would otherwise leave that read waiting for a key. -1 before the first InterruptScope.
// Call drain_interrupt_fd() after it wakes you.
int interrupt_fd();
void drain_interrupt_fd();

// While alive, calls `on_interrupt` (from its own thread) once when a new SIGINT arrives.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(std::function<void()> on_interrupt);
  ~InterruptWatcher();
  bool fired() const { return fired_; }

 private:
  std::function<void()> on_interrupt_;
  std::atomic<bool> done_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace hearth::cli
