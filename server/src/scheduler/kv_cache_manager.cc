#include "auroraedge/server/kv_cache_manager.h"

#include <set>
#include <stdexcept>
#include <string>

namespace auroraedge::server {

KvCacheManager::KvCacheManager(const model::KvGeometry& geometry) : geometry_(geometry) {
  if (geometry.block_size < 1 || geometry.num_blocks < 1 || geometry.num_slots < 1) {
    throw std::invalid_argument("kv geometry: " + std::to_string(geometry.num_blocks) +
                                " blocks of " + std::to_string(geometry.block_size) +
                                " tokens and " + std::to_string(geometry.num_slots) +
                                " seats; each must be at least 1");
  }
  free_runs_.emplace(0, geometry.num_blocks);
  for (int32_t slot = geometry.num_slots - 1; slot >= 0; --slot) free_slots_.push_back(slot);
}

int64_t KvCacheManager::BlocksFor(int64_t tokens) const {
  return (tokens + geometry_.block_size - 1) / geometry_.block_size;
}

bool KvCacheManager::CouldEverHold(int64_t tokens) const {
  return BlocksFor(tokens) <= geometry_.num_blocks;
}

std::optional<model::KvPlacement> KvCacheManager::Allocate(SequenceId sequence, int64_t tokens) {
  if (placements_.count(sequence) != 0) {
    throw std::logic_error("kv: sequence " + std::to_string(sequence) +
                           " already holds a placement");
  }
  const int64_t blocks = BlocksFor(tokens);
  if (free_slots_.empty() || blocks < 1) return std::nullopt;
  auto best = free_runs_.end();
  for (auto it = free_runs_.begin(); it != free_runs_.end(); ++it) {
    if (it->second >= blocks && (best == free_runs_.end() || it->second < best->second)) best = it;
  }
  if (best == free_runs_.end()) return std::nullopt;
  const model::KvPlacement placement{free_slots_.back(), best->first, blocks};
  free_slots_.pop_back();
  const int64_t rest = best->second - blocks;
  const int64_t rest_start = best->first + blocks;
  free_runs_.erase(best);
  if (rest > 0) free_runs_.emplace(rest_start, rest);
  placements_.emplace(sequence, placement);
  used_blocks_ += blocks;
  return placement;
}

std::optional<model::KvPlacement> KvCacheManager::placement(SequenceId sequence) const {
  const auto it = placements_.find(sequence);
  if (it == placements_.end()) return std::nullopt;
  return it->second;
}

void KvCacheManager::Free(SequenceId sequence) {
  const auto it = placements_.find(sequence);
  if (it == placements_.end()) return;
  const model::KvPlacement placement = it->second;
  placements_.erase(it);
  used_blocks_ -= placement.num_blocks;
  int64_t start = placement.first_block;
  int64_t length = placement.num_blocks;
  // Merge with the free runs on either side.
  auto next = free_runs_.lower_bound(start);
  if (next != free_runs_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second == start) {
      start = previous->first;
      length += previous->second;
      free_runs_.erase(previous);
    }
  }
  if (next != free_runs_.end() && next->first == placement.first_block + placement.num_blocks) {
    length += next->second;
    free_runs_.erase(next);
  }
  free_runs_.emplace(start, length);
  // Lowest seat last, so seats are reused lowest first.
  auto position = free_slots_.begin();
  while (position != free_slots_.end() && *position > placement.slot) ++position;
  free_slots_.insert(position, placement.slot);
}

void KvCacheManager::CheckInvariants() const {
  const auto fail = [](const std::string& what) { throw std::logic_error("kv invariant: " + what); };
  // Every block is in exactly one run, free or placed.
  std::map<int64_t, int64_t> runs(free_runs_.begin(), free_runs_.end());
  int64_t used = 0;
  std::set<int32_t> seats(free_slots_.begin(), free_slots_.end());
  if (seats.size() != free_slots_.size()) fail("a free seat is listed twice");
  for (const auto& [sequence, placement] : placements_) {
    if (!runs.emplace(placement.first_block, placement.num_blocks).second) {
      fail("sequence " + std::to_string(sequence) + " starts where another run starts");
    }
    if (!seats.insert(placement.slot).second) {
      fail("seat " + std::to_string(placement.slot) + " is held twice");
    }
    used += placement.num_blocks;
  }
  if (used != used_blocks_) {
    fail(std::to_string(used_blocks_) + " blocks counted used, placements hold " +
         std::to_string(used));
  }
  int64_t next = 0;
  for (const auto& [start, length] : runs) {
    if (start != next || length < 1) {
      fail("runs leave a gap or overlap at block " + std::to_string(start));
    }
    next = start + length;
  }
  if (next != geometry_.num_blocks) {
    fail("runs cover " + std::to_string(next) + " of " + std::to_string(geometry_.num_blocks) +
         " blocks");
  }
  if (static_cast<int>(seats.size()) != geometry_.num_slots) {
    fail(std::to_string(seats.size()) + " seats accounted for, " +
         std::to_string(geometry_.num_slots) + " exist");
  }
}

}  // namespace auroraedge::server
