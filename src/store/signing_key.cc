#include "store/signing_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "store/atomic_file.h"
#include "store/digest.h"
#include "util/base64.h"
#include "util/error.h"

namespace hearth::store {

namespace {

constexpr char kKeyType[] = "ssh-ed25519";
constexpr char kBegin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr char kEnd[] = "-----END OPENSSH PRIVATE KEY-----";
constexpr char kMagic[] = "openssh-key-v1";  // followed by a NUL

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// SSH wire encoding (RFC 4251): big-endian uint32, strings with a uint32 length.
void put_u32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xFF));
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}
std::string_view bytes_of(const std::array<uint8_t, 32>& a) {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}

class Reader {
 public:
  Reader(std::string_view data, const std::string& path) : data_(data), path_(path) {}
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += 4;
    return v;
  }
  std::string_view string() {
    const uint32_t n = u32();
    need(n);
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view take(size_t n) {
    need(n);
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  void need(size_t n) const {
    if (data_.size() - pos_ < n) throw Error(ErrorCode::corrupt, path_ + ": truncated OpenSSH key");
  }
  std::string_view data_;
  std::string path_;
  size_t pos_ = 0;
};

std::string public_wire(const std::array<uint8_t, 32>& pub) {
  std::string w;
  put_string(w, kKeyType);
  put_string(w, bytes_of(pub));
  return w;
}

Pkey private_pkey(const std::array<uint8_t, 32>& seed) {
  Pkey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!k) throw Error(ErrorCode::internal, "OpenSSL could not make an ed25519 key");
  return k;
}

}  // namespace

SigningKey SigningKey::generate() {
  Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!k) throw Error(ErrorCode::internal, "OpenSSL could not generate an ed25519 key");
  SigningKey key;
  size_t n = key.seed_.size();
  size_t m = key.public_.size();
  if (EVP_PKEY_get_raw_private_key(k.get(), key.seed_.data(), &n) != 1 || n != 32 ||
      EVP_PKEY_get_raw_public_key(k.get(), key.public_.data(), &m) != 1 || m != 32) {
    throw Error(ErrorCode::internal, "OpenSSL gave no raw ed25519 key");
  }
  return key;
}

SigningKey SigningKey::load(const std::string& path) {
  // not_found when missing; an OpenSSH ed25519 key is ~400 bytes, so anything past 64 KiB is
  // not one.
  const std::string text = read_file(path, 64 << 10);
  const size_t b = text.find(kBegin), e = text.find(kEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    throw Error(ErrorCode::corrupt, path + ": not an OpenSSH private key");
  }
  std::string body;
  for (size_t i = b + std::strlen(kBegin); i < e; ++i) {
    if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ') body.push_back(text[i]);
  }
  const std::optional<std::string> raw = base64_decode(body);
  if (!raw) throw Error(ErrorCode::corrupt, path + ": bad base64 in OpenSSH key");
  Reader r(*raw, path);
  if (r.take(sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) {
    throw Error(ErrorCode::corrupt, path + ": not an openssh-key-v1 key");
  }
  if (r.string() != "none" || r.string() != "none") {
    throw Error(ErrorCode::corrupt, path + ": the key is encrypted (remove the passphrase)");
  }
  r.string();  // kdf options
  if (r.u32() != 1) throw Error(ErrorCode::corrupt, path + ": more than one key");
  r.string();  // public key, repeated inside the private section
  Reader p(r.string(), path);
  if (p.u32() != p.u32()) throw Error(ErrorCode::corrupt, path + ": check words differ (wrong key?)");
  if (p.string() != kKeyType) throw Error(ErrorCode::corrupt, path + ": not an ed25519 key");
  const std::string_view pub = p.string();
  const std::string_view priv = p.string();  // seed then public key
  if (pub.size() != 32 || priv.size() != 64 || priv.substr(32) != pub) {
    throw Error(ErrorCode::corrupt, path + ": malformed ed25519 key");
  }
  SigningKey key;
  std::memcpy(key.seed_.data(), priv.data(), 32);
  std::memcpy(key.public_.data(), pub.data(), 32);
  // The public half must belong to the seed, or every signature would be refused.
  size_t m = 32;
  std::array<uint8_t, 32> derived{};
  if (EVP_PKEY_get_raw_public_key(private_pkey(key.seed_).get(), derived.data(), &m) != 1 ||
      derived != key.public_) {
    throw Error(ErrorCode::corrupt, path + ": public key does not match the private key");
  }
  return key;
}

SigningKey SigningKey::load_or_create(const std::string& path, bool* created) {
  if (created != nullptr) *created = false;
  if (::access(path.c_str(), F_OK) == 0) return load(path);
  const std::string dir = path.substr(0, path.find_last_of('/'));
  if (!dir.empty() && dir.find('/') != std::string::npos) make_dirs(dir.substr(0, dir.find_last_of('/')));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw Error(ErrorCode::io, "creating " + dir + ": " + std::strerror(errno));
  }
  SigningKey key = generate();
  write_file_atomic(path, key.to_openssh(""), 0600);
  write_file_atomic(path + ".pub", key.public_key_line() + "\n", 0644);
  if (created != nullptr) *created = true;
  return key;
}

std::string SigningKey::public_key_base64() const { return base64_encode(public_wire(public_)); }

std::string SigningKey::public_key_line() const { return std::string(kKeyType) + " " + public_key_base64(); }

std::string SigningKey::sign(std::string_view data) const {
  Pkey k = private_pkey(seed_);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      len != sizeof sig) {
    throw Error(ErrorCode::internal, "OpenSSL could not sign with the ed25519 key");
  }
  return std::string(reinterpret_cast<const char*>(sig), len);
}

std::string SigningKey::authorization(std::string_view data) const {
  return public_key_base64() + ":" + base64_encode(sign(data));
}

std::string SigningKey::to_openssh(const std::string& comment) const {
  uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check) != 1) {
    throw Error(ErrorCode::internal, "OpenSSL gave no random bytes");
  }
  std::string priv;
  put_u32(priv, check);
  put_u32(priv, check);
  put_string(priv, kKeyType);
  put_string(priv, bytes_of(public_));
  put_string(priv, std::string(bytes_of(seed_)) + std::string(bytes_of(public_)));
  put_string(priv, comment);
  for (char pad = 1; priv.size() % 8 != 0; ++pad) priv.push_back(pad);  // cipher "none": blocks of 8
  std::string raw(kMagic, sizeof kMagic);
  put_string(raw, "none");
  put_string(raw, "none");
  put_string(raw, "");
  put_u32(raw, 1);
  put_string(raw, public_wire(public_));
  put_string(raw, priv);
  const std::string b64 = base64_encode(raw);
  std::string out = std::string(kBegin) + "\n";
  for (size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  return out + kEnd + "\n";
}

std::string default_signing_key_path() {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.hearth/id_ed25519";
}

std::string token_request_signing_data(const std::string& url) {
  const std::string empty_hash(digest_hex(sha256_digest("")));
  return "GET," + url + "," + base64_encode(empty_hash);
}

}  // namespace hearth::store
