#pragma once

#include <cstdint>

#include "byte_nfa.h"

namespace auroraedge::model::constrained {

// A JSON string (quotes included) of min_chars to max_chars characters (max
// < 0: no limit). A character is one valid UTF-8 sequence other than '"',
// '\' and the controls U+0000-U+001F, or an escape (\" \\ \/ \b \f \n \r \t,
// or \uXXXX for a code point outside the surrogates), and counts once, as
// JSON Schema's minLength and maxLength count code points.
NfaFragment JsonString(ByteNfa& nfa, int min_chars, int max_chars);

// The decimal integers from `low` to `high` as JSON writes them: no leading
// zeros, no '+', no "-0".
NfaFragment JsonIntegerRange(ByteNfa& nfa, int64_t low, int64_t high);

}  // namespace auroraedge::model::constrained
