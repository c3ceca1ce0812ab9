// libFuzzer over the tokenizer with the small test tokenizer: any bytes as
// text (encode, prompt building) and as ids (decode, streaming). Invalid
// UTF-8 must be refused with InvalidUtf8Error and nothing else; valid text
// must decode back to its NFC form; streamed deltas must be whole UTF-8 and
// add up to the full decode.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/stream_detokenizer.h"
#include "auroraedge/model/tokenizer.h"
#include "nfc.h"
#include "utf8.h"

namespace {

using namespace auroraedge::model;

void Require(bool condition) {
  if (!condition) std::abort();
}

const Tokenizer& GetTokenizer() {
  static const Tokenizer tokenizer = Tokenizer::Load(AURORAEDGE_SMALL_TOKENIZER_JSON);
  return tokenizer;
}

void FuzzText(const Tokenizer& tokenizer, const std::string& text) {
  const bool valid = utf8::FindInvalid(text) == std::string_view::npos;
  try {
    const std::vector<int32_t> plain = tokenizer.Encode(text, false);
    Require(valid);
    std::string storage;
    Require(tokenizer.Decode(plain, false) == NormalizeNfc(text, &storage));
    tokenizer.Encode(text, true);
    ChatTemplate(tokenizer, 3).Build({text, text, 2});
  } catch (const InvalidUtf8Error&) {
    Require(!valid);
  }
}

void FuzzIds(const Tokenizer& tokenizer, const uint8_t* data, size_t size) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2) {
    ids.push_back(
        static_cast<int32_t>((data[i] << 8 | data[i + 1]) % (tokenizer.vocab_size() + 8)));
  }
  for (const bool skip : {false, true}) {
    StreamDetokenizer stream(tokenizer, skip);
    std::string streamed;
    for (const int32_t id : ids) {
      const std::string delta = stream.Push(id);
      Require(utf8::FindInvalid(delta) == std::string_view::npos);
      streamed += delta;
    }
    streamed += stream.Finish();
    Require(streamed == tokenizer.Decode(ids, skip));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Tokenizer& tokenizer = GetTokenizer();
  FuzzText(tokenizer, std::string(reinterpret_cast<const char*>(data), size));
  FuzzIds(tokenizer, data, size);
  return 0;
}
