#include "cli/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

namespace hearth::cli {
namespace {

std::atomic<unsigned> g_interrupts{0};
// Scopes nest (the REPL's, then each request's): only the outermost installs and restores.
int g_depth = 0;
struct sigaction g_previous;

// Self-pipe: [0] is read by interrupt_fd()'s users, [1] written by the handler. Both non-blocking,
// so a full pipe never blocks the handler (a pending byte already wakes the reader).
int g_pipe[2] = {-1, -1};

void on_sigint(int) {
  const int saved = errno;  // write() may change it under the interrupted code
  g_interrupts.fetch_add(1, std::memory_order_relaxed);
  if (g_pipe[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] ssize_t n = write(g_pipe[1], &b, 1);
  }
  errno = saved;
}

}  // namespace

unsigned interrupt_count() { return g_interrupts.load(std::memory_order_relaxed); }

int interrupt_fd() { return g_pipe[0]; }

void drain_interrupt_fd() {
  char buf[64];
  while (g_pipe[0] >= 0 && read(g_pipe[0], buf, sizeof buf) > 0) {
  }
}

InterruptScope::InterruptScope() {
  if (g_depth++ > 0) return;
  if (g_pipe[0] < 0 && pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) g_pipe[0] = g_pipe[1] = -1;
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
