#include "completion_bounds.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <limits>
#include <stdexcept>

namespace auroraedge::server {
namespace {

using model::constrained::Grammar;
using model::constrained::TokenMask;
using model::constrained::TokenVocabulary;

constexpr int32_t kUnreached = std::numeric_limits<int32_t>::max();
// Masks precomputed on the worker for grammars bounded by bytes.
constexpr std::chrono::milliseconds kMaskPrecomputeBudget{20};

// Calls `visit` with every token a mask allows.
template <typename Visit>
void ForEachToken(const TokenMask& mask, Visit visit) {
  const std::vector<uint64_t>& words = mask.words();
  for (size_t w = 0; w < words.size(); ++w) {
    for (uint64_t word = words[w]; word != 0; word &= word - 1) {
      visit(static_cast<int32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
    }
  }
}

// One token per byte value that writes exactly that byte.
std::array<int32_t, 256> SingleByteTokens(const TokenVocabulary& vocabulary) {
  std::array<int32_t, 256> tokens;
  tokens.fill(-1);
  for (int32_t node = 1; node < vocabulary.num_trie_nodes(); node = vocabulary.subtree_end(node)) {
    if (vocabulary.token_begin(node) < vocabulary.token_begin(node + 1)) {
      tokens[vocabulary.byte(node)] = vocabulary.trie_token_ids()[vocabulary.token_begin(node)];
    }
  }
  for (int32_t token : tokens) {
    // TokenVocabulary refuses a vocabulary without them.
    if (token < 0) throw std::logic_error("completion bounds: a byte has no single-byte token");
  }
  return tokens;
}

// Fewest edges from each state to an accepting one, by breadth-first search
// backwards from the accepting states.
std::vector<int32_t> DistancesToAccepting(const Grammar& grammar,
                                          const std::vector<std::vector<int32_t>>& successors) {
  const int32_t n = grammar.num_states();
  std::vector<std::vector<int32_t>> predecessors(n);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t next : successors[s]) predecessors[next].push_back(s);
  }
  std::vector<int32_t> distance(n, kUnreached);
  std::deque<int32_t> queue;
  for (int32_t s = 0; s < n; ++s) {
    if (grammar.Accepts(s)) {
      distance[s] = 0;
      queue.push_back(s);
    }
  }
  while (!queue.empty()) {
    const int32_t s = queue.front();
    queue.pop_front();
    for (int32_t previous : predecessors[s]) {
      if (distance[previous] != kUnreached) continue;
      distance[previous] = distance[s] + 1;
      queue.push_back(previous);
    }
  }
  return distance;
}

// Adds `next` to `list` once; `stamp` remembers who added it last.
void AddOnce(std::vector<int32_t>& list, std::vector<int32_t>& stamp, int32_t owner, int32_t next) {
  if (stamp[next] == owner) return;
  stamp[next] = owner;
  list.push_back(next);
}

}  // namespace

CompletionBounds::CompletionBounds(const Grammar& grammar) : grammar_(&grammar) {
  exact_ = ComputeExact();
  if (!exact_) ComputeByBytes();
}

bool CompletionBounds::ComputeExact() {
  const Grammar& g = *grammar_;
  const int32_t n = g.num_states();
  if (n > kExactStates) return false;
  std::vector<std::vector<int32_t>> successors(n);
  std::vector<int32_t> stamp(n, -1);
  int64_t work = 0;
  for (int32_t s = 0; s < n; ++s) {
    const TokenMask& mask = g.AllowedTokens(s);
    work += mask.Count();
    if (work > kExactWork) return false;
    ForEachToken(mask, [&](int32_t token) {
      if (!g.vocabulary().IsEos(token)) AddOnce(successors[s], stamp, s, g.Next(s, token));
    });
  }
  bound_ = DistancesToAccepting(g, successors);
  worst_next_.assign(n, 0);
  finished_.assign(n, false);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t next : successors[s]) worst_next_[s] = std::max(worst_next_[s], bound_[next]);
    finished_[s] = g.Accepts(s) && successors[s].empty();
  }
  return true;
}

void CompletionBounds::ComputeByBytes() {
  const Grammar& g = *grammar_;
  const int32_t n = g.num_states();
  const std::array<int32_t, 256> byte_tokens = SingleByteTokens(g.vocabulary());
  std::vector<std::vector<int32_t>> successors(n);
  std::vector<int32_t> stamp(n, -1);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t token : byte_tokens) {
      const int32_t next = g.Next(s, token);
      if (next != Grammar::kRejected) AddOnce(successors[s], stamp, s, next);
    }
  }
  bound_ = DistancesToAccepting(g, successors);
  int32_t worst = 0;
  for (int32_t bound : bound_) {
    if (bound != kUnreached) worst = std::max(worst, bound);
  }
  worst_next_.assign(n, worst);
  finished_.assign(n, false);
  for (int32_t s = 0; s < n; ++s) finished_[s] = g.Accepts(s) && successors[s].empty();

  // The masks nearest the start first, while it stays cheap: a wide state's
  // first mask costs milliseconds, better spent here than on the engine
  // thread.
  const auto until = std::chrono::steady_clock::now() + kMaskPrecomputeBudget;
  std::vector<bool> seen(n, false);
  std::deque<int32_t> queue{g.start_state()};
  seen[g.start_state()] = true;
  while (!queue.empty() && std::chrono::steady_clock::now() < until) {
    const int32_t s = queue.front();
    queue.pop_front();
    g.AllowedTokens(s);
    for (int32_t next : successors[s]) {
      if (!seen[next]) {
        seen[next] = true;
        queue.push_back(next);
      }
    }
  }
}

const TokenMask& CompletionBounds::Allowed(int32_t state, int32_t budget) const {
  const Grammar& g = *grammar_;
  const TokenMask& all = g.AllowedTokens(state);
  const int32_t limit = budget - 1;  // the bound the state after this token may have
  if (limit >= worst_next_[state]) return all;
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<TokenMask>& filtered = filtered_[{state, limit}];
  if (!filtered) {
    filtered = std::make_unique<TokenMask>(all.size());
    ForEachToken(all, [&](int32_t token) {
      if (g.vocabulary().IsEos(token) || bound_[g.Next(state, token)] <= limit) {
        filtered->Set(token);
      }
    });
  }
  return *filtered;
}

}  // namespace auroraedge::server
