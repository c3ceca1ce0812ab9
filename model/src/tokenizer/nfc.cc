#include "nfc.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace auroraedge::model {
namespace {

// Code points that are NFC_Quick_Check=Yes, have combining class 0 and are
// never the second half of a canonical composition: a string made only of
// them is NFC. (Checked over all of Unicode against Python's unicodedata.)
bool IsInertForNfc(char32_t cp) {
  return cp < 0x300 || (cp >= 0x3040 && cp <= 0x3098) || (cp >= 0x309B && cp <= 0x30FF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

bool IsNfcByQuickCheck(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const auto lead = static_cast<uint8_t>(text[pos]);
    if (lead < 0x80) {
      ++pos;
      continue;
    }
    utf8proc_int32_t cp;
    const auto length = utf8proc_iterate(reinterpret_cast<const uint8_t*>(text.data()) + pos,
                                         static_cast<utf8proc_ssize_t>(text.size() - pos), &cp);
    if (length <= 0 || !IsInertForNfc(static_cast<char32_t>(cp))) return false;
    pos += static_cast<size_t>(length);
  }
  return true;
}

}  // namespace

std::string_view NormalizeNfc(std::string_view text, std::string* storage) {
  if (IsNfcByQuickCheck(text)) return text;
  utf8proc_uint8_t* normalized = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &normalized,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(normalized, &std::free);
  if (length < 0) {
    throw std::runtime_error(std::string("NFC normalization failed: ") + utf8proc_errmsg(length));
  }
  storage->assign(reinterpret_cast<const char*>(normalized), static_cast<size_t>(length));
  return *storage;
}

}  // namespace auroraedge::model
