#pragma once
// Embedding requests and responses: /api/embed (batched, normalized), the legacy /api/embeddings
// (one prompt, not normalized) and OpenAI's /v1/embeddings (ollama-compat.md sections 1, 2, 9).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/options.h"

namespace hearth::api {

// One input: text, or (OpenAI only) token ids given by the client.
struct EmbedInput {
  std::string text;
  std::optional<std::vector<int32_t>> tokens;
};

struct EmbedRequest {
  std::string model;
  std::vector<EmbedInput> inputs;  // empty: load the model only
  bool truncate = true;
  int dimensions = 0;              // 0: the model's full length
  Options options;
  std::optional<std::chrono::nanoseconds> keep_alive;
};

// /api/embed: `input` is a string or an array of strings (400 "invalid input type" otherwise; an
// empty string means no input). `dimensions` must be >= 0.
EmbedRequest parse_embed_request(const Json& body);

// /api/embeddings (legacy): `prompt` (empty: load only); truncation always on.
EmbedRequest parse_legacy_embeddings_request(const Json& body);

struct OpenAIEmbedRequest {
  EmbedRequest embed;
  bool base64 = false;  // encoding_format "base64": little-endian f32 bytes
};

// /v1/embeddings: `input` is a string, an array of strings, an array of token ids, or an array
// of arrays of token ids (400 "invalid input" when empty). `encoding_format` float | base64.
OpenAIEmbedRequest parse_openai_embed(const Json& body);

// v / ||v|| in double, as floats (a zero vector stays zero).
std::vector<float> l2_normalized(const std::vector<float>& v);
// Cuts to `dimensions` (when 0 < dimensions < size) and normalizes again, as Ollama does.
std::vector<float> embed_vector(std::vector<float> v, int dimensions);

// Base64 of the vector's little-endian f32 bytes (OpenAI's encoding_format "base64").
std::string base64_f32(const std::vector<float>& v);

}  // namespace hearth::api
