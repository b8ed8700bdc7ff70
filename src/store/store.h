#pragma once
// The model store: content-addressed blobs plus one manifest per model name, laid out exactly as
// Ollama lays out $OLLAMA_MODELS (ollama-compat.md section 6), so either program can use the
// other's store.
//
// Consistency rules, which hold after a crash or kill -9 at any point:
//  - a blob file is only ever created by renaming a fully written, fsynced, verified temp file;
//  - a manifest is written (atomically) only after every blob it names is present;
//  - deleting removes the manifest first, then the blobs no other manifest uses.
// Concurrency: operations on one model name serialise on a per-name flock; blob downloads
// serialise on a per-digest flock; anything that adds blobs holds the shared "gc" lock, and blob
// garbage collection runs only under the exclusive one, so it never deletes a blob that a running
// pull or create is about to reference.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/file_lock.h"
#include "store/manifest.h"
#include "store/model_name.h"

namespace hearth::store {

struct ModelEntry {
  ModelName name;                  // as spelled on disk
  std::string digest;              // sha256 hex of the manifest file bytes (no prefix)
  uint64_t size = 0;               // layers + config
  std::chrono::system_clock::time_point modified;
  Manifest manifest;
  ModelConfig config;              // default-constructed if the config blob is unreadable
};

class Store {
 public:
  explicit Store(std::string root);
  // $HEARTH_MODELS, else $OLLAMA_MODELS, else ~/.hearth/models.
  static std::string default_root();
  static Store open_default() { return Store(default_root()); }

  const std::string& root() const { return root_; }
  std::string blobs_dir() const { return root_ + "/blobs"; }
  std::string manifests_dir() const { return root_ + "/manifests"; }

  // Paths. The digest is validated first (Error(invalid_argument) otherwise).
  std::string blob_path(std::string_view digest) const;
  std::string manifest_path(const ModelName& name) const;

  bool has_blob(std::string_view digest) const;
  // Stores bytes as a blob (no-op if present); returns its digest. *existed tells which.
  std::string put_blob(std::string_view bytes, bool* existed = nullptr);
  // Copies a file into the store, then hashes the copy; returns its digest. If the blob is
  // already present the copy is dropped.
  std::string import_blob_file(const std::string& path, uint64_t* size = nullptr,
                               bool* existed = nullptr);
  // Moves a finished temp file (in blobs_dir(), named by temp_path_for) into the store under its
  // digest; the caller holds lock_gc_shared() from the file's creation on.
  std::string adopt_temp_file(const std::string& tmp, uint64_t* size = nullptr,
                              bool* existed = nullptr);
  // Receives a blob whose digest the sender names (POST /api/blobs/:digest): read(sink) feeds the
  // body to sink(data, n) chunk by chunk and returns false if the transfer broke (sink returns
  // false to stop it). Holds the shared gc lock from the existence check to the rename, so blob
  // GC can neither delete the temp file nor collect the blob half-way. Returns true if the blob
  // was already present (the body is drained, not stored). Throws Error(invalid_argument) when
  // the bytes do not hash to `digest`, Error(io) when writing fails or the transfer broke; no
  // temp file is left behind either way.
  using BlobSink = std::function<bool(const char* data, size_t n)>;
  using BlobReader = std::function<bool(const BlobSink& sink)>;
  bool receive_blob(std::string_view digest, const BlobReader& read);
  // Reads a small blob (template, params, ...). Throws not_found / resource_exhausted.
  std::string read_blob(std::string_view digest, uint64_t max_bytes = kMaxManifestBytes) const;

  // The name as stored on disk, matched case-insensitively. When the user gave no host and the
  // default host has no such model, a unique match under another host is returned (so that
  // `pull localhost:5000/library/m:t` then `run m:t` works).
  std::optional<ModelName> resolve(const ModelName& name) const;
  // resolve() or Error(not_found, "model 'NAME' not found").
  ModelName resolve_existing(std::string_view name) const;

  // Reads and parses a manifest; *raw receives its bytes. Throws not_found / corrupt.
  Manifest read_manifest(const ModelName& name, std::string* raw = nullptr) const;
  // Atomically writes the manifest bytes as given (byte-for-byte), after checking that it parses
  // and that every blob it names is present with the size it claims. Keeps an existing casing.
  void write_manifest(const ModelName& name, std::string_view raw);
  // write_manifest over this very name's previous manifest (a re-pull or re-create); returns the
  // blobs the previous manifest named and the new one does not, for remove_blobs_if_unreferenced.
  // An unreadable previous manifest is simply replaced.
  std::vector<std::string> replace_manifest(const ModelName& name, std::string_view raw);

  ModelEntry entry(const ModelName& name) const;
  // Every model, newest first. Unreadable manifests are skipped with a warning.
  std::vector<ModelEntry> list() const;

  // Copies SRC's manifest to DST. Throws not_found for a missing source.
  void copy(std::string_view src, std::string_view dst);
  // Removes the model and the blobs no other manifest references (deferred to the next prune when
  // a pull or create holds the gc lock). Throws not_found.
  void remove(std::string_view name);
  // Deletes those of `digests` that no manifest references, unless a pull or create is running
  // (then prune collects them later). Returns how many were removed.
  size_t remove_blobs_if_unreferenced(const std::vector<std::string>& digests);
  // Deletes blobs no manifest references, plus stale temp files. Returns how many were removed.
  // Waits for running pulls/creates. Partial downloads (-partial*) are kept for resume.
  size_t prune();
  // The same, but nullopt at once, removing nothing, when a pull or create (in any process)
  // holds the gc lock: what start-up wants, rather than waiting for someone's long download.
  std::optional<size_t> try_prune();

  // Locks (see the header comment).
  FileLock lock_model(const ModelName& name) const;
  FileLock lock_blob(std::string_view digest) const;
  FileLock lock_gc_shared() const;

  // All manifest names on disk (manifests/*/*/*/*).
  std::vector<ModelName> manifest_names() const;

 private:
  size_t prune_locked();  // the caller holds the gc lock exclusively
  std::string lock_dir() const { return root_ + "/.locks"; }
  // Blob digests referenced by any manifest (unreadable manifests make this throw, so that a
  // damaged store never loses blobs to GC).
  std::vector<std::string> referenced_digests() const;
  size_t remove_unreferenced(const std::vector<std::string>& candidates);

  std::string root_;
};

}  // namespace hearth::store
