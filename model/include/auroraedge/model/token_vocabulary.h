#pragma once

// The model's tokens as byte strings, for constrained decoding: which bytes
// each token id writes, which ids end generation, and a trie of all byte
// strings that grammars walk to compute their token masks. Plain C++.
//
// Threading: immutable once built; share one per model across threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace auroraedge::model {
class Tokenizer;
}

namespace auroraedge::model::constrained {

class TokenVocabulary {
 public:
  // Every id below tokenizer.vocab_size() with bytes becomes a grammar
  // token, except special added tokens (never allowed inside a grammar) and
  // `eos_token_ids` (allowed exactly where a grammar accepts). `mask_size` is
  // the width of the model's logits (at least the tokenizer's vocab_size;
  // the padding rows beyond it are never allowed). Throws
  // std::invalid_argument when an eos id is outside the mask, when no eos id
  // is given, or when some byte has no single-byte token: byte-level BPE has
  // all 256, and without them a grammar could reach a state the vocabulary
  // cannot spell its way out of.
  static std::shared_ptr<const TokenVocabulary> FromTokenizer(const Tokenizer& tokenizer,
                                                              std::vector<int32_t> eos_token_ids,
                                                              int32_t mask_size);
  // The same from explicit byte strings (index = token id; empty = never
  // allowed), for tests and tools.
  static std::shared_ptr<const TokenVocabulary> FromTokenBytes(std::vector<std::string> token_bytes,
                                                               std::vector<int32_t> eos_token_ids,
                                                               int32_t mask_size);

  int32_t mask_size() const { return mask_size_; }
  const std::vector<int32_t>& eos_token_ids() const { return eos_token_ids_; }
  bool IsEos(int32_t token) const;
  // The bytes `token` writes; empty for ids that are never allowed (special,
  // eos, padding, out of range).
  const std::string& Bytes(int32_t token) const;

  // The trie of all grammar tokens' byte strings, nodes in preorder. Node 0
  // is the root (the empty string). Node i > 0 extends its parent by
  // byte(i) at depth(i); its descendants are nodes i+1 .. subtree_end(i)-1;
  // the tokens whose bytes end exactly there are
  // trie_token_ids()[token_begin(i) .. token_begin(i+1)).
  int32_t num_trie_nodes() const { return static_cast<int32_t>(node_byte_.size()); }
  uint8_t byte(int32_t node) const { return node_byte_[node]; }
  uint16_t depth(int32_t node) const { return node_depth_[node]; }
  int32_t subtree_end(int32_t node) const { return node_subtree_end_[node]; }
  int32_t token_begin(int32_t node) const { return node_token_begin_[node]; }
  const std::vector<int32_t>& trie_token_ids() const { return trie_token_ids_; }
  int max_token_bytes() const { return max_token_bytes_; }

 private:
  TokenVocabulary() = default;
  void BuildTrie();

  int32_t mask_size_ = 0;
  std::vector<int32_t> eos_token_ids_;
  std::vector<std::string> token_bytes_;  // by id, empty when never allowed
  std::vector<uint8_t> node_byte_;
  std::vector<uint16_t> node_depth_;
  std::vector<int32_t> node_subtree_end_;
  std::vector<int32_t> node_token_begin_;  // one more entry than nodes
  std::vector<int32_t> trie_token_ids_;
  int max_token_bytes_ = 0;
};

}  // namespace auroraedge::model::constrained
