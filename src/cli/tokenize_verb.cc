// `hearth tokenize PATH.gguf [--special]`: the token ids of the text on stdin, one line,
// space-separated, without BOS/EOS. Reads only the vocabulary, so vocabulary-only GGUFs work.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "cli/verbs.h"
#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

struct TokenizeFlags {
  std::string path;
  bool special = false;
};

void run_tokenize(const TokenizeFlags& f) {
  const gguf::File file = gguf::File::open(f.path);
  const tokenizer::Tokenizer tok(model::load_vocab(file));
  std::cin >> std::noskipws;
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) throw Error(ErrorCode::io, "reading stdin failed");
  tokenizer::EncodeOptions options;
  options.parse_special = f.special;
  const std::vector<tokenizer::TokenId> ids = tok.encode(text, options);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace

void add_tokenize_verb(CLI::App& app) {
  auto f = std::make_shared<TokenizeFlags>();
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of the text on stdin");
  cmd->add_option("path", f->path, "GGUF file holding the vocabulary")->required();
  cmd->add_flag("--special", f->special, "Recognise control tokens written in the text");
  cmd->callback([f] { run_tokenize(*f); });
}

}  // namespace hearth::cli
