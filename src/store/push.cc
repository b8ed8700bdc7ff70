#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "store/atomic_file.h"
#include "store/digest.h"
#include "store/registry_ops.h"
#include "util/error.h"

namespace hearth::store {

namespace {

std::string absolute_location(const RegistryClient& c, const std::string& loc) {
  if (loc.rfind("http://", 0) == 0 || loc.rfind("https://", 0) == 0) return loc;
  return c.base_url() + (loc.empty() || loc[0] != '/' ? "/" : "") + loc;
}

bool transient(long s) { return s == 408 || s == 429 || s >= 500; }

std::string next_location(const RegistryClient& c, const HttpResponse& r) {
  std::string loc = r.header("docker-upload-location");
  if (loc.empty()) loc = r.header("location");
  if (loc.empty()) throw Error(ErrorCode::corrupt, "registry gave no upload location");
  return absolute_location(c, loc);
}

std::string with_digest(std::string loc, const std::string& digest) {
  return loc + (loc.find('?') == std::string::npos ? "?" : "&") + "digest=" + url_escape(digest);
}

// Sends bytes [offset, offset + n) of the blob file as the request body.
void file_body(HttpRequest& req, int fd, uint64_t offset, uint64_t n,
               const std::function<void(uint64_t)>& progress) {
  req.body_size = n;
  req.read_body = [fd, offset, n, progress, sent = uint64_t{0}](char* buf, size_t max) mutable -> size_t {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(max, n - sent));
    if (want == 0) return 0;
    ssize_t got = ::pread(fd, buf, want, static_cast<off_t>(offset + sent));
    if (got <= 0) return 0;
    sent += static_cast<uint64_t>(got);
    if (progress) progress(offset + sent);
    return static_cast<size_t>(got);
  };
}

// One attempt at uploading a blob: POST to open an upload, then either a single PUT with the data
// and the digest, or (blobs over push_chunk_size) PATCH chunks and a closing PUT. Returns false
// on a transient failure; the caller then starts a fresh upload. (A broken chunk cannot be
// resumed in place: docker-registry keeps the bytes that arrived, so the upload's state token no
// longer matches and it answers BLOB_UPLOAD_INVALID to a status request.)
bool upload_blob(RegistryClient& client, Store& store, const Layer& l,
                 const std::function<void(uint64_t)>& progress) {
  HttpRequest post;
  post.method = "POST";
  post.url = client.repo_url("/blobs/uploads/");
  HttpResponse r = client.send(std::move(post));
  if (transient(r.status)) return false;
  if (r.status != 202) RegistryClient::throw_for_status(r, "pushing " + l.digest);
  std::string loc = next_location(client, r);

  std::string path = store.blob_path(l.digest);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::not_found, "blob " + l.digest + " is missing from the store");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  const RegistryOptions& o = client.options();
  const uint64_t chunk = o.push_chunk_size;
  if (chunk == 0 || l.size <= chunk) {
    HttpRequest put;
    put.method = "PUT";
    put.url = with_digest(loc, l.digest);
    put.headers.push_back("Content-Type: application/octet-stream");
    file_body(put, fd, 0, l.size, progress);
    HttpResponse pr = client.send(std::move(put));
    if (transient(pr.status)) return false;
    if (pr.status != 201 && pr.status != 204 && pr.status != 200) {
      RegistryClient::throw_for_status(pr, "pushing " + l.digest);
    }
    return true;
  }

  for (uint64_t offset = 0; offset < l.size;) {
    const uint64_t n = std::min(chunk, l.size - offset);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = loc;
    patch.headers.push_back("Content-Type: application/octet-stream");
    patch.headers.push_back("Content-Range: " + std::to_string(offset) + "-" +
                            std::to_string(offset + n - 1));
    file_body(patch, fd, offset, n, progress);
    HttpResponse pr = client.send(std::move(patch));
    if (transient(pr.status)) return false;
    if (pr.status != 202) RegistryClient::throw_for_status(pr, "pushing " + l.digest);
    loc = next_location(client, pr);
    offset += n;
  }
  HttpRequest put;
  put.method = "PUT";
  put.url = with_digest(loc, l.digest);
  put.headers.push_back("Content-Type: application/octet-stream");
  put.body_size = 0;
  HttpResponse pr = client.send(std::move(put));
  if (transient(pr.status)) return false;
  if (pr.status != 201 && pr.status != 204 && pr.status != 200) {
    RegistryClient::throw_for_status(pr, "pushing " + l.digest);
  }
  return true;
}

}  // namespace

void push_model(Store& store, std::string_view text, const RegistryOptions& opts,
                const ProgressFn& progress) {
  auto emit = [&](const std::string& status, const std::string& digest = "", uint64_t total = 0,
                  uint64_t completed = 0) {
    if (progress) progress(Progress{status, digest, total, completed});
  };
  ModelName name = store.resolve_existing(text);
  RegistryClient client(name, opts);
  // Held for the whole push: a `rm` of this model waits instead of deleting blobs mid-upload.
  FileLock model_lock = store.lock_model(name);
  emit("retrieving manifest");
  check_name_scheme(text, opts);  // after "retrieving manifest", as Ollama's PushModel
  std::string raw;
  Manifest m = store.read_manifest(name, &raw);
  std::vector<Layer> layers = m.layers;
  layers.push_back(m.config);

  for (const auto& l : layers) {
    std::string status = "pushing " + std::string(digest_hex(l.digest).substr(0, 12));
    emit(status, l.digest, l.size, 0);
    HttpRequest head;
    head.method = "HEAD";
    head.url = client.repo_url("/blobs/" + l.digest);
    HttpResponse h = client.send(std::move(head));
    if (h.status == 200) {
      emit(status, l.digest, l.size, l.size);
      continue;
    }
    if (!l.from.empty()) {
      ModelName from;
      if (ModelName::try_parse(l.from, &from) && from.host == name.host) {
        HttpRequest mount;
        mount.method = "POST";
        mount.url = client.repo_url("/blobs/uploads/?mount=" + url_escape(l.digest) +
                                    "&from=" + url_escape(from.repository()));
        HttpResponse mr = client.send(std::move(mount));
        if (mr.status == 201) {
          emit(status, l.digest, l.size, l.size);
          continue;
        }
      }
    }
    int failures = 0;
    for (;;) {
      bool ok = false;
      std::string why;
      try {
        ok = upload_blob(client, store, l, [&](uint64_t done) { emit(status, l.digest, l.size, done); });
        why = "transient registry error";
      } catch (const Error& e) {
        if (e.code() != ErrorCode::io) throw;
        why = e.what();
      }
      if (ok) break;
      if (++failures > opts.max_retries) {
        throw Error(ErrorCode::io, "pushing " + l.digest + ": giving up: " + why);
      }
      std::this_thread::sleep_for(opts.retry_base * (1 << std::min(failures - 1, 5)));
    }
    emit(status, l.digest, l.size, l.size);
  }

  emit("pushing manifest");
  HttpRequest put;
  put.method = "PUT";
  put.url = client.repo_url("/manifests/" + name.tag);
  put.headers.push_back(std::string("Content-Type: ") + m.media_type);
  put.body = raw;
  HttpResponse r = client.send(std::move(put));
  if (r.status != 201 && r.status != 200) RegistryClient::throw_for_status(r, "pushing manifest");
  emit("success");
}

}  // namespace hearth::store
