// Tokenizer throughput: encode with the real vocabularies (byte-level BPE with the Qwen3 and
// DeepSeek-V3 pre-tokenizers, SentencePiece with Llama 2's), the stream decoder, and building a
// Tokenizer from a loaded vocabulary. Needs the shared test data: run from the repository root,
// or set HEARTH_TESTDATA to its path.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace {

using hearth::tokenizer::Tokenizer;

std::string testdata_path(const std::string& rel) {
  if (const char* dir = std::getenv("HEARTH_TESTDATA")) return std::string(dir) + "/" + rel;
  for (const char* dir : {"../shared/testdata", "../../shared/testdata", "../../../shared/testdata"}) {
    if (std::filesystem::exists(std::string(dir) + "/" + rel)) return std::string(dir) + "/" + rel;
  }
  return {};
}

hearth::tokenizer::Vocab load_vocab(const std::string& rel) {
  const auto file = hearth::gguf::File::open(testdata_path(rel));
  return hearth::model::load_vocab(file);
}

const Tokenizer* tokenizer_for(const std::string& rel) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[rel];
  if (!slot && !testdata_path(rel).empty()) slot = std::make_unique<Tokenizer>(load_vocab(rel));
  return slot.get();
}

// ~64 KiB of one kind of text.
std::string text_of(int kind) {
  static const char* const kUnits[] = {
      "The quick brown fox jumps over the lazy dog; it's 12:45 and 3,141 people said \"hello\".\n",
      "\xE4\xBA\xBA\xE5\xB7\xA5\xE6\x99\xBA\xE8\x83\xBD\xE6\x98\xAF\xE8\xAE\xA1\xE7\xAE\x97\xE6\x9C\xBA"
      "\xE7\xA7\x91\xE5\xAD\xA6\xE7\x9A\x84\xE4\xB8\x80\xE4\xB8\xAA\xE5\x88\x86\xE6\x94\xAF\xEF\xBC\x8C",
      "    for (int i = 0; i < n; ++i) {\n        sum += v[i] * 2;  // double\n    }\n",
  };
  std::string s;
  if (kind == 3) return std::string(65536, 'a');  // one long pre-token: the merge queue's worst case
  while (s.size() < 65536) s += kUnits[kind];
  return s;
}

void BM_Encode(benchmark::State& state, const std::string& vocab) {
  const Tokenizer* tok = tokenizer_for(vocab);
  if (tok == nullptr) {
    state.SkipWithError("shared test data not found (set HEARTH_TESTDATA)");
    return;
  }
  const std::string text = text_of(static_cast<int>(state.range(0)));
  size_t n_ids = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(text);
    n_ids = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["ids"] = static_cast<double>(n_ids);
}

// Arg: 0 English, 1 Chinese, 2 code, 3 one 64 KiB word.
BENCHMARK_CAPTURE(BM_Encode, qwen3, std::string("qwen3-tiny-q8_0.gguf"))->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Encode, deepseek_v3, std::string("tokenizer-vectors/ggml-vocab-deepseek-v3.gguf"))
    ->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Encode, llama_spm, std::string("tokenizer-vectors/ggml-vocab-llama-spm.gguf"))
    ->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

void BM_StreamDecode(benchmark::State& state) {
  const Tokenizer* tok = tokenizer_for("qwen3-tiny-q8_0.gguf");
  if (tok == nullptr) {
    state.SkipWithError("shared test data not found (set HEARTH_TESTDATA)");
    return;
  }
  const auto ids = tok->encode(text_of(0) + text_of(1));
  for (auto _ : state) {
    hearth::tokenizer::StreamDecoder dec(*tok);
    size_t bytes = 0;
    for (const auto id : ids) bytes += dec.push(id).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}
BENCHMARK(BM_StreamDecode)->Unit(benchmark::kMicrosecond);

// Building the indexes, merge table and pieces of a 152k-token vocabulary (done once per load).
void BM_BuildTokenizer(benchmark::State& state) {
  if (testdata_path("qwen3-tiny-q8_0.gguf").empty()) {
    state.SkipWithError("shared test data not found (set HEARTH_TESTDATA)");
    return;
  }
  const auto vocab = load_vocab("qwen3-tiny-q8_0.gguf");
  for (auto _ : state) {
    Tokenizer tok(vocab);
    benchmark::DoNotOptimize(&tok);
  }
}
BENCHMARK(BM_BuildTokenizer)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
