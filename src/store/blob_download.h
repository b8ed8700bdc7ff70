#pragma once
// One blob's download from a registry: ranged parts in parallel into "<blob>-partial" (a sparse
// file), each part's progress kept beside it in "<blob>-partial-<N>" as Ollama keeps it
// ({"N","Offset","Size","Completed"}), so an interrupted download (network cut, kill -9) resumes
// where it stopped. finish() hashes the data and only then renames it to the blob's name.
// The caller holds the store's blob lock for this digest.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/manifest.h"
#include "store/registry_client.h"
#include "store/store.h"

namespace hearth::store {

class BlobDownload {
 public:
  BlobDownload(Store& store, RegistryClient& client, Layer layer);

  // Downloads every part; `progress` is called from this thread about every
  // progress_interval with the bytes done so far. Throws on a permanent error (the partial
  // state stays for the next attempt unless the data is known bad).
  void run(const std::function<void(uint64_t completed)>& progress);
  // Verifies the SHA-256 and makes the blob visible. On a mismatch the partial data is deleted
  // and Error(corrupt, "digest mismatch, file must be downloaded again: want ..., got ...").
  void finish();

  const Layer& layer() const { return layer_; }

 private:
  struct Part {
    int n = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    std::atomic<uint64_t> completed{0};
  };

  void plan_parts();
  bool load_state();
  void save_state(const Part& p) const;
  void download_part(Part& p, int fd);
  std::string state_path(int n) const;
  void remove_state_files() const;

  Store& store_;
  RegistryClient& client_;
  Layer layer_;
  std::string blob_path_;
  std::string partial_path_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::atomic<bool> stop_{false};
};

}  // namespace hearth::store
