// `hearth bench` on a real model: the JSON carries llama-bench's field names and one entry per
// test, with as many samples as repetitions.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

std::string run_stdout(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(BenchVerb, JsonHasLlamaBenchFields) {
  const std::string model = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";
  const std::string out = run_stdout(std::string(HEARTH_EXE) + " bench '" + model +
                                     "' -p 16 -n 8 -r 3 -t 1 -o json 2>/dev/null");
  const nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["n_prompt"], 16);
  EXPECT_EQ(j[0]["n_gen"], 0);
  EXPECT_EQ(j[1]["n_prompt"], 0);
  EXPECT_EQ(j[1]["n_gen"], 8);
  for (const auto& r : j) {
    EXPECT_EQ(r["n_threads"], 1);
    EXPECT_EQ(r["model_filename"], model);
    EXPECT_GT(r["model_size"].get<uint64_t>(), 1000000u);
    ASSERT_EQ(r["samples_ts"].size(), 3u);
    EXPECT_GT(r["avg_ts"].get<double>(), 0.0);
    EXPECT_GE(r["stddev_ts"].get<double>(), 0.0);
  }
}

TEST(BenchVerb, ParallelDecodeEntries) {
  const std::string model = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";
  const std::string out = run_stdout(std::string(HEARTH_EXE) + " bench '" + model +
                                     "' -p 0 -n 8 --parallel 1,3 -r 2 -t 1 -o json 2>/dev/null");
  const nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["n_parallel"], 1);
  EXPECT_EQ(j[1]["n_parallel"], 3);
  for (const auto& r : j) {
    EXPECT_EQ(r["n_gen"], 8);
    ASSERT_EQ(r["samples_ts"].size(), 2u);
    ASSERT_EQ(r["samples_ns"].size(), 2u);
    // Each sample's rate counts every sequence's tokens: n_gen x n_parallel in samples_ns.
    const double tokens = 8.0 * r["n_parallel"].get<int>();
    for (int k = 0; k < 2; ++k) {
      const double ns = r["samples_ns"][k].get<double>();
      EXPECT_NEAR(r["samples_ts"][k].get<double>(), tokens / ns * 1e9, 1e-6 * tokens / ns * 1e9);
    }
    EXPECT_EQ(r["avg_ns"].get<int64_t>(),
              (r["samples_ns"][0].get<int64_t>() + r["samples_ns"][1].get<int64_t>()) / 2);
  }
  const std::string md = run_stdout(std::string(HEARTH_EXE) + " bench '" + model +
                                    "' -p 0 -n 4 --parallel 2 -r 1 -t 1 2>/dev/null");
  EXPECT_NE(md.find("tg4 x2"), std::string::npos) << md;
}

// -d: each test runs after that many tokens are in the cache, named as llama-bench names it.
// stories260K's trained context is 128, so a depth of 100 leaves room for pp16 and tg8; deeper
// than the cache holds fails clearly.
TEST(BenchVerb, TestsAtDepth) {
  const std::string model = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";
  const std::string out = run_stdout(std::string(HEARTH_EXE) + " bench '" + model +
                                     "' -p 16 -n 8 -d 0,100 -r 2 -t 1 -o json 2>/dev/null");
  const nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["n_depth"], 0);
  EXPECT_EQ(j[2]["n_depth"], 100);
  EXPECT_EQ(j[2]["n_prompt"], 16);
  EXPECT_EQ(j[3]["n_gen"], 8);
  const std::string md = run_stdout(std::string(HEARTH_EXE) + " bench '" + model +
                                    "' -p 16 -n 8 -d 100 -r 1 -t 1 2>/dev/null");
  EXPECT_NE(md.find("| pp16 @ d100 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tg8 @ d100 |"), std::string::npos) << md;
}

// Without -k the cache is the one `hearth serve` would make (HEARTH_KV_CACHE_TYPE, else
// OLLAMA_KV_CACHE_TYPE, else f16); -k wins over both; an unknown type fails clearly.
TEST(BenchVerb, CacheTypeFollowsTheEnvironmentUnlessGiven) {
  const std::string model = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";
  auto type_k = [&](const std::string& env, const std::string& flags) {
    const std::string out = run_stdout("env -u HEARTH_KV_CACHE_TYPE -u OLLAMA_KV_CACHE_TYPE " + env + " " +
                                       std::string(HEARTH_EXE) + " bench '" + model + "' -p 0 -n 4 -r 1 -t 1 -o json " +
                                       flags + " 2>/dev/null");
    const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_array() || j.size() != 1u || j[0]["type_v"] != j[0]["type_k"]) return "bad output: " + out;
    return j[0]["type_k"].get<std::string>();
  };
  EXPECT_EQ(type_k("", ""), "f16");
  EXPECT_EQ(type_k("HEARTH_KV_CACHE_TYPE=q8_0", ""), "q8_0");
  EXPECT_EQ(type_k("OLLAMA_KV_CACHE_TYPE=q4_0", ""), "q4_0");
  EXPECT_EQ(type_k("HEARTH_KV_CACHE_TYPE=q8_0 OLLAMA_KV_CACHE_TYPE=q4_0", ""), "q8_0");
  EXPECT_EQ(type_k("HEARTH_KV_CACHE_TYPE=q8_0", "-k f16"), "f16");
  // Any case, as Ollama lower-cases the name, and reported as llama-bench names the type.
  EXPECT_EQ(type_k("OLLAMA_KV_CACHE_TYPE=Q8_0", ""), "q8_0");
  EXPECT_EQ(type_k("", "-k F32"), "f32");
  const std::string bad = run_stdout("env HEARTH_KV_CACHE_TYPE=q5_1 " + std::string(HEARTH_EXE) + " bench '" + model +
                                     "' -p 0 -n 4 -r 1 -t 1 2>&1; echo rc=$?");
  EXPECT_NE(bad.find("q5_1"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("rc=0"), std::string::npos) << bad;
}

TEST(BenchVerb, MissingModelFailsClearly) {
  const std::string out = run_stdout(std::string(HEARTH_EXE) +
                                     " bench /nonexistent/model.gguf -p 8 -n 0 -r 1 2>&1; echo rc=$?");
  EXPECT_NE(out.find("/nonexistent/model.gguf"), std::string::npos) << out;
  EXPECT_EQ(out.find("rc=0"), std::string::npos) << out;
}

}  // namespace
