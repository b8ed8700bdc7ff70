#include "tokenizer_test_util.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"

namespace hearth::tokenizer::testing {

std::string testdata(const std::string& rel) { return std::string(HEARTH_TESTDATA_DIR) + "/" + rel; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& gguf_path) {
  const gguf::File file = gguf::File::open(gguf_path);
  return std::make_unique<Tokenizer>(model::load_vocab(file));
}

std::string ids_to_string(const std::vector<TokenId>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  return s;
}

std::vector<TokenId> parse_ids(const std::string& line) {
  std::vector<TokenId> ids;
  std::istringstream in(line);
  long long v;
  while (in >> v) ids.push_back(static_cast<TokenId>(v));
  return ids;
}

}  // namespace hearth::tokenizer::testing
