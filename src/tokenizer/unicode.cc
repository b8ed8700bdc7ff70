#include "tokenizer/unicode.h"

#include <array>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace hearth::tokenizer {
namespace {

constexpr uint8_t class_of_category(uint8_t cat) {
  switch (static_cast<GeneralCategory>(cat)) {
    case GeneralCategory::Lu:
    case GeneralCategory::Ll:
    case GeneralCategory::Lt:
    case GeneralCategory::Lm:
    case GeneralCategory::Lo:
      return kLetter;
    case GeneralCategory::Mn:
    case GeneralCategory::Mc:
    case GeneralCategory::Me:
      return kMark;
    case GeneralCategory::Nd:
    case GeneralCategory::Nl:
    case GeneralCategory::No:
      return kNumber;
    case GeneralCategory::Pc:
    case GeneralCategory::Pd:
    case GeneralCategory::Ps:
    case GeneralCategory::Pe:
    case GeneralCategory::Pi:
    case GeneralCategory::Pf:
    case GeneralCategory::Po:
      return kPunct;
    case GeneralCategory::Sm:
    case GeneralCategory::Sc:
    case GeneralCategory::Sk:
    case GeneralCategory::So:
      return kSymbol;
    default:
      return 0;
  }
}

uint8_t run_value(uint32_t cp) {
  int lo = 0, hi = kCategoryRunCount - 1;  // last run with first <= cp
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (kCategoryRuns[mid].first <= cp) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return kCategoryRuns[lo].value;
}

// The BMP, where nearly all text lives, is a flat table: one byte per code point,
// category in the low 5 bits and the CpClass bits derived once.
struct BmpTable {
  std::vector<uint8_t> category;
  std::vector<uint8_t> cls;
  BmpTable() : category(0x10000), cls(0x10000) {
    for (uint32_t cp = 0; cp < 0x10000; ++cp) {
      const uint8_t v = run_value(cp);
      category[cp] = v & 31;
      cls[cp] = class_of_category(v & 31) | ((v & 32) ? kSpace : 0);
    }
  }
};

const BmpTable& bmp() {
  static const BmpTable table;
  return table;
}

}  // namespace

GeneralCategory general_category(uint32_t cp) {
  if (cp < 0x10000) return static_cast<GeneralCategory>(bmp().category[cp]);
  if (cp > 0x10FFFF) return GeneralCategory::Cn;
  return static_cast<GeneralCategory>(run_value(cp) & 31);
}

uint8_t cp_class(uint32_t cp) {
  if (cp < 0x10000) return bmp().cls[cp];
  if (cp > 0x10FFFF) return 0;
  const uint8_t v = run_value(cp);
  return class_of_category(v & 31) | ((v & 32) ? kSpace : 0);
}

}  // namespace hearth::tokenizer
