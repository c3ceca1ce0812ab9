#pragma once

// Turns one sequence's sampled tokens into the chunks of its stream:
// end-of-sequence ids end it (and are not shown), the text is detokenised
// into whole UTF-8 characters, stop strings cut it (not shown), and
// max_new_tokens ends it with kLength.
//
// Threading: one per sequence, used by the engine thread. Holds a
// non-owning pointer to the tokenizer, which must outlive it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/model/stop_string_matcher.h"
#include "auroraedge/model/stream_detokenizer.h"
#include "auroraedge/model/tokenizer.h"
#include "auroraedge/server/generation.h"

namespace auroraedge::server {

class SequenceOutput {
 public:
  struct Update {
    GenerationChunk chunk;  // send when it has text or the sequence finished with ids pending
    std::optional<FinishReason> finish;
  };

  // Throws std::invalid_argument for bad stop strings (see StopStringMatcher).
  SequenceOutput(const model::Tokenizer& tokenizer, bool skip_special_tokens,
                 std::vector<std::string> stop_strings, std::vector<int32_t> eos_token_ids,
                 int max_new_tokens);

  // `logprobs`: the token's log-probabilities when the request asked for
  // them; they travel with the token's id.
  Update Append(int32_t token, std::optional<TokenLogprobs> logprobs = std::nullopt);
  // Ends the sequence after the token `update` came from, for a reason of
  // the caller's (a constrained answer that is complete): what is held back
  // joins the update's chunk, which finishes with `reason`.
  void Finish(Update& update, FinishReason reason);

  int completion_tokens() const { return completion_tokens_; }
  const std::string& text() const { return text_; }  // everything released so far

 private:
  // The end of the sequence for a reason other than a stop string: releases
  // what the detokenizer and the matcher held back (which may still
  // complete a stop string).
  void Flush(Update& update);

  model::StreamDetokenizer detokenizer_;
  model::StopStringMatcher stop_strings_;
  std::vector<int32_t> eos_token_ids_;
  int max_new_tokens_;
  int completion_tokens_ = 0;
  std::vector<int32_t> unsent_ids_;
  std::vector<TokenLogprobs> unsent_logprobs_;
  std::string text_;
};

}  // namespace auroraedge::server
