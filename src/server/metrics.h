#pragma once
// Counters for GET /metrics (Prometheus text format 0.0.4).

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace hearth::server {

class Metrics {
 public:
  void count_request(const std::string& method, const std::string& route, int status,
                     double seconds);
  void count_tokens(int prompt_tokens, int64_t prompt_ns, int eval_tokens, int64_t eval_ns);
  void stream_started() { ++active_; }
  void stream_finished() { --active_; }

  // `queue_depth` and `loaded_models` are sampled by the caller at scrape time.
  std::string render(size_t queue_depth, size_t loaded_models) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> requests_;  // label set -> count
  double request_seconds_sum_ = 0;
  uint64_t request_count_ = 0;
  uint64_t prompt_tokens_ = 0, eval_tokens_ = 0;
  double prompt_seconds_ = 0, eval_seconds_ = 0;
  double last_eval_tps_ = 0;
  std::atomic<int64_t> active_{0};
};

}  // namespace hearth::server
