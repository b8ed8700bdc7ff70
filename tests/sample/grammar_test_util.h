#pragma once
// Feeding text to a grammar byte by byte, as the sample tests check documents.

#include <cstdint>
#include <memory>
#include <string_view>

#include "sample/grammar.h"

namespace hearth::sample {

// Every byte accepted and the document complete.
inline bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  for (char c : text) {
    if (!m.accept(static_cast<uint8_t>(c))) return false;
  }
  return m.is_complete();
}

}  // namespace hearth::sample
