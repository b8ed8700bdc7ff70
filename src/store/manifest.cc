#include "store/manifest.h"

#include <nlohmann/json.hpp>
#include <set>

#include "store/digest.h"
#include "util/error.h"

namespace hearth::store {

using nlohmann::json;

namespace {

Layer parse_layer(const json& j, const char* what) {
  if (!j.is_object()) throw Error(ErrorCode::corrupt, std::string("manifest: ") + what + " is not an object");
  Layer l;
  auto mt = j.find("mediaType");
  if (mt != j.end() && mt->is_string()) l.media_type = mt->get<std::string>();
  auto d = j.find("digest");
  if (d == j.end() || !d->is_string() || !is_valid_digest(d->get<std::string>())) {
    throw Error(ErrorCode::corrupt, std::string("manifest: ") + what + " has an invalid digest");
  }
  l.digest = d->get<std::string>();
  auto sz = j.find("size");
  if (sz == j.end() || !sz->is_number_integer() || sz->get<int64_t>() < 0) {
    throw Error(ErrorCode::corrupt, std::string("manifest: ") + what + " has an invalid size");
  }
  l.size = sz->get<uint64_t>();
  if (auto f = j.find("from"); f != j.end() && f->is_string()) l.from = f->get<std::string>();
  if (auto n = j.find("name"); n != j.end() && n->is_string()) l.name = n->get<std::string>();
  return l;
}

nlohmann::ordered_json layer_json(const Layer& l) {
  // nlohmann::ordered_json keeps insertion order, matching Go's struct field order.
  nlohmann::ordered_json j;
  j["mediaType"] = l.media_type;
  j["digest"] = l.digest;
  j["size"] = l.size;
  if (!l.from.empty()) j["from"] = l.from;
  if (!l.name.empty()) j["name"] = l.name;
  return j;
}

}  // namespace

Manifest Manifest::parse(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(ErrorCode::corrupt, "manifest: invalid JSON");
  Manifest m;
  if (auto v = j.find("schemaVersion"); v != j.end() && v->is_number_integer()) {
    m.schema_version = v->get<int>();
  }
  if (m.schema_version != 2) throw Error(ErrorCode::unsupported, "manifest: unsupported schemaVersion");
  if (auto v = j.find("mediaType"); v != j.end() && v->is_string()) m.media_type = v->get<std::string>();
  auto c = j.find("config");
  if (c == j.end()) throw Error(ErrorCode::corrupt, "manifest: missing config");
  m.config = parse_layer(*c, "config");
  auto ls = j.find("layers");
  if (ls == j.end() || !ls->is_array()) throw Error(ErrorCode::corrupt, "manifest: missing layers");
  for (const auto& l : *ls) m.layers.push_back(parse_layer(l, "layer"));
  return m;
}

std::string Manifest::to_json() const {
  nlohmann::ordered_json j;
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type;
  j["config"] = layer_json(config);
  auto arr = nlohmann::ordered_json::array();
  for (const auto& l : layers) arr.push_back(layer_json(l));
  j["layers"] = arr;
  return j.dump();
}

std::vector<std::string> Manifest::blob_digests() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  if (seen.insert(config.digest).second) out.push_back(config.digest);
  for (const auto& l : layers) {
    if (seen.insert(l.digest).second) out.push_back(l.digest);
  }
  return out;
}

uint64_t Manifest::total_size() const {
  uint64_t s = config.size;
  for (const auto& l : layers) s += l.size;
  return s;
}

const Layer* Manifest::find_layer(std::string_view media_type) const {
  for (const auto& l : layers) {
    if (l.media_type == media_type) return &l;
  }
  return nullptr;
}

ModelConfig ModelConfig::parse(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(ErrorCode::corrupt, "config blob: invalid JSON");
  ModelConfig c;
  auto str = [&](const char* k, std::string* out) {
    if (auto v = j.find(k); v != j.end() && v->is_string()) *out = v->get<std::string>();
  };
  auto strs = [&](const char* k, std::vector<std::string>* out) {
    if (auto v = j.find(k); v != j.end() && v->is_array()) {
      out->clear();
      for (const auto& e : *v) {
        if (e.is_string()) out->push_back(e.get<std::string>());
      }
    }
  };
  auto num = [&](const char* k, uint64_t* out) {
    if (auto v = j.find(k); v != j.end() && v->is_number_unsigned()) *out = v->get<uint64_t>();
  };
  str("model_format", &c.model_format);
  str("model_family", &c.model_family);
  strs("model_families", &c.model_families);
  str("model_type", &c.model_type);
  str("file_type", &c.file_type);
  str("architecture", &c.architecture);
  str("os", &c.os);
  str("renderer", &c.renderer);
  str("parser", &c.parser);
  str("requires", &c.requires_version);
  strs("capabilities", &c.capabilities);
  num("context_length", &c.context_length);
  num("embedding_length", &c.embedding_length);
  return c;
}

std::string ModelConfig::to_json() const {
  nlohmann::ordered_json j;
  j["model_format"] = model_format;
  j["model_family"] = model_family;
  j["model_families"] = model_families;
  j["model_type"] = model_type;
  j["file_type"] = file_type;
  if (!renderer.empty()) j["renderer"] = renderer;
  if (!parser.empty()) j["parser"] = parser;
  if (!requires_version.empty()) j["requires"] = requires_version;
  if (!capabilities.empty()) j["capabilities"] = capabilities;
  if (context_length != 0) j["context_length"] = context_length;
  if (embedding_length != 0) j["embedding_length"] = embedding_length;
  j["architecture"] = architecture;
  j["os"] = os;
  return j.dump();
}

}  // namespace hearth::store
