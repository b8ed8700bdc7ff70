#pragma once
// Text stop sequences over a stream of decoded pieces. Text that might be the start of a stop
// string is held back until the next piece decides it; when a stop string completes, the output
// is cut right before it (the stop string itself is never emitted), across any piece boundaries.

#include <string>
#include <string_view>
#include <vector>

namespace hearth::sample {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Adds a piece; returns the text now safe to emit (may be empty). After a stop has matched,
  // returns "" for every further piece.
  std::string push(std::string_view piece);
  // End of generation without a stop: returns whatever was held back.
  std::string flush();

  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }  // the stop string that matched
  bool empty() const { return stops_.empty(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace hearth::sample
