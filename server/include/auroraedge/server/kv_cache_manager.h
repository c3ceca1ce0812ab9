#pragma once

// The only book of the model runner's KV storage (model::KvGeometry): seats
// for running sequences and contiguous runs of KV blocks. A sequence gets
// its seat and its whole need (prompt + max_new_tokens, rounded up to whole
// blocks) at admission, so a running sequence never runs out of room; the
// placement travels to the runner, which reads and writes those blocks in
// place. A run is the smallest free run that fits (lowest first on a tie),
// and freed runs merge with their neighbours.
//
// Not thread-safe: owned by the Scheduler.

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "auroraedge/model/step_batch.h"
#include "auroraedge/server/scheduler_request.h"

namespace auroraedge::server {

class KvCacheManager {
 public:
  // Throws std::invalid_argument when the geometry is empty.
  explicit KvCacheManager(const model::KvGeometry& geometry);

  // A seat and a run of blocks for `tokens` tokens of `sequence`, or "no
  // room" (nullopt: no seat free, or no free run long enough), changing
  // nothing then. Throws std::logic_error when `sequence` already holds one.
  std::optional<model::KvPlacement> Allocate(SequenceId sequence, int64_t tokens);
  // Gives the sequence's seat and blocks back. Unknown ids are ignored.
  void Free(SequenceId sequence);

  std::optional<model::KvPlacement> placement(SequenceId sequence) const;

  // Whether `tokens` could ever fit, with nothing else allocated.
  bool CouldEverHold(int64_t tokens) const;
  int64_t BlocksFor(int64_t tokens) const;

  const model::KvGeometry& geometry() const { return geometry_; }
  int64_t used_blocks() const { return used_blocks_; }
  int64_t reserved_tokens() const { return used_blocks_ * geometry_.block_size; }
  int64_t capacity_tokens() const { return geometry_.num_blocks * geometry_.block_size; }
  int num_sequences() const { return static_cast<int>(placements_.size()); }

  // Throws std::logic_error naming what disagrees: runs that overlap or
  // leave the storage, free and used blocks that do not add up, a seat
  // held twice.
  void CheckInvariants() const;

 private:
  model::KvGeometry geometry_;
  std::map<int64_t, int64_t> free_runs_;  // first block -> blocks, never adjacent
  std::vector<int32_t> free_slots_;       // lowest last
  std::unordered_map<SequenceId, model::KvPlacement> placements_;
  int64_t used_blocks_ = 0;
};

}  // namespace auroraedge::server
