#pragma once
// flock(2)-based locks. Each FileLock opens its own descriptor, so two locks on the same file
// exclude each other between threads of one process as well as between processes, and the kernel
// drops them when a process dies (kill -9 included): no stale lock files to clean up.

#include <string>

namespace hearth::store {

class FileLock {
 public:
  enum class Mode { shared, exclusive };

  // Blocks until the lock is held. Creates the lock file (and its directory) if needed.
  static FileLock acquire(const std::string& path, Mode mode);
  // Returns an unlocked FileLock (held() == false) if someone else holds a conflicting lock.
  static FileLock try_acquire(const std::string& path, Mode mode);

  FileLock() = default;
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() { release(); }

  bool held() const { return fd_ >= 0; }
  void release();

 private:
  static FileLock lock(const std::string& path, Mode mode, bool wait);
  int fd_ = -1;
};

}  // namespace hearth::store
