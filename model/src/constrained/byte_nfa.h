#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace auroraedge::model::constrained {

using ByteSet = std::bitset<256>;

// A piece of automaton with one entry and one exit state; the exit has no
// outgoing edges until the fragment is joined to another.
struct NfaFragment {
  int start = 0;
  int end = 0;
};

// A Thompson-style NFA over bytes: each state has epsilon edges and edges
// labelled with byte sets. Fragments are combined as a regular expression's
// parts are (sequence, choice, repetition), but states can also be joined
// directly, so that parts with a shared continuation are built once.
class ByteNfa {
 public:
  struct Edge {
    int byte_set;  // index into byte_sets()
    int to;
  };
  struct State {
    std::vector<int> epsilon;
    std::vector<Edge> edges;
  };

  // Throws ConstraintError once more than max_states states are asked for.
  explicit ByteNfa(int max_states) : max_states_(max_states) {}

  int AddState();
  void AddEpsilon(int from, int to) { states_[from].epsilon.push_back(to); }
  void AddEdge(int from, const ByteSet& bytes, int to);

  NfaFragment Empty();
  NfaFragment Bytes(const ByteSet& bytes);
  NfaFragment Literal(std::string_view text);
  NfaFragment Sequence(const std::vector<NfaFragment>& parts);
  NfaFragment Choice(const std::vector<NfaFragment>& options);
  NfaFragment Optional(NfaFragment part);
  NfaFragment Star(NfaFragment part);
  // make() builds one copy of the repeated part each time it is called:
  // min copies, then max - min optional ones (nested, so that they are taken
  // in order), or a loop when max < 0.
  NfaFragment Repeat(const std::function<NfaFragment()>& make, int min, int max);

  const std::vector<State>& states() const { return states_; }
  const std::vector<ByteSet>& byte_sets() const { return byte_sets_; }

 private:
  int max_states_;
  std::vector<State> states_;
  std::vector<ByteSet> byte_sets_;
  std::unordered_map<ByteSet, int> byte_set_index_;
};

ByteSet ByteRange(uint8_t first, uint8_t last);

}  // namespace auroraedge::model::constrained
