#pragma once
// Text formats the CLI shares with Ollama's: decimal byte sizes ("4.7 GB"), relative times
// ("2 weeks ago", "4 minutes from now", "Forever"), Go's time.Duration text, the verbose
// statistics block, and borderless tables.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::cli {

// Ollama's format.HumanBytes: 1000-based units, "%d" from 10 up, one decimal below unless whole.
std::string human_bytes(int64_t bytes);

// Ollama's format.HumanTime relative to `now`: "About a minute ago", "3 days ago",
// "4 minutes from now", "Forever" (more than 20 years ahead), `zero_value` for the epoch.
std::string human_time(std::chrono::system_clock::time_point t,
                       std::chrono::system_clock::time_point now, const std::string& zero_value);

// Go's time.Duration.String with every digit: "0s", "850ns", "1.5µs", "12.345678ms",
// "1.234567891s", "2m3.5s", "1h0m0s".
std::string go_duration(int64_t ns);

// The statistics block Ollama prints after an answer in verbose mode (api.Metrics.Summary): one
// line per metric whose value is > 0, from a final chat/generate response object.
std::string metrics_summary(const nlohmann::json& final_response);

// Parses RFC 3339 ("2026-11-28T11:59:49.1234+01:00", "...Z"). Returns the epoch when it cannot.
std::chrono::system_clock::time_point parse_rfc3339(const std::string& text);

// Ollama's borderless table: columns left-aligned, separated by four spaces. An empty header
// prints rows only.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace hearth::cli
