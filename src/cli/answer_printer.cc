#include "cli/answer_printer.h"

namespace hearth::cli {
namespace {

constexpr const char* kGrey = "\x1b[38;5;245m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDefault = "\x1b[0m";

// Length of the UTF-8 sequence that starts with `b` (1 for a stray continuation byte).
size_t utf8_len(unsigned char b) {
  if (b < 0xC0) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return 4;
}

char32_t decode(std::string_view s) {
  const auto b = static_cast<unsigned char>(s[0]);
  if (s.size() == 1) return b;
  char32_t c = b & (0x7F >> s.size());
  for (size_t i = 1; i < s.size(); ++i) c = (c << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return c;
}

}  // namespace

int codepoint_width(char32_t c) {
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
      (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
      (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
      (c >= 0x20000 && c <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

int wrap_limit(int terminal_width) { return terminal_width >= 10 ? terminal_width - 5 : 0; }

WordWrapper::WordWrapper(std::function<void(std::string_view)> sink, int limit)
    : sink_(std::move(sink)), limit_(limit) {}

void WordWrapper::emit_word() {
  if (word_.empty()) return;
  if (column_ > 0 && column_ + spaces_ + word_width_ > limit_) {
    sink_("\n");
    column_ = 0;
    spaces_ = 0;
  }
  if (spaces_ > 0) {
    sink_(std::string(static_cast<size_t>(spaces_), ' '));
    column_ += spaces_;
    spaces_ = 0;
  }
  sink_(word_);
  column_ += word_width_;
  word_.clear();
  word_width_ = 0;
}

void WordWrapper::add(std::string_view text) {
  if (limit_ <= 0) {
    sink_(text);
    return;
  }
  std::string buf = partial_;
  buf.append(text);
  partial_.clear();
  size_t i = 0;
  while (i < buf.size()) {
    const size_t n = utf8_len(static_cast<unsigned char>(buf[i]));
    if (i + n > buf.size()) {
      partial_ = buf.substr(i);
      break;
    }
    std::string_view ch(buf.data() + i, n);
    i += n;
    if (ch == " " || ch == "\t") {
      emit_word();
      // Spaces at the start of a wrapped line are dropped; at the start of a real line they are
      // indentation and kept.
      if (column_ + spaces_ + 1 <= limit_) ++spaces_;
      continue;
    }
    if (ch == "\n" || ch == "\r") {
      emit_word();
      if (spaces_ > 0 && column_ == 0) sink_(std::string(static_cast<size_t>(spaces_), ' '));
      spaces_ = 0;
      sink_(ch);
      column_ = 0;
      continue;
    }
    const int w = codepoint_width(decode(ch));
    if (w == 2) {  // wide characters break anywhere, as their scripts allow
      emit_word();
      word_.assign(ch);
      word_width_ = 2;
      emit_word();
      continue;
    }
    word_.append(ch);
    word_width_ += w;
    if (word_width_ >= limit_) {  // longer than a line: break it hard
      if (column_ > 0) {
        sink_("\n");
        column_ = 0;
        spaces_ = 0;
      }
      emit_word();
    }
  }
}

void WordWrapper::flush() {
  emit_word();
  if (!partial_.empty()) {
    sink_(partial_);
    partial_.clear();
  }
}

AnswerPrinter::AnswerPrinter(std::function<void(std::string_view)> sink, AnswerStyle style)
    : sink_(sink), style_(style), wrap_(sink, style.wrap ? wrap_limit(style.width) : 0) {}

void AnswerPrinter::thinking(std::string_view text) {
  if (text.empty()) return;
  thinking_.append(text);
  if (style_.hide_thinking) return;
  if (!in_thinking_) {
    in_thinking_ = true;
    if (style_.color) {
      sink_(std::string(kGrey) + kBold + "Thinking...\n" + kDefault + kGrey);
    } else {
      sink_("Thinking...\n");
    }
  }
  wrap_.add(text);
}

void AnswerPrinter::content(std::string_view text) {
  if (text.empty()) return;
  if (in_thinking_) {
    wrap_.flush();
    in_thinking_ = false;
    if (thinking_.empty() || thinking_.back() != '\n') sink_("\n");
    if (style_.color) {
      sink_(std::string(kGrey) + kBold + "...done thinking.\n\n" + kDefault);
    } else {
      sink_("...done thinking.\n\n");
    }
    wrap_ = WordWrapper(sink_, style_.wrap ? wrap_limit(style_.width) : 0);
  }
  content_.append(text);
  wrap_.add(text);
}

void AnswerPrinter::finish() {
  wrap_.flush();
  if (in_thinking_ && style_.color) sink_(kDefault);
}

}  // namespace hearth::cli
