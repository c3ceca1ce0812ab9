#include "auroraedge/model/token_vocabulary.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model::constrained {
namespace {

const std::string kNoBytes;

void CheckEveryByteHasAToken(const std::vector<std::string>& token_bytes) {
  std::vector<bool> single(256, false);
  for (const std::string& bytes : token_bytes) {
    if (bytes.size() == 1) single[static_cast<uint8_t>(bytes[0])] = true;
  }
  for (int b = 0; b < 256; ++b) {
    if (!single[b]) {
      throw std::invalid_argument("constrained decoding: the vocabulary has no token for byte " +
                                  std::to_string(b) +
                                  " alone (byte-level BPE vocabularies have all 256)");
    }
  }
}

}  // namespace

std::shared_ptr<const TokenVocabulary> TokenVocabulary::FromTokenizer(
    const Tokenizer& tokenizer, std::vector<int32_t> eos_token_ids, int32_t mask_size) {
  if (mask_size < tokenizer.vocab_size()) {
    throw std::invalid_argument("constrained decoding: mask_size " + std::to_string(mask_size) +
                                " is smaller than the tokenizer's " +
                                std::to_string(tokenizer.vocab_size()) + " tokens");
  }
  std::vector<std::string> token_bytes(tokenizer.vocab_size());
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (!tokenizer.IsSpecial(id)) token_bytes[id] = std::string(tokenizer.TokenBytes(id));
  }
  return FromTokenBytes(std::move(token_bytes), std::move(eos_token_ids), mask_size);
}

std::shared_ptr<const TokenVocabulary> TokenVocabulary::FromTokenBytes(
    std::vector<std::string> token_bytes, std::vector<int32_t> eos_token_ids, int32_t mask_size) {
  if (eos_token_ids.empty()) {
    throw std::invalid_argument("constrained decoding: no end-of-sequence token id");
  }
  if (static_cast<int64_t>(token_bytes.size()) > mask_size) token_bytes.resize(mask_size);
  for (int32_t id : eos_token_ids) {
    if (id < 0 || id >= mask_size) {
      throw std::invalid_argument("constrained decoding: end-of-sequence id " + std::to_string(id) +
                                  " is outside the mask of " + std::to_string(mask_size) +
                                  " tokens");
    }
    if (id < static_cast<int32_t>(token_bytes.size())) token_bytes[id].clear();
  }
  CheckEveryByteHasAToken(token_bytes);
  std::shared_ptr<TokenVocabulary> vocabulary(new TokenVocabulary());
  vocabulary->mask_size_ = mask_size;
  vocabulary->eos_token_ids_ = std::move(eos_token_ids);
  vocabulary->token_bytes_ = std::move(token_bytes);
  vocabulary->BuildTrie();
  return vocabulary;
}

bool TokenVocabulary::IsEos(int32_t token) const {
  return std::find(eos_token_ids_.begin(), eos_token_ids_.end(), token) != eos_token_ids_.end();
}

const std::string& TokenVocabulary::Bytes(int32_t token) const {
  if (token < 0 || token >= static_cast<int32_t>(token_bytes_.size())) return kNoBytes;
  return token_bytes_[token];
}

// Sorting the byte strings puts them in the trie's preorder: a prefix sorts
// before its extensions. Each string then adds the nodes past its common
// prefix with the previous one, and the tokens of a node are contiguous.
void TokenVocabulary::BuildTrie() {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < static_cast<int32_t>(token_bytes_.size()); ++id) {
    if (!token_bytes_[id].empty()) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end(), [this](int32_t a, int32_t b) {
    return token_bytes_[a] != token_bytes_[b] ? token_bytes_[a] < token_bytes_[b] : a < b;
  });
  node_byte_ = {0};
  node_depth_ = {0};
  node_subtree_end_ = {0};
  node_token_begin_ = {0};
  std::vector<int32_t> path = {0};  // node indices from the root to the last string's end
  const std::string* previous = &kNoBytes;
  for (int32_t id : ids) {
    const std::string& bytes = token_bytes_[id];
    if (bytes.size() > std::numeric_limits<uint16_t>::max()) {
      throw std::invalid_argument("constrained decoding: token " + std::to_string(id) +
                                  " is longer than 65535 bytes");
    }
    size_t common = 0;
    while (common < previous->size() && common < bytes.size() &&
           (*previous)[common] == bytes[common]) {
      ++common;
    }
    for (size_t depth = path.size() - 1; depth > common; --depth) {
      node_subtree_end_[path[depth]] = num_trie_nodes();
      path.pop_back();
    }
    for (size_t depth = common + 1; depth <= bytes.size(); ++depth) {
      path.push_back(num_trie_nodes());
      node_byte_.push_back(static_cast<uint8_t>(bytes[depth - 1]));
      node_depth_.push_back(static_cast<uint16_t>(depth));
      node_subtree_end_.push_back(0);
      node_token_begin_.push_back(static_cast<int32_t>(trie_token_ids_.size()));
    }
    trie_token_ids_.push_back(id);
    max_token_bytes_ = std::max(max_token_bytes_, static_cast<int>(bytes.size()));
    previous = &bytes;
  }
  for (int32_t node : path) node_subtree_end_[node] = num_trie_nodes();
  node_token_begin_.push_back(static_cast<int32_t>(trie_token_ids_.size()));
}

}  // namespace auroraedge::model::constrained
