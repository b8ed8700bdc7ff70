#pragma once
// Model names as Ollama spells them: [host/][namespace/]model[:tag]. Missing parts take Ollama's
// defaults (registry.ollama.ai, library, latest). A name is validated before any part of it becomes
// a path, so "../x" or "a/b/c/d/e" can never reach the filesystem.

#include <string>
#include <string_view>

namespace hearth::store {

inline constexpr const char* kDefaultHost = "registry.ollama.ai";
inline constexpr const char* kDefaultNamespace = "library";
inline constexpr const char* kDefaultTag = "latest";

struct ModelName {
  std::string host;
  std::string ns;
  std::string model;
  std::string tag;
  bool host_given = false;  // the user wrote a host (affects the fallback lookup only)

  // Parses and fills defaults; throws Error(invalid_argument, "invalid model name").
  static ModelName parse(std::string_view text);
  // Same, returning false instead of throwing.
  static bool try_parse(std::string_view text, ModelName* out);

  // "model:tag", "ns/model:tag" or "host/ns/model:tag" (Ollama's DisplayShortest).
  std::string display() const;
  // "host/ns/model:tag".
  std::string full() const;
  // "host/ns/model/tag", relative to the manifests directory.
  std::string manifest_rel_path() const;
  // Lowercased full() (the case-insensitive identity used for lookup and locks).
  std::string key() const;
  // "ns/model" as used in registry URLs.
  std::string repository() const;

  bool operator==(const ModelName& o) const { return key() == o.key(); }
};

}  // namespace hearth::store
