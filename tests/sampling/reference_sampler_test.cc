// The host reference of the device sampler: its own behaviour, so that it
// can be the oracle of tests/engine/device_sampler_test.cc.

#include "reference_sampler.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

using auroraedge::model::SamplingConfig;
using auroraedge::model::testing::Sampler;

namespace {

constexpr int kVocab = 8;

SamplingConfig Random(uint64_t seed) {
  SamplingConfig config;
  config.temperature = 1.0f;
  config.seed = seed;
  return config;
}

// log-probabilities 0.4, 0.3, 0.2, 0.1 for ids 0..3 and nothing for 4..7.
std::vector<float> FourTokens() {
  std::vector<float> logits(kVocab, -INFINITY);
  logits[0] = std::log(0.4f);
  logits[1] = std::log(0.3f);
  logits[2] = std::log(0.2f);
  logits[3] = std::log(0.1f);
  return logits;
}

std::map<int32_t, int> Histogram(const SamplingConfig& config, int draws) {
  Sampler sampler(config, kVocab, {});
  std::map<int32_t, int> counts;
  for (int i = 0; i < draws; ++i) {
    std::vector<float> logits = FourTokens();
    ++counts[sampler.Sample(logits)];
  }
  return counts;
}

}  // namespace

TEST_CASE("Reference sampler: greedy takes the argmax, the lower id on a tie") {
  Sampler sampler(SamplingConfig{}, kVocab, {});
  std::vector<float> logits{0, 1, 5, 5, 2, -1, 0, 0};
  CHECK(sampler.Sample(logits) == 2);
}

TEST_CASE("Reference sampler: temperature sampling follows the distribution") {
  const std::map<int32_t, int> counts = Histogram(Random(1), 20000);
  CHECK(counts.size() == 4);
  CHECK(counts.at(0) / 20000.0 == Approx(0.4).margin(0.02));
  CHECK(counts.at(1) / 20000.0 == Approx(0.3).margin(0.02));
  CHECK(counts.at(3) / 20000.0 == Approx(0.1).margin(0.02));
}

TEST_CASE("Reference sampler: a low temperature sharpens towards the argmax") {
  SamplingConfig config = Random(2);
  config.temperature = 0.1f;
  const std::map<int32_t, int> counts = Histogram(config, 2000);
  // p0 = 1 / (1 + 0.75^10 + 0.5^10 + 0.25^10) = 0.946
  CHECK(counts.at(0) / 2000.0 == Approx(0.946).margin(0.02));
}

TEST_CASE("Reference sampler: top-k keeps only the k best tokens") {
  SamplingConfig config = Random(3);
  config.top_k = 2;
  const std::map<int32_t, int> counts = Histogram(config, 5000);
  CHECK(counts.size() == 2);
  CHECK(counts.at(0) / 5000.0 == Approx(0.4 / 0.7).margin(0.03));
}

TEST_CASE("Reference sampler: top-p keeps the fewest tokens whose mass reaches p") {
  SamplingConfig config = Random(4);
  config.top_p = 0.65f;  // 0.4 + 0.3 reaches it; 0.2 and 0.1 are cut
  std::map<int32_t, int> counts = Histogram(config, 5000);
  CHECK(counts.size() == 2);
  config.top_p = 0.75f;
  counts = Histogram(config, 5000);
  CHECK(counts.size() == 3);
}

TEST_CASE("Reference sampler: top-p on a large vocabulary widens its search past the first candidates") {
  const int vocab = 5000;
  SamplingConfig config = Random(5);
  config.top_p = 0.9f;
  Sampler sampler(config, vocab, {});
  std::set<int32_t> seen;
  for (int i = 0; i < 3000; ++i) {
    std::vector<float> flat(vocab, 0.0f);  // uniform: 90% of the mass is 4500 tokens
    seen.insert(sampler.Sample(flat));
  }
  CHECK(*seen.rbegin() < 4500);
  // 3000 uniform draws from 4500 tokens hit about 2200 distinct ones: far
  // more than the first 64 or 512 candidates the search starts with.
  CHECK(seen.size() > 1500);
}

TEST_CASE("Reference sampler: the same seed gives the same tokens, another seed others") {
  const auto run = [](uint64_t seed) {
    Sampler sampler(Random(seed), kVocab, {});
    std::vector<int32_t> tokens;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> logits = FourTokens();
      tokens.push_back(sampler.Sample(logits));
    }
    return tokens;
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}

TEST_CASE("Reference sampler: repetition penalty pushes seen tokens down, prompt included") {
  SamplingConfig config;
  config.repetition_penalty = 2.0f;
  Sampler sampler(config, kVocab, {0});
  std::vector<float> logits{3, 2, 0, 0, 0, 0, 0, 0};  // 3 / 2 = 1.5 < 2
  CHECK(sampler.Sample(logits) == 1);
  CHECK(logits[0] == 1.5f);
  std::vector<float> negative{-1, -1.5f, -3, -3, -3, -3, -3, -3};  // 0 and 1 seen: -2, -3
  CHECK(sampler.Sample(negative) == 0);
  CHECK(negative[1] == -3.0f);
}

TEST_CASE("Reference sampler: logits of the wrong size are refused") {
  Sampler sampler(SamplingConfig{}, kVocab, {});
  std::vector<float> logits(kVocab - 1, 0.0f);
  CHECK_THROWS_AS(sampler.Sample(logits), std::invalid_argument);
}

TEST_CASE("Reference sampler: NaN logits never win") {
  Sampler greedy(SamplingConfig{}, kVocab, {});
  std::vector<float> logits{NAN, 1, 0, 0, 0, 0, 0, NAN};
  CHECK(greedy.Sample(logits) == 1);
  Sampler random(Random(9), kVocab, {});
  for (int i = 0; i < 100; ++i) {
    std::vector<float> with_nan{NAN, 1, 1, NAN, -INFINITY, 0, 0, 0};
    const int32_t token = random.Sample(with_nan);
    CHECK(token != 0);
    CHECK(token != 3);
    CHECK(token != 4);
  }
}
