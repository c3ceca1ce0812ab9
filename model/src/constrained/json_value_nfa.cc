#include "json_value_nfa.h"

#include <algorithm>
#include <string>
#include <vector>

namespace auroraedge::model::constrained {
namespace {

ByteSet Bytes(std::string_view bytes) {
  ByteSet set;
  for (char c : bytes) set.set(static_cast<uint8_t>(c));
  return set;
}

ByteSet HexDigits() { return Bytes("0123456789abcdefABCDEF"); }

// \uXXXX for a code point outside U+D800-U+DFFF, which JSON parsers accept
// only as surrogate pairs.
NfaFragment UnicodeEscape(ByteNfa& nfa) {
  const ByteSet hex = HexDigits();
  const ByteSet not_d = hex & ~Bytes("dD");
  return nfa.Sequence(
      {nfa.Literal("\\u"),
       nfa.Choice({nfa.Sequence({nfa.Bytes(not_d), nfa.Bytes(hex)}),
                   nfa.Sequence({nfa.Bytes(Bytes("dD")), nfa.Bytes(ByteRange('0', '7'))})}),
       nfa.Bytes(hex), nfa.Bytes(hex)});
}

// One character of a JSON string's content: see JsonString.
NfaFragment JsonChar(ByteNfa& nfa) {
  ByteSet ascii = ByteRange(0x20, 0x7F);
  ascii.reset('"');
  ascii.reset('\\');
  const ByteSet tail = ByteRange(0x80, 0xBF);
  const auto sequence = [&](std::vector<ByteSet> bytes) {
    std::vector<NfaFragment> parts;
    for (const ByteSet& set : bytes) parts.push_back(nfa.Bytes(set));
    return nfa.Sequence(parts);
  };
  return nfa.Choice({
      nfa.Bytes(ascii),
      sequence({ByteRange(0xC2, 0xDF), tail}),
      sequence({ByteRange(0xE0, 0xE0), ByteRange(0xA0, 0xBF), tail}),
      sequence({ByteRange(0xE1, 0xEC) | ByteRange(0xEE, 0xEF), tail, tail}),
      sequence({ByteRange(0xED, 0xED), ByteRange(0x80, 0x9F), tail}),
      sequence({ByteRange(0xF0, 0xF0), ByteRange(0x90, 0xBF), tail, tail}),
      sequence({ByteRange(0xF1, 0xF3), tail, tail, tail}),
      sequence({ByteRange(0xF4, 0xF4), ByteRange(0x80, 0x8F), tail, tail}),
      nfa.Sequence({nfa.Literal("\\"), nfa.Bytes(Bytes("\"\\/bfnrt"))}),
      UnicodeEscape(nfa),
  });
}

// Decimal strings of one length from `low` to `high` (same length), digit
// by digit: the common leading digit, or a split into the part that follows
// low's first digit, the whole middle, and the part that follows high's.
NfaFragment DigitsBetween(ByteNfa& nfa, const std::string& low, const std::string& high) {
  if (low.empty()) return nfa.Empty();
  const std::string low_rest = low.substr(1);
  const std::string high_rest = high.substr(1);
  if (low[0] == high[0]) {
    return nfa.Sequence({nfa.Literal(low.substr(0, 1)), DigitsBetween(nfa, low_rest, high_rest)});
  }
  const std::string nines(low_rest.size(), '9');
  const std::string zeros(low_rest.size(), '0');
  if (low_rest == zeros && high_rest == nines) {
    return nfa.Sequence(
        {nfa.Bytes(ByteRange(low[0], high[0])),
         nfa.Repeat([&] { return nfa.Bytes(ByteRange('0', '9')); },
                    static_cast<int>(low_rest.size()), static_cast<int>(low_rest.size()))});
  }
  std::vector<NfaFragment> options = {
      nfa.Sequence({nfa.Literal(low.substr(0, 1)), DigitsBetween(nfa, low_rest, nines)})};
  if (high[0] - low[0] > 1) {
    options.push_back(DigitsBetween(nfa, std::string(1, low[0] + 1) + zeros,
                                    std::string(1, high[0] - 1) + nines));
  }
  options.push_back(
      nfa.Sequence({nfa.Literal(high.substr(0, 1)), DigitsBetween(nfa, zeros, high_rest)}));
  return nfa.Choice(options);
}

// low <= high, both >= 0.
NfaFragment NaturalRange(ByteNfa& nfa, uint64_t low, uint64_t high) {
  std::vector<NfaFragment> options;
  uint64_t length_start = 0;  // smallest number with `digits` digits
  for (int digits = 1; digits <= 20 && length_start <= high; ++digits) {
    const uint64_t length_end =  // largest number with `digits` digits
        digits == 20 ? UINT64_MAX : (digits == 1 ? 9 : length_start * 10 - 1);
    const uint64_t from = std::max(low, length_start);
    const uint64_t to = std::min(high, length_end);
    if (from <= to) options.push_back(DigitsBetween(nfa, std::to_string(from), std::to_string(to)));
    if (length_end == UINT64_MAX) break;
    length_start = length_end + 1;
  }
  return nfa.Choice(options);
}

uint64_t Magnitude(int64_t negative) { return static_cast<uint64_t>(-(negative + 1)) + 1; }

}  // namespace

NfaFragment JsonString(ByteNfa& nfa, int min_chars, int max_chars) {
  return nfa.Sequence({nfa.Literal("\""),
                       nfa.Repeat([&] { return JsonChar(nfa); }, min_chars, max_chars),
                       nfa.Literal("\"")});
}

NfaFragment JsonIntegerRange(ByteNfa& nfa, int64_t low, int64_t high) {
  std::vector<NfaFragment> options;
  if (high >= 0) options.push_back(NaturalRange(nfa, std::max<int64_t>(low, 0), high));
  if (low < 0) {
    const uint64_t smallest = Magnitude(std::min<int64_t>(high, -1));
    options.push_back(
        nfa.Sequence({nfa.Literal("-"), NaturalRange(nfa, smallest, Magnitude(low))}));
  }
  return nfa.Choice(options);
}

}  // namespace auroraedge::model::constrained
