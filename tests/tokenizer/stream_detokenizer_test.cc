#include "auroraedge/model/stream_detokenizer.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "byte_level.h"
#include "small_tokenizer.h"
#include "utf8.h"

namespace auroraedge::model {
namespace {

using testing::SmallTokenizer;
using Ids = std::vector<int32_t>;

int32_t ByteToken(const Tokenizer& t, uint8_t byte) {
  return t.TokenToId(byte_level::CharOfByte(byte)).value();
}

// Streams `ids`; checks that every delta is whole UTF-8 and returns them.
std::vector<std::string> Stream(const Tokenizer& t, const Ids& ids, bool skip_special) {
  StreamDetokenizer stream(t, skip_special);
  std::vector<std::string> deltas;
  for (const int32_t id : ids) deltas.push_back(stream.Push(id));
  deltas.push_back(stream.Finish());
  for (const std::string& delta : deltas) {
    INFO(delta);
    CHECK(utf8::FindInvalid(delta) == std::string_view::npos);
  }
  return deltas;
}

std::string Joined(const std::vector<std::string>& deltas) {
  std::string all;
  for (const auto& delta : deltas) all += delta;
  return all;
}

TEST_CASE("a character split across tokens at every possible point comes out whole") {
  const Tokenizer& t = SmallTokenizer();
  // Two-, three- and four-byte characters, each split after every byte.
  for (const std::string character : {"\xC3\xBC", "\xE4\xB8\xAD", "\xF0\x9F\x91\x8D"}) {
    for (size_t split = 1; split < character.size(); ++split) {
      CAPTURE(character, split);
      // Token 1 ends with the first `split` bytes, token 2 holds the rest.
      Ids ids = t.Encode("a", false);
      for (size_t i = 0; i < character.size(); ++i) {
        ids.push_back(ByteToken(t, static_cast<uint8_t>(character[i])));
      }
      const auto deltas = Stream(t, ids, true);
      CHECK(deltas[0] == "a");
      for (size_t i = 1; i < character.size(); ++i) CHECK(deltas[i].empty());
      CHECK(deltas[character.size()] == character);
      CHECK(Joined(deltas) == t.Decode(ids, true));
    }
  }
}

TEST_CASE("a multi-byte text broken into byte tokens streams to the full decode") {
  const Tokenizer& t = SmallTokenizer();
  const std::string text = "Größe 检测 👍🏽 👨\u200d👩\u200d👧 ok";
  // Merged tokens up to a character boundary, then single-byte tokens, so that
  // every character after the boundary is broken at every byte.
  for (size_t boundary = 0; boundary <= text.size(); ++boundary) {
    if (boundary < text.size() && (static_cast<uint8_t>(text[boundary]) & 0xC0) == 0x80) continue;
    Ids ids = t.Encode(text.substr(0, boundary), false);
    for (size_t i = boundary; i < text.size(); ++i) {
      ids.push_back(ByteToken(t, static_cast<uint8_t>(text[i])));
    }
    CAPTURE(boundary);
    CHECK(Joined(Stream(t, ids, false)) == t.Decode(ids, false));
    CHECK(t.Decode(ids, false) == text);
  }
}

TEST_CASE("special tokens are skipped or shown by the setting") {
  const Tokenizer& t = SmallTokenizer();
  const Ids ids = t.Encode("<|im_start|>assistant\nfine<|im_end|>", true);
  CHECK(Joined(Stream(t, ids, true)) == "assistant\nfine");
  CHECK(Joined(Stream(t, ids, false)) == "<|im_start|>assistant\nfine<|im_end|>");
}

TEST_CASE("a skipped special token does not break a character around it, a shown one does") {
  const Tokenizer& t = SmallTokenizer();
  const int32_t eot = t.SpecialTokenId("<|endoftext|>");
  const Ids ids = {ByteToken(t, 0xE4), eot, ByteToken(t, 0xB8), ByteToken(t, 0xAD)};
  CHECK(Joined(Stream(t, ids, true)) == "\xE4\xB8\xAD");
  const auto shown = Stream(t, ids, false);
  CHECK(Joined(shown) == "\xEF\xBF\xBD<|endoftext|>\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(Joined(shown) == t.Decode(ids, false));
}

TEST_CASE("an unfinished character at the end comes out of Finish as U+FFFD") {
  const Tokenizer& t = SmallTokenizer();
  StreamDetokenizer stream(t, true);
  CHECK(stream.Push(ByteToken(t, 'x')) == "x");
  CHECK(stream.Push(ByteToken(t, 0xF0)).empty());
  CHECK(stream.Push(ByteToken(t, 0x9F)).empty());
  CHECK(stream.Finish() == "\xEF\xBF\xBD");
  CHECK(stream.Finish().empty());
  CHECK(stream.Push(ByteToken(t, 'y')) == "y");  // reusable after Finish
}

TEST_CASE("bytes that can never become valid come out at once as U+FFFD") {
  const Tokenizer& t = SmallTokenizer();
  StreamDetokenizer stream(t, true);
  CHECK(stream.Push(ByteToken(t, 0x80)) == "\xEF\xBF\xBD");
  CHECK(stream.Push(ByteToken(t, 0xE4)).empty());
  CHECK(stream.Push(ByteToken(t, 'z')) == "\xEF\xBF\xBDz");
}

TEST_CASE("random id sequences stream to exactly their decode") {
  const Tokenizer& t = SmallTokenizer();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any_id(-2, t.vocab_size() + 1);
  std::uniform_int_distribution<int32_t> byte_id(0, 255);
  std::uniform_int_distribution<int> length(1, 30);
  for (int round = 0; round < 3000; ++round) {
    Ids ids(length(rng));
    for (int32_t& id : ids) id = (rng() % 2) ? any_id(rng) : byte_id(rng);
    const bool skip = round % 2 == 0;
    INFO("round " << round);
    REQUIRE(Joined(Stream(t, ids, skip)) == t.Decode(ids, skip));
  }
}

}  // namespace
}  // namespace auroraedge::model
