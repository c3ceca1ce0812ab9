#pragma once

// The BPE model over raw bytes: a pre-tokenized piece starts as one symbol
// per byte and adjacent symbols are merged, lowest merge rank first (the
// leftmost of equal ranks first), as HF tokenizers does. Results for pieces
// up to kMaxCachedPieceBytes are cached, since words repeat.

#include <array>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace auroraedge::model {

class BpeModel {
 public:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };

  static constexpr size_t kMaxCachedPieceBytes = 64;
  static constexpr size_t kCacheCapacity = 1 << 16;

  // byte_ids: the id of each single-byte token. merges: keyed by
  // PairKey(left id, right id). whole_piece_ids: for ignore_merges
  // tokenizers, pieces that are tokens themselves (empty otherwise).
  BpeModel(std::array<int32_t, 256> byte_ids, std::unordered_map<uint64_t, Merge> merges,
           std::unordered_map<std::string, int32_t> whole_piece_ids);

  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  // Appends the ids of one piece (raw bytes, not empty). Thread-safe.
  void Encode(std::string_view piece, std::vector<int32_t>* ids) const;

 private:
  void MergeBytes(std::string_view piece, std::vector<int32_t>* ids) const;
  const Merge* FindMerge(int32_t left, int32_t right) const;

  std::array<int32_t, 256> byte_ids_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::unordered_map<std::string, int32_t> whole_piece_ids_;

  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace auroraedge::model
