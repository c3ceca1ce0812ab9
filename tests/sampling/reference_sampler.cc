#include "reference_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>

namespace auroraedge::model::testing {
namespace {

// The first id in `ids` at which the running sum of weights passes target.
int32_t PickByWeight(const std::vector<int32_t>& ids, const std::vector<double>& weights,
                     double target) {
  double cumulative = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    cumulative += weights[i];
    if (cumulative > target) return ids[i];
  }
  // Rounding left target at or beyond the sum: the last token with weight.
  for (size_t i = ids.size(); i-- > 0;) {
    if (weights[i] > 0) return ids[i];
  }
  return ids.front();
}

}  // namespace

Sampler::Sampler(const SamplingConfig& config, int vocab_size, const std::vector<int32_t>& context)
    : config_(config), vocab_size_(vocab_size), random_(config.seed) {
  ValidateSamplingConfig(config, vocab_size);
  if (config.repetition_penalty != 1.0f) seen_.insert(context.begin(), context.end());
}

int32_t Sampler::Sample(std::vector<float>& logits) {
  if (static_cast<int>(logits.size()) != vocab_size_) {
    throw std::invalid_argument("sampler: " + std::to_string(logits.size()) +
                                " logits for a vocabulary of " + std::to_string(vocab_size_));
  }
  for (float& logit : logits) {
    if (std::isnan(logit)) logit = -std::numeric_limits<float>::infinity();
  }
  ApplyRepetitionPenalty(logits);
  // One draw per token whenever the temperature is set, used or not.
  const double u = config_.temperature > 0.0f ? random_.Next() : 0.0;
  const auto argmax = std::max_element(logits.begin(), logits.end());
  const int32_t token = config_.temperature == 0.0f || std::isinf(*argmax)
                            ? static_cast<int32_t>(argmax - logits.begin())
                            : Draw(logits, u);
  if (config_.repetition_penalty != 1.0f) seen_.insert(token);
  return token;
}

void Sampler::ApplyRepetitionPenalty(std::vector<float>& logits) const {
  if (config_.repetition_penalty == 1.0f) return;
  for (int32_t id : seen_) {
    if (id < 0 || id >= vocab_size_) continue;
    float& logit = logits[id];
    logit = logit > 0 ? logit / config_.repetition_penalty : logit * config_.repetition_penalty;
  }
}

int32_t Sampler::Draw(const std::vector<float>& logits, double u) {
  const double max_logit = *std::max_element(logits.begin(), logits.end());
  const double inv_temperature = 1.0 / config_.temperature;
  std::vector<double> weights_by_id(vocab_size_);
  for (int32_t id = 0; id < vocab_size_; ++id) {
    weights_by_id[id] = std::exp((static_cast<double>(logits[id]) - max_logit) * inv_temperature);
  }
  const auto weight = [&weights_by_id](int32_t id) { return weights_by_id[id]; };

  std::vector<int32_t> ids(vocab_size_);
  std::iota(ids.begin(), ids.end(), 0);
  if (config_.top_k == 0 && config_.top_p == 1.0f) {
    return PickByWeight(ids, weights_by_id,
                        u * std::accumulate(weights_by_id.begin(), weights_by_id.end(), 0.0));
  }

  // Candidates in order of logit (ties: lower id first, so the order is total).
  const auto better = [&logits](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  const size_t limit = config_.top_k > 0 ? static_cast<size_t>(config_.top_k) : ids.size();
  double total = 0;
  if (config_.top_k > 0) {
    std::partial_sort(ids.begin(), ids.begin() + limit, ids.end(), better);
    for (size_t i = 0; i < limit; ++i) total += weight(ids[i]);
  } else {
    for (int32_t id : ids) total += weight(id);
  }

  // Top-p keeps the fewest best candidates whose mass reaches top_p. Sort
  // only as many as needed: most of the mass usually sits in a few tokens.
  size_t keep = limit;
  if (config_.top_p < 1.0f) {
    size_t sorted = config_.top_k > 0 ? limit : 0;
    for (size_t n = std::min<size_t>(64, limit);; n = std::min(limit, n * 8)) {
      if (n > sorted) {
        std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), better);
        sorted = n;
      }
      double cumulative = 0;
      size_t i = 0;
      while (i < n && cumulative < config_.top_p * total) cumulative += weight(ids[i++]);
      if (cumulative >= config_.top_p * total || n == limit) {
        keep = i;
        break;
      }
    }
  }
  ids.resize(keep);
  std::vector<double> weights(keep);
  for (size_t i = 0; i < keep; ++i) weights[i] = weight(ids[i]);
  return PickByWeight(ids, weights, u * std::accumulate(weights.begin(), weights.end(), 0.0));
}

}  // namespace auroraedge::model::testing
