#pragma once
// SHA-256 content digests in the registry's spelling ("sha256:<64 lowercase hex>"). Every digest
// that comes from outside (a manifest, a URL, a request) is validated here before it becomes part
// of a path.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hearth::store {

// True for "sha256:" followed by exactly 64 lowercase hex digits.
bool is_valid_digest(std::string_view digest);

// Accepts "sha256:<hex>" or the on-disk "sha256-<hex>"; returns the canonical "sha256:<hex>".
// Throws Error(invalid_argument) "invalid digest format" otherwise.
std::string parse_digest(std::string_view digest);

// The 64 hex digits of a valid digest.
std::string_view digest_hex(std::string_view digest);

// Streaming SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  // "sha256:<hex>"; the hasher must not be used afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_digest(std::string_view bytes);
// Hashes a whole file; sets *size to its length when non-null. Throws Error(io / not_found).
std::string sha256_file(const std::string& path, uint64_t* size = nullptr);

}  // namespace hearth::store
