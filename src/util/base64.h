#pragma once
// Base64 (RFC 4648): the standard alphabet with padding, and the URL alphabet without padding
// (Go's base64.RawURLEncoding), for registry signatures and nonces.

#include <optional>
#include <string>
#include <string_view>

namespace hearth {

enum class Base64 { standard, raw_url };

std::string base64_encode(std::string_view bytes, Base64 alphabet = Base64::standard);

// Standard alphabet; the padding may be left out. nullopt for any other character or a length
// no encoder makes.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace hearth
