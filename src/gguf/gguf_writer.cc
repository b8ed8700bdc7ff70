#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gguf/gguf_file.h"
#include "util/error.h"

namespace hearth::gguf {

namespace {

class Out {
 public:
  explicit Out(std::vector<uint8_t>& buf) : buf_(buf) {}
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void put_value(const Value& v) {
    switch (v.type()) {
      case ValueType::UINT8: put<uint8_t>(static_cast<uint8_t>(*v.as_u64())); return;
      case ValueType::INT8: put<int8_t>(static_cast<int8_t>(*v.as_i64())); return;
      case ValueType::UINT16: put<uint16_t>(static_cast<uint16_t>(*v.as_u64())); return;
      case ValueType::INT16: put<int16_t>(static_cast<int16_t>(*v.as_i64())); return;
      case ValueType::UINT32: put<uint32_t>(static_cast<uint32_t>(*v.as_u64())); return;
      case ValueType::INT32: put<int32_t>(static_cast<int32_t>(*v.as_i64())); return;
      case ValueType::UINT64: put<uint64_t>(*v.as_u64()); return;
      case ValueType::INT64: put<int64_t>(*v.as_i64()); return;
      case ValueType::FLOAT32: put<float>(static_cast<float>(*v.as_f64())); return;
      case ValueType::FLOAT64: put<double>(*v.as_f64()); return;
      case ValueType::BOOL: put<uint8_t>(*v.as_bool() ? 1 : 0); return;
      case ValueType::STRING: put_string(*v.as_string()); return;
      case ValueType::ARRAY: break;
    }
    put<uint32_t>(static_cast<uint32_t>(v.elem_type()));
    put<uint64_t>(v.size());
    if (v.elem_type() == ValueType::STRING) {
      for (const std::string& s : v.strings()) put_string(s);
    } else if (v.elem_type() == ValueType::ARRAY) {
      for (const Value& a : v.arrays()) put_value(a);
    } else {
      buf_.insert(buf_.end(), v.raw().begin(), v.raw().end());
    }
  }
  void pad_to(uint64_t alignment) {
    while (buf_.size() % alignment != 0) buf_.push_back(0);
  }

 private:
  std::vector<uint8_t>& buf_;
};

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

void write_all(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, path + ": write: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void Writer::set(std::string_view key, Value v) {
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  metadata_.emplace_back(std::string(key), std::move(v));
}

void Writer::remove(std::string_view key) {
  for (auto it = metadata_.begin(); it != metadata_.end(); ++it) {
    if (it->first == key) {
      metadata_.erase(it);
      return;
    }
  }
}

void Writer::set_alignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    throw Error(ErrorCode::invalid_argument,
                "GGUF alignment " + std::to_string(alignment) + " is not a power of two");
  }
  if (alignment == kDefaultAlignment) {
    remove("general.alignment");
  } else {
    set_u32("general.alignment", alignment);
  }
}

uint64_t Writer::alignment() const {
  for (const auto& kv : metadata_) {
    if (kv.first == "general.alignment") {
      std::optional<uint64_t> a = kv.second.as_u64();
      if (a && *a != 0 && (*a & (*a - 1)) == 0) return *a;
      throw Error(ErrorCode::invalid_argument, "general.alignment is not a power of two");
    }
  }
  return kDefaultAlignment;
}

void Writer::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                        const void* data, size_t n_bytes) {
  add(std::move(name), type, std::move(ne), data, n_bytes, true);
}

void Writer::add_tensor_view(std::string name, GgmlType type, std::vector<int64_t> ne,
                             const void* data, size_t n_bytes) {
  add(std::move(name), type, std::move(ne), data, n_bytes, false);
}

void Writer::add_tensor_generated(std::string name, GgmlType type, std::vector<int64_t> ne,
                                  size_t n_bytes, Producer produce) {
  add(std::move(name), type, std::move(ne), nullptr, n_bytes, false, std::move(produce));
}

void Writer::add(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data,
                 size_t n_bytes, bool copy, Producer produce) {
  auto bad = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, "tensor '" + name + "': " + why);
  };
  if (name.empty()) bad("empty name");
  for (const Tensor& t : tensors_) {
    if (t.name == name) bad("added twice");
  }
  const TypeGeometry* g = type_geometry(type);
  if (g == nullptr) bad("unknown type");
  if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims)) bad("needs 1 to 4 dimensions");
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0) bad("non-positive dimension");
    if (n > INT64_MAX / d) bad("shape overflows");
    n *= d;
  }
  if (ne[0] % g->block_elems != 0) bad("row length is not a multiple of the block size");
  size_t expect = static_cast<size_t>(n / g->block_elems * g->block_bytes);
  if (n_bytes != expect) {
    bad("has " + std::to_string(n_bytes) + " bytes, its shape needs " + std::to_string(expect));
  }
  Tensor t{std::move(name), type, std::move(ne), {}, nullptr, n_bytes, std::move(produce)};
  if (!t.produce && copy) {
    const auto* p = static_cast<const uint8_t*>(data);
    t.owned.assign(p, p + n_bytes);
    t.data = t.owned.data();
  } else if (!t.produce) {
    t.data = static_cast<const uint8_t*>(data);
  }
  tensors_.push_back(std::move(t));
}

std::vector<uint8_t> Writer::header() const {
  const uint64_t align = alignment();
  std::vector<uint8_t> buf;
  Out out(buf);
  out.put<uint32_t>(0x46554747);  // "GGUF"
  out.put<uint32_t>(3);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    out.put_string(key);
    out.put<uint32_t>(static_cast<uint32_t>(value.type()));
    out.put_value(value);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    out.put_string(t.name);
    out.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) out.put<int64_t>(d);
    out.put<uint32_t>(static_cast<uint32_t>(t.type));
    out.put<uint64_t>(offset);
    offset = align_up(offset + t.n_bytes, align);
  }
  out.pad_to(align);
  return buf;
}

std::vector<uint8_t> Writer::to_bytes() const {
  const uint64_t align = alignment();
  std::vector<uint8_t> buf = header();
  for (const Tensor& t : tensors_) {
    if (t.produce) {
      size_t at = buf.size();
      buf.resize(at + t.n_bytes);
      t.produce(buf.data() + at);
    } else {
      buf.insert(buf.end(), t.data, t.data + t.n_bytes);
    }
    buf.resize(align_up(buf.size(), align), 0);
  }
  return buf;
}

void Writer::write(const std::string& path) const {
  const uint64_t align = alignment();
  std::vector<uint8_t> head = header();
  std::string tmpl = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    throw Error(ErrorCode::io, path + ": cannot create a temporary file next to it: " +
                                   std::strerror(errno));
  }
  const std::string& tmp = tmpl;
  try {
    ::fchmod(fd, 0644);
    write_all(fd, head.data(), head.size(), tmp);
    static const uint8_t kZeros[64] = {};
    std::vector<uint8_t> made;
    for (const Tensor& t : tensors_) {
      if (t.produce) {
        made.resize(t.n_bytes);
        t.produce(made.data());
        write_all(fd, made.data(), t.n_bytes, tmp);
      } else {
        write_all(fd, t.data, t.n_bytes, tmp);
      }
      uint64_t pad = align_up(t.n_bytes, align) - t.n_bytes;
      while (pad > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof kZeros));
        write_all(fd, kZeros, n, tmp);
        pad -= n;
      }
    }
    if (::fsync(fd) != 0) throw Error(ErrorCode::io, tmp + ": fsync: " + std::strerror(errno));
    if (::close(fd) != 0) {
      fd = -1;
      throw Error(ErrorCode::io, tmp + ": close: " + std::strerror(errno));
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      throw Error(ErrorCode::io, path + ": rename: " + std::strerror(errno));
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace hearth::gguf
