#include "store/model_name.h"

#include <cctype>

#include "util/error.h"

namespace hearth::store {

namespace {

enum class Part { host, ns, model, tag };

bool valid_part(std::string_view s, Part kind) {
  size_t max_len = kind == Part::host ? 350 : 80;
  if (s.empty() || s.size() > max_len) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = std::isalnum(c) || c == '_';
    if (i > 0) {
      if (c == '-') ok = true;
      if (c == '.' && kind != Part::ns) ok = true;
      if (c == ':' && kind == Part::host) ok = true;
    }
    if (!ok) return false;
  }
  // "." and ".." are rejected by the first-character rule; nothing else can climb directories.
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool ModelName::try_parse(std::string_view text, ModelName* out) {
  ModelName n;
  std::string_view s = text;
  if (auto at = s.find('@'); at != std::string_view::npos) {
    s = s.substr(0, at);  // a trailing @digest selects nothing extra here; Ollama ignores it too
  }
  auto last_colon = s.rfind(':');
  auto last_slash = s.rfind('/');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    n.tag = std::string(s.substr(last_colon + 1));
    s = s.substr(0, last_colon);
    if (n.tag.empty()) return false;
  }
  auto cut = [&](std::string* part) {
    auto p = s.rfind('/');
    if (p == std::string_view::npos) {
      *part = std::string(s);
      s = {};
      return false;
    }
    *part = std::string(s.substr(p + 1));
    s = s.substr(0, p);
    return true;
  };
  if (cut(&n.model)) {
    bool has_host = cut(&n.ns);
    if (n.ns.empty()) return false;  // "a//b"
    if (has_host) {
      std::string_view host = s;
      if (auto scheme = host.find("://"); scheme != std::string_view::npos) {
        host = host.substr(scheme + 3);
      }
      n.host = std::string(host);
      n.host_given = true;
      if (n.host.empty()) return false;
    }
  }
  if (n.host.empty()) n.host = kDefaultHost;
  if (n.ns.empty()) n.ns = kDefaultNamespace;
  if (n.tag.empty()) n.tag = kDefaultTag;
  if (!valid_part(n.host, Part::host) || !valid_part(n.ns, Part::ns) ||
      !valid_part(n.model, Part::model) || !valid_part(n.tag, Part::tag)) {
    return false;
  }
  *out = std::move(n);
  return true;
}

ModelName ModelName::parse(std::string_view text) {
  ModelName n;
  if (!try_parse(text, &n)) throw Error(ErrorCode::invalid_argument, "invalid model name");
  return n;
}

std::string ModelName::display() const {
  std::string base = model + ":" + tag;
  if (lower(host) == kDefaultHost) {
    if (lower(ns) == kDefaultNamespace) return base;
    return ns + "/" + base;
  }
  return host + "/" + ns + "/" + base;
}

std::string ModelName::full() const { return host + "/" + ns + "/" + model + ":" + tag; }

std::string ModelName::manifest_rel_path() const {
  return host + "/" + ns + "/" + model + "/" + tag;
}

std::string ModelName::key() const { return lower(full()); }

std::string ModelName::repository() const { return ns + "/" + model; }

}  // namespace hearth::store
