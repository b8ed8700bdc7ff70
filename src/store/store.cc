#include "store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "store/atomic_file.h"
#include "store/digest.h"
#include "util/env.h"
#include "util/error.h"
#include "util/log.h"

namespace hearth::store {

namespace {

std::vector<std::string> list_dir(const std::string& dir, bool dirs_only) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::stat((dir + "/" + n).c_str(), &st) != 0) continue;
    if (dirs_only != S_ISDIR(st.st_mode)) continue;
    out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Store::default_root() {
  std::string r = env_value("HEARTH_MODELS");
  if (!r.empty()) {
    if (r[0] == '~') {
      const char* home = std::getenv("HOME");
      r = std::string(home != nullptr ? home : "") + r.substr(1);
    }
    return r;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    throw Error(ErrorCode::invalid_argument, "HOME is not set; set HEARTH_MODELS to the model store");
  }
  return std::string(home) + "/.hearth/models";
}

std::string Store::blob_path(std::string_view digest) const {
  std::string d = parse_digest(digest);
  return blobs_dir() + "/sha256-" + std::string(digest_hex(d));
}

std::string Store::manifest_path(const ModelName& name) const {
  return manifests_dir() + "/" + name.manifest_rel_path();
}

bool Store::has_blob(std::string_view digest) const { return path_exists(blob_path(digest)); }

std::string Store::put_blob(std::string_view bytes, bool* existed) {
  FileLock gc = lock_gc_shared();  // prune deletes temp files of writers without it
  std::string digest = sha256_digest(bytes);
  std::string path = blob_path(digest);
  bool have = path_exists(path);
  if (!have) write_file_atomic(path, bytes);
  if (existed != nullptr) *existed = have;
  return digest;
}

std::string Store::adopt_temp_file(const std::string& tmp, uint64_t* size, bool* existed) {
  try {
    uint64_t n = 0;
    std::string digest = sha256_file(tmp, &n);
    if (size != nullptr) *size = n;
    std::string path = blob_path(digest);
    bool have = path_exists(path);
    if (have) {
      ::unlink(tmp.c_str());
    } else {
      fsync_path(tmp);
      rename_durable(tmp, path);
    }
    if (existed != nullptr) *existed = have;
    return digest;
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

bool Store::receive_blob(std::string_view digest_text, const BlobReader& read) {
  const std::string digest = parse_digest(digest_text);
  FileLock gc = lock_gc_shared();
  const std::string target = blob_path(digest);
  if (path_exists(target)) {
    read([](const char*, size_t) { return true; });
    return true;
  }
  make_dirs(blobs_dir());
  const std::string tmp = temp_path_for(target);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorCode::io, "cannot write " + tmp + ": " + std::strerror(errno));
  try {
    Sha256 hasher;
    std::string write_error;
    const bool ok = read([&](const char* data, size_t n) {
      hasher.update(data, n);
      while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          write_error = std::strerror(errno);
          return false;
        }
        data += w;
        n -= static_cast<size_t>(w);
      }
      return true;
    });
    if (!write_error.empty()) throw Error(ErrorCode::io, "writing " + tmp + ": " + write_error);
    if (!ok) throw Error(ErrorCode::io, "receiving blob " + digest + ": the upload broke off");
    if (::fsync(fd) != 0) throw Error(ErrorCode::io, "fsync " + tmp + ": " + std::strerror(errno));
    const int rc = ::close(fd);
    fd = -1;
    if (rc != 0) throw Error(ErrorCode::io, "writing " + tmp + ": " + std::strerror(errno));
    const std::string got = hasher.finish();
    if (got != digest) {
      throw Error(ErrorCode::invalid_argument,
                  "digest mismatch, expected \"" + digest + "\", got \"" + got + "\"");
    }
    rename_durable(tmp, target);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  return false;
}

std::string Store::import_blob_file(const std::string& src, uint64_t* size, bool* existed) {
  // Copy first, hash the copy: the source may change under us, the copy cannot.
  FileLock gc = lock_gc_shared();
  make_dirs(blobs_dir());
  std::string tmp = temp_path_for(blobs_dir() + "/import");
  try {
    copy_file_atomic(src, tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  return adopt_temp_file(tmp, size, existed);
}

std::string Store::read_blob(std::string_view digest, uint64_t max_bytes) const {
  return read_file(blob_path(digest), max_bytes);
}

std::vector<ModelName> Store::manifest_names() const {
  std::vector<ModelName> out;
  std::string m = manifests_dir();
  for (const auto& host : list_dir(m, true)) {
    for (const auto& ns : list_dir(m + "/" + host, true)) {
      for (const auto& model : list_dir(m + "/" + host + "/" + ns, true)) {
        for (const auto& tag : list_dir(m + "/" + host + "/" + ns + "/" + model, false)) {
          if (tag.find(".tmp-") != std::string::npos) continue;
          ModelName n;
          // Directory names that are not valid name parts are not ours to interpret.
          if (!ModelName::try_parse(host + "/" + ns + "/" + model + ":" + tag, &n)) continue;
          if (n.host != host || n.ns != ns || n.model != model || n.tag != tag) continue;
          out.push_back(std::move(n));
        }
      }
    }
  }
  return out;
}

std::optional<ModelName> Store::resolve(const ModelName& name) const {
  if (path_exists(manifest_path(name))) return name;
  std::vector<ModelName> all = manifest_names();
  std::string key = name.key();
  for (const auto& n : all) {
    if (n.key() == key) return n;
  }
  if (!name.host_given) {
    std::string tail = lower(name.ns + "/" + name.model + ":" + name.tag);
    std::optional<ModelName> found;
    for (const auto& n : all) {
      if (lower(n.ns + "/" + n.model + ":" + n.tag) != tail) continue;
      if (found) return std::nullopt;  // ambiguous: the user must name the host
      found = n;
    }
    return found;
  }
  return std::nullopt;
}

ModelName Store::resolve_existing(std::string_view text) const {
  ModelName n = ModelName::parse(text);
  auto r = resolve(n);
  if (!r) throw Error(ErrorCode::not_found, "model '" + std::string(text) + "' not found");
  return *r;
}

Manifest Store::read_manifest(const ModelName& name, std::string* raw) const {
  std::string path = manifest_path(name);
  std::string bytes;
  try {
    bytes = read_file(path, kMaxManifestBytes);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) {
      throw Error(ErrorCode::not_found, "model '" + name.display() + "' not found");
    }
    throw;
  }
  Manifest m;
  try {
    m = Manifest::parse(bytes);
  } catch (const Error& e) {
    throw e.with_context(path);
  }
  if (raw != nullptr) *raw = std::move(bytes);
  return m;
}

std::vector<std::string> Store::replace_manifest(const ModelName& name, std::string_view raw) {
  std::vector<std::string> old;
  if (auto existing = resolve(name); existing && existing->key() == name.key()) {
    try {
      old = read_manifest(*existing).blob_digests();
    } catch (const Error&) {
    }
  }
  write_manifest(name, raw);
  const std::vector<std::string> kept = Manifest::parse(raw).blob_digests();
  const std::set<std::string> now(kept.begin(), kept.end());
  std::vector<std::string> unused;
  for (const auto& d : old) {
    if (now.count(d) == 0) unused.push_back(d);
  }
  return unused;
}

void Store::write_manifest(const ModelName& name, std::string_view raw) {
  Manifest m = Manifest::parse(raw);
  for (const Layer* l : [&] {
         std::vector<const Layer*> v{&m.config};
         for (const auto& x : m.layers) v.push_back(&x);
         return v;
       }()) {
    struct stat st;
    std::string p = blob_path(l->digest);
    if (::stat(p.c_str(), &st) != 0) {
      throw Error(ErrorCode::not_found, "writing manifest: blob " + l->digest + " is missing");
    }
    if (static_cast<uint64_t>(st.st_size) != l->size) {
      throw Error(ErrorCode::corrupt, "writing manifest: blob " + l->digest + " has size " +
                                          std::to_string(st.st_size) + ", manifest says " +
                                          std::to_string(l->size));
    }
  }
  ModelName target = name;
  if (auto existing = resolve(name); existing && existing->key() == name.key()) target = *existing;
  write_file_atomic(manifest_path(target), raw);
}

ModelEntry Store::entry(const ModelName& name) const {
  ModelEntry e;
  e.name = name;
  std::string raw;
  e.manifest = read_manifest(name, &raw);
  e.digest = std::string(digest_hex(sha256_digest(raw)));
  e.size = e.manifest.total_size();
  struct stat st;
  if (::stat(manifest_path(name).c_str(), &st) == 0) {
    e.modified = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  }
  try {
    e.config = ModelConfig::parse(read_blob(e.manifest.config.digest));
  } catch (const Error&) {
    // A missing or odd config blob still lists; details stay empty as Ollama shows them.
  }
  return e;
}

std::vector<ModelEntry> Store::list() const {
  std::vector<ModelEntry> out;
  for (const auto& n : manifest_names()) {
    try {
      out.push_back(entry(n));
    } catch (const Error& e) {
      HEARTH_LOG_WARN(std::string("skipping model ") + n.display() + ": " + e.what());
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ModelEntry& a, const ModelEntry& b) { return a.modified > b.modified; });
  return out;
}

void Store::copy(std::string_view src_text, std::string_view dst_text) {
  ModelName dst = ModelName::parse(dst_text);
  ModelName src = resolve_existing(src_text);
  FileLock gc = lock_gc_shared();
  std::string raw;
  {
    FileLock ls = lock_model(src);
    read_manifest(src, &raw);
  }
  if (src.key() == dst.key()) return;
  FileLock ld = lock_model(dst);
  write_manifest(dst, raw);
}

void Store::remove(std::string_view text) {
  ModelName name = resolve_existing(text);
  Manifest m;
  {
    FileLock l = lock_model(name);
    std::string path = manifest_path(name);
    try {
      m = read_manifest(name);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::not_found) throw;
      // A corrupt manifest is still removable; its blobs are left for prune.
    }
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) throw Error(ErrorCode::not_found, "model '" + std::string(text) + "' not found");
      throw Error(ErrorCode::io, "removing " + path + ": " + std::strerror(errno));
    }
    fsync_path(path.substr(0, path.find_last_of('/')));
    remove_empty_parents(path.substr(0, path.find_last_of('/')), manifests_dir());
  }
  remove_blobs_if_unreferenced(m.blob_digests());
}

size_t Store::remove_blobs_if_unreferenced(const std::vector<std::string>& digests) {
  FileLock gc = FileLock::try_acquire(lock_dir() + "/gc", FileLock::Mode::exclusive);
  if (!gc.held()) return 0;
  return remove_unreferenced(digests);
}

std::vector<std::string> Store::referenced_digests() const {
  std::vector<std::string> out;
  for (const auto& n : manifest_names()) {
    Manifest m = read_manifest(n);
    for (auto& d : m.blob_digests()) out.push_back(std::move(d));
  }
  return out;
}

size_t Store::remove_unreferenced(const std::vector<std::string>& candidates) {
  std::vector<std::string> refs;
  try {
    refs = referenced_digests();
  } catch (const Error& e) {
    HEARTH_LOG_WARN(std::string("not removing blobs: ") + e.what());
    return 0;
  }
  std::set<std::string> keep(refs.begin(), refs.end());
  size_t removed = 0;
  for (const auto& d : candidates) {
    if (keep.count(d) != 0 || !is_valid_digest(d)) continue;
    if (::unlink(blob_path(d).c_str()) == 0) ++removed;
  }
  return removed;
}

size_t Store::prune() {
  FileLock gc = FileLock::acquire(lock_dir() + "/gc", FileLock::Mode::exclusive);
  return prune_locked();
}

std::optional<size_t> Store::try_prune() {
  FileLock gc = FileLock::try_acquire(lock_dir() + "/gc", FileLock::Mode::exclusive);
  if (!gc.held()) return std::nullopt;
  return prune_locked();
}

size_t Store::prune_locked() {
  std::vector<std::string> candidates;
  size_t removed = 0;
  for (const auto& f : list_dir(blobs_dir(), false)) {
    if (f.find(".tmp-") != std::string::npos) {
      // Temp files belong to a writer that died: live writers hold the shared gc lock.
      if (::unlink((blobs_dir() + "/" + f).c_str()) == 0) ++removed;
      continue;
    }
    if (f.size() > 7 + 64 && f.compare(0, 7, "sha256-") == 0 &&
        f.compare(7 + 64, 8, "-partial") == 0) {
      // Download state left behind by a process killed after its blob was renamed into place.
      std::string d = "sha256:" + f.substr(7, 64);
      if (is_valid_digest(d) && has_blob(d) && ::unlink((blobs_dir() + "/" + f).c_str()) == 0) ++removed;
      continue;
    }
    if (f.size() == 7 + 64 && f.compare(0, 7, "sha256-") == 0) {
      std::string d = "sha256:" + f.substr(7);
      if (is_valid_digest(d)) candidates.push_back(d);
    }
  }
  return removed + remove_unreferenced(candidates);
}

FileLock Store::lock_model(const ModelName& name) const {
  // The key is hashed so that any valid name (host up to 350 chars) makes a short file name.
  std::string h(digest_hex(sha256_digest(name.key())));
  return FileLock::acquire(lock_dir() + "/model-" + h, FileLock::Mode::exclusive);
}

FileLock Store::lock_blob(std::string_view digest) const {
  std::string d = parse_digest(digest);
  return FileLock::acquire(lock_dir() + "/blob-" + std::string(digest_hex(d)),
                           FileLock::Mode::exclusive);
}

FileLock Store::lock_gc_shared() const {
  return FileLock::acquire(lock_dir() + "/gc", FileLock::Mode::shared);
}

}  // namespace hearth::store
