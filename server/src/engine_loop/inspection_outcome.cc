#include "inspection_outcome.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace auroraedge::server {

void ScoreInspection(const PreparedInspection& inspection, const std::vector<double>& logprobs,
                     InspectionResult& result) {
  const size_t n = inspection.labels.size();
  if (logprobs.size() != n) {
    throw std::logic_error("inspection: " + std::to_string(logprobs.size()) + " label scores for " +
                           std::to_string(n) + " labels");
  }
  // Softmax with the largest log-probability subtracted, so that labels the
  // model finds very unlikely do not underflow the sum.
  const double max = *std::max_element(logprobs.begin(), logprobs.end());
  double sum = 0;
  for (double logprob : logprobs) sum += std::exp(logprob - max);
  result.scores.clear();
  result.chosen = 0;
  for (size_t k = 0; k < n; ++k) {
    LabelScore score;
    score.label = inspection.labels[k];
    score.logprob = logprobs[k];
    score.probability = std::exp(logprobs[k] - max) / sum;
    score.tokens = static_cast<int>(inspection.label_tokens[k].size());
    if (logprobs[k] > logprobs[result.chosen]) result.chosen = static_cast<int>(k);
    result.scores.push_back(std::move(score));
  }
  result.decision = Decision::kNone;
  if (inspection.decision_rule) {
    const DecisionRule& rule = *inspection.decision_rule;
    const auto it = std::find(inspection.labels.begin(), inspection.labels.end(), rule.label);
    result.decision = Decide(rule, result.scores[it - inspection.labels.begin()].probability);
  }
}

Decision Decide(const DecisionRule& rule, double probability) {
  if (probability < rule.ok_below) return Decision::kOk;
  if (probability >= rule.ng_from) return Decision::kNg;
  return Decision::kUnknown;
}

}  // namespace auroraedge::server
