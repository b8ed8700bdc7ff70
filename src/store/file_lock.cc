#include "store/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/atomic_file.h"
#include "util/error.h"

namespace hearth::store {

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void FileLock::release() {
  if (fd_ >= 0) {
    ::close(fd_);  // closing the only descriptor drops the flock
    fd_ = -1;
  }
}

FileLock FileLock::lock(const std::string& path, Mode mode, bool wait) {
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos) make_dirs(path.substr(0, slash));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorCode::io, "opening lock " + path + ": " + std::strerror(errno));
  int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  for (;;) {
    if (::flock(fd, op) == 0) break;
    int e = errno;
    if (e == EINTR) continue;
    ::close(fd);
    if (e == EWOULDBLOCK && !wait) return FileLock();
    throw Error(ErrorCode::io, "locking " + path + ": " + std::strerror(e));
  }
  FileLock l;
  l.fd_ = fd;
  return l;
}

FileLock FileLock::acquire(const std::string& path, Mode mode) { return lock(path, mode, true); }

FileLock FileLock::try_acquire(const std::string& path, Mode mode) {
  return lock(path, mode, false);
}

}  // namespace hearth::store
