#pragma once

// UTF-8 checks shared by encoding (refuse invalid input) and decoding
// (replace invalid bytes the way HF tokenizers and the WHATWG decoder do).

#include <cstddef>
#include <string>
#include <string_view>

namespace auroraedge::model::utf8 {

// Offset of the first byte that does not start a valid UTF-8 sequence, or
// std::string_view::npos when `text` is valid UTF-8 throughout.
size_t FindInvalid(std::string_view text);

// Appends `bytes` to `out` with every maximal invalid subpart replaced by
// U+FFFD (Unicode's "substitution of maximal subparts", which Rust's
// from_utf8_lossy and the WHATWG TextDecoder both follow).
void AppendLossy(std::string_view bytes, std::string* out);

// Length of the trailing bytes of `bytes` that begin a character which more
// bytes could still complete (0 to 3); the rest is final.
size_t IncompleteSuffixLength(std::string_view bytes);

// Appends the UTF-8 form of code point `cp` (at most U+10FFFF).
void AppendCodePoint(char32_t cp, std::string* out);

}  // namespace auroraedge::model::utf8
