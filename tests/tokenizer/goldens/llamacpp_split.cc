// Not part of the build: a reference tool that prints how llama.cpp's own pre-tokenizer
// (unicode_regex_split in libllama, built outside the project) splits texts, for
// make_llamacpp_split_goldens.py. Reads one hex-encoded UTF-8 text a line from stdin, takes the
// regexes from argv, and prints the UTF-8 byte length of every piece, space-separated, a line
// per text. Build (LLAMA = a llama.cpp tree built with shared libraries):
//   g++ -std=c++17 -O1 llamacpp_split.cc -L$LLAMA/build/bin -lllama -o /tmp/llamacpp-split
#include <iostream>
#include <string>
#include <vector>

// Declared by llama.cpp's src/unicode.h, exported by libllama.
std::vector<std::string> unicode_regex_split(const std::string& text, const std::vector<std::string>& regex_exprs,
                                             bool byte_encode);

int main(int argc, char** argv) {
  const std::vector<std::string> regexes(argv + 1, argv + argc);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string text;
    for (size_t i = 0; i + 1 < line.size(); i += 2) text += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
    const std::vector<std::string> pieces = unicode_regex_split(text, regexes, false);
    for (size_t i = 0; i < pieces.size(); ++i) std::cout << (i ? " " : "") << pieces[i].size();
    std::cout << "\n";
  }
}
