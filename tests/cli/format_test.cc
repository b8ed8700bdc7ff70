#include "cli/format.h"

#include <gtest/gtest.h>

#include "cli/verb_text.h"

namespace hearth::cli {
namespace {

using namespace std::chrono;

TEST(HumanBytes, MatchesOllamaRounding) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1000), "1 KB");
  EXPECT_EQ(human_bytes(1500), "1.5 KB");
  EXPECT_EQ(human_bytes(4'700'000'000), "4.7 GB");
  EXPECT_EQ(human_bytes(2'000'000'000), "2 GB");
  EXPECT_EQ(human_bytes(12'340'000), "12 MB");  // %d from 10 up
  EXPECT_EQ(human_bytes(1'230'000'000'000), "1.2 TB");
}

TEST(HumanTime, PastFutureAndForever) {
  const auto now = system_clock::now();
  EXPECT_EQ(human_time(now - seconds(30), now, "Never"), "30 seconds ago");
  EXPECT_EQ(human_time(now - minutes(1), now, "Never"), "About a minute ago");
  EXPECT_EQ(human_time(now - hours(1), now, "Never"), "About an hour ago");
  EXPECT_EQ(human_time(now - hours(24 * 3), now, "Never"), "3 days ago");
  EXPECT_EQ(human_time(now - hours(24 * 15), now, "Never"), "2 weeks ago");
  EXPECT_EQ(human_time(now - hours(24 * 90), now, "Never"), "3 months ago");
  EXPECT_EQ(human_time(now + minutes(4) + seconds(30), now, "Never"), "4 minutes from now");
  EXPECT_EQ(human_time(now + hours(24 * 365 * 100), now, "Never"), "Forever");
  EXPECT_EQ(human_time(parse_rfc3339("2999-01-01T00:00:00Z"), now, "Never"), "Forever");
  EXPECT_EQ(human_time(system_clock::time_point{}, now, "Never"), "Never");
}

TEST(GoDuration, EveryUnitWithAllDigits) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(850), "850ns");
  EXPECT_EQ(go_duration(1500), "1.5µs");
  EXPECT_EQ(go_duration(12'345'678), "12.345678ms");
  EXPECT_EQ(go_duration(12'300'000), "12.3ms");
  EXPECT_EQ(go_duration(1'234'567'891), "1.234567891s");
  EXPECT_EQ(go_duration(123'500'000'000), "2m3.5s");
  EXPECT_EQ(go_duration(3'600'000'000'000), "1h0m0s");
  EXPECT_EQ(go_duration(-1'500'000'000), "-1.5s");
}

TEST(MetricsSummary, OllamaBlockSkipsZeroLines) {
  nlohmann::json r = {{"total_duration", 1'234'567'891}, {"load_duration", 12'300'000},
                      {"prompt_eval_count", 26},         {"prompt_eval_duration", 130'000'000},
                      {"eval_count", 290},               {"eval_duration", 2'900'000'000}};
  EXPECT_EQ(metrics_summary(r),
            "total duration:       1.234567891s\n"
            "load duration:        12.3ms\n"
            "prompt eval count:    26 token(s)\n"
            "prompt eval duration: 130ms\n"
            "prompt eval rate:     200.00 tokens/s\n"
            "eval count:           290 token(s)\n"
            "eval duration:        2.9s\n"
            "eval rate:            100.00 tokens/s\n");
  EXPECT_EQ(metrics_summary({{"eval_count", 3}}), "eval count:           3 token(s)\n");
  EXPECT_EQ(metrics_summary(nlohmann::json::object()), "");
}

TEST(Rfc3339, UtcAndOffsets) {
  const auto a = parse_rfc3339("2026-11-28T10:00:00Z");
  const auto b = parse_rfc3339("2026-11-28T11:00:00.5+01:00");
  EXPECT_EQ(duration_cast<milliseconds>(b - a).count(), 500);
  EXPECT_EQ(parse_rfc3339("not a time").time_since_epoch().count(), 0);
}

TEST(Table, BorderlessFourSpaces) {
  EXPECT_EQ(format_table({"NAME", "ID"}, {{"llama3.2:latest", "a80c4f17acd5"}, {"x:1", "b"}}),
            "NAME               ID\n"
            "llama3.2:latest    a80c4f17acd5\n"
            "x:1                b\n");
  EXPECT_EQ(format_table({}, {{"", "architecture", "llama"}}), "    architecture    llama\n");
}

TEST(Ps, ProcessorColumn) {
  EXPECT_EQ(processor_text(100, 0), "100% CPU");
  EXPECT_EQ(processor_text(100, 100), "100% GPU");
  EXPECT_EQ(processor_text(100, 52), "48%/52% CPU/GPU");
  EXPECT_EQ(processor_text(100, 200), "Unknown");
}

TEST(Ps, TableFromApiReply) {
  const auto now = parse_rfc3339("2026-11-28T10:00:00Z");
  nlohmann::ordered_json ps = {
      {"models",
       {{{"name", "qwen3:latest"},
         {"digest", "0123456789abcdef0123"},
         {"size", 5'000'000'000},
         {"size_vram", 0},
         {"context_length", 4096},
         {"expires_at", "2026-11-28T11:04:30+01:00"}},
        {{"name", "old:latest"},
         {"digest", "fedcba9876543210"},
         {"size", 1'000'000},
         {"size_vram", 0},
         {"context_length", 2048},
         {"expires_at", "2026-11-28T09:59:00Z"}}}}};
  EXPECT_EQ(ps_table(ps, "", now),
            "NAME            ID              SIZE    PROCESSOR    CONTEXT    UNTIL\n"
            "qwen3:latest    0123456789ab    5 GB    100% CPU     4096       4 minutes from now\n"
            "old:latest      fedcba987654    1 MB    100% CPU     2048       Stopping...\n");
  EXPECT_EQ(ps_table(ps, "old", now).find("qwen3"), std::string::npos);
}

TEST(Version, WarnsWithoutServerOrOnMismatch) {
  EXPECT_NE(version_text("", false).find("Warning: could not connect to a running Hearth instance"),
            std::string::npos);
  EXPECT_NE(version_text("9.9.9", true).find("hearth version is 9.9.9\nWarning: client version is"),
            std::string::npos);
}

}  // namespace
}  // namespace hearth::cli
