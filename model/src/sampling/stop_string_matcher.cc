#include "auroraedge/model/stop_string_matcher.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace auroraedge::model {
namespace {

// Whole, shortest-form UTF-8 characters only, so that cutting text where a
// stop string starts always falls between characters.
bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int length = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      length = 1;
      code = byte;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  if (stops_.size() > static_cast<size_t>(kMaxStopStrings)) {
    throw std::invalid_argument("stop: " + std::to_string(stops_.size()) +
                                " stop strings; at most " + std::to_string(kMaxStopStrings) +
                                " are allowed");
  }
  for (size_t i = 0; i < stops_.size(); ++i) {
    const std::string field = "stop[" + std::to_string(i) + "]";
    if (stops_[i].empty()) throw std::invalid_argument(field + ": must not be empty");
    if (stops_[i].size() > static_cast<size_t>(kMaxStopBytes)) {
      throw std::invalid_argument(field + ": " + std::to_string(stops_[i].size()) +
                                  " bytes; at most " + std::to_string(kMaxStopBytes) +
                                  " are allowed");
    }
    if (!IsValidUtf8(stops_[i])) throw std::invalid_argument(field + ": is not valid UTF-8");
  }
}

StopStringMatcher::Result StopStringMatcher::Push(std::string_view text) {
  Result result;
  if (stopped_) return result;
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) first = std::min(first, held_.find(stop));
  if (first != std::string::npos) {
    result.text = held_.substr(0, first);
    result.stopped = true;
    stopped_ = true;
    held_.clear();
    return result;
  }
  const size_t release = held_.size() - HeldBackLength();
  result.text = held_.substr(0, release);
  held_.erase(0, release);
  return result;
}

std::string StopStringMatcher::Flush() {
  std::string text;
  text.swap(held_);
  return text;
}

size_t StopStringMatcher::HeldBackLength() const {
  size_t longest = 0;
  for (const std::string& stop : stops_) {
    for (size_t length = std::min(stop.size() - 1, held_.size()); length > longest; --length) {
      if (held_.compare(held_.size() - length, length, stop, 0, length) == 0) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

}  // namespace auroraedge::model
