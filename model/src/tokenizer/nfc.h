#pragma once

// Unicode NFC normalization (utf8proc), with a fast path for text that is
// NFC by construction.

#include <string>
#include <string_view>

namespace auroraedge::model {

// NFC form of `text` (valid UTF-8). Returns `text` itself when it is already
// NFC by a quick check, else the normalized copy kept in *storage.
std::string_view NormalizeNfc(std::string_view text, std::string* storage);

}  // namespace auroraedge::model
