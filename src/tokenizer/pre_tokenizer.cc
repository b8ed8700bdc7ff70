#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace hearth::tokenizer {
namespace {

// The text as code points with their classes; positions are code point indices.
struct Cps {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> cls;
  std::vector<uint32_t> byte_at;  // byte offset of each code point, plus one past the end
};

Cps decode(std::string_view text) {
  Cps c;
  c.cp.reserve(text.size());
  c.cls.reserve(text.size());
  c.byte_at.reserve(text.size() + 1);
  size_t i = 0;
  while (i < text.size()) {
    const Utf8Char ch = utf8_decode(text.data() + i, text.size() - i);
    c.cp.push_back(ch.cp);
    c.cls.push_back(cp_class(ch.cp));
    c.byte_at.push_back(static_cast<uint32_t>(i));
    i += ch.len;
  }
  c.byte_at.push_back(static_cast<uint32_t>(text.size()));
  return c;
}

bool is_crlf(uint32_t cp) { return cp == '\r' || cp == '\n'; }
uint32_t ascii_lower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }
bool is_ascii_alpha(uint32_t cp) { return ascii_lower(cp) >= 'a' && ascii_lower(cp) <= 'z'; }
bool is_ascii_punct(uint32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
         (cp >= 0x7B && cp <= 0x7E);
}

// A matcher returns the end of the match starting at pos within [pos, end), or pos if none of its
// alternatives matches there. `Split` with behaviour "Isolated" keeps matches as pieces and the
// unmatched stretches between them as pieces too.
template <typename Matcher>
void split_isolated(const Cps& c, size_t begin, size_t end, Matcher match, std::vector<size_t>& cuts) {
  size_t gap = begin;
  size_t pos = begin;
  while (pos < end) {
    const size_t m = match(c, pos, end);
    if (m > pos) {
      if (gap < pos) cuts.push_back(pos);
      cuts.push_back(m);
      pos = gap = m;
    } else {
      ++pos;
    }
  }
  if (gap < end) cuts.push_back(end);
}

// Contractions 's 't 're 've 'm 'll 'd; `fold` makes them case-insensitive (ASCII only, as the
// references apply it).
size_t match_contraction(const Cps& c, size_t pos, size_t end, bool fold) {
  if (c.cp[pos] != '\'' || pos + 1 >= end) return pos;
  auto low = [&](size_t i) { return fold ? ascii_lower(c.cp[i]) : c.cp[i]; };
  const uint32_t a = low(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
  if (pos + 2 >= end) return pos;
  const uint32_t b = low(pos + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return pos + 3;
  return pos;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+   starting at a White_Space code point.
size_t match_whitespace(const Cps& c, size_t pos, size_t end, bool newline_alternative) {
  size_t q = pos;
  size_t after_last_newline = 0;
  while (q < end && (c.cls[q] & kSpace)) {
    if (is_crlf(c.cp[q])) after_last_newline = q + 1;
    ++q;
  }
  if (q == pos) return pos;
  if (newline_alternative && after_last_newline != 0) return after_last_newline;
  if (q == end) return q;          // \s+(?!\S) takes the whole run at the end of the text
  if (q - pos > 1) return q - 1;   // ... and otherwise leaves the last space for the next word
  return q;                        // \s+
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(const Cps& c, size_t pos, size_t end) {
  if (size_t m = match_contraction(c, pos, end, false); m > pos) return m;
  const size_t start = (c.cp[pos] == ' ' && pos + 1 < end) ? pos + 1 : pos;
  for (const uint8_t cls : {uint8_t(kLetter), uint8_t(kNumber)}) {
    if (c.cls[start] & cls) {
      size_t q = start + 1;
      while (q < end && (c.cls[q] & cls)) ++q;
      return q;
    }
  }
  auto other = [&](size_t i) { return !(c.cls[i] & (kLetter | kNumber | kSpace)); };
  if (other(start)) {
    size_t q = start + 1;
    while (q < end && other(q)) ++q;
    return q;
  }
  return match_whitespace(c, pos, end, false);
}

// The alternatives Llama 3, Qwen2, tekken and o200k end with:
// \p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   (tekken and o200k: [\r\n/]*)
template <size_t kMaxDigits, bool kSlash>
size_t match_digits_symbols_spaces(const Cps& c, size_t pos, size_t end) {
  if (c.cls[pos] & kNumber) {
    size_t q = pos + 1;
    while (q < end && q - pos < kMaxDigits && (c.cls[q] & kNumber)) ++q;
    return q;
  }
  auto other = [&](size_t i) { return !(c.cls[i] & (kLetter | kNumber | kSpace)); };
  const size_t start = (c.cp[pos] == ' ' && pos + 1 < end && other(pos + 1)) ? pos + 1 : pos;
  if (other(start)) {
    size_t q = start + 1;
    while (q < end && other(q)) ++q;
    while (q < end && (is_crlf(c.cp[q]) || (kSlash && c.cp[q] == '/'))) ++q;
    return q;
  }
  return match_whitespace(c, pos, end, true);
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
template <size_t kMaxDigits>
size_t match_llama3(const Cps& c, size_t pos, size_t end) {
  if (size_t m = match_contraction(c, pos, end, true); m > pos) return m;
  const uint32_t cp = c.cp[pos];
  const uint8_t cls = c.cls[pos];
  auto letters_from = [&](size_t q) {
    while (q < end && (c.cls[q] & kLetter)) ++q;
    return q;
  };
  if (cls & kLetter) return letters_from(pos + 1);
  if (!is_crlf(cp) && !(cls & kNumber) && pos + 1 < end && (c.cls[pos + 1] & kLetter)) {
    return letters_from(pos + 2);
  }
  return match_digits_symbols_spaces<kMaxDigits, false>(c, pos, end);
}

// DeepSeek-V3, third split: [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|
// [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t match_deepseek_v3_words(const Cps& c, size_t pos, size_t end) {
  const uint32_t cp = c.cp[pos];
  const uint8_t cls = c.cls[pos];
  if (is_ascii_punct(cp) && pos + 1 < end && is_ascii_alpha(c.cp[pos + 1])) {
    size_t q = pos + 2;
    while (q < end && is_ascii_alpha(c.cp[q])) ++q;
    return q;
  }
  auto letter_or_mark_from = [&](size_t q) {
    while (q < end && (c.cls[q] & (kLetter | kMark))) ++q;
    return q;
  };
  if (cls & (kLetter | kMark)) return letter_or_mark_from(pos + 1);
  if (!is_crlf(cp) && !(cls & (kLetter | kPunct | kSymbol)) && pos + 1 < end &&
      (c.cls[pos + 1] & (kLetter | kMark))) {
    return letter_or_mark_from(pos + 2);
  }
  auto punct = [&](size_t i) { return (c.cls[i] & (kPunct | kSymbol)) != 0; };
  const size_t start = (cp == ' ' && pos + 1 < end && punct(pos + 1)) ? pos + 1 : pos;
  if (punct(start)) {
    size_t q = start + 1;
    while (q < end && punct(q)) ++q;
    while (q < end && is_crlf(c.cp[q])) ++q;
    return q;
  }
  return match_whitespace(c, pos, end, true);
}

// DeepSeek-V3, first split: \p{N}{1,3}
size_t match_digits3(const Cps& c, size_t pos, size_t end) {
  size_t q = pos;
  while (q < end && q - pos < 3 && (c.cls[q] & kNumber)) ++q;
  return q;
}

// DeepSeek-V3, second split: [一-龥぀-ゟ゠-ヿ]+ (CJK U+4E00..U+9FA5, hiragana and katakana)
bool is_cjk_or_kana(uint32_t cp) { return (cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3040 && cp <= 0x30FF); }
size_t match_cjk(const Cps& c, size_t pos, size_t end) {
  size_t q = pos;
  while (q < end && is_cjk_or_kana(c.cp[q])) ++q;
  return q;
}

// DeepSeek LLM's word class: the cased letters its tokenizer.json lists in
// \s?[A-Za-zµÀ-ÖØ-öø-ƺ...𞤀-𞥃]+ (87 ranges, sorted).
constexpr std::pair<uint32_t, uint32_t> kDeepSeekLlmLetters[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
    {0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377},
    {0x37B, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C},
    {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
    {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
    {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE},
    {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
    {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
    {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
    {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787},
    {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

bool in_ranges(uint32_t cp, const std::pair<uint32_t, uint32_t>* begin, const std::pair<uint32_t, uint32_t>* end) {
  const auto* it = std::upper_bound(begin, end, cp, [](uint32_t v, const auto& r) { return v < r.first; });
  return it != begin && cp <= (it - 1)->second;
}

bool is_deepseek_llm_letter(uint32_t cp) {
  return in_ranges(cp, std::begin(kDeepSeekLlmLetters), std::end(kDeepSeekLlmLetters));
}

// [!-/:-~！-／：-～‘-‟　-。] without U+3000: llama.cpp replaces non-ASCII spaces before matching (see
// is_deepseek_llm_cjk), so the ideographic space is only ever a \s.
bool is_deepseek_llm_punct(uint32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x7E) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
         (cp >= 0xFF1A && cp <= 0xFF5E) || (cp >= 0x2018 && cp <= 0x201F) || (cp >= 0x3001 && cp <= 0x3002);
}

// [一-龥ࠀ-一가-퟿], as llama.cpp matches it: the range U+0800..U+4E00 holds spaces too (U+2028,
// U+3000, ...), but llama.cpp runs this regex over text whose non-ASCII spaces it has replaced
// by a vertical tab, so they never match.
bool is_deepseek_llm_cjk(uint32_t cp) {
  return ((cp >= 0x0800 && cp <= 0x9FA5) || (cp >= 0xAC00 && cp <= 0xD7FF)) && !(cp_class(cp) & kSpace);
}

size_t match_newline(const Cps& c, size_t pos, size_t) { return is_crlf(c.cp[pos]) ? pos + 1 : pos; }

// \s?[class]+
template <bool (*kIn)(uint32_t)>
size_t match_space_then_run(const Cps& c, size_t pos, size_t end) {
  size_t q = pos;
  if ((c.cls[q] & kSpace) && q + 1 < end && kIn(c.cp[q + 1])) ++q;
  if (!kIn(c.cp[q])) return pos;
  while (q < end && kIn(c.cp[q])) ++q;
  return q;
}

template <bool (*kIn)(uint32_t)>
size_t match_run(const Cps& c, size_t pos, size_t end) {
  size_t q = pos;
  while (q < end && kIn(c.cp[q])) ++q;
  return q;
}

bool is_number_cp(uint32_t cp) { return (cp_class(cp) & kNumber) != 0; }

bool is_letter_cp(uint32_t cp) { return (cp_class(cp) & kLetter) != 0; }
bool is_punct_cp(uint32_t cp) { return (cp_class(cp) & kPunct) != 0; }

// \p{N}: one digit per piece (StarCoder, DeepSeek Coder).
size_t match_one_digit(const Cps& c, size_t pos, size_t) { return (c.cls[pos] & kNumber) ? pos + 1 : pos; }

// The case-aware words of tekken and o200k, as llama.cpp runs them. Its regexes write the
// tokenizer.json classes [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}] as
// "a letter but not a-z" (upper) and "a letter but not A-Z" (lower), over text where every
// non-ASCII letter is one placeholder: so a non-ASCII letter is both upper and lower, and marks
// are no part of a word. The alternatives, tried in order with backtracking:
//   upper* lower+   (upper* gives back letters until a lower one follows)
//   upper+ lower*
// Returns pos if neither matches at pos.
bool is_ascii_lower(uint32_t cp) { return cp >= 'a' && cp <= 'z'; }
size_t match_cased_word(const Cps& c, size_t pos, size_t end) {
  auto letter = [&](size_t i) { return (c.cls[i] & kLetter) != 0; };
  auto upper = [&](size_t i) { return letter(i) && !is_ascii_lower(c.cp[i]); };
  auto lower = [&](size_t i) { return letter(i) && !(c.cp[i] >= 'A' && c.cp[i] <= 'Z'); };
  size_t run_end = pos;
  while (run_end < end && upper(run_end)) ++run_end;
  // upper* lower+: the lower run starts at the last place the upper run can give back to.
  size_t lower_start = end;
  if (run_end < end && is_ascii_lower(c.cp[run_end])) {
    lower_start = run_end;
  } else {
    for (size_t t = run_end; t > pos; --t) {
      if (c.cp[t - 1] >= 0x80) {  // a non-ASCII letter is lower too
        lower_start = t - 1;
        break;
      }
    }
  }
  if (lower_start != end) {
    size_t q = lower_start;
    while (q < end && lower(q)) ++q;
    return q;
  }
  return run_end;  // upper+ lower*: no a-z follows here, or the first alternative had matched
}

// tekken: [^\r\n\p{L}\p{N}]?upper*lower+|[^\r\n\p{L}\p{N}]?upper+lower*|\p{N}|
//         ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
// o200k (gpt-4o): the same with an optional (?i:'s|'t|'re|'ve|'m|'ll|'d) after each word
// alternative and \p{N}{1,3}.
template <bool kContractions, size_t kMaxDigits>
size_t match_cased(const Cps& c, size_t pos, size_t end) {
  const uint32_t cp = c.cp[pos];
  const uint8_t cls = c.cls[pos];
  const bool prefix = !is_crlf(cp) && !(cls & (kLetter | kNumber)) && pos + 1 < end;
  const size_t word_at = prefix ? pos + 1 : pos;
  if (const size_t w = match_cased_word(c, word_at, end); w > word_at) {
    if constexpr (kContractions) return w < end ? match_contraction(c, w, end, true) : w;
    return w;
  }
  return match_digits_symbols_spaces<kMaxDigits, true>(c, pos, end);
}

// \s+$ isolates the whitespace that ends a piece. Done directly rather than as a matcher: tried
// at every position, the regex would rescan long inner runs of spaces.
void split_trailing_space(const Cps& c, size_t begin, size_t end, std::vector<size_t>& cuts) {
  size_t t = end;
  while (t > begin && (c.cls[t - 1] & kSpace)) --t;
  if (t > begin && t < end) cuts.push_back(t);
  if (begin < end) cuts.push_back(end);
}

// Applies one split to every piece in `cuts` (piece ends), giving the finer pieces.
template <typename Matcher>
std::vector<size_t> refine(const Cps& c, const std::vector<size_t>& cuts, Matcher match) {
  std::vector<size_t> out;
  out.reserve(cuts.size() * 2);
  size_t begin = 0;
  for (const size_t end : cuts) {
    split_isolated(c, begin, end, match, out);
    begin = end;
  }
  return out;
}

}  // namespace

void pre_tokenize(PreTokenizer pre, std::string_view text, std::vector<std::string_view>& out) {
  if (text.empty()) return;
  if (pre == PreTokenizer::none) {
    out.push_back(text);
    return;
  }
  const Cps c = decode(text);
  const size_t n = c.cp.size();
  std::vector<size_t> cuts;
  switch (pre) {
    case PreTokenizer::none:
      break;
    case PreTokenizer::gpt2:
      split_isolated(c, 0, n, match_gpt2, cuts);
      break;
    case PreTokenizer::llama3:
      split_isolated(c, 0, n, match_llama3<3>, cuts);
      break;
    case PreTokenizer::qwen2:
      split_isolated(c, 0, n, match_llama3<1>, cuts);
      break;
    case PreTokenizer::deepseek_v3:
      split_isolated(c, 0, n, match_digits3, cuts);
      cuts = refine(c, cuts, match_cjk);
      cuts = refine(c, cuts, match_deepseek_v3_words);
      break;
    case PreTokenizer::deepseek_llm: {
      split_isolated(c, 0, n, match_newline, cuts);
      cuts = refine(c, cuts, match_space_then_run<is_deepseek_llm_letter>);
      cuts = refine(c, cuts, match_space_then_run<is_deepseek_llm_punct>);
      std::vector<size_t> trimmed;
      size_t begin = 0;
      for (const size_t end : cuts) {
        split_trailing_space(c, begin, end, trimmed);
        begin = end;
      }
      cuts = refine(c, trimmed, match_run<is_deepseek_llm_cjk>);
      cuts = refine(c, cuts, match_run<is_number_cp>);
      break;
    }
    case PreTokenizer::deepseek_coder:
      split_isolated(c, 0, n, match_newline, cuts);
      cuts = refine(c, cuts, match_space_then_run<is_letter_cp>);
      cuts = refine(c, cuts, match_space_then_run<is_punct_cp>);
      cuts = refine(c, cuts, match_run<is_deepseek_llm_cjk>);
      cuts = refine(c, cuts, match_one_digit);
      break;
    case PreTokenizer::starcoder:
      split_isolated(c, 0, n, match_one_digit, cuts);
      cuts = refine(c, cuts, match_gpt2);
      break;
    case PreTokenizer::tekken:
      split_isolated(c, 0, n, match_cased<false, 1>, cuts);
      break;
    case PreTokenizer::gpt4o:
      split_isolated(c, 0, n, match_cased<true, 3>, cuts);
      break;
  }
  size_t begin = 0;
  for (const size_t end : cuts) {
    out.push_back(text.substr(c.byte_at[begin], c.byte_at[end] - c.byte_at[begin]));
    begin = end;
  }
}

}  // namespace hearth::tokenizer
