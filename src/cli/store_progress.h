#pragma once
// Draws store progress events (pull, push, create run in-process) on stderr: on a terminal each
// step is one line and transfer bars are redrawn in place; into a pipe each step is printed once
// and a bar only when its layer completes.

#include <cstdio>
#include <string>
#include <vector>

#include "store/registry_client.h"

namespace hearth::cli {

class StoreProgressPrinter {
 public:
  explicit StoreProgressPrinter(FILE* out = stderr);
  ~StoreProgressPrinter() { finish(); }
  void operator()(const store::Progress& p);
  store::ProgressFn callback() {
    return [this](const store::Progress& p) { (*this)(p); };
  }
  void finish();

 private:
  struct Line {
    std::string key;
    std::string text;
    bool done = false;
  };
  void redraw();

  FILE* out_;
  bool terminal_;
  std::vector<Line> lines_;
  size_t drawn_ = 0;
  bool finished_ = false;
};

// Ollama's HumanBytes: "4.7 GB", "12 MB", "512 B".
std::string store_human_bytes(uint64_t n);

}  // namespace hearth::cli
