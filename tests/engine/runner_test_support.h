#pragma once

// Loading the small models and placing sequences for the runner's tests,
// which play the scheduler's part: each sequence gets its own seat and a
// run of blocks no other sequence holds.

#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/model_runner.h"
#include "torch_model_runner.h"

namespace auroraedge::model::testing {

EngineOptions SmallModelOptions(const std::string& model_dir = AURORAEDGE_TEST_MODEL_DIR);

std::unique_ptr<TorchModelRunner> LoadRunner(const EngineOptions& options);
std::unique_ptr<TorchModelRunner> LoadRunner(const std::string& model_dir);

// Hands out seats and block runs in order, never reusing them.
class Placements {
 public:
  explicit Placements(const KvGeometry& geometry) : geometry_(geometry) {}
  // A seat and enough blocks for `tokens` tokens, plus `extra_blocks`.
  KvPlacement Next(int64_t tokens, int64_t extra_blocks = 0);

 private:
  KvGeometry geometry_;
  int next_slot_ = 0;
  int64_t next_block_ = 0;
};

// A sequence start with greedy sampling.
SequenceStart Start(SequenceId id, std::vector<int32_t> prompt, int max_new_tokens,
                    const KvPlacement& placement);

}  // namespace auroraedge::model::testing
