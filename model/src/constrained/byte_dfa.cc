#include "byte_dfa.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "auroraedge/model/constrained_grammar.h"

namespace auroraedge::model::constrained {
namespace {

struct StateSetHash {
  size_t operator()(const std::vector<int>& states) const {
    size_t hash = states.size();
    for (int s : states) hash = hash * 1000003u ^ static_cast<size_t>(s);
    return hash;
  }
};

// Groups the bytes that belong to exactly the same edge sets.
void AssignByteClasses(const ByteNfa& nfa, ByteDfa* dfa) {
  std::map<std::vector<bool>, uint16_t> classes;
  for (int b = 0; b < 256; ++b) {
    std::vector<bool> signature(nfa.byte_sets().size());
    for (size_t i = 0; i < signature.size(); ++i) signature[i] = nfa.byte_sets()[i].test(b);
    const auto [it, inserted] =
        classes.emplace(std::move(signature), static_cast<uint16_t>(classes.size()));
    dfa->byte_class[b] = it->second;
  }
  dfa->num_classes = static_cast<int>(classes.size());
}

class SubsetBuilder {
 public:
  SubsetBuilder(const ByteNfa& nfa, int accept, int max_states, ByteDfa* dfa)
      : nfa_(nfa), accept_(accept), max_states_(max_states), dfa_(dfa) {
    visited_.assign(nfa.states().size(), 0);
    // For each byte set, the classes it contains (by a representative byte).
    std::vector<int> representative(dfa->num_classes);
    for (int b = 255; b >= 0; --b) representative[dfa->byte_class[b]] = b;
    classes_of_set_.resize(nfa.byte_sets().size());
    for (size_t set = 0; set < nfa.byte_sets().size(); ++set) {
      for (int c = 0; c < dfa->num_classes; ++c) {
        if (nfa.byte_sets()[set].test(representative[c])) classes_of_set_[set].push_back(c);
      }
    }
  }

  void Build(int nfa_start) {
    dfa_->start = Intern(Closure({nfa_start}));
    for (size_t done = 0; done < sets_.size(); ++done) {
      std::vector<std::vector<int>> targets(dfa_->num_classes);
      for (int state : sets_[done]) {
        for (const ByteNfa::Edge& edge : nfa_.states()[state].edges) {
          for (int c : classes_of_set_[edge.byte_set]) targets[c].push_back(edge.to);
        }
      }
      for (int c = 0; c < dfa_->num_classes; ++c) {
        const int32_t to = targets[c].empty() ? ByteDfa::kDead : Intern(Closure(targets[c]));
        dfa_->next[done * dfa_->num_classes + c] = to;
      }
    }
  }

 private:
  // The states reachable by epsilon edges that matter to a DFA state: those
  // with byte edges, and the accepting state. Sorted, so equal sets match.
  std::vector<int> Closure(const std::vector<int>& seeds) {
    ++stamp_;
    std::vector<int> stack = seeds;
    std::vector<int> kept;
    while (!stack.empty()) {
      const int state = stack.back();
      stack.pop_back();
      if (visited_[state] == stamp_) continue;
      visited_[state] = stamp_;
      const ByteNfa::State& s = nfa_.states()[state];
      if (!s.edges.empty() || state == accept_) kept.push_back(state);
      for (int to : s.epsilon) stack.push_back(to);
    }
    std::sort(kept.begin(), kept.end());
    return kept;
  }

  int32_t Intern(std::vector<int> set) {
    if (set.empty()) return ByteDfa::kDead;
    const auto found = index_.find(set);
    if (found != index_.end()) return found->second;
    if (static_cast<int>(sets_.size()) >= max_states_) {
      throw ConstraintError("the constraint is too large: its automaton needs more than " +
                            std::to_string(max_states_) + " deterministic states");
    }
    const int32_t id = static_cast<int32_t>(sets_.size());
    dfa_->accepting.push_back(std::binary_search(set.begin(), set.end(), accept_));
    dfa_->next.resize(dfa_->next.size() + dfa_->num_classes, ByteDfa::kDead);
    index_.emplace(set, id);
    sets_.push_back(std::move(set));
    return id;
  }

  const ByteNfa& nfa_;
  int accept_;
  int max_states_;
  ByteDfa* dfa_;
  std::vector<std::vector<int>> classes_of_set_;
  std::vector<std::vector<int>> sets_;
  std::unordered_map<std::vector<int>, int32_t, StateSetHash> index_;
  std::vector<uint32_t> visited_;
  uint32_t stamp_ = 0;
};

// Keeps the states reachable from the start that can reach an accepting
// state, renumbered in order of discovery; transitions to the others die.
void Trim(ByteDfa* dfa) {
  const int32_t n = dfa->num_states();
  const int classes = dfa->num_classes;
  std::vector<std::vector<int32_t>> incoming(n);
  for (int32_t s = 0; s < n; ++s) {
    for (int c = 0; c < classes; ++c) {
      const int32_t to = dfa->next[static_cast<size_t>(s) * classes + c];
      if (to != ByteDfa::kDead) incoming[to].push_back(s);
    }
  }
  std::vector<bool> live(n, false);
  std::vector<int32_t> stack;
  for (int32_t s = 0; s < n; ++s) {
    if (dfa->accepting[s]) {
      live[s] = true;
      stack.push_back(s);
    }
  }
  while (!stack.empty()) {
    const int32_t s = stack.back();
    stack.pop_back();
    for (int32_t from : incoming[s]) {
      if (!live[from]) {
        live[from] = true;
        stack.push_back(from);
      }
    }
  }
  if (!live[dfa->start]) {
    throw ConstraintError("no output can satisfy the constraint");
  }
  std::vector<int32_t> renumber(n, ByteDfa::kDead);
  std::vector<int32_t> order = {dfa->start};
  renumber[dfa->start] = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    for (int c = 0; c < classes; ++c) {
      const int32_t to = dfa->next[static_cast<size_t>(order[i]) * classes + c];
      if (to != ByteDfa::kDead && live[to] && renumber[to] == ByteDfa::kDead) {
        renumber[to] = static_cast<int32_t>(order.size());
        order.push_back(to);
      }
    }
  }
  std::vector<int32_t> next(order.size() * classes, ByteDfa::kDead);
  std::vector<bool> accepting(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    accepting[i] = dfa->accepting[order[i]];
    for (int c = 0; c < classes; ++c) {
      const int32_t to = dfa->next[static_cast<size_t>(order[i]) * classes + c];
      next[i * classes + c] = to == ByteDfa::kDead ? ByteDfa::kDead : renumber[to];
    }
  }
  dfa->next = std::move(next);
  dfa->accepting = std::move(accepting);
  dfa->start = 0;
}

}  // namespace

ByteDfa Determinize(const ByteNfa& nfa, int start, int accept, int max_states) {
  ByteDfa dfa;
  AssignByteClasses(nfa, &dfa);
  SubsetBuilder(nfa, accept, max_states, &dfa).Build(start);
  Trim(&dfa);
  return dfa;
}

}  // namespace auroraedge::model::constrained
