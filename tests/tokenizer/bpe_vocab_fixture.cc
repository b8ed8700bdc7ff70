#include "bpe_vocab_fixture.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "gguf/gguf_writer.h"
#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {

std::vector<uint8_t> bpe_vocab_gguf(const std::string& tokenizer_json_path, const std::string& pre) {
  const auto doc = nlohmann::json::parse(read_file(tokenizer_json_path));
  const auto& model = doc.at("model");
  if (model.at("type") != "BPE") throw std::runtime_error(tokenizer_json_path + ": not a BPE tokenizer");
  std::vector<std::pair<std::string, int64_t>> entries;
  std::vector<std::pair<int64_t, int32_t>> added_types;
  for (const auto& [text, id] : model.at("vocab").items()) entries.emplace_back(text, id.get<int64_t>());
  for (const auto& t : doc.at("added_tokens")) {
    entries.emplace_back(t.at("content").get<std::string>(), t.at("id").get<int64_t>());
    added_types.emplace_back(t.at("id").get<int64_t>(), t.at("special").get<bool>() ? 3 : 4);
  }
  int64_t n = 0;
  for (const auto& e : entries) n = std::max(n, e.second + 1);
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int32_t> types(static_cast<size_t>(n), 5);  // UNUSED
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (const auto& [text, id] : entries) {
    tokens[static_cast<size_t>(id)] = text;
    types[static_cast<size_t>(id)] = 1;  // NORMAL
  }
  for (const auto& [id, type] : added_types) types[static_cast<size_t>(id)] = type;
  std::vector<std::string> merges;
  for (const auto& m : model.at("merges")) {
    merges.push_back(m.is_string() ? m.get<std::string>() : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
  }
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", std::move(merges));
  return w.to_bytes();
}

}  // namespace hearth::tokenizer::testing
