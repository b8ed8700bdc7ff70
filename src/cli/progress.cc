#include "cli/progress.h"

#include <algorithm>
#include <cmath>

#include "cli/format.h"

namespace hearth::cli {
namespace {

std::string eta_text(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

}  // namespace

std::string render_bar(const std::string& label, uint64_t completed, uint64_t total, double rate,
                       int width) {
  completed = std::min(completed, total);
  const int pct = total > 0 ? static_cast<int>(completed * 100 / total) : 0;
  char pbuf[8];
  std::snprintf(pbuf, sizeof pbuf, "%3d%%", pct);
  std::string prefix = label + ": " + pbuf + " ";
  std::string suffix;
  if (completed >= total) {
    suffix = " " + human_bytes(static_cast<int64_t>(total));
  } else {
    suffix = " " + human_bytes(static_cast<int64_t>(completed)) + "/" +
             human_bytes(static_cast<int64_t>(total));
    if (rate > 0) {
      suffix += "  " + human_bytes(static_cast<int64_t>(rate)) + "/s  " +
                eta_text(static_cast<double>(total - completed) / rate);
    }
  }
  // The bar takes what is left, between 10 and 40 cells, framed by ▕ and ▏.
  const int room = width - static_cast<int>(prefix.size() + suffix.size()) - 2;
  const int cells = std::clamp(room, 10, 40);
  const int full = total > 0 ? static_cast<int>(static_cast<double>(completed) * cells / total) : 0;
  std::string bar = "▕";
  for (int i = 0; i < cells; ++i) bar += i < full ? "█" : " ";
  bar += "▏";
  return prefix + bar + suffix;
}

ProgressDisplay::ProgressDisplay(FILE* out, bool terminal, int width)
    : out_(out), terminal_(terminal), width_(width) {}

ProgressDisplay::~ProgressDisplay() { finish(); }

void ProgressDisplay::update(const nlohmann::ordered_json& e) {
  auto str = [&](const char* k) {
    auto it = e.find(k);
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) -> uint64_t {
    auto it = e.find(k);
    return it != e.end() && it->is_number() ? it->get<uint64_t>() : 0;
  };
  update(str("status"), str("digest"), num("total"), num("completed"));
}

void ProgressDisplay::update(const std::string& status, const std::string& digest, uint64_t total,
                             uint64_t completed) {
  if (status.empty() && digest.empty()) return;
  const bool bar = !digest.empty() && total > 0;
  const std::string key = bar ? digest : status;
  auto it = std::find_if(lines_.begin(), lines_.end(), [&](const Line& l) { return l.key == key; });
  const bool is_new = it == lines_.end();
  if (is_new) {
    Line l;
    l.key = key;
    l.status = status;
    l.bar = bar;
    l.started = std::chrono::steady_clock::now();
    l.start_completed = completed;
    lines_.push_back(l);
    it = lines_.end() - 1;
  }
  it->status = status.empty() ? it->status : status;
  it->total = total;
  it->completed = completed;
  if (terminal_) {
    redraw(is_new || (bar && completed >= total));
    return;
  }
  // Plain output: a step once, a bar when it appears and when it completes.
  if (is_new) std::fprintf(out_, "%s\n", text(*it).c_str());
  if (bar && completed >= total && !it->printed_done && !is_new) {
    std::fprintf(out_, "%s\n", text(*it).c_str());
  }
  if (bar && completed >= total) it->printed_done = true;
  std::fflush(out_);
}

std::string ProgressDisplay::text(const Line& l) const {
  if (!l.bar) return l.status;
  double rate = 0;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - l.started).count();
  if (secs > 0.5 && l.completed > l.start_completed) {
    rate = static_cast<double>(l.completed - l.start_completed) / secs;
  }
  return render_bar(l.status, l.completed, l.total, terminal_ ? rate : 0, width_);
}

void ProgressDisplay::redraw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  // Redrawing on every chunk of a fast local copy would flood the terminal.
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string s;
  if (drawn_ > 1) s += "\x1b[" + std::to_string(drawn_ - 1) + "A";
  s += "\r";
  for (size_t i = 0; i < lines_.size(); ++i) {
    s += "\x1b[K" + text(lines_[i]);
    if (i + 1 < lines_.size()) s += "\n";
  }
  drawn_ = lines_.size();
  std::fputs(s.c_str(), out_);
  std::fflush(out_);
}

void ProgressDisplay::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && !lines_.empty()) {
    redraw(true);
    std::fputs("\n", out_);
    std::fflush(out_);
  }
}

}  // namespace hearth::cli
