#pragma once

// A fixed KV-cache budget in blocks of tokens. The scheduler reserves a
// sequence's whole need (prompt + max_new_tokens) at admission, so a running
// sequence never runs out of room and the budget is never over-committed.
// Rounding up to whole blocks keeps the reservation at or above what the
// model engine itself needs for the sequence.
//
// Not thread-safe: owned by the Scheduler.

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "auroraedge/server/scheduler_request.h"

namespace auroraedge::server {

struct KvReservation {
  int64_t blocks = 0;
  int64_t tokens = 0;  // blocks * block_size
};

class KvBlockManager {
 public:
  // capacity_tokens: the model engine's kv_token_capacity(); only whole
  // blocks of it are handed out. Throws std::invalid_argument when
  // block_size < 1 or capacity_tokens < 0.
  KvBlockManager(int64_t capacity_tokens, int block_size);

  // Reserves room for `tokens` tokens of `sequence`, or answers "no room"
  // (nullopt) and changes nothing. Throws std::logic_error when `sequence`
  // already holds a reservation.
  std::optional<KvReservation> Reserve(SequenceId sequence, int64_t tokens);
  // Gives the sequence's blocks back. Unknown ids are ignored.
  void Free(SequenceId sequence);

  // Whether `tokens` could ever fit, with nothing else reserved.
  bool CouldEverHold(int64_t tokens) const;

  int block_size() const { return block_size_; }
  int64_t total_blocks() const { return total_blocks_; }
  int64_t used_blocks() const { return used_blocks_; }
  int64_t capacity_tokens() const { return total_blocks_ * block_size_; }
  int64_t reserved_tokens() const { return used_blocks_ * block_size_; }
  int num_sequences() const { return static_cast<int>(reservations_.size()); }

  // Throws std::logic_error when the books do not balance.
  void CheckInvariants() const;

 private:
  int64_t BlocksFor(int64_t tokens) const;

  int block_size_;
  int64_t total_blocks_;
  int64_t used_blocks_ = 0;
  std::unordered_map<SequenceId, int64_t> reservations_;  // sequence -> blocks
};

}  // namespace auroraedge::server
