#include "byte_nfa.h"

#include <string>

#include "auroraedge/model/constrained_grammar.h"

namespace auroraedge::model::constrained {

ByteSet ByteRange(uint8_t first, uint8_t last) {
  ByteSet bytes;
  for (int b = first; b <= last; ++b) bytes.set(b);
  return bytes;
}

int ByteNfa::AddState() {
  if (static_cast<int>(states_.size()) >= max_states_) {
    throw ConstraintError("the constraint is too large: its automaton needs more than " +
                          std::to_string(max_states_) + " states");
  }
  states_.emplace_back();
  return static_cast<int>(states_.size()) - 1;
}

void ByteNfa::AddEdge(int from, const ByteSet& bytes, int to) {
  auto [it, inserted] = byte_set_index_.emplace(bytes, static_cast<int>(byte_sets_.size()));
  if (inserted) byte_sets_.push_back(bytes);
  states_[from].edges.push_back({it->second, to});
}

NfaFragment ByteNfa::Empty() {
  const int state = AddState();
  return {state, state};
}

NfaFragment ByteNfa::Bytes(const ByteSet& bytes) {
  const int start = AddState();
  const int end = AddState();
  AddEdge(start, bytes, end);
  return {start, end};
}

NfaFragment ByteNfa::Literal(std::string_view text) {
  const int start = AddState();
  int at = start;
  for (char c : text) {
    const int next = AddState();
    AddEdge(at, ByteSet().set(static_cast<uint8_t>(c)), next);
    at = next;
  }
  return {start, at};
}

NfaFragment ByteNfa::Sequence(const std::vector<NfaFragment>& parts) {
  if (parts.empty()) return Empty();
  for (size_t i = 1; i < parts.size(); ++i) AddEpsilon(parts[i - 1].end, parts[i].start);
  return {parts.front().start, parts.back().end};
}

NfaFragment ByteNfa::Choice(const std::vector<NfaFragment>& options) {
  const int start = AddState();
  const int end = AddState();
  for (const NfaFragment& option : options) {
    AddEpsilon(start, option.start);
    AddEpsilon(option.end, end);
  }
  return {start, end};
}

NfaFragment ByteNfa::Optional(NfaFragment part) {
  const int start = AddState();
  const int end = AddState();
  AddEpsilon(start, part.start);
  AddEpsilon(start, end);
  AddEpsilon(part.end, end);
  return {start, end};
}

NfaFragment ByteNfa::Star(NfaFragment part) {
  const int start = AddState();
  const int end = AddState();
  AddEpsilon(start, part.start);
  AddEpsilon(start, end);
  AddEpsilon(part.end, part.start);
  AddEpsilon(part.end, end);
  return {start, end};
}

NfaFragment ByteNfa::Repeat(const std::function<NfaFragment()>& make, int min, int max) {
  std::vector<NfaFragment> parts;
  for (int i = 0; i < min; ++i) parts.push_back(make());
  if (max < 0) {
    parts.push_back(Star(make()));
    return Sequence(parts);
  }
  // (x (x (x)?)?)?: the optional copies nest, each one only after the last.
  const int end = AddState();
  int entry = end;
  for (int i = min; i < max; ++i) {
    const NfaFragment copy = make();
    const int start = AddState();
    AddEpsilon(start, copy.start);
    AddEpsilon(start, end);
    AddEpsilon(copy.end, entry);
    entry = start;
  }
  parts.push_back({entry, end});
  return Sequence(parts);
}

}  // namespace auroraedge::model::constrained
