#include "auroraedge/model/stream_detokenizer.h"

#include "utf8.h"

namespace auroraedge::model {

StreamDetokenizer::StreamDetokenizer(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamDetokenizer::Push(int32_t id) {
  if (skip_special_ && tokenizer_->IsSpecial(id)) return {};
  pending_ += tokenizer_->TokenBytes(id);
  const size_t held = utf8::IncompleteSuffixLength(pending_);
  std::string delta;
  utf8::AppendLossy(std::string_view(pending_).substr(0, pending_.size() - held), &delta);
  pending_.erase(0, pending_.size() - held);
  return delta;
}

std::string StreamDetokenizer::Finish() {
  std::string rest;
  utf8::AppendLossy(pending_, &rest);
  pending_.clear();
  return rest;
}

}  // namespace auroraedge::model
