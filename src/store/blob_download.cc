#include "store/blob_download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/atomic_file.h"
#include "store/digest.h"
#include "util/error.h"
#include "util/log.h"

namespace hearth::store {

namespace {

// A part's state is rewritten after this many new bytes (and at the end of each attempt).
constexpr uint64_t kStateEvery = 1u << 20;

bool transient_status(long s) { return s == 408 || s == 429 || s >= 500; }

// Temp + rename without fsync: the state only has to survive the process (kill -9), and a state
// that runs ahead of the data after a power cut is caught by the final digest check.
void write_state_file(const std::string& path, const std::string& text) {
  std::string tmp = temp_path_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorCode::io, "writing " + tmp + ": " + std::strerror(errno));
  ssize_t w = ::write(fd, text.data(), text.size());
  int e = errno;
  ::close(fd);
  if (w != static_cast<ssize_t>(text.size()) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw Error(e == ENOSPC ? ErrorCode::resource_exhausted : ErrorCode::io,
                "writing " + path + ": " + std::strerror(e));
  }
}

}  // namespace

BlobDownload::BlobDownload(Store& store, RegistryClient& client, Layer layer)
    : store_(store), client_(client), layer_(std::move(layer)) {
  blob_path_ = store_.blob_path(layer_.digest);
  partial_path_ = blob_path_ + "-partial";
}

std::string BlobDownload::state_path(int n) const { return partial_path_ + "-" + std::to_string(n); }

void BlobDownload::plan_parts() {
  const auto& o = client_.options();
  uint64_t total = layer_.size;
  uint64_t part = total / static_cast<uint64_t>(std::max(1, o.max_parts));
  part = std::clamp(part, o.min_part_size, std::max(o.min_part_size, o.max_part_size));
  part = std::max<uint64_t>(part, 1);
  parts_.clear();
  for (uint64_t off = 0; off < total; off += part) {
    auto p = std::make_unique<Part>();
    p->n = static_cast<int>(parts_.size());
    p->offset = off;
    p->size = std::min(part, total - off);
    parts_.push_back(std::move(p));
  }
}

bool BlobDownload::load_state() {
  struct stat st;
  if (::stat(partial_path_.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != layer_.size) {
    return false;
  }
  // The saved parts must tile [0, size) exactly; anything else is a stale or foreign state.
  std::vector<std::unique_ptr<Part>> loaded;
  uint64_t expect = 0;
  for (int n = 0;; ++n) {
    std::string text;
    try {
      text = read_file(state_path(n), 4096);
    } catch (const Error&) {
      break;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    auto num = [&](const char* k) -> int64_t {
      auto it = j.find(k);
      return (it != j.end() && it->is_number_integer()) ? it->get<int64_t>() : -1;
    };
    auto p = std::make_unique<Part>();
    p->n = n;
    int64_t off = num("Offset"), size = num("Size"), done = num("Completed");
    if (num("N") != n || off < 0 || size <= 0 || done < 0 || done > size ||
        static_cast<uint64_t>(off) != expect) {
      return false;
    }
    p->offset = static_cast<uint64_t>(off);
    p->size = static_cast<uint64_t>(size);
    p->completed = static_cast<uint64_t>(done);
    expect += p->size;
    loaded.push_back(std::move(p));
    if (loaded.size() > 100000) return false;
  }
  if (loaded.empty() || expect != layer_.size) return false;
  parts_ = std::move(loaded);
  return true;
}

void BlobDownload::save_state(const Part& p) const {
  nlohmann::ordered_json j;
  j["N"] = p.n;
  j["Offset"] = p.offset;
  j["Size"] = p.size;
  j["Completed"] = p.completed.load();
  write_state_file(state_path(p.n), j.dump());
}

void BlobDownload::remove_state_files() const {
  for (int n = 0;; ++n) {
    if (::unlink(state_path(n).c_str()) != 0 && n >= static_cast<int>(parts_.size())) break;
  }
}

void BlobDownload::download_part(Part& p, int fd) {
  const auto& o = client_.options();
  int failures = 0;
  uint64_t since_save = 0;
  while (p.completed < p.size) {
    if (stop_) throw Error(ErrorCode::cancelled, "cancelled");
    uint64_t start = p.offset + p.completed;
    uint64_t end = p.offset + p.size - 1;
    uint64_t before = p.completed;
    std::exception_ptr write_error;
    HttpRequest req;
    req.url = client_.repo_url("/blobs/" + layer_.digest);
    req.headers.push_back("Range: bytes=" + std::to_string(start) + "-" + std::to_string(end));
    req.cancel = &stop_;
    req.on_data = [&](long status, const char* data, size_t n) {
      try {
        if (status != 206 && !(status == 200 && start == 0 && p.size == layer_.size)) {
          throw Error(ErrorCode::unsupported, "registry ignored the Range request (status " +
                                                  std::to_string(status) + ")");
        }
        if (p.completed + n > p.size) {
          throw Error(ErrorCode::corrupt, "registry sent more data than the blob's size");
        }
        size_t done = 0;
        while (done < n) {
          ssize_t w = ::pwrite(fd, data + done, n - done,
                               static_cast<off_t>(p.offset + p.completed + done));
          if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            throw Error(e == ENOSPC || e == EDQUOT ? ErrorCode::resource_exhausted : ErrorCode::io,
                        "writing " + partial_path_ + ": " + std::strerror(e));
          }
          done += static_cast<size_t>(w);
        }
        p.completed += n;
        since_save += n;
        if (since_save >= kStateEvery) {
          save_state(p);
          since_save = 0;
        }
        return true;
      } catch (...) {
        write_error = std::current_exception();
        return false;
      }
    };
    std::string transient;
    try {
      HttpResponse r = client_.send(std::move(req));
      if (r.status < 200 || r.status >= 300) {
        if (!transient_status(r.status)) {
          RegistryClient::throw_for_status(r, "pulling " + layer_.digest);
        }
        transient = "status " + std::to_string(r.status);
      } else if (p.completed < p.size) {
        transient = "connection closed early";
      }
    } catch (const Error& e) {
      if (write_error) std::rethrow_exception(write_error);
      if (e.code() != ErrorCode::io || stop_) throw;
      transient = e.what();
    }
    save_state(p);
    since_save = 0;
    if (transient.empty()) continue;
    // Progress resets the retry budget: a flaky link that keeps moving is not a failure.
    failures = p.completed > before ? 1 : failures + 1;
    if (failures > o.max_retries) {
      throw Error(ErrorCode::io, "pulling " + layer_.digest + ": giving up after " +
                                     std::to_string(o.max_retries) + " retries: " + transient);
    }
    HEARTH_LOG_DEBUG("part " + std::to_string(p.n) + " of " + layer_.digest + ": " + transient +
                     ", retrying");
    auto delay = o.retry_base * (1 << std::min(failures - 1, 5));
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until && !stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void BlobDownload::run(const std::function<void(uint64_t)>& progress) {
  if (layer_.size == 0) return;
  make_dirs(store_.blobs_dir());
  if (!load_state()) {
    remove_state_files();
    plan_parts();
    int fd = ::open(partial_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(ErrorCode::io, "creating " + partial_path_ + ": " + std::strerror(errno));
    int rc = ::ftruncate(fd, static_cast<off_t>(layer_.size));
    int e = errno;
    ::close(fd);
    if (rc != 0) throw Error(ErrorCode::io, "sizing " + partial_path_ + ": " + std::strerror(e));
    for (const auto& p : parts_) save_state(*p);
  }
  int fd = ::open(partial_path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::io, "opening " + partial_path_ + ": " + std::strerror(errno));

  std::mutex mu;
  std::condition_variable cv;
  std::exception_ptr first_error;
  std::atomic<size_t> next{0};
  int running = 0;
  size_t n_threads = std::min<size_t>(parts_.size(), static_cast<size_t>(std::max(1, client_.options().max_parts)));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n_threads; ++t) {
    {
      std::lock_guard<std::mutex> lk(mu);
      ++running;
    }
    threads.emplace_back([&] {
      for (;;) {
        size_t i = next++;
        if (i >= parts_.size()) break;
        try {
          download_part(*parts_[i], fd);
        } catch (...) {
          std::lock_guard<std::mutex> lk(mu);
          if (!first_error) first_error = std::current_exception();
          stop_ = true;
          break;
        }
      }
      std::lock_guard<std::mutex> lk(mu);
      --running;
      cv.notify_all();
    });
  }
  auto sum = [&] {
    uint64_t s = 0;
    for (const auto& p : parts_) s += p->completed;
    return s;
  };
  {
    std::unique_lock<std::mutex> lk(mu);
    const auto* cancel = client_.options().cancel;
    while (running > 0) {
      cv.wait_for(lk, client_.options().progress_interval);
      if (cancel != nullptr && cancel->load()) stop_ = true;
      lk.unlock();
      if (progress) progress(sum());
      lk.lock();
    }
  }
  for (auto& t : threads) t.join();
  ::close(fd);
  if (first_error) std::rethrow_exception(first_error);
  if (progress) progress(sum());
}

void BlobDownload::finish() {
  if (layer_.size == 0) {
    if (sha256_digest("") != layer_.digest) {
      throw Error(ErrorCode::corrupt, "digest mismatch, file must be downloaded again: want " +
                                          layer_.digest + ", got " + sha256_digest(""));
    }
    write_file_atomic(blob_path_, "");
    return;
  }
  std::string got = sha256_file(partial_path_);
  if (got != layer_.digest) {
    ::unlink(partial_path_.c_str());
    remove_state_files();
    throw Error(ErrorCode::corrupt, "digest mismatch, file must be downloaded again: want " +
                                        layer_.digest + ", got " + got);
  }
  fsync_path(partial_path_);
  rename_durable(partial_path_, blob_path_);
  remove_state_files();
}

}  // namespace hearth::store
