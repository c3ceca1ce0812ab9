#pragma once

// Finds stop strings in a stream of generated text that arrives in pieces
// (one detokenised delta per token), so a stop string split across tokens is
// still found. Text before the stop string is released; the stop string and
// anything after it never are. Text that could still turn out to be the start
// of a stop string is held back until it cannot.
//
// Threading: one matcher per sequence, used by one thread at a time.

#include <string>
#include <string_view>
#include <vector>

namespace auroraedge::model {

class StopStringMatcher {
 public:
  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string was found; push nothing more
  };

  // Throws std::invalid_argument naming "stop[i]" for an empty or invalid
  // UTF-8 stop string, too many of them, or one too long (limits below).
  explicit StopStringMatcher(std::vector<std::string> stops);

  static constexpr int kMaxStopStrings = 16;
  static constexpr int kMaxStopBytes = 256;

  Result Push(std::string_view text);
  // The end of the stream for another reason: releases what was held back.
  std::string Flush();

 private:
  // Length of the longest suffix of held_ that is a proper prefix of a stop
  // string.
  size_t HeldBackLength() const;

  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace auroraedge::model
