#include "api/embed.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "api/requests.h"
#include "util/base64.h"
#include "util/error.h"

namespace hearth::api {

namespace {

Error bad(const std::string& message) { return Error(ErrorCode::invalid_argument, message); }

void read_shared(const Json& b, EmbedRequest& r) {
  r.model = get_model_field(b);
  if (auto it = b.find("options"); it != b.end()) r.options = Options::parse(*it);
  if (auto it = b.find("keep_alive"); it != b.end()) r.keep_alive = parse_keep_alive_field(*it);
}

int read_dimensions(const Json& b) {
  auto it = b.find("dimensions");
  if (it == b.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) {
    throw bad("invalid value for field \"dimensions\": expected an integer");
  }
  const int64_t d = it->get<int64_t>();
  if (d < 0) throw bad("dimensions must be a non-negative integer");
  return static_cast<int>(std::min<int64_t>(d, std::numeric_limits<int>::max()));
}

// A JSON array of integers as token ids, or nullopt when `v` is not one.
std::optional<std::vector<int32_t>> token_array(const Json& v) {
  if (!v.is_array() || v.empty()) return std::nullopt;
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (const auto& x : v) {
    if (!x.is_number_integer()) return std::nullopt;
    const int64_t id = x.get<int64_t>();
    if (id < std::numeric_limits<int32_t>::min() || id > std::numeric_limits<int32_t>::max()) {
      throw bad("invalid input: token id " + std::to_string(id) + " is out of range");
    }
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

}  // namespace

EmbedRequest parse_embed_request(const Json& b) {
  EmbedRequest r;
  read_shared(b, r);
  r.truncate = get_bool(b, "truncate", true);
  r.dimensions = read_dimensions(b);
  auto it = b.find("input");
  if (it == b.end() || it->is_null()) return r;
  if (it->is_string()) {
    if (!it->get<std::string>().empty()) r.inputs.push_back({it->get<std::string>(), std::nullopt});
    return r;
  }
  if (!it->is_array()) throw bad("invalid input type");
  for (const auto& v : *it) {
    if (!v.is_string()) throw bad("invalid input type");
    r.inputs.push_back({v.get<std::string>(), std::nullopt});
  }
  return r;
}

EmbedRequest parse_legacy_embeddings_request(const Json& b) {
  EmbedRequest r;
  read_shared(b, r);
  std::string prompt = get_string(b, "prompt");
  if (!prompt.empty()) r.inputs.push_back({std::move(prompt), std::nullopt});
  return r;
}

OpenAIEmbedRequest parse_openai_embed(const Json& b) {
  OpenAIEmbedRequest o;
  EmbedRequest& r = o.embed;
  r.model = get_string(b, "model");
  r.dimensions = read_dimensions(b);
  const std::string format = get_string(b, "encoding_format", "float");
  if (format == "base64") {
    o.base64 = true;
  } else if (format != "float" && !format.empty()) {
    throw bad("invalid encoding_format \"" + format + "\": expected \"float\" or \"base64\"");
  }
  auto it = b.find("input");
  if (it == b.end() || it->is_null()) throw bad("invalid input");
  const Json& in = *it;
  if (in.is_string()) {
    if (in.get<std::string>().empty()) throw bad("invalid input");
    r.inputs.push_back({in.get<std::string>(), std::nullopt});
    return o;
  }
  if (!in.is_array() || in.empty()) throw bad("invalid input");
  if (auto ids = token_array(in)) {  // one input given as token ids
    r.inputs.push_back({"", std::move(ids)});
    return o;
  }
  for (const auto& v : in) {
    if (v.is_string()) {
      r.inputs.push_back({v.get<std::string>(), std::nullopt});
    } else if (auto ids = token_array(v)) {
      r.inputs.push_back({"", std::move(ids)});
    } else {
      throw bad("invalid input type");
    }
  }
  return o;
}

std::vector<float> l2_normalized(const std::vector<float>& v) {
  double ss = 0.0;
  for (float x : v) ss += static_cast<double>(x) * x;
  std::vector<float> out(v.size(), 0.0f);
  if (ss <= 0.0 || !std::isfinite(ss)) return ss > 0.0 ? v : out;
  const double inv = 1.0 / std::sqrt(ss);
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] * inv);
  return out;
}

std::vector<float> embed_vector(std::vector<float> v, int dimensions) {
  if (dimensions > 0 && static_cast<size_t>(dimensions) < v.size()) v.resize(static_cast<size_t>(dimensions));
  return l2_normalized(v);
}

std::string base64_f32(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u = 0;
    std::memcpy(&u, &v[i], 4);
    for (int k = 0; k < 4; ++k) bytes[i * 4 + static_cast<size_t>(k)] = static_cast<char>((u >> (8 * k)) & 0xff);
  }
  return base64_encode(bytes);
}

}  // namespace hearth::api
