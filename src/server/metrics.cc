#include "server/metrics.h"

#include <cstdio>

namespace hearth::server {

void Metrics::count_request(const std::string& method, const std::string& route, int status,
                            double seconds) {
  std::string labels = "method=\"" + method + "\",path=\"" + route + "\",status=\"" +
                       std::to_string(status) + "\"";
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[labels];
  request_seconds_sum_ += seconds;
  ++request_count_;
}

void Metrics::count_tokens(int prompt_tokens, int64_t prompt_ns, int eval_tokens, int64_t eval_ns) {
  std::lock_guard<std::mutex> lk(mu_);
  prompt_tokens_ += static_cast<uint64_t>(std::max(prompt_tokens, 0));
  eval_tokens_ += static_cast<uint64_t>(std::max(eval_tokens, 0));
  prompt_seconds_ += static_cast<double>(prompt_ns) / 1e9;
  eval_seconds_ += static_cast<double>(eval_ns) / 1e9;
  if (eval_ns > 0) last_eval_tps_ = eval_tokens * 1e9 / static_cast<double>(eval_ns);
}

std::string Metrics::render(size_t queue_depth, size_t loaded_models) const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out;
  char buf[1024];
  out += "# HELP hearth_requests_total HTTP requests served.\n# TYPE hearth_requests_total counter\n";
  for (const auto& [labels, n] : requests_) {
    out += "hearth_requests_total{" + labels + "} " + std::to_string(n) + "\n";
  }
  std::snprintf(buf, sizeof buf,
                "# HELP hearth_request_duration_seconds Time spent serving requests.\n"
                "# TYPE hearth_request_duration_seconds summary\n"
                "hearth_request_duration_seconds_sum %.6f\nhearth_request_duration_seconds_count %llu\n",
                request_seconds_sum_, static_cast<unsigned long long>(request_count_));
  out += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP hearth_prompt_tokens_total Prompt tokens evaluated.\n"
                "# TYPE hearth_prompt_tokens_total counter\nhearth_prompt_tokens_total %llu\n"
                "# HELP hearth_generated_tokens_total Tokens generated.\n"
                "# TYPE hearth_generated_tokens_total counter\nhearth_generated_tokens_total %llu\n",
                static_cast<unsigned long long>(prompt_tokens_),
                static_cast<unsigned long long>(eval_tokens_));
  out += buf;
  double tps = eval_seconds_ > 0 ? static_cast<double>(eval_tokens_) / eval_seconds_ : 0;
  double ptps = prompt_seconds_ > 0 ? static_cast<double>(prompt_tokens_) / prompt_seconds_ : 0;
  std::snprintf(buf, sizeof buf,
                "# HELP hearth_generation_tokens_per_second Generated tokens per second of eval time, overall.\n"
                "# TYPE hearth_generation_tokens_per_second gauge\nhearth_generation_tokens_per_second %.3f\n"
                "# HELP hearth_prompt_tokens_per_second Prompt tokens per second of prompt eval time, overall.\n"
                "# TYPE hearth_prompt_tokens_per_second gauge\nhearth_prompt_tokens_per_second %.3f\n"
                "# HELP hearth_last_generation_tokens_per_second Generation speed of the latest request.\n"
                "# TYPE hearth_last_generation_tokens_per_second gauge\nhearth_last_generation_tokens_per_second %.3f\n",
                tps, ptps, last_eval_tps_);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP hearth_queue_depth Requests waiting for a slot or a model load.\n"
                "# TYPE hearth_queue_depth gauge\nhearth_queue_depth %zu\n"
                "# HELP hearth_loaded_models Models loaded in memory.\n"
                "# TYPE hearth_loaded_models gauge\nhearth_loaded_models %zu\n"
                "# HELP hearth_active_streams Responses being generated.\n"
                "# TYPE hearth_active_streams gauge\nhearth_active_streams %lld\n",
                queue_depth, loaded_models, static_cast<long long>(active_.load()));
  out += buf;
  return out;
}

}  // namespace hearth::server
