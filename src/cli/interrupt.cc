#include "cli/interrupt.h"

#include <signal.h>

#include <chrono>

namespace hearth::cli {
namespace {

std::atomic<unsigned> g_interrupts{0};
// Scopes nest (the REPL's, then each request's): only the outermost installs and restores.
int g_depth = 0;
struct sigaction g_previous;

void on_sigint(int) { g_interrupts.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

unsigned interrupt_count() { return g_interrupts.load(std::memory_order_relaxed); }

InterruptScope::InterruptScope() {
  if (g_depth++ > 0) return;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read blocked on the terminal returns EINTR
  sigaction(SIGINT, &sa, &g_previous);
}

InterruptScope::~InterruptScope() {
  if (--g_depth == 0) sigaction(SIGINT, &g_previous, nullptr);
}

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)) {
  const unsigned start = interrupt_count();
  thread_ = std::thread([this, start] {
    // Polling keeps the signal handler trivial (async-signal-safe); 20 ms is below what a
    // person notices.
    while (!done_) {
      if (interrupt_count() != start) {
        fired_ = true;
        on_interrupt_();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

InterruptWatcher::~InterruptWatcher() {
  done_ = true;
  thread_.join();
}

}  // namespace hearth::cli
