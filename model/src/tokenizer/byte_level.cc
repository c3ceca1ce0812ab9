#include "byte_level.h"

#include <unordered_map>

#include "utf8.h"

namespace auroraedge::model::byte_level {
namespace {

// Printable bytes stand for themselves; the others (controls, space, 0x7F-0xA0,
// 0xAD) are given the code points from U+0100 on, in byte order.
std::array<char32_t, 256> MakeCodePoints() {
  std::array<char32_t, 256> code_points{};
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    code_points[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return code_points;
}

struct Tables {
  std::array<std::string, 256> char_of_byte;
  std::unordered_map<char32_t, uint8_t> byte_of_code_point;

  Tables() {
    const auto code_points = MakeCodePoints();
    for (int b = 0; b < 256; ++b) {
      utf8::AppendCodePoint(code_points[b], &char_of_byte[b]);
      byte_of_code_point.emplace(code_points[b], static_cast<uint8_t>(b));
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

const std::string& CharOfByte(uint8_t b) { return GetTables().char_of_byte[b]; }

std::optional<std::string> BytesOfToken(std::string_view token) {
  const auto& byte_of = GetTables().byte_of_code_point;
  std::string bytes;
  size_t pos = 0;
  while (pos < token.size()) {
    // Every alphabet character is below U+0144, so one or two UTF-8 bytes.
    const auto lead = static_cast<uint8_t>(token[pos]);
    char32_t cp;
    if (lead < 0x80) {
      cp = lead;
      pos += 1;
    } else if ((lead & 0xE0) == 0xC0 && pos + 1 < token.size()) {
      cp = ((lead & 0x1F) << 6) | (static_cast<uint8_t>(token[pos + 1]) & 0x3F);
      pos += 2;
    } else {
      return std::nullopt;
    }
    const auto it = byte_of.find(cp);
    if (it == byte_of.end()) return std::nullopt;
    bytes.push_back(static_cast<char>(it->second));
  }
  return bytes;
}

}  // namespace auroraedge::model::byte_level
