#pragma once
// Progress for long operations (pull, push, create, quantize), fed by the API's progress objects
// {"status", "digest", "total", "completed"}. On a terminal: one line per step, bars redrawn in
// place (`pulling 6a0746a1ec1a:  45% ▕███████         ▏ 2.1 GB/4.7 GB  48 MB/s  54s`). Otherwise
// plain lines: each step once, and each bar when it starts and when it completes.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::cli {

// One bar line of width `width` columns. `rate` in bytes/s (0: unknown, no rate or ETA shown).
std::string render_bar(const std::string& label, uint64_t completed, uint64_t total, double rate,
                       int width);

class ProgressDisplay {
 public:
  ProgressDisplay(FILE* out, bool terminal, int width = 80);
  ~ProgressDisplay();

  // Applies one progress object from the server.
  void update(const nlohmann::ordered_json& event);
  void update(const std::string& status, const std::string& digest, uint64_t total,
              uint64_t completed);
  // Leaves the last frame on screen and moves below it.
  void finish();

 private:
  struct Line {
    std::string key;     // digest for bars, status otherwise
    std::string status;  // label
    uint64_t total = 0, completed = 0;
    bool bar = false;
    bool printed_done = false;
    std::chrono::steady_clock::time_point started;
    uint64_t start_completed = 0;
  };
  std::string text(const Line& l) const;
  void redraw(bool force);

  FILE* out_;
  bool terminal_;
  int width_;
  std::vector<Line> lines_;
  size_t drawn_ = 0;  // lines currently on screen (terminal mode)
  std::chrono::steady_clock::time_point last_draw_{};
  bool finished_ = false;
};

}  // namespace hearth::cli
