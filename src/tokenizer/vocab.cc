#include "tokenizer/vocab.h"

#include <algorithm>
#include <iterator>

#include "util/error.h"

namespace hearth::tokenizer {
namespace {

struct NamedPre {
  std::string_view name;
  PreTokenizerSpec spec;
};

// The tokenizer.ggml.pre names llama.cpp knows whose split regexes are one of ours, with the
// flags llama.cpp sets for each name. Names that share a regex share a matcher: llama.cpp lists
// the same regex (or the same custom splitter) for every name of a group.
constexpr PreTokenizerSpec kGpt2{PreTokenizer::gpt2, false, false};
constexpr PreTokenizerSpec kLlama3Family{PreTokenizer::llama3, true, true};
constexpr PreTokenizerSpec kLlama3Regex{PreTokenizer::llama3, false, false};
constexpr PreTokenizerSpec kQwen2{PreTokenizer::qwen2, false, false};
constexpr PreTokenizerSpec kStarcoder{PreTokenizer::starcoder, false, false};
constexpr PreTokenizerSpec kGpt4o{PreTokenizer::gpt4o, false, false};
constexpr NamedPre kNames[] = {
    // 's|'t|...| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
    {"gpt-2", kGpt2}, {"gpt2", kGpt2}, {"phi-2", kGpt2}, {"mpt", kGpt2}, {"olmo", kGpt2},
    {"jais", kGpt2}, {"trillion", kGpt2}, {"granite-docling", kGpt2}, {"exaone4", kGpt2},
    {"gigachat", kGpt2}, {"a.x-4.0", kGpt2}, {"mellum", kGpt2}, {"jina-es", kGpt2},
    {"jina-de", kGpt2}, {"jina-v2-es", kGpt2}, {"jina-v2-de", kGpt2},
    // Llama 3's regex, with ignore_merges and BOS for the Llama 3 names only.
    {"llama-bpe", kLlama3Family}, {"llama3", kLlama3Family}, {"llama-v3", kLlama3Family},
    {"falcon3", kLlama3Family}, {"falcon-h1", kLlama3Family}, {"pixtral", kLlama3Family},
    {"midm-2.0", kLlama3Family}, {"lfm2", kLlama3Family},
    {"dbrx", kLlama3Regex}, {"smaug-bpe", kLlama3Regex},
    // Qwen2's regex (single digits).
    {"qwen2", kQwen2}, {"deepseek-r1-qwen", kQwen2}, {"megrez", kQwen2}, {"stablelm2", kQwen2},
    {"hunyuan", kQwen2}, {"solar-open", kQwen2}, {"kormo", kQwen2}, {"f2llmv2", kQwen2},
    {"grok-2", kQwen2},
    {"deepseek-v3", {PreTokenizer::deepseek_v3, false, false}},
    {"deepseek-llm", {PreTokenizer::deepseek_llm, false, false}},
    {"deepseek-coder", {PreTokenizer::deepseek_coder, false, false}},
    // \p{N} then the GPT-2 regex.
    {"starcoder", kStarcoder}, {"refact", kStarcoder}, {"command-r", kStarcoder},
    {"smollm", kStarcoder}, {"codeshell", kStarcoder}, {"exaone", kStarcoder},
    {"minerva-7b", kStarcoder}, {"mellum2", kStarcoder},
    {"tekken", {PreTokenizer::tekken, true, true}},
    {"gpt-4o", kGpt4o}, {"llama4", kGpt4o}, {"kanana2", kGpt4o}, {"talkie", kGpt4o},
    {"minimax-m2", kGpt4o},
};

}  // namespace

PreTokenizerSpec pre_tokenizer_spec(std::string_view name) {
  const auto* it = std::find_if(std::begin(kNames), std::end(kNames),
                                [&](const NamedPre& n) { return n.name == name; });
  if (it != std::end(kNames)) return it->spec;
  std::string known;
  for (const NamedPre& n : kNames) known += (known.empty() ? "" : ", ") + std::string(n.name);
  throw Error(ErrorCode::unsupported,
              "unsupported pre-tokenizer '" + std::string(name) + "' (supported: " + known + ")");
}

PreTokenizer pre_tokenizer_from_name(std::string_view name) { return pre_tokenizer_spec(name).pre; }

const char* pre_tokenizer_name(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::none: return "none";
    case PreTokenizer::gpt2: return "gpt-2";
    case PreTokenizer::llama3: return "llama-bpe";
    case PreTokenizer::qwen2: return "qwen2";
    case PreTokenizer::deepseek_v3: return "deepseek-v3";
    case PreTokenizer::deepseek_llm: return "deepseek-llm";
    case PreTokenizer::deepseek_coder: return "deepseek-coder";
    case PreTokenizer::starcoder: return "starcoder";
    case PreTokenizer::tekken: return "tekken";
    case PreTokenizer::gpt4o: return "gpt-4o";
  }
  return "?";
}

}  // namespace hearth::tokenizer
