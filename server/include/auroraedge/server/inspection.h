#pragma once

// The contract between the gRPC layer and the engine loop for an Inspect
// call: images, a question and a closed set of answers (labels); every
// label is scored in the step that completes the prompt, and one result
// comes back. Plain C++, no gRPC, no LibTorch.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/priority.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

// Most labels of one inspection; documented in inference.proto.
inline constexpr int kMaxInspectionLabels = 32;

// The practice of industrial inspection tools: one label's probability
// against two thresholds. p < ok_below: OK; p >= ng_from: NG; in between:
// UNKNOWN (the uncertain band; empty when the thresholds are equal).
struct DecisionRule {
  std::string label;
  double ok_below = 0.5;
  double ng_from = 0.5;
};

enum class Decision { kNone, kOk, kNg, kUnknown };  // kNone: no rule was asked for

struct InspectionRequest {
  std::string request_id;  // unique per server; the client's id or a generated one
  std::string client_address;
  std::vector<preprocessing::ImageSource> images;
  std::vector<model::ImageRole> image_roles;  // one per image, or empty: all test images
  std::string prompt;                         // the question
  std::string system_prompt;
  std::vector<std::string> labels;
  std::optional<DecisionRule> decision_rule;
  Priority priority = Priority::kNormal;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct LabelScore {
  std::string label;
  // Softmax over the labels' log-probabilities: the probability that the
  // answer is this label, given that it is one of the labels.
  double probability = 0;
  // The label's sequence log-probability under the model: its tokens and
  // the end of the answer, summed (no length normalisation).
  double logprob = 0;
  int tokens = 0;  // scored tokens, the end of the answer included
};

struct InspectionResult {
  std::vector<LabelScore> scores;  // in the request's order
  int chosen = 0;                  // index of the most probable label (ties: the first)
  Decision decision = Decision::kNone;
  int prompt_tokens = 0;
  int images = 0;
  StageTimings timings;
  std::string model_version;
};

// One Inspect call's end, implemented by the gRPC layer. Called once, from
// a preparation worker or the engine thread, never blocking.
class InspectionReceiver {
 public:
  virtual ~InspectionReceiver() = default;
  virtual void OnResult(const InspectionResult& result) = 0;
  virtual void OnError(const Status& status) = 0;
};

}  // namespace auroraedge::server
