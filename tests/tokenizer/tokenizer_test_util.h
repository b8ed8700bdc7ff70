#pragma once
// Helpers shared by the tokenizer tests: test data paths, vocab loading, id formatting.

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace hearth::tokenizer::testing {

std::string testdata(const std::string& rel);           // HEARTH_TESTDATA_DIR/rel
std::string read_file(const std::string& path);         // whole file, binary
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& gguf_path);  // vocab only
std::string ids_to_string(const std::vector<TokenId>& ids);  // "1 2 3"
std::vector<TokenId> parse_ids(const std::string& line);     // " 1 2 3" -> {1,2,3}

}  // namespace hearth::tokenizer::testing
