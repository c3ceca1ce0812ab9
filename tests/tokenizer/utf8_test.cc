#include "utf8.h"

#include <catch2/catch.hpp>
#include <string>

namespace auroraedge::model::utf8 {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST_CASE("FindInvalid accepts valid UTF-8 of every length") {
  CHECK(FindInvalid("") == std::string_view::npos);
  CHECK(FindInvalid("plain ascii") == std::string_view::npos);
  CHECK(FindInvalid("\xC3\xBC \xE4\xB8\xAD \xF0\x9F\x91\x8D \xF4\x8F\xBF\xBF") ==
        std::string_view::npos);
  CHECK(FindInvalid(std::string("nul\0inside", 10)) == std::string_view::npos);
}

TEST_CASE("FindInvalid reports the offset of the first invalid sequence") {
  CHECK(FindInvalid("ab\x80") == 2);            // stray continuation byte
  CHECK(FindInvalid("a\xC0\xAF") == 1);         // overlong '/'
  CHECK(FindInvalid("\xE0\x80\xAF") == 0);      // overlong three-byte form
  CHECK(FindInvalid("ok\xED\xA0\x80") == 2);    // surrogate U+D800
  CHECK(FindInvalid("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(FindInvalid("\xF5\x80\x80\x80") == 0);  // lead byte that never occurs
  CHECK(FindInvalid("abc\xE4\xB8") == 3);       // truncated at the end
  CHECK(FindInvalid("\xE4\xB8x") == 0);         // truncated before ASCII
  CHECK(FindInvalid("\xC3\xBC\xFF") == 2);      // 0xFF
}

TEST_CASE("AppendLossy replaces each maximal invalid subpart with one U+FFFD") {
  // The example of the Unicode standard, section 3.9 (U+FFFD substitution).
  std::string out;
  AppendLossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", &out);
  CHECK(out == "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");

  std::string surrogate;
  AppendLossy("\xED\xA0\x80!", &surrogate);  // 0xA0 cannot follow 0xED: three subparts
  CHECK(surrogate == kFffd + kFffd + kFffd + "!");

  std::string valid;
  AppendLossy("keep \xE4\xB8\xAD as is", &valid);
  CHECK(valid == "keep \xE4\xB8\xAD as is");

  std::string truncated;
  AppendLossy("end \xF0\x9F\x91", &truncated);
  CHECK(truncated == "end " + kFffd);
}

TEST_CASE("IncompleteSuffixLength holds back only a character more bytes can finish") {
  CHECK(IncompleteSuffixLength("") == 0);
  CHECK(IncompleteSuffixLength("abc") == 0);
  CHECK(IncompleteSuffixLength("a\xE4") == 1);
  CHECK(IncompleteSuffixLength("a\xE4\xB8") == 2);
  CHECK(IncompleteSuffixLength("a\xE4\xB8\xAD") == 0);
  CHECK(IncompleteSuffixLength("\xF0\x9F\x91") == 3);
  CHECK(IncompleteSuffixLength("\xF0\x9F\x91\x8D") == 0);
  CHECK(IncompleteSuffixLength("a\x80") == 0);      // can never become valid
  CHECK(IncompleteSuffixLength("a\xE0\x80") == 0);  // overlong, already invalid
  CHECK(IncompleteSuffixLength("a\xC3") == 1);
}

TEST_CASE("AppendCodePoint writes UTF-8 of each length") {
  std::string out;
  for (char32_t cp : {U'A', U'\u00FC', U'\u4E2D', U'\U0001F44D'}) AppendCodePoint(cp, &out);
  CHECK(out == "A\xC3\xBC\xE4\xB8\xAD\xF0\x9F\x91\x8D");
}

}  // namespace
}  // namespace auroraedge::model::utf8
