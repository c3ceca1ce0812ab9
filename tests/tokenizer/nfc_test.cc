#include "nfc.h"

#include <utf8proc.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "utf8.h"

namespace auroraedge::model {
namespace {

std::string WholeNfc(const std::string& text) {
  utf8proc_uint8_t* out = nullptr;
  const auto length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &out,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(length));
  std::free(out);
  return result;
}

TEST_CASE("NFC composes decomposed text and leaves NFC text as it is") {
  std::string storage;
  CHECK(NormalizeNfc("u\xCC\x88"
                     "ber",
                     &storage) ==
        "\xC3\xBC"
        "ber");
  CHECK(NormalizeNfc("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", &storage) == "\xED\x95\x9C");
  const std::string nfc = "plain, Größe, 检测, 👍🏽";
  const std::string_view same = NormalizeNfc(nfc, &storage);
  CHECK(same == nfc);
  CHECK(same.data() == nfc.data());  // not copied
}

TEST_CASE("normalizing stretch by stretch equals normalizing the whole text") {
  // Boundary code points mixed with ones that compose, decompose or reorder.
  const std::vector<char32_t> pool = {
      U'a',      U'e',      U'o',      U'u',      U' ',      U'!',          U'\u00C5',
      U'\u0300', U'\u0301', U'\u0308', U'\u0327', U'\u0323', U'\u0345',     U'\u1100',
      U'\u1161', U'\u11A8', U'\uAC00', U'\u304B', U'\u3099', U'\u212B',     U'\u2126',
      U'\u0958', U'\u0B47', U'\u0B3E', U'\u4E2D', U'\uFF21', U'\U0001F44D', U'\U0001F3FD',
      U'\u200D', U'\u302A', U'\u2001', U'\u0374', U'\u1E0A', U'\u0F73'};
  std::mt19937 rng(3);
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> length(1, 12);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int i = length(rng); i > 0; --i) utf8::AppendCodePoint(pool[pick(rng)], &text);
    std::string storage;
    INFO(text);
    REQUIRE(std::string(NormalizeNfc(text, &storage)) == WholeNfc(text));
  }
}

}  // namespace
}  // namespace auroraedge::model
