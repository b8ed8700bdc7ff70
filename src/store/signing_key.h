#pragma once
// The ed25519 key that signs registry token requests, as Ollama signs them (server/auth.go): the
// client sends `Authorization: <public key, base64 SSH wire form>:<base64 ed25519 signature>`
// over "GET,<token URL>,<base64(hex(sha256 of the empty body))>". Registries that know the
// public key (ollama.com: the user adds it to their account) then grant push or private pull.
// Kept as an unencrypted OpenSSH private key, the format of Ollama's ~/.ollama/id_ed25519, so
// a key can be moved between the two; ours lives at ~/.hearth/id_ed25519.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::store {

class SigningKey {
 public:
  // Reads an OpenSSH ed25519 private key. Error(not_found) when the file is missing,
  // Error(corrupt) when it is not an unencrypted ed25519 OpenSSH key.
  static SigningKey load(const std::string& path);
  // load(), or, when the file is missing, a new key written there (0600, parent created 0700)
  // with "<path>.pub" beside it; `created` says which.
  static SigningKey load_or_create(const std::string& path, bool* created = nullptr);
  static SigningKey generate();

  std::string public_key_line() const;  // "ssh-ed25519 AAAA..." (authorized_keys form)
  std::string public_key_base64() const;  // its second field
  std::string sign(std::string_view data) const;  // the 64-byte signature
  // "<public key base64>:<signature base64>", the Authorization value Ollama sends.
  std::string authorization(std::string_view data) const;
  // The OpenSSH private key file's text.
  std::string to_openssh(const std::string& comment) const;

 private:
  std::array<uint8_t, 32> seed_{}, public_{};
};

// $HOME/.hearth/id_ed25519.
std::string default_signing_key_path();

// The string Ollama signs for a token request to `url`.
std::string token_request_signing_data(const std::string& url);

}  // namespace hearth::store
