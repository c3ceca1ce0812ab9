#include "bpe_model.h"

#include <functional>
#include <mutex>
#include <queue>

namespace auroraedge::model {

BpeModel::BpeModel(std::array<int32_t, 256> byte_ids, std::unordered_map<uint64_t, Merge> merges,
                   std::unordered_map<std::string, int32_t> whole_piece_ids)
    : byte_ids_(byte_ids),
      merges_(std::move(merges)),
      whole_piece_ids_(std::move(whole_piece_ids)) {}

const BpeModel::Merge* BpeModel::FindMerge(int32_t left, int32_t right) const {
  const auto it = merges_.find(PairKey(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::Encode(std::string_view piece, std::vector<int32_t>* ids) const {
  if (piece.size() == 1) {
    ids->push_back(byte_ids_[static_cast<uint8_t>(piece[0])]);
    return;
  }
  if (!whole_piece_ids_.empty()) {
    const auto it = whole_piece_ids_.find(std::string(piece));
    if (it != whole_piece_ids_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  if (piece.size() > kMaxCachedPieceBytes) {
    MergeBytes(piece, ids);
    return;
  }
  std::string key(piece);
  {
    std::shared_lock lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = ids->size();
  MergeBytes(piece, ids);
  std::unique_lock lock(cache_mutex_);
  // A full cache keeps what it has: the frequent words come early.
  if (cache_.size() < kCacheCapacity) {
    cache_.emplace(std::move(key), std::vector<int32_t>(ids->begin() + first, ids->end()));
  }
}

void BpeModel::MergeBytes(std::string_view piece, std::vector<int32_t>* ids) const {
  struct Symbol {
    int32_t id;
    int prev;
    int next;
  };
  const int n = static_cast<int>(piece.size());
  std::vector<Symbol> symbols(n);
  for (int i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  // Candidates as (rank << 32 | position of the left symbol), smallest first.
  // Entries go stale when a neighbour merges; they are checked when popped.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> queue;
  const auto push_pair = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    if (const Merge* merge = FindMerge(symbols[left].id, symbols[symbols[left].next].id)) {
      queue.push((static_cast<uint64_t>(merge->rank) << 32) | static_cast<uint32_t>(left));
    }
  };
  for (int i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const uint64_t top = queue.top();
    queue.pop();
    const auto rank = static_cast<int32_t>(top >> 32);
    const int left = static_cast<int>(top & 0xFFFFFFFFu);
    Symbol& symbol = symbols[left];
    if (symbol.id < 0 || symbol.next < 0) continue;
    const Merge* merge = FindMerge(symbol.id, symbols[symbol.next].id);
    if (merge == nullptr || merge->rank != rank) continue;
    Symbol& right = symbols[symbol.next];
    symbol.id = merge->merged_id;
    symbol.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = left;
    right.id = -1;
    push_pair(symbol.prev);
    push_pair(left);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
}

}  // namespace auroraedge::model
