#include "runner_test_support.h"

#include <stdexcept>

namespace auroraedge::model::testing {

EngineOptions SmallModelOptions(const std::string& model_dir) {
  EngineOptions options;
  options.model_dir = model_dir;
  options.intra_op_threads = 1;
  options.kv_cache_bytes = 64LL << 20;
  return options;
}

std::unique_ptr<TorchModelRunner> LoadRunner(const EngineOptions& options) {
  return std::make_unique<TorchModelRunner>(options);
}

std::unique_ptr<TorchModelRunner> LoadRunner(const std::string& model_dir) {
  return LoadRunner(SmallModelOptions(model_dir));
}

KvPlacement Placements::Next(int64_t tokens, int64_t extra_blocks) {
  const int64_t blocks = (tokens + geometry_.block_size - 1) / geometry_.block_size + extra_blocks;
  if (next_slot_ >= geometry_.num_slots || next_block_ + blocks > geometry_.num_blocks) {
    throw std::logic_error("test placements: the KV storage is used up");
  }
  const KvPlacement placement{next_slot_++, next_block_, blocks};
  next_block_ += blocks;
  return placement;
}

SequenceStart Start(SequenceId id, std::vector<int32_t> prompt, int max_new_tokens,
                    const KvPlacement& placement) {
  SequenceStart start;
  start.id = id;
  start.placement = placement;
  start.prompt = std::move(prompt);
  start.max_new_tokens = max_new_tokens;
  return start;
}

}  // namespace auroraedge::model::testing
