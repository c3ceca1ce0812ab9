#include "nfc.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace auroraedge::model {
namespace {

// Code points that are NFC_Quick_Check=Yes, have combining class 0 and are
// never the second half of a canonical composition (checked over all of
// Unicode 14 with Python's unicodedata). Normalization never reaches across
// one: NFC(a + b) = NFC(a) + NFC(b) when b starts with such a code point.
bool IsNfcBoundary(char32_t cp) {
  return cp < 0x300 || (cp >= 0x2002 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x3029) ||
         (cp >= 0x3030 && cp <= 0x3098) || (cp >= 0x309B && cp <= 0x30FF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
         (cp >= 0x1F000 && cp <= 0x1FAFF);
}

// Decodes the code point at text[pos] (valid UTF-8); sets *length.
char32_t CodePointAt(std::string_view text, size_t pos, size_t* length) {
  const auto byte = [&](size_t i) { return static_cast<char32_t>(static_cast<uint8_t>(text[i])); };
  const char32_t lead = byte(pos);
  if (lead < 0x80) {
    *length = 1;
    return lead;
  }
  if (lead < 0xE0) {
    *length = 2;
    return ((lead & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
  }
  if (lead < 0xF0) {
    *length = 3;
    return ((lead & 0x0F) << 12) | ((byte(pos + 1) & 0x3F) << 6) | (byte(pos + 2) & 0x3F);
  }
  *length = 4;
  return ((lead & 0x07) << 18) | ((byte(pos + 1) & 0x3F) << 12) | ((byte(pos + 2) & 0x3F) << 6) |
         (byte(pos + 3) & 0x3F);
}

void AppendNfc(std::string_view text, std::string* out) {
  utf8proc_uint8_t* normalized = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &normalized,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(normalized, &std::free);
  if (length < 0) {
    throw std::runtime_error(std::string("NFC normalization failed: ") + utf8proc_errmsg(length));
  }
  out->append(reinterpret_cast<const char*>(normalized), static_cast<size_t>(length));
}

}  // namespace

std::string_view NormalizeNfc(std::string_view text, std::string* storage) {
  // Only the stretches between boundaries that hold other code points go
  // through utf8proc; the rest is copied, or not even that if nothing changes.
  size_t copied = 0;  // text[0, copied) is accounted for in *storage
  size_t boundary = 0;
  bool normalized_any = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    if (IsNfcBoundary(CodePointAt(text, pos, &length))) {
      boundary = pos;
      pos += length;
      continue;
    }
    size_t end = pos + length;
    while (end < text.size() && !IsNfcBoundary(CodePointAt(text, end, &length))) end += length;
    if (!normalized_any) {
      storage->clear();
      normalized_any = true;
    }
    storage->append(text.substr(copied, boundary - copied));
    AppendNfc(text.substr(boundary, end - boundary), storage);
    copied = end;
    boundary = end;
    pos = end;
  }
  if (!normalized_any) return text;
  storage->append(text.substr(copied));
  return *storage;
}

}  // namespace auroraedge::model
