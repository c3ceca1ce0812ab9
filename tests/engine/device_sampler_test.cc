// The device sampler against the host reference sampler: the same seeds and
// logits give the same tokens, for every setting, whatever else is in the
// batch.

#include "device_sampler.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <vector>

#include "auroraedge/model/sequence_random.h"
#include "reference_sampler.h"

namespace auroraedge::model {
namespace {

int64_t Bits(double value) {
  int64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// What StepInputs would send for these rows: seats, settings and draws.
SamplingInputs Inputs(const std::vector<SamplingConfig>& configs, const std::vector<int64_t>& slots,
                      const std::vector<double>& draws) {
  std::vector<int64_t> top_k, temperature, top_p, penalty, uniform;
  for (size_t i = 0; i < configs.size(); ++i) {
    top_k.push_back(configs[i].top_k);
    temperature.push_back(Bits(configs[i].temperature));
    top_p.push_back(Bits(configs[i].top_p));
    penalty.push_back(Bits(configs[i].repetition_penalty));
    uniform.push_back(Bits(draws[i]));
  }
  const auto doubles = [](const std::vector<int64_t>& v) {
    return at::tensor(v, at::kLong).view(at::kDouble);
  };
  SamplingInputs inputs;
  inputs.slots = at::tensor(slots, at::kLong);
  inputs.top_k = at::tensor(top_k, at::kLong);
  inputs.temperature = doubles(temperature);
  inputs.top_p = doubles(top_p);
  inputs.penalty = doubles(penalty);
  inputs.uniform = doubles(uniform);
  inputs.configs = configs;
  return inputs;
}

SamplingConfig Config(float temperature, int top_k, float top_p, float penalty, uint64_t seed) {
  SamplingConfig config;
  config.temperature = temperature;
  config.top_k = top_k;
  config.top_p = top_p;
  config.repetition_penalty = penalty;
  config.seed = seed;
  return config;
}

// One reference sampler and one random stream per row; row r's sequence
// starts with `prompt` in `sampler`'s slot r.
struct ReferenceRows {
  ReferenceRows(const std::vector<SamplingConfig>& row_configs, int vocab,
                const std::vector<int32_t>& prompt, DeviceSampler& sampler)
      : configs(row_configs) {
    for (size_t r = 0; r < configs.size(); ++r) {
      references.emplace_back(configs[r], vocab, prompt);
      randoms.emplace_back(configs[r].seed);
      sampler.StartSequence(static_cast<int64_t>(r), prompt);
      slots.push_back(static_cast<int64_t>(r));
    }
  }
  // This step's uniform draw of each row (0 for a greedy row).
  std::vector<double> Draws() {
    std::vector<double> draws;
    for (size_t r = 0; r < configs.size(); ++r)
      draws.push_back(configs[r].temperature > 0 ? randoms[r].Next() : 0.0);
    return draws;
  }
  SamplingInputs NextInputs() { return Inputs(configs, slots, Draws()); }

  const std::vector<SamplingConfig> configs;
  std::vector<testing::Sampler> references;
  std::vector<SequenceRandom> randoms;
  std::vector<int64_t> slots;
};

// `steps` tokens of every config, all rows in one batch each step, against
// one reference sampler per row.
// `ties`: logits from a few whole values, so that many tie.
void CheckAgainstReference(const std::vector<SamplingConfig>& configs, int vocab, float scale,
                           int steps, bool ties = false) {
  const int rows = static_cast<int>(configs.size());
  DeviceSampler sampler(rows, vocab, at::Device(at::kCPU));
  ReferenceRows reference(configs, vocab, {1, 2, 3, 5, 8}, sampler);
  at::manual_seed(11);
  for (int step = 0; step < steps; ++step) {
    auto logits = ties ? at::randint(0, 4, {rows, vocab}).to(at::kFloat) * scale
                       : at::randn({rows, vocab}) * scale;
    if (step % 7 == 3) logits[0][vocab / 2] = NAN;
    const SamplingInputs inputs = reference.NextInputs();
    const SampledTokens sampled = sampler.Sample(logits, inputs);
    sampler.Commit(inputs, sampled.tokens);
    for (int r = 0; r < rows; ++r) {
      INFO("step " << step << ", row " << r << " (temperature " << configs[r].temperature
                   << ", top_k " << configs[r].top_k << ", top_p " << configs[r].top_p
                   << ", penalty " << configs[r].repetition_penalty << ")");
      const auto row = logits[r].contiguous();
      std::vector<float> host(row.data_ptr<float>(), row.data_ptr<float>() + vocab);
      CHECK(sampled.rows[r].token == reference.references[r].Sample(host));
    }
  }
}

TEST_CASE("device sampling gives the reference's tokens: greedy, temperature, top-k, top-p, penalty") {
  CheckAgainstReference({Config(0, 0, 1, 1, 0), Config(1, 0, 1, 1, 7), Config(0.7f, 5, 1, 1, 8),
                         Config(1.3f, 0, 0.9f, 1, 9), Config(1, 40, 0.5f, 1, 10),
                         Config(0.8f, 0, 1, 1.5f, 11), Config(0, 0, 1, 2.0f, 12),
                         Config(1, 3, 0.95f, 1.2f, 13)},
                        50, 2.0f, 60);
}

TEST_CASE("device sampling widens top-p candidates past 64 and 512 on a large vocabulary") {
  // Flat logits: p = 0.99 needs thousands of candidates.
  CheckAgainstReference({Config(1, 0, 0.99f, 1, 21), Config(2, 0, 0.6f, 1, 22),
                         Config(1, 3000, 0.9f, 1, 23), Config(1, 0, 1, 1, 24)},
                        6000, 0.3f, 12);
}

TEST_CASE("device sampling orders tied candidates by id, as the reference") {
  CheckAgainstReference({Config(0, 0, 1, 1, 0), Config(1, 7, 1, 1, 31), Config(1, 0, 0.3f, 1, 32),
                         Config(0.5f, 70, 0.5f, 1, 33)},
                        200, 1.0f, 40, /*ties=*/true);
}

// Masks of `rows` rows over `vocab` tokens, each allowing a seeded random
// tenth of the vocabulary (at least one token), as StepInputs sends them.
std::vector<std::vector<bool>> RandomMasks(int rows, int vocab, uint64_t seed) {
  SequenceRandom random(seed);
  std::vector<std::vector<bool>> masks(rows, std::vector<bool>(vocab, false));
  for (auto& mask : masks) {
    for (int t = 0; t < vocab; ++t) mask[t] = random.Next() < 0.1;
    mask[static_cast<int>(random.Next() * vocab)] = true;
  }
  return masks;
}

void AddMasks(SamplingInputs& inputs, const std::vector<std::vector<bool>>& masks,
              const std::vector<int64_t>& masked_rows) {
  const int vocab = static_cast<int>(masks[0].size());
  const int64_t words = (vocab + 63) / 64;
  std::vector<int64_t> bits;
  for (int64_t r : masked_rows) {
    std::vector<uint64_t> row(words, 0);
    for (int t = 0; t < vocab; ++t) {
      if (masks[r][t]) row[t / 64] |= uint64_t{1} << (t % 64);
    }
    bits.insert(bits.end(), row.begin(), row.end());
  }
  inputs.num_masked = static_cast<int64_t>(masked_rows.size());
  inputs.mask_rows = at::tensor(masked_rows, at::kLong);
  inputs.mask_bits = at::tensor(bits, at::kLong).view(at::kByte).view({inputs.num_masked, -1});
}

TEST_CASE("masked rows give the reference's tokens with the disallowed logits at -inf") {
  const std::vector<SamplingConfig> configs{Config(0, 0, 1, 1, 0), Config(1, 0, 1, 1, 41),
                                            Config(0.8f, 5, 1, 1.3f, 42),
                                            Config(1.2f, 0, 0.9f, 1, 43), Config(0, 0, 1, 1, 44)};
  const int rows = static_cast<int>(configs.size());
  const int vocab = 333;  // not a multiple of 64: the last word is partly padding
  const std::vector<int64_t> masked_rows{0, 1, 2, 3};  // row 4 is unconstrained
  DeviceSampler sampler(rows, vocab, at::Device(at::kCPU));
  ReferenceRows reference(configs, vocab, {1, 2, 3}, sampler);
  at::manual_seed(5);
  for (int step = 0; step < 40; ++step) {
    const auto masks = RandomMasks(rows, vocab, 100 + step);
    const auto logits = at::randn({rows, vocab}) * 2.0f;
    SamplingInputs inputs = reference.NextInputs();
    AddMasks(inputs, masks, masked_rows);
    const SampledTokens sampled = sampler.Sample(logits, inputs);
    sampler.Commit(inputs, sampled.tokens);
    for (int r = 0; r < rows; ++r) {
      INFO("step " << step << ", row " << r);
      const auto row = logits[r].contiguous();
      std::vector<float> host(row.data_ptr<float>(), row.data_ptr<float>() + vocab);
      const bool masked = r < static_cast<int>(masked_rows.size());
      if (masked) {
        for (int t = 0; t < vocab; ++t) {
          if (!masks[r][t]) host[t] = -std::numeric_limits<float>::infinity();
        }
        CHECK(masks[r][sampled.rows[r].token]);
      }
      CHECK(sampled.rows[r].token == reference.references[r].Sample(host));
    }
  }
}

TEST_CASE("a row's token does not depend on the rest of its batch") {
  const int vocab = 300;
  DeviceSampler sampler(4, vocab, at::Device(at::kCPU));
  for (int slot = 0; slot < 4; ++slot) sampler.StartSequence(slot, {4, 5});
  at::manual_seed(2);
  const auto logits = at::randn({4, vocab});
  const std::vector<SamplingConfig> configs{Config(1, 0, 0.8f, 1.3f, 1), Config(0, 0, 1, 1, 2),
                                            Config(0.5f, 20, 1, 1, 3), Config(1, 0, 1, 1, 4)};
  const std::vector<double> draws{0.31, 0, 0.77, 0.5};
  const auto together = sampler.Sample(logits, Inputs(configs, {0, 1, 2, 3}, draws));
  for (int r = 0; r < 4; ++r) {
    const auto alone =
        sampler.Sample(logits.narrow(0, r, 1), Inputs({configs[r]}, {r}, {draws[r]}));
    CHECK(alone.rows[0].token == together.rows[r].token);
  }
}

TEST_CASE("log-probabilities: the chosen token's and the best alternatives, of the model's logits") {
  DeviceSampler sampler(2, 10, at::Device(at::kCPU));
  SamplingConfig with = Config(0, 0, 1, 1, 0);
  with.top_logprobs = 3;
  SamplingConfig chosen_only = Config(0, 0, 1, 1, 0);
  chosen_only.top_logprobs = 0;
  const auto logits = at::tensor({0.f, 2.f, 1.f, -1.f, 3.f, 0.5f, 0.f, 0.f, 0.f, 0.f,  //
                                  1.f, 1.f, 4.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f})
                          .view({2, 10});
  const auto sampled = sampler.Sample(logits, Inputs({with, chosen_only}, {0, 1}, {0, 0}));
  const auto log_probs = at::log_softmax(logits, 1);
  REQUIRE(sampled.rows[0].token == 4);
  CHECK(sampled.rows[0].logprob == Approx(log_probs[0][4].item<float>()));
  REQUIRE(sampled.rows[0].top_logprobs.size() == 3);
  CHECK(sampled.rows[0].top_logprobs[0].token == 4);
  CHECK(sampled.rows[0].top_logprobs[1].token == 1);
  CHECK(sampled.rows[0].top_logprobs[2].token == 2);
  CHECK(sampled.rows[0].top_logprobs[2].logprob == Approx(log_probs[0][2].item<float>()));
  CHECK(sampled.rows[1].token == 2);
  CHECK(sampled.rows[1].logprob == Approx(log_probs[1][2].item<float>()));
  CHECK(sampled.rows[1].top_logprobs.empty());
}

}  // namespace
}  // namespace auroraedge::model
