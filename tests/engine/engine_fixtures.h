#pragma once

// The reference's equivalence fixtures (model/FORMAT.md, "Equivalence
// fixtures") as the engine tests read them.

#include <memory>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/patches.h"
#include "pch.h"
#include "safetensors_file.h"

namespace auroraedge::model::testing {

struct FixturePrompt {
  std::vector<int32_t> tokens;
  std::vector<int64_t> images;     // indices into Fixtures::images
  std::vector<int32_t> generated;  // greedy continuation
  at::Tensor logits;               // [tokens + generated, vocab]
  at::Tensor margin;               // [generated]
};

struct Fixtures {
  std::vector<preprocessing::PatchImage> images;
  std::vector<at::Tensor> visual;      // [P, H] per image, padded rows zero
  std::vector<at::Tensor> compressed;  // [N_c, H] per image (compressed path)
  std::vector<FixturePrompt> prompts;
  double tolerance = 0;
};

Fixtures LoadFixtures(const std::string& dir);

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b);
double MaxAbsDiff(const std::vector<float>& a, const at::Tensor& b);

std::vector<int32_t> ToIds(const at::Tensor& t);

}  // namespace auroraedge::model::testing
