#include "sequence_output.h"

#include <algorithm>
#include <utility>

namespace auroraedge::server {

SequenceOutput::SequenceOutput(const model::Tokenizer& tokenizer, bool skip_special_tokens,
                               std::vector<std::string> stop_strings,
                               std::vector<int32_t> eos_token_ids, int max_new_tokens)
    : detokenizer_(tokenizer, skip_special_tokens),
      stop_strings_(std::move(stop_strings)),
      eos_token_ids_(std::move(eos_token_ids)),
      max_new_tokens_(max_new_tokens) {}

SequenceOutput::Update SequenceOutput::Append(int32_t token,
                                              std::optional<TokenLogprobs> logprobs) {
  Update update;
  ++completion_tokens_;
  if (std::find(eos_token_ids_.begin(), eos_token_ids_.end(), token) != eos_token_ids_.end()) {
    update.finish = FinishReason::kStop;
    Flush(update);
  } else {
    unsent_ids_.push_back(token);
    if (logprobs) unsent_logprobs_.push_back(std::move(*logprobs));
    model::StopStringMatcher::Result result = stop_strings_.Push(detokenizer_.Push(token));
    update.chunk.text = std::move(result.text);
    if (result.stopped) {
      update.finish = FinishReason::kStopString;
    } else if (completion_tokens_ >= max_new_tokens_) {
      update.finish = FinishReason::kLength;
      Flush(update);
    }
  }
  if (!update.chunk.text.empty() || update.finish) {
    update.chunk.token_ids.swap(unsent_ids_);
    update.chunk.logprobs.swap(unsent_logprobs_);
  }
  text_ += update.chunk.text;
  return update;
}

void SequenceOutput::Finish(Update& update, FinishReason reason) {
  const size_t released = update.chunk.text.size();
  Flush(update);
  update.finish = reason;
  update.chunk.token_ids.insert(update.chunk.token_ids.end(), unsent_ids_.begin(),
                                unsent_ids_.end());
  update.chunk.logprobs.insert(update.chunk.logprobs.end(), unsent_logprobs_.begin(),
                               unsent_logprobs_.end());
  unsent_ids_.clear();
  unsent_logprobs_.clear();
  text_ += update.chunk.text.substr(released);
}

void SequenceOutput::Flush(Update& update) {
  model::StopStringMatcher::Result tail = stop_strings_.Push(detokenizer_.Finish());
  update.chunk.text += tail.text;
  if (tail.stopped) {
    update.finish = FinishReason::kStopString;
  } else {
    update.chunk.text += stop_strings_.Flush();
  }
}

}  // namespace auroraedge::server
