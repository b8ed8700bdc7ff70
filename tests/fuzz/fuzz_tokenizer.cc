// libFuzzer target for the tokenizer: arbitrary bytes through every pre-tokenizer with a small
// byte-level BPE vocabulary, and through small SentencePiece and Unigram vocabularies, with and without
// special-token parsing. Byte-level BPE must lose nothing but ill-formed UTF-8, so
// decode(encode(x)) == utf8_sanitize(x) is checked, and the stream decoder must agree.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tokenizer/byte_level.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace hearth::tokenizer;

Vocab bpe_vocab(PreTokenizer pre) {
  Vocab v;
  v.model = VocabModel::bpe;
  v.pre = pre;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_to_symbol(static_cast<uint8_t>(b)));
  const std::string sp = byte_to_symbol(' ');
  // A few merges, some chained, so the queue has work to do.
  const char* const merges[][2] = {{"a", "b"}, {"ab", "c"}, {"\xC4\xA0", "a"}, {"\xC4\xA0" "a", "b"},
                                   {"1", "2"}, {"12", "3"}, {"\xC3\xA4", "\xC2\xB8"}, {"e", "e"}};
  for (const auto& m : merges) {
    v.merges.push_back(std::string(m[0]) + " " + m[1]);
    v.tokens.push_back(std::string(m[0]) + m[1]);
  }
  v.tokens.push_back("<|end|>");
  v.tokens.push_back("<think>");
  v.types.assign(v.tokens.size(), TokenType::normal);
  v.types[v.tokens.size() - 2] = TokenType::control;
  v.types[v.tokens.size() - 1] = TokenType::user_defined;
  v.eos = static_cast<TokenId>(v.tokens.size() - 2);
  v.ignore_merges = pre == PreTokenizer::llama3 || pre == PreTokenizer::tekken;
  return v;
}

// Unigram without a charsmap (ugm_golden_test covers one): spaces, merging and <unk> runs.
Vocab ugm_vocab() {
  Vocab v;
  v.model = VocabModel::ugm;
  v.pre = PreTokenizer::none;
  v.tokens = {"<pad>", "</s>", "<unk>", "\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "a", "<mask>", "\xE4\xB8\xAD"};
  v.types = {TokenType::control, TokenType::control, TokenType::unknown, TokenType::normal, TokenType::normal,
             TokenType::normal, TokenType::normal, TokenType::normal, TokenType::user_defined, TokenType::normal};
  v.scores = {0, 0, 0, -2, -3, -3, -4, -1, 0, -5};
  v.eos = 1;
  v.unk = 2;
  v.add_eos = true;
  v.add_space_prefix = true;
  return v;
}

Vocab spm_vocab() {
  Vocab v;
  v.model = VocabModel::spm;
  v.pre = PreTokenizer::none;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::unknown, TokenType::control, TokenType::control};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.tokens.push_back(name);
    v.types.push_back(TokenType::byte);
  }
  for (const char* t : {"\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "a", "\xE2\x96\x81" "ab", "\xE4\xB8\xAD"}) {
    v.tokens.push_back(t);
    v.types.push_back(TokenType::normal);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  for (size_t i = 0; i < v.scores.size(); ++i) v.scores[i] = -static_cast<float>(i % 7);
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PreTokenizer kPres[] = {PreTokenizer::gpt2,         PreTokenizer::llama3,
                                       PreTokenizer::qwen2,        PreTokenizer::deepseek_v3,
                                       PreTokenizer::deepseek_llm, PreTokenizer::deepseek_coder,
                                       PreTokenizer::starcoder,    PreTokenizer::tekken,
                                       PreTokenizer::gpt4o};
  constexpr int kNumPres = static_cast<int>(sizeof kPres / sizeof kPres[0]);
  static const auto* const bpe = [] {
    auto* t = new std::unique_ptr<Tokenizer>[kNumPres];
    for (int i = 0; i < kNumPres; ++i) t[i] = std::make_unique<Tokenizer>(bpe_vocab(kPres[i]));
    return t;
  }();
  static const Tokenizer spm(spm_vocab());
  static const Tokenizer ugm(ugm_vocab());
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string clean = utf8_sanitize(text);
  EncodeOptions options;
  options.parse_special = (selector & 0x80) != 0;
  options.add_special = (selector & 0x40) != 0;

  const Tokenizer& tok = *bpe[(selector & 0x3F) % kNumPres];
  const std::vector<TokenId> ids = tok.encode(text, options);
  if (!options.parse_special) check(tok.decode(ids, true) == clean, "BPE decode(encode(x)) != x");
  StreamDecoder stream(tok, true);
  std::string streamed;
  for (const TokenId id : ids) {
    const std::string chunk = stream.push(id);
    check(utf8_is_valid(chunk), "stream chunk is not UTF-8");
    streamed += chunk;
  }
  streamed += stream.finish();
  check(streamed == tok.decode(ids, true), "stream decoder disagrees with decode");

  const std::vector<TokenId> spm_ids = spm.encode(text, options);
  for (const TokenId id : spm_ids) check(id >= 0 && static_cast<size_t>(id) < spm.n_tokens(), "SPM id out of range");
  check(utf8_is_valid(spm.decode(spm_ids)), "SPM decode is not UTF-8");

  const std::vector<TokenId> ugm_ids = ugm.encode(text, options);
  for (const TokenId id : ugm_ids) check(id >= 0 && static_cast<size_t>(id) < ugm.n_tokens(), "Unigram id out of range");
  check(utf8_is_valid(ugm.decode(ugm_ids)), "Unigram decode is not UTF-8");
  return 0;
}
