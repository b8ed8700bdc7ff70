#include "tokenizer/vocab.h"

#include "util/error.h"

namespace hearth::tokenizer {

PreTokenizer pre_tokenizer_from_name(std::string_view name) {
  if (name == "gpt-2" || name == "gpt2") return PreTokenizer::gpt2;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3" || name == "falcon3") {
    return PreTokenizer::llama3;
  }
  if (name == "qwen2" || name == "deepseek-r1-qwen" || name == "megrez") return PreTokenizer::qwen2;
  if (name == "deepseek-v3") return PreTokenizer::deepseek_v3;
  if (name == "deepseek-llm") return PreTokenizer::deepseek_llm;
  throw Error(ErrorCode::unsupported,
              "unsupported pre-tokenizer '" + std::string(name) +
                  "' (supported: gpt-2, llama-bpe, qwen2, deepseek-r1-qwen, deepseek-v3, deepseek-llm)");
}

const char* pre_tokenizer_name(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::none: return "none";
    case PreTokenizer::gpt2: return "gpt-2";
    case PreTokenizer::llama3: return "llama-bpe";
    case PreTokenizer::qwen2: return "qwen2";
    case PreTokenizer::deepseek_v3: return "deepseek-v3";
    case PreTokenizer::deepseek_llm: return "deepseek-llm";
  }
  return "?";
}

}  // namespace hearth::tokenizer
