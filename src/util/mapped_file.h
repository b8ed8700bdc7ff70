#pragma once
// A read-only memory map of a whole file. Model weights are used in place from the map, so
// resident memory is the page cache, not a copy.

#include <cstddef>
#include <cstdint>
#include <string>

namespace hearth {

class MappedFile {
 public:
  // Throws Error(not_found / io) naming the path.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Asks the kernel to read the range ahead (MADV_WILLNEED); a hint only.
  void prefetch(size_t offset, size_t length) const;
  // Drops the whole pages inside the range from this process's resident memory (MADV_DONTNEED);
  // a later read faults them back in from the file. For data copied elsewhere (repacked weights).
  void release(size_t offset, size_t length) const;

 private:
  void reset();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace hearth
