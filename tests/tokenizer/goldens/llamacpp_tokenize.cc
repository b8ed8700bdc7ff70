// Not part of the build: a reference tool that prints llama.cpp's token ids (libllama, built
// outside the project) for many texts with one vocabulary load, for make_bpe_llamacpp_goldens.py
// (llama-tokenize loads the vocabulary once per text: ~1 s each for a 200k vocabulary). The same
// call as `llama-tokenize --ids --no-bos` without --parse-special: llama_tokenize with
// add_special and parse_special false; the generator checks some cases against llama-tokenize.
// Reads one hex-encoded UTF-8 text a line from stdin, prints the ids space-separated, a line per
// text. Build (LLAMA = a llama.cpp tree built with shared libraries):
//   g++ -std=c++17 -O1 llamacpp_tokenize.cc -I$LLAMA/include -I$LLAMA/ggml/include \
//       -L$LLAMA/build/bin -lllama -Wl,-rpath,$LLAMA/build/bin -o /tmp/llamacpp-tokenize
#include <iostream>
#include <string>
#include <vector>

#include "llama.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: llamacpp-tokenize VOCAB.gguf < hex-lines\n";
    return 2;
  }
  llama_backend_init();
  llama_model_params params = llama_model_default_params();
  params.vocab_only = true;
  llama_model* model = llama_model_load_from_file(argv[1], params);
  if (model == nullptr) {
    std::cerr << "cannot load " << argv[1] << "\n";
    return 1;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string text;
    for (size_t i = 0; i + 1 < line.size(); i += 2) text += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
    std::vector<llama_token> ids(text.size() + 16);
    const int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                                     static_cast<int32_t>(ids.size()), false, false);
    if (n < 0) {
      std::cerr << "llama_tokenize failed\n";
      return 1;
    }
    for (int32_t i = 0; i < n; ++i) std::cout << (i ? " " : "") << ids[static_cast<size_t>(i)];
    std::cout << "\n";
  }
  llama_model_free(model);
}
