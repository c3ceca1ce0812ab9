#include "auroraedge/model/sampling_config.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace auroraedge::model {
namespace {

template <typename T>
[[noreturn]] void OutOfRange(const char* name, T value, const std::string& range) {
  std::ostringstream message;
  message << name << ": " << value << " is out of range " << range;
  throw std::invalid_argument(message.str());
}

}  // namespace

void ValidateSamplingConfig(const SamplingConfig& config, int vocab_size) {
  if (!(config.temperature >= 0.0f && config.temperature <= 100.0f)) {
    OutOfRange("temperature", config.temperature, "[0, 100] (0 is greedy)");
  }
  if (config.top_k < 0 || config.top_k > vocab_size) {
    OutOfRange(
        "top_k", config.top_k,
        "[0, " + std::to_string(vocab_size) + "] (0 is off; the vocabulary size is the limit)");
  }
  if (!(config.top_p > 0.0f && config.top_p <= 1.0f)) {
    OutOfRange("top_p", config.top_p, "(0, 1] (1 is off)");
  }
  if (!(config.repetition_penalty > 0.0f && config.repetition_penalty <= 10.0f)) {
    OutOfRange("repetition_penalty", config.repetition_penalty, "(0, 10] (1 is off)");
  }
  if (config.top_logprobs < -1 || config.top_logprobs > kMaxTopLogprobs) {
    OutOfRange("top_logprobs", config.top_logprobs,
               "[0, " + std::to_string(kMaxTopLogprobs) + "] (unset: none)");
  }
}

}  // namespace auroraedge::model
