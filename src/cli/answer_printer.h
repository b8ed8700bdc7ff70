#pragma once
// Prints a streamed answer the way Ollama's REPL does: thinking between `Thinking...` and
// `...done thinking.` (grey on a terminal, or hidden), and word wrap at the terminal width.
// Wrapping holds back the word being typed until a space or newline shows where it ends, so
// nothing printed is ever taken back and the output stays plain text.

#include <functional>
#include <string>
#include <string_view>

namespace hearth::cli {

class WordWrapper {
 public:
  // `limit`: most columns on a line; 0 = no wrapping.
  WordWrapper(std::function<void(std::string_view)> sink, int limit);
  void add(std::string_view text);
  void flush();  // prints the held word (end of answer, Ctrl+C)
  bool at_line_start() const { return column_ == 0 && word_.empty() && spaces_ == 0; }

 private:
  void emit_word();
  std::function<void(std::string_view)> sink_;
  int limit_;
  int column_ = 0;        // columns printed on the current line
  std::string word_;      // held back
  int word_width_ = 0;
  int spaces_ = 0;        // held back spaces before word_
  std::string partial_;   // an incomplete UTF-8 sequence
};

// Display columns of one code point (2 for East Asian wide ones).
int codepoint_width(char32_t c);

struct AnswerStyle {
  int width = 80;           // terminal columns
  bool wrap = true;
  bool hide_thinking = false;
  bool color = false;       // ANSI grey/bold for the thinking block
};

class AnswerPrinter {
 public:
  AnswerPrinter(std::function<void(std::string_view)> sink, AnswerStyle style);
  void thinking(std::string_view text);
  void content(std::string_view text);
  void finish();
  const std::string& thinking_text() const { return thinking_; }
  const std::string& content_text() const { return content_; }

 private:
  std::function<void(std::string_view)> sink_;
  AnswerStyle style_;
  WordWrapper wrap_;
  bool in_thinking_ = false;
  std::string thinking_, content_;
};

// Ollama's default wrap margin: lines stop 5 columns short of the terminal's width.
int wrap_limit(int terminal_width);

}  // namespace hearth::cli
