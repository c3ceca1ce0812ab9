#pragma once

// Turns the ids of a sequence being generated into text deltas that are
// always whole UTF-8 characters: the bytes of a character split across
// tokens are held back until the character is complete. The deltas of a
// sequence, Finish() included, concatenate to exactly
// Tokenizer::Decode(all ids, skip_special).
//
// Threading: one StreamDetokenizer per sequence, used by one thread at a
// time. It holds a non-owning pointer to the tokenizer, which must outlive it.

#include <cstdint>
#include <string>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model {

class StreamDetokenizer {
 public:
  // skip_special: leave special added tokens (e.g. "<|im_end|>") out of the
  // text; otherwise they appear as their content.
  StreamDetokenizer(const Tokenizer& tokenizer, bool skip_special);

  // Appends one id; returns the text that became complete (may be empty).
  // Bytes that can never become valid UTF-8 come out as U+FFFD at once.
  std::string Push(int32_t id);

  // End of the sequence: returns U+FFFD for a character left unfinished, or
  // an empty string. The detokenizer can be reused for a new sequence after.
  std::string Finish();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;  // bytes of an unfinished character, at most 3
};

}  // namespace auroraedge::model
