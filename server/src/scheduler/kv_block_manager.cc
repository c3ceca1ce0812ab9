#include "auroraedge/server/kv_block_manager.h"

#include <stdexcept>
#include <string>

namespace auroraedge::server {

KvBlockManager::KvBlockManager(int64_t capacity_tokens, int block_size) : block_size_(block_size) {
  if (block_size < 1) {
    throw std::invalid_argument("kv block_size: " + std::to_string(block_size) +
                                " must be at least 1");
  }
  if (capacity_tokens < 0) {
    throw std::invalid_argument("kv capacity: " + std::to_string(capacity_tokens) +
                                " tokens must not be negative");
  }
  total_blocks_ = capacity_tokens / block_size;
}

int64_t KvBlockManager::BlocksFor(int64_t tokens) const {
  return (tokens + block_size_ - 1) / block_size_;
}

std::optional<KvReservation> KvBlockManager::Reserve(SequenceId sequence, int64_t tokens) {
  if (reservations_.count(sequence) != 0) {
    throw std::logic_error("kv: sequence " + std::to_string(sequence) +
                           " already holds a reservation");
  }
  const int64_t blocks = BlocksFor(tokens);
  if (blocks > total_blocks_ - used_blocks_) return std::nullopt;
  reservations_.emplace(sequence, blocks);
  used_blocks_ += blocks;
  return KvReservation{blocks, blocks * block_size_};
}

void KvBlockManager::Free(SequenceId sequence) {
  const auto it = reservations_.find(sequence);
  if (it == reservations_.end()) return;
  used_blocks_ -= it->second;
  reservations_.erase(it);
}

bool KvBlockManager::CouldEverHold(int64_t tokens) const {
  return BlocksFor(tokens) <= total_blocks_;
}

void KvBlockManager::CheckInvariants() const {
  int64_t sum = 0;
  for (const auto& [sequence, blocks] : reservations_) {
    if (blocks < 0) throw std::logic_error("kv: negative reservation");
    sum += blocks;
  }
  if (sum != used_blocks_ || used_blocks_ > total_blocks_ || used_blocks_ < 0) {
    throw std::logic_error("kv: " + std::to_string(used_blocks_) + " blocks used, " +
                           std::to_string(sum) + " reserved, " + std::to_string(total_blocks_) +
                           " in total");
  }
}

}  // namespace auroraedge::server
