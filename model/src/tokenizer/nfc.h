#pragma once

// Unicode NFC normalization (utf8proc), applied only to the stretches of
// text that can change.

#include <string>
#include <string_view>

namespace auroraedge::model {

// NFC form of `text` (valid UTF-8). Returns `text` itself when no stretch of
// it needs normalizing, else the normalized copy kept in *storage.
std::string_view NormalizeNfc(std::string_view text, std::string* storage);

}  // namespace auroraedge::model
