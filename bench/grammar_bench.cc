// Constrained decoding costs on the real Qwen2 vocabulary (151,936 ids): checking the chosen
// token against the matcher (the fast path, every token), the full-vocabulary mask (only when
// the chosen token was rejected) in several parser states, and building the token table. Needs
// the shared test data: run from the repository root, or set HEARTH_TESTDATA to its path.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"
#include "sample/grammar_sampler.h"
#include "sample/json_schema.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace hearth::sample;

std::string testdata_path(const std::string& rel) {
  if (const char* dir = std::getenv("HEARTH_TESTDATA")) return std::string(dir) + "/" + rel;
  for (const char* dir : {"../shared/testdata", "../../shared/testdata", "../../../shared/testdata"}) {
    if (std::filesystem::exists(std::string(dir) + "/" + rel)) return std::string(dir) + "/" + rel;
  }
  return {};
}

struct Pieces {
  std::vector<std::string> pieces;
  std::vector<int32_t> eog;
};

const Pieces* qwen_pieces() {
  static std::unique_ptr<Pieces> p = [] {
    const std::string path = testdata_path("qwen2-tiny-q8_0.gguf");
    if (path.empty()) return std::unique_ptr<Pieces>();
    hearth::tokenizer::Tokenizer tok(hearth::model::load_vocab(hearth::gguf::File::open(path)));
    auto out = std::make_unique<Pieces>();
    for (size_t id = 0; id < tok.n_tokens(); ++id) {
      out->pieces.emplace_back(tok.piece(static_cast<int32_t>(id)));
      if (tok.is_end_of_generation(static_cast<int32_t>(id))) out->eog.push_back(static_cast<int32_t>(id));
    }
    return out;
  }();
  return p.get();
}

const GrammarVocab* qwen_vocab() {
  static std::unique_ptr<GrammarVocab> v = [] {
    const Pieces* p = qwen_pieces();
    return p ? std::make_unique<GrammarVocab>(p->pieces, p->eog, p->pieces.size()) : nullptr;
  }();
  return v.get();
}

const char* kSchema = R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
  "tags":{"type":"array","items":{"type":"string"}}},"required":["name","age"]})";

// Parser states worth timing: the document text fed so far.
const char* kStates[] = {
    "",                        // before the document
    "{\"name\": \"Ali",        // inside a string: most tokens are allowed
    "{\"name\": \"Ali\", ",    // before a key
    "{\"name\": \"Ali\", \"age\": 4",  // inside a number
};

GrammarMatcher state(int i, const std::shared_ptr<const Grammar>& g) {
  GrammarMatcher m(g);
  m.accept(std::string_view(kStates[i]));
  return m;
}

// Times the single-token check over a few ordinary word tokens, as a model inside a string would
// pick them.
void check_tokens(benchmark::State& st, const GrammarVocab& v, GrammarMatcher& m) {
  std::vector<int32_t> ids;
  for (int32_t id = 1000; id < 152000 && ids.size() < 64; id += 997) {
    if (!v.piece(id).empty()) ids.push_back(id);
  }
  size_t i = 0, ok = 0;
  for (auto _ : st) {
    ok += v.allows(m, ids[i++ % ids.size()]);
  }
  benchmark::DoNotOptimize(ok);
}

void BM_GrammarMask(benchmark::State& st) {
  const GrammarVocab* v = qwen_vocab();
  if (v == nullptr) {
    st.SkipWithError("qwen2-tiny-q8_0.gguf not found (set HEARTH_TESTDATA)");
    return;
  }
  const bool schema = st.range(1) != 0;
  GrammarMatcher m = state(static_cast<int>(st.range(0)), schema ? json_schema_grammar(kSchema) : json_grammar());
  GrammarScratch scratch;
  std::vector<uint8_t> allowed;
  size_t n = 0;
  for (auto _ : st) {
    n = v->mask(m, allowed, scratch);
    benchmark::DoNotOptimize(allowed.data());
  }
  st.counters["allowed"] = static_cast<double>(n);
  st.SetLabel(std::string(schema ? "schema" : "json") + " after '" + kStates[st.range(0)] + "'");
}
BENCHMARK(BM_GrammarMask)->ArgsProduct({{0, 1, 2, 3}, {0, 1}})->Unit(benchmark::kMicrosecond);

// The fast path: one chosen token checked against a copy of the matcher.
void BM_GrammarCheckToken(benchmark::State& st) {
  const GrammarVocab* v = qwen_vocab();
  if (v == nullptr) {
    st.SkipWithError("qwen2-tiny-q8_0.gguf not found (set HEARTH_TESTDATA)");
    return;
  }
  GrammarMatcher m = state(1, json_schema_grammar(kSchema));
  check_tokens(st, *v, m);
}
BENCHMARK(BM_GrammarCheckToken)->Unit(benchmark::kNanosecond);

// Patterns and bounds: the same schema with them (arg 1) and without (arg 0: what the matcher
// did before they were enforced), in the middle of a patterned string and of a bounded integer.
const char* kPatternSchema = R"({"type":"object","properties":{
  "name":{"type":"string","pattern":"^[A-Z][a-z]+( [A-Z][a-z]+)*$"},
  "phone":{"type":"string","pattern":"^[0-9]{3}-[0-9]{4}$"},
  "age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","phone","age"]})";
const char* kPlainSchema = R"({"type":"object","properties":{
  "name":{"type":"string"},"phone":{"type":"string"},"age":{"type":"integer"}},"required":["name","phone","age"]})";
const char* kPatternStates[] = {
    "{\"name\": \"Ali",                                // inside a patterned name
    "{\"name\": \"Ali Baba\", \"phone\": \"555-",     // inside a digits pattern
    "{\"name\": \"Ali Baba\", \"phone\": \"555-1234\", \"age\": 1",  // a bounded integer
};

// The vocabulary and a matcher at state st.range(0) of the patterned schema (st.range(1) != 0) or
// of the same schema without its patterns and bounds; null vocabulary: the benchmark is skipped.
const GrammarVocab* pattern_setup(benchmark::State& st, std::optional<GrammarMatcher>* m) {
  const GrammarVocab* v = qwen_vocab();
  if (v == nullptr) {
    st.SkipWithError("qwen2-tiny-q8_0.gguf not found (set HEARTH_TESTDATA)");
    return nullptr;
  }
  m->emplace(json_schema_grammar(st.range(1) != 0 ? kPatternSchema : kPlainSchema));
  (*m)->accept(std::string_view(kPatternStates[st.range(0)]));
  return v;
}

std::string pattern_label(const benchmark::State& st) {
  return std::string(st.range(1) != 0 ? "enforced" : "ignored") + " after '" + kPatternStates[st.range(0)] + "'";
}

void BM_GrammarCheckTokenPattern(benchmark::State& st) {
  std::optional<GrammarMatcher> mo;
  const GrammarVocab* v = pattern_setup(st, &mo);
  if (v == nullptr) return;
  GrammarMatcher& m = *mo;
  check_tokens(st, *v, m);
  st.SetLabel(pattern_label(st));
}
BENCHMARK(BM_GrammarCheckTokenPattern)->ArgsProduct({{0, 1, 2}, {0, 1}})->Unit(benchmark::kNanosecond);

void BM_GrammarMaskPattern(benchmark::State& st) {
  std::optional<GrammarMatcher> mo;
  const GrammarVocab* v = pattern_setup(st, &mo);
  if (v == nullptr) return;
  GrammarMatcher& m = *mo;
  GrammarScratch scratch;
  std::vector<uint8_t> allowed;
  size_t n = 0;
  for (auto _ : st) {
    n = v->mask(m, allowed, scratch);
    benchmark::DoNotOptimize(allowed.data());
  }
  st.counters["allowed"] = static_cast<double>(n);
  st.SetLabel(pattern_label(st));
}
BENCHMARK(BM_GrammarMaskPattern)->ArgsProduct({{0, 1, 2}, {0, 1}})->Unit(benchmark::kMicrosecond);

void BM_GrammarVocabBuild(benchmark::State& st) {
  const Pieces* p = qwen_pieces();
  if (p == nullptr) {
    st.SkipWithError("qwen2-tiny-q8_0.gguf not found (set HEARTH_TESTDATA)");
    return;
  }
  for (auto _ : st) {
    GrammarVocab v(p->pieces, p->eog, p->pieces.size());
    benchmark::DoNotOptimize(&v);
  }
}
BENCHMARK(BM_GrammarVocabBuild)->Unit(benchmark::kMillisecond);

}  // namespace
