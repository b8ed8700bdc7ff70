#include "cli/store_progress.h"

#include <unistd.h>

#include <cmath>

namespace hearth::cli {

std::string store_human_bytes(uint64_t b) {
  const char* unit = "B";
  double v = static_cast<double>(b);
  if (b >= 1'000'000'000'000ull) {
    v /= 1e12, unit = "TB";
  } else if (b >= 1'000'000'000ull) {
    v /= 1e9, unit = "GB";
  } else if (b >= 1'000'000ull) {
    v /= 1e6, unit = "MB";
  } else if (b >= 1'000ull) {
    v /= 1e3, unit = "KB";
  } else {
    return std::to_string(b) + " B";
  }
  char buf[64];
  if (v >= 10 || v == std::trunc(v)) {
    std::snprintf(buf, sizeof buf, "%d %s", static_cast<int>(v), unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, unit);
  }
  return buf;
}

StoreProgressPrinter::StoreProgressPrinter(FILE* out) : out_(out), terminal_(::isatty(fileno(out)) != 0) {}

void StoreProgressPrinter::operator()(const store::Progress& p) {
  std::string key = p.digest.empty() ? p.status : p.digest;
  std::string text = p.status;
  bool bar = !p.digest.empty() && p.total > 0;
  bool done = !bar || p.completed >= p.total;
  if (bar) {
    int pct = static_cast<int>(p.completed * 100 / p.total);
    constexpr int kWidth = 25;
    int fill = static_cast<int>(p.completed * kWidth / p.total);
    std::string cells;
    for (int i = 0; i < kWidth; ++i) cells += i < fill ? "\u2588" : " ";
    char head[32];
    std::snprintf(head, sizeof head, ": %3d%% ", pct);
    text += head + std::string("\u2595") + cells + "\u258f ";
    text += done ? store_human_bytes(p.total)
                 : store_human_bytes(p.completed) + "/" + store_human_bytes(p.total);
  }
  Line* line = nullptr;
  for (auto& l : lines_) {
    if (l.key == key) line = &l;
  }
  if (line == nullptr) {
    lines_.push_back({key, "", false});
    line = &lines_.back();
  }
  bool was_done = line->done;
  line->text = text;
  line->done = done;
  if (terminal_) {
    redraw();
  } else if (done && !was_done) {
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
  }
}

void StoreProgressPrinter::redraw() {
  if (drawn_ > 0) std::fprintf(out_, "\x1b[%zuA", drawn_);
  for (const auto& l : lines_) std::fprintf(out_, "\r%s\x1b[K\n", l.text.c_str());
  drawn_ = lines_.size();
  std::fflush(out_);
}

void StoreProgressPrinter::finish() {
  if (finished_) return;
  finished_ = true;
  if (!terminal_) {
    // Steps still open (an error cut them short) are shown as they stood.
    for (const auto& l : lines_) {
      if (!l.done) std::fprintf(out_, "%s\n", l.text.c_str());
    }
    std::fflush(out_);
  }
}

}  // namespace hearth::cli
