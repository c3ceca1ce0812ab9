#pragma once

// Finds added tokens (e.g. "<|im_end|>") in text before normalization and
// BPE, the way HF tokenizers does: leftmost match first, the longest token
// at that position, matching the raw (not normalized) text.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace auroraedge::model {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
};

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  // Cuts `text` into plain stretches (on_text, never empty) and added tokens
  // (on_token), in order. With allow_special false, a match of a special
  // token stays plain text and the search goes on after it (HF's
  // encode_special_tokens), so it cannot hide a token overlapping it.
  void Split(std::string_view text, bool allow_special,
             const std::function<void(std::string_view)>& on_text,
             const std::function<void(int32_t)>& on_token) const;

 private:
  // Index of the longest token that starts at text[pos], or -1.
  int LongestMatchAt(std::string_view text, size_t pos) const;

  std::vector<AddedToken> tokens_;
  // Tokens by first byte, longest first.
  std::array<std::vector<int>, 256> by_first_byte_;
};

}  // namespace auroraedge::model
