#include <algorithm>
#include <memory>
#include <set>

#include "store/blob_download.h"
#include "store/digest.h"
#include "store/registry_ops.h"
#include "util/env.h"
#include "util/error.h"

namespace hearth::store {

namespace {

std::string short_hex(const std::string& digest) { return std::string(digest_hex(digest).substr(0, 12)); }

}  // namespace

RegistryOptions default_registry_options() {
  RegistryOptions o;
  o.prune_unused = !env_flag("HEARTH_NOPRUNE");
  return o;
}

void pull_model(Store& store, std::string_view text, const RegistryOptions& opts,
                const ProgressFn& progress) {
  auto emit = [&](const std::string& status, const std::string& digest = "", uint64_t total = 0,
                  uint64_t completed = 0) {
    if (progress) progress(Progress{status, digest, total, completed});
  };
  ModelName name = ModelName::parse(text);
  check_name_scheme(text, opts);
  RegistryClient client(name, opts);
  // Operations on one name run one after another, for their whole length (a second pull of the
  // same model then finds every blob in place).
  FileLock model_lock = store.lock_model(name);

  emit("pulling manifest");
  HttpRequest req;
  req.url = client.repo_url("/manifests/" + name.tag);
  req.headers.push_back(std::string("Accept: ") + kManifestMediaType);
  req.max_body = kMaxManifestBytes;
  HttpResponse r;
  try {
    r = client.send(std::move(req));
  } catch (const Error& e) {
    throw e.with_context("pull model manifest");
  }
  if (r.status != 200) RegistryClient::throw_for_status(r, "pull model manifest");
  const std::string raw = r.body;
  Manifest manifest;
  try {
    manifest = Manifest::parse(raw);
  } catch (const Error& e) {
    throw e.with_context("pull model manifest");
  }

  FileLock gc = store.lock_gc_shared();
  std::vector<Layer> layers = manifest.layers;
  layers.push_back(manifest.config);
  // Same digest twice in one manifest is one download.
  std::set<std::string> seen;
  layers.erase(std::remove_if(layers.begin(), layers.end(),
                              [&](const Layer& l) { return !seen.insert(l.digest).second; }),
               layers.end());
  // Blob locks in digest order, so two pulls sharing blobs cannot deadlock.
  std::vector<FileLock> blob_locks;
  for (const auto& d : seen) blob_locks.push_back(store.lock_blob(d));

  std::vector<std::unique_ptr<BlobDownload>> downloaded;
  for (const auto& l : layers) {
    std::string status = "pulling " + short_hex(l.digest);
    if (store.has_blob(l.digest)) {
      emit(status, l.digest, l.size, l.size);
      continue;
    }
    auto dl = std::make_unique<BlobDownload>(store, client, l);
    emit(status, l.digest, l.size, 0);
    dl->run([&](uint64_t done) { emit(status, l.digest, l.size, done); });
    downloaded.push_back(std::move(dl));
  }

  emit("verifying sha256 digest");
  for (auto& dl : downloaded) dl->finish();

  emit("writing manifest");
  const std::vector<std::string> unused = store.replace_manifest(name, raw);
  blob_locks.clear();
  gc.release();

  if (opts.prune_unused && !unused.empty()) {
    emit("removing unused layers");
    store.remove_blobs_if_unreferenced(unused);
  }
  emit("success");
}

}  // namespace hearth::store
