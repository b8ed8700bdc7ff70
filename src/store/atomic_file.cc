#include "store/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace hearth::store {

namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = ErrorCode::io;
  if (err == ENOENT) code = ErrorCode::not_found;
  if (err == ENOSPC || err == EDQUOT) code = ErrorCode::resource_exhausted;
  return Error(code, what + " " + path + ": " + std::strerror(err));
}

std::string parent_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw io_error("writing", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, "creating directory " + dir + ": " + ec.message());
}

std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error("opening", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some filesystems refuse fsync on directories; the rename is still atomic there.
  if (rc != 0 && err != EINVAL && err != EBADF) throw io_error("syncing", path, err);
}

void rename_durable(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw io_error("renaming to", to, errno);
  fsync_path(parent_of(to));
}

void write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode) {
  make_dirs(parent_of(path));
  std::string tmp = temp_path_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw io_error("creating", tmp, errno);
  try {
    write_all(fd, bytes.data(), bytes.size(), tmp);
    if (::fsync(fd) != 0) throw io_error("syncing", tmp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  try {
    rename_durable(tmp, path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error("opening", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw io_error("reading", path, e);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw Error(ErrorCode::resource_exhausted,
                path + ": file is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

void copy_file_atomic(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw io_error("opening", from, errno);
  make_dirs(parent_of(to));
  std::string tmp = temp_path_for(to);
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    int e = errno;
    ::close(in);
    throw io_error("creating", tmp, e);
  }
  try {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw io_error("reading", from, errno);
      if (n == 0) break;
      write_all(out, buf.data(), static_cast<size_t>(n), tmp);
    }
    if (::fsync(out) != 0) throw io_error("syncing", tmp, errno);
    ::close(out);
    out = -1;
    ::close(in);
    in = -1;
    rename_durable(tmp, to);
  } catch (...) {
    if (out >= 0) ::close(out);
    if (in >= 0) ::close(in);
    ::unlink(tmp.c_str());
    throw;
  }
}

void remove_empty_parents(const std::string& dir, const std::string& stop) {
  std::string d = dir;
  while (d.size() > stop.size() && d.compare(0, stop.size(), stop) == 0) {
    if (::rmdir(d.c_str()) != 0) break;  // not empty (or gone): stop climbing
    d = parent_of(d);
  }
}

}  // namespace hearth::store
