#pragma once
// Docker v2 schema-2 manifests and the Ollama config blob (ollama-compat.md section 6). Parsing
// ignores unknown fields (old stores carry "rootfs"), validates every digest, and bounds sizes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::store {

inline constexpr const char* kManifestMediaType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kConfigMediaType = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kMediaModel = "application/vnd.ollama.image.model";
inline constexpr const char* kMediaProjector = "application/vnd.ollama.image.projector";
inline constexpr const char* kMediaAdapter = "application/vnd.ollama.image.adapter";
inline constexpr const char* kMediaDraft = "application/vnd.ollama.image.draft";
inline constexpr const char* kMediaTemplate = "application/vnd.ollama.image.template";
inline constexpr const char* kMediaPrompt = "application/vnd.ollama.image.prompt";  // legacy
inline constexpr const char* kMediaSystem = "application/vnd.ollama.image.system";
inline constexpr const char* kMediaParams = "application/vnd.ollama.image.params";
inline constexpr const char* kMediaMessages = "application/vnd.ollama.image.messages";
inline constexpr const char* kMediaLicense = "application/vnd.ollama.image.license";

// Largest manifest or small text layer we read into memory.
inline constexpr uint64_t kMaxManifestBytes = 4u << 20;

struct Layer {
  std::string media_type;
  std::string digest;  // "sha256:<hex>", validated
  uint64_t size = 0;
  std::string from;    // optional
  std::string name;    // optional
};

struct Manifest {
  int schema_version = 2;
  std::string media_type = kManifestMediaType;
  Layer config;
  std::vector<Layer> layers;

  // Throws Error(corrupt) naming what is wrong.
  static Manifest parse(std::string_view json);
  // Single-line JSON, the field order Ollama writes.
  std::string to_json() const;

  // Every blob digest the manifest references (config first), deduplicated.
  std::vector<std::string> blob_digests() const;
  // Sum of the layer sizes plus the config size (what /api/tags reports).
  uint64_t total_size() const;
  const Layer* find_layer(std::string_view media_type) const;
};

// The config blob (ConfigV2). Unknown fields are ignored on parse; empty ones are omitted.
struct ModelConfig {
  std::string model_format = "gguf";
  std::string model_family;
  std::vector<std::string> model_families;
  std::string model_type;  // parameter size, "7.6B"
  std::string file_type;   // quantization level, "Q4_K_M"
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string renderer, parser, requires_version;
  std::vector<std::string> capabilities;
  uint64_t context_length = 0;
  uint64_t embedding_length = 0;

  static ModelConfig parse(std::string_view json);
  std::string to_json() const;
};

}  // namespace hearth::store
