#include "constrained_sequence.h"

#include <stdexcept>
#include <string>

namespace auroraedge::server {

ConstrainedSequence::ConstrainedSequence(CompiledConstraint constraint, int max_new_tokens)
    : constraint_(std::move(constraint)),
      matcher_(constraint_.grammar),
      remaining_(max_new_tokens) {
  if (remaining_ < constraint_.bounds->Bound(matcher_.state())) {
    throw std::logic_error("constrained sequence: a budget of " + std::to_string(remaining_) +
                           " tokens cannot finish; the preparation must refuse it");
  }
}

const std::vector<uint64_t>& ConstrainedSequence::AllowedTokens() const {
  return constraint_.bounds->Allowed(matcher_.state(), remaining_).words();
}

void ConstrainedSequence::Advance(int32_t token) {
  if (remaining_ < 1 || !constraint_.bounds->Allowed(matcher_.state(), remaining_).Allows(token)) {
    throw std::invalid_argument("constrained decoding: token " + std::to_string(token) +
                                " is not allowed here");
  }
  matcher_.Advance(token);
  --remaining_;
}

bool ConstrainedSequence::Finished() const {
  return matcher_.IsFinished() || remaining_ == 0 || constraint_.bounds->Finished(matcher_.state());
}

}  // namespace auroraedge::server
