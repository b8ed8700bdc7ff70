#include "cli/repl_terminal.h"

#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <string>

#include "cli/interrupt.h"
#include "util/env.h"

namespace hearth::cli {
namespace {

struct EditorState {
  Repl* repl = nullptr;
  bool interrupted = false;
  bool line_was_empty = true;
  unsigned seen_interrupts = 0;
  std::mbstate_t mb{};
};

EditorState* state_of(EditLine* el) {
  void* p = nullptr;
  el_get(el, EL_CLIENTDATA, &p);
  return static_cast<EditorState*>(p);
}

const char* prompt(EditLine* el) { return state_of(el)->repl->continuation() ? "... " : ">>> "; }

void note_interrupt(EditLine* el, EditorState* st) {
  const LineInfo* li = el_line(el);
  st->line_was_empty = li == nullptr || li->lastchar == li->buffer;
  st->interrupted = true;
}

// Reads one character for libedit. Ctrl+C arrives either as SIGINT (ISIG on) or as a 0x03 byte
// (ISIG off in edit mode); both end the line as an interrupt, which libedit's own reader would
// swallow by retrying the read. The signal can land before read() starts (while libedit sets up
// the terminal, as a fast typist or a test sends it), so the reader waits on stdin and the
// handler's pipe together instead of trusting read() to fail with EINTR.
int read_char(EditLine* el, wchar_t* out) {
  EditorState* st = state_of(el);
  for (;;) {
    if (interrupt_count() != st->seen_interrupts) {
      st->seen_interrupts = interrupt_count();
      drain_interrupt_fd();
      note_interrupt(el, st);
      return 0;
    }
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
    const int nfds = fds[1].fd >= 0 ? 2 : 1;
    if (poll(fds, nfds, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (nfds == 2 && (fds[1].revents & POLLIN) != 0) drain_interrupt_fd();
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return n < 0 ? -1 : 0;
    if (c == '\x03') {
      note_interrupt(el, st);
      return 0;
    }
    // libedit prints the prompt before it takes the terminal out of canonical mode, so a Ctrl+D
    // typed right after the prompt can land in canonical mode, where the kernel stores the EOF as
    // a NUL byte, which is what reading then gives in raw mode. Take NUL as the Ctrl+D it was
    // (Ctrl+@ / Ctrl+Space, the only keys that send NUL, mean nothing at a chat prompt).
    if (c == '\0') c = '\x04';
    wchar_t wc;
    size_t r = std::mbrtowc(&wc, &c, 1, &st->mb);
    if (r == static_cast<size_t>(-2)) continue;  // more bytes of this character to come
    if (r == static_cast<size_t>(-1)) {
      st->mb = std::mbstate_t{};
      wc = static_cast<unsigned char>(c);
    }
    *out = wc;
    return 1;
  }
}

}  // namespace

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return {};
  std::string dir = std::string(home) + "/.hearth";
  mkdir(dir.c_str(), 0755);
  return dir + "/history";
}

void run_repl_on_terminal(Repl& repl) {
  std::setlocale(LC_CTYPE, "");
  EditorState st;
  st.repl = &repl;
  st.seen_interrupts = interrupt_count();
  EditLine* el = el_init("hearth", stdin, stdout, stderr);
  HistoryW* hist = history_winit();
  HistEventW ev;
  history_w(hist, &ev, H_SETSIZE, 1000);
  history_w(hist, &ev, H_SETUNIQUE, 1);
  const std::string hpath = history_path();
  if (env_flag("HEARTH_NOHISTORY")) repl.set_history_enabled(false);
  if (!hpath.empty()) history_w(hist, &ev, H_LOAD, hpath.c_str());
  el_wset(el, EL_HIST, history_w, hist);
  el_set(el, EL_CLIENTDATA, &st);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_PROMPT, prompt);
  el_set(el, EL_GETCFN, read_char);
  el_source(el, nullptr);  // ~/.editrc, as every libedit program honours

  for (;;) {
    st.interrupted = false;
    st.mb = std::mbstate_t{};
    int count = 0;
    const wchar_t* wline = el_wgets(el, &count);
    if (st.interrupted) {
      repl.interrupt(st.line_was_empty);
      if (!st.line_was_empty) std::fputs("\n", stdout);
      std::fflush(stdout);
      el_reset(el);
      continue;
    }
    if (wline == nullptr || count <= 0) {
      repl.end_of_input();
      break;
    }
    std::wstring w(wline);
    while (!w.empty() && (w.back() == L'\n' || w.back() == L'\r')) w.pop_back();
    // Back to UTF-8 for the rest of the program.
    std::string line;
    std::mbstate_t mb{};
    for (wchar_t c : w) {
      char buf[MB_LEN_MAX];
      size_t n = std::wcrtomb(buf, c, &mb);
      if (n != static_cast<size_t>(-1)) line.append(buf, n);
    }
    if (repl.history_enabled() && !line.empty()) {
      history_w(hist, &ev, H_ENTER, w.c_str());
      if (!hpath.empty()) history_w(hist, &ev, H_SAVE, hpath.c_str());
    }
    repl.set_width(terminal_width());
    if (repl.handle_line(line) == Repl::Status::exit) break;
    std::fflush(stdout);
    // A Ctrl+C during the answer was the request's (it stopped it), not the next prompt's.
    st.seen_interrupts = interrupt_count();
  }
  el_end(el);
  history_wend(hist);
}

}  // namespace hearth::cli
