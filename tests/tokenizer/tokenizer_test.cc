#include "auroraedge/model/tokenizer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "byte_level.h"
#include "small_tokenizer.h"

namespace auroraedge::model {
namespace {

using testing::SmallTokenizer;
using testing::SmallTokenizerJson;
using Ids = std::vector<int32_t>;

Ids Concat(std::initializer_list<Ids> parts) {
  Ids all;
  for (const Ids& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// Adds `text` to the vocabulary as one token, with the merges that build it
// byte by byte (ids from first_id on). Returns the token's id.
int32_t AddWholeToken(nlohmann::json* json, const std::string& text, int32_t first_id) {
  auto& vocab = (*json)["model"]["vocab"];
  auto& merges = (*json)["model"]["merges"];
  std::string built = byte_level::CharOfByte(static_cast<uint8_t>(text[0]));
  int32_t id = first_id;
  for (size_t i = 1; i < text.size(); ++i) {
    const std::string next = byte_level::CharOfByte(static_cast<uint8_t>(text[i]));
    merges.push_back(built + " " + next);
    built += next;
    if (!vocab.contains(built)) vocab[built] = id++;
  }
  return vocab[built].get<int32_t>();
}

std::string LoadError(const nlohmann::json& tokenizer_json) {
  try {
    Tokenizer::FromJson(tokenizer_json.dump(), "altered.json");
  } catch (const TokenizerLoadError& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("encoding then decoding gives the text back") {
  const Tokenizer& t = SmallTokenizer();
  for (const std::string& text : std::vector<std::string>{
           "The red bolt at the top left shows a crack; verdict: fail.", "  spaces \t\ttabs\r\n",
           "Prüfung: Größe 12 mm", "检测结果：合格", "👍🏽 👨\u200d👩\u200d👧",
           "1234567890", std::string("nul\0byte", 8)}) {
    CAPTURE(text);
    const Ids ids = t.Encode(text, false);
    CHECK_FALSE(ids.empty());
    CHECK(t.Decode(ids, false) == text);
  }
}

TEST_CASE("frequent words become single tokens") {
  const Tokenizer& t = SmallTokenizer();
  const Ids ids = t.Encode(" the", false);
  REQUIRE(ids.size() == 1);
  CHECK(t.IdToToken(ids[0]) == std::optional<std::string>("Ġthe"));
}

TEST_CASE("special-token text becomes the token only when allowed") {
  const Tokenizer& t = SmallTokenizer();
  const int32_t im_end = t.SpecialTokenId("<|im_end|>");
  const Ids allowed = t.Encode("hi<|im_end|>there", true);
  CHECK(allowed == Concat({t.Encode("hi", false), {im_end}, t.Encode("there", false)}));

  const Ids plain = t.Encode("hi<|im_end|>there", false);
  CHECK(std::find(plain.begin(), plain.end(), im_end) == plain.end());
  CHECK(t.Decode(plain, false) == "hi<|im_end|>there");
  CHECK(t.Decode(plain, true) == "hi<|im_end|>there");
}

TEST_CASE("added tokens are matched leftmost, then longest") {
  const Tokenizer& t = SmallTokenizer();
  const int32_t im_start = t.SpecialTokenId("<|im_start|>");
  CHECK(t.Encode("<|<|im_start|>|>", true) ==
        Concat({t.Encode("<|", false), {im_start}, t.Encode("|>", false)}));
}

TEST_CASE("text is NFC-normalized before BPE") {
  const Tokenizer& t = SmallTokenizer();
  CHECK(t.Encode("u\xCC\x88"
                 "ber",
                 false) == t.Encode("\xC3\xBC"
                                    "ber",
                                    false));
}

// Pre-tokenization decides which bytes BPE may merge, so each case below adds
// a token for the piece HF makes and checks that the ids use it.
TEST_CASE("the pre-tokenizer follows HF tokenizers where the JavaScript port departs from it") {
  auto json = SmallTokenizerJson();
  const int32_t nel_y = AddWholeToken(&json, "\xC2\x85y", 2000);
  const int32_t mvs_bang = AddWholeToken(&json, "\xE1\xA0\x8E!", 2100);
  const int32_t apostrophe_long_s = AddWholeToken(&json, "'\xC5\xBF", 2200);
  const int32_t apostrophe_long_s_t = AddWholeToken(&json, "'\xC5\xBFt", 2300);
  const Tokenizer t = Tokenizer::FromJson(json.dump(), "pieces.json");

  // U+0085 is white space to HF (Oniguruma): pieces "x", "\u0085", "\u0085y"
  // (the port: "x", "\u0085\u0085", "y").
  CHECK(t.Encode("x\xC2\x85\xC2\x85y", false) ==
        Concat({t.Encode("x", false), t.Encode("\xC2\x85", false), {nel_y}}));
  // U+180E is not (PCRE2's own \s would take it): pieces "a", "\u180e!".
  CHECK(t.Encode("a\xE1\xA0\x8E!", false) == Concat({t.Encode("a", false), {mvs_bang}}));
  // The contraction group is case-insensitive with Unicode case folding, so
  // "'\u017f" is a contraction: pieces "'\u017f", "t" (the port: "'\u017ft").
  CHECK(t.Encode("'\xC5\xBFt", false) == Concat({{apostrophe_long_s}, t.Encode("t", false)}));
  CHECK(t.Encode("x'\xC5\xBFt", false) != Concat({t.Encode("x", false), {apostrophe_long_s_t}}));
}

TEST_CASE("invalid UTF-8 is refused with the field and the byte offset") {
  const Tokenizer& t = SmallTokenizer();
  for (const auto& [text, offset] : std::vector<std::pair<std::string, size_t>>{
           {"ab\x80", 2}, {"\xC0\xAF", 0}, {"ok\xED\xA0\x80", 2}, {"abc\xE4\xB8", 3}}) {
    CAPTURE(text);
    try {
      t.Encode(text, true, "prompt");
      FAIL("no error");
    } catch (const InvalidUtf8Error& error) {
      CHECK(error.byte_offset() == offset);
      CHECK(std::string(error.what()) == "prompt: invalid UTF-8 at byte " + std::to_string(offset) +
                                             " (the text must be UTF-8)");
    }
  }
}

TEST_CASE("decoding replaces broken UTF-8, skips special tokens on request and unknown ids") {
  const Tokenizer& t = SmallTokenizer();
  const Ids zhong = t.Encode("\xE4\xB8\xAD", false);  // one token per byte here
  REQUIRE(zhong.size() == 3);
  CHECK(t.Decode({zhong[0], zhong[1]}, false) == "\xEF\xBF\xBD");
  const int32_t eot = t.SpecialTokenId("<|endoftext|>");
  CHECK(t.Decode({zhong[0], eot, zhong[1], zhong[2]}, true) == "\xE4\xB8\xAD");
  CHECK(t.Decode({zhong[0], eot, zhong[1], zhong[2]}, false) ==
        "\xEF\xBF\xBD<|endoftext|>\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(t.Decode({-1, t.vocab_size(), 1 << 30}, false).empty());
}

TEST_CASE("token lookups") {
  const Tokenizer& t = SmallTokenizer();
  CHECK(t.vocab_size() == 1024);
  CHECK(t.SpecialTokenId("<|endoftext|>") == 1010);
  CHECK(t.SpecialTokenId("<|video_pad|>") == 1023);
  CHECK(t.TokenToId("<|im_end|>") == std::optional<int32_t>(1012));
  CHECK(t.TokenToId("!") == std::optional<int32_t>(0));
  CHECK(t.IdToToken(1012) == std::optional<std::string>("<|im_end|>"));
  CHECK_FALSE(t.IdToToken(1024).has_value());
  CHECK_FALSE(t.TokenToId("no such token").has_value());
  CHECK(t.IsSpecial(1012));
  CHECK_FALSE(t.IsSpecial(0));
  CHECK(t.HasToken(0));
  CHECK_FALSE(t.HasToken(-1));
  CHECK(t.TokenBytes(t.TokenToId("Ġ").value()) == " ");
  CHECK_THROWS_WITH(t.SpecialTokenId("<|nope|>"), "the tokenizer has no added token \"<|nope|>\"");
}

TEST_CASE("long inputs encode without trouble and round-trip") {
  const Tokenizer& t = SmallTokenizer();
  for (const std::string& text : {std::string(1 << 20, ' '), std::string(1 << 20, 'a'),
                                  std::string(200000, '\n') + "x", std::string(300000, '<')}) {
    CHECK(t.Decode(t.Encode(text, true), false) == text);
  }
}

TEST_CASE("one tokenizer encodes from several threads at once") {
  const Tokenizer& t = SmallTokenizer();
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back("word" + std::to_string(i) + " lot " + std::to_string(i * 7919) + " weld seam");
  // Expected ids from a fresh tokenizer, whose word cache is its own.
  const Tokenizer fresh = Tokenizer::FromJson(SmallTokenizerJson().dump(), "copy");
  std::vector<Ids> expected;
  for (const auto& text : texts) expected.push_back(fresh.Encode(text, false));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          if (t.Encode(texts[i], false) != expected[i]) ++mismatches[w];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("an unreadable or malformed file is refused naming it") {
  CHECK_THROWS_WITH(Tokenizer::Load("/nonexistent/tokenizer.json"),
                    Catch::StartsWith("/nonexistent/tokenizer.json: cannot be read"));
  CHECK_THROWS_WITH(Tokenizer::FromJson("{not json", "broken.json"),
                    Catch::StartsWith("broken.json: JSON: "));
}

TEST_CASE("unsupported components are refused at load, naming the component") {
  using Catch::Contains;
  auto json = SmallTokenizerJson();
  CHECK(LoadError(json).empty());

  auto nfkc = json;
  nfkc["normalizer"] = {{"type", "NFKC"}};
  CHECK_THAT(LoadError(nfkc), Contains("altered.json: normalizer: type \"NFKC\" is not supported"));

  auto prefix = json;
  prefix["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
  CHECK_THAT(LoadError(prefix),
             Contains("pre_tokenizer.pretokenizers[1]: add_prefix_space = true is not supported"));

  auto behavior = json;
  behavior["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  CHECK_THAT(LoadError(behavior), Contains("pre_tokenizer.pretokenizers[0]: behavior \"Removed\""));

  auto metaspace = json;
  metaspace["pre_tokenizer"] = {{"type", "Metaspace"}};
  CHECK_THAT(LoadError(metaspace), Contains("pre_tokenizer: type \"Metaspace\" is not supported"));

  auto wordpiece = json;
  wordpiece["model"]["type"] = "WordPiece";
  CHECK_THAT(LoadError(wordpiece), Contains("model: type \"WordPiece\" is not supported"));

  auto fallback = json;
  fallback["model"]["byte_fallback"] = true;
  CHECK_THAT(LoadError(fallback), Contains("model: byte_fallback = true is not supported"));

  auto dropout = json;
  dropout["model"]["dropout"] = 0.1;
  CHECK_THAT(LoadError(dropout), Contains("model: dropout is not supported"));

  auto decoder = json;
  decoder["decoder"] = {{"type", "WordPiece"}};
  CHECK_THAT(LoadError(decoder), Contains("decoder: type \"WordPiece\" is not supported"));

  auto template_processing = json;
  template_processing["post_processor"] = {{"type", "TemplateProcessing"}};
  CHECK_THAT(LoadError(template_processing),
             Contains("post_processor: type \"TemplateProcessing\" is not supported"));

  auto truncation = json;
  truncation["truncation"] = {{"max_length", 512}};
  CHECK_THAT(LoadError(truncation), Contains("truncation: must be null"));

  auto lstrip = json;
  lstrip["added_tokens"][2]["lstrip"] = true;
  CHECK_THAT(LoadError(lstrip),
             Contains("added_tokens[2] \"<|im_end|>\": lstrip = true is not supported"));

  auto bad_regex = json;
  bad_regex["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  CHECK_THAT(LoadError(bad_regex),
             Contains("pre_tokenizer.pretokenizers[0].pattern: regex does not compile"));
}

TEST_CASE("an inconsistent vocabulary is refused at load") {
  using Catch::Contains;
  const auto json = SmallTokenizerJson();

  auto unknown_merge = json;
  unknown_merge["model"]["merges"][0] = "Ġ zzz_not_a_token";
  CHECK_THAT(LoadError(unknown_merge),
             Contains("model.merges[0]: \"zzz_not_a_token\" is not in model.vocab"));

  auto missing_byte = json;
  missing_byte["model"]["vocab"].erase("Ā");  // byte 0x00
  CHECK_THAT(LoadError(missing_byte), Contains("model.vocab: no token for byte 0"));

  auto clash = json;
  clash["added_tokens"][0]["id"] = 5;
  CHECK_THAT(LoadError(clash), Contains("id 5 is given to both"));

  auto huge_id = json;
  huge_id["added_tokens"][0]["id"] = 2000000000;
  CHECK_THAT(LoadError(huge_id),
             Contains("added_tokens[0]: id must be an integer in [0, 16777215], got 2000000000"));

  auto negative_id = json;
  negative_id["model"]["vocab"]["!"] = -1;
  CHECK_THAT(LoadError(negative_id),
             Contains("model.vocab: the id of \"!\" must be an integer in [0, 16777215], got -1"));

  auto bad_merge = json;
  bad_merge["model"]["merges"][0] = "a b c";
  CHECK_THAT(LoadError(bad_merge), Contains("model.merges[0]: expected \"left right\""));
}

TEST_CASE("merges may be written as pairs, the newer tokenizers format") {
  auto json = SmallTokenizerJson();
  for (auto& merge : json["model"]["merges"]) {
    const std::string text = merge;
    const size_t space = text.find(' ');
    merge = nlohmann::json::array({text.substr(0, space), text.substr(space + 1)});
  }
  const Tokenizer pairs = Tokenizer::FromJson(json.dump(), "pairs.json");
  const std::string text = "The green connector at the edge shows corrosion; verdict: rework.";
  CHECK(pairs.Encode(text, false) == SmallTokenizer().Encode(text, false));
}

TEST_CASE("ignore_merges takes a piece that is a token as is") {
  auto json = SmallTokenizerJson();
  json["model"]["ignore_merges"] = true;
  // A token that no merge builds: only ignore_merges can produce it.
  json["model"]["vocab"]["Ġzqx"] = 2000;
  const Tokenizer t = Tokenizer::FromJson(json.dump(), "ignore_merges.json");
  CHECK(t.Encode(" zqx", false) == Ids{2000});
  CHECK(SmallTokenizer().Encode(" zqx", false).size() > 1);
}

}  // namespace
}  // namespace auroraedge::model
