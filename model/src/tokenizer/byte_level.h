#pragma once

// GPT-2's byte-level alphabet: every byte is written as one printable
// character in the vocabulary's token strings (space is "Ġ", newline "Ċ").

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auroraedge::model::byte_level {

// The UTF-8 form of the character that stands for byte `b`.
const std::string& CharOfByte(uint8_t b);

// The raw bytes a byte-level token string stands for, or nullopt when it has
// a character outside the alphabet (such a token cannot come out of BPE).
std::optional<std::string> BytesOfToken(std::string_view token);

}  // namespace auroraedge::model::byte_level
