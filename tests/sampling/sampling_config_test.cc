#include "auroraedge/model/sampling_config.h"

#include <catch2/catch.hpp>
#include <cmath>

using auroraedge::model::SamplingConfig;
using auroraedge::model::ValidateSamplingConfig;

namespace {
constexpr int kVocab = 8;
}  // namespace

TEST_CASE("Sampling settings out of range name the parameter and the range") {
  SamplingConfig config;
  config.temperature = -0.5f;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab),
                    Catch::Contains("temperature") && Catch::Contains("[0, 100]"));
  config = {};
  config.temperature = NAN;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab), Catch::Contains("temperature"));
  config = {};
  config.top_k = kVocab + 1;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab),
                    Catch::Contains("top_k") && Catch::Contains("[0, 8]"));
  config = {};
  config.top_p = 0.0f;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab),
                    Catch::Contains("top_p") && Catch::Contains("(0, 1]"));
  config = {};
  config.repetition_penalty = 0.0f;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab), Catch::Contains("repetition_penalty"));
  config = {};
  config.top_logprobs = 21;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab),
                    Catch::Contains("top_logprobs") && Catch::Contains("[0, 20]"));
  config.top_logprobs = -2;
  CHECK_THROWS_WITH(ValidateSamplingConfig(config, kVocab), Catch::Contains("top_logprobs"));
  config.top_logprobs = 20;
  CHECK_NOTHROW(ValidateSamplingConfig(config, kVocab));
  CHECK_NOTHROW(ValidateSamplingConfig(SamplingConfig{}, kVocab));
}

