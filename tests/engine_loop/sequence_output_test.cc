#include "sequence_output.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using auroraedge::model::Tokenizer;
using namespace auroraedge::server;

namespace {

const Tokenizer& SmallTokenizer() {
  static const Tokenizer tokenizer = Tokenizer::Load(AURORAEDGE_TEST_TOKENIZER);
  return tokenizer;
}

struct Streamed {
  std::string text;
  std::vector<int32_t> ids;
  std::optional<FinishReason> finish;
  int tokens_fed = 0;
};

Streamed Feed(SequenceOutput& output, const std::vector<int32_t>& ids) {
  Streamed streamed;
  for (int32_t id : ids) {
    ++streamed.tokens_fed;
    SequenceOutput::Update update = output.Append(id);
    streamed.text += update.chunk.text;
    streamed.ids.insert(streamed.ids.end(), update.chunk.token_ids.begin(),
                        update.chunk.token_ids.end());
    if (update.finish) {
      streamed.finish = update.finish;
      break;
    }
  }
  return streamed;
}

int32_t ImEnd() { return SmallTokenizer().SpecialTokenId("<|im_end|>"); }

}  // namespace

TEST_CASE("Sequence output: an end-of-sequence id ends it and is not shown") {
  SequenceOutput output(SmallTokenizer(), true, {}, {ImEnd()}, 100);
  std::vector<int32_t> ids = SmallTokenizer().Encode("The part is fine.", false);
  const std::vector<int32_t> text_ids = ids;
  ids.push_back(ImEnd());
  ids.push_back(ids.front());  // never reached
  const Streamed streamed = Feed(output, ids);
  CHECK(streamed.finish == FinishReason::kStop);
  CHECK(streamed.text == "The part is fine.");
  CHECK(streamed.ids == text_ids);
  CHECK(output.completion_tokens() == static_cast<int>(text_ids.size()) + 1);
  CHECK(output.text() == "The part is fine.");
}

TEST_CASE("Sequence output: a stop string across tokens cuts the text before it") {
  SequenceOutput output(SmallTokenizer(), true, {"END"}, {ImEnd()}, 100);
  const Streamed streamed =
      Feed(output, SmallTokenizer().Encode("Scratch found. ENDING the report", false));
  CHECK(streamed.finish == FinishReason::kStopString);
  CHECK(streamed.text == "Scratch found. ");
}

TEST_CASE("Sequence output: max_new_tokens ends with kLength and releases held-back text") {
  const std::vector<int32_t> ids = SmallTokenizer().Encode("hole A is OK", false);
  SequenceOutput output(SmallTokenizer(), true, {"OK then"}, {ImEnd()},
                        static_cast<int>(ids.size()));
  const Streamed streamed = Feed(output, ids);
  CHECK(streamed.finish == FinishReason::kLength);
  CHECK(streamed.text == "hole A is OK");
  CHECK(streamed.ids == ids);
}

TEST_CASE("Sequence output: chunks concatenate to the tokenizer's decoding") {
  const std::string text = "Defect: burr \xC3\xA9\xE2\x82\xAC at 12 o'clock";
  const std::vector<int32_t> ids = SmallTokenizer().Encode(text, false);
  SequenceOutput output(SmallTokenizer(), true, {}, {ImEnd()}, 1000);
  const Streamed streamed = Feed(output, ids);
  CHECK_FALSE(streamed.finish);
  CHECK(streamed.text == SmallTokenizer().Decode(ids, true));
}

TEST_CASE("Sequence output: bad stop strings are refused") {
  CHECK_THROWS_WITH(SequenceOutput(SmallTokenizer(), true, {""}, {ImEnd()}, 10),
                    Catch::Contains("stop[0]"));
}
