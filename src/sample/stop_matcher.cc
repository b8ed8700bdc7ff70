#include "sample/stop_matcher.h"

#include <algorithm>

namespace hearth::sample {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopMatcher::push(std::string_view piece) {
  if (stopped_) return "";
  held_.append(piece);
  // Held text never contains a whole stop string, so the earliest match in held_ is the first
  // one in the stream.
  size_t best = std::string::npos;
  const std::string* which = nullptr;
  for (const std::string& s : stops_) {
    size_t pos = held_.find(s);
    if (pos != std::string::npos && (pos < best || (pos == best && s.size() > which->size()))) {
      best = pos;
      which = &s;
    }
  }
  if (which != nullptr) {
    std::string out = held_.substr(0, best);
    matched_ = *which;
    stopped_ = true;
    held_.clear();
    return out;
  }
  // Hold back the longest tail of held_ that a stop string starts with.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len) {
      if (std::string_view(held_).substr(held_.size() - len) == std::string_view(s).substr(0, len)) {
        keep = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::flush() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

}  // namespace hearth::sample
