#include "utf8.h"

#include <cstdint>

namespace auroraedge::model::utf8 {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid sequence (or of the maximal subpart that could begin
// one) at text[pos]; sets *complete when it is a whole valid character.
// Follows Table 3-7 of the Unicode standard (well-formed byte sequences).
size_t SequenceAt(std::string_view text, size_t pos, bool* complete) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(pos);
  *complete = false;
  if (lead < 0x80) {
    *complete = true;
    return 1;
  }
  size_t length;
  uint8_t second_low = 0x80;
  uint8_t second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // no overlong forms
    if (lead == 0xED) second_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // no overlong forms
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 1;  // continuation byte or a lead byte that never occurs
  }
  size_t i = 1;
  for (; i < length && pos + i < text.size(); ++i) {
    const uint8_t b = byte(pos + i);
    const uint8_t low = i == 1 ? second_low : 0x80;
    const uint8_t high = i == 1 ? second_high : 0xBF;
    if (b < low || b > high) return i;
  }
  *complete = i == length;
  return i;
}

}  // namespace

size_t FindInvalid(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    bool complete;
    const size_t length = SequenceAt(text, pos, &complete);
    if (!complete) return pos;
    pos += length;
  }
  return std::string_view::npos;
}

void AppendLossy(std::string_view bytes, std::string* out) {
  size_t pos = 0;
  size_t valid_from = 0;
  while (pos < bytes.size()) {
    if (static_cast<uint8_t>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    bool complete;
    const size_t length = SequenceAt(bytes, pos, &complete);
    if (!complete) {
      out->append(bytes.substr(valid_from, pos - valid_from));
      out->append(kReplacement);
      valid_from = pos + length;
    }
    pos += length;
  }
  out->append(bytes.substr(valid_from));
}

size_t IncompleteSuffixLength(std::string_view bytes) {
  // A character is at most 4 bytes, so only the last 3 can be unfinished.
  const size_t start = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t pos = start; pos < bytes.size(); ++pos) {
    const uint8_t b = static_cast<uint8_t>(bytes[pos]);
    if (b < 0xC2 || b > 0xF4) continue;  // not a lead byte of a multi-byte character
    bool complete;
    const size_t length = SequenceAt(bytes, pos, &complete);
    if (!complete && pos + length == bytes.size()) return length;
  }
  return 0;
}

void AppendCodePoint(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace auroraedge::model::utf8
