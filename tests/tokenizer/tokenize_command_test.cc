#include "auroraedge/model/tokenize_command.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "small_tokenizer.h"

namespace auroraedge::model {
namespace {

using testing::SmallTokenizer;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Tokenize(const std::string& input, bool allow_special,
                const std::string& path = AURORAEDGE_SMALL_TOKENIZER_JSON) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = RunTokenizeCommand(path, allow_special, in, out, err);
  return {code, out.str(), err.str()};
}

Result Detokenize(const std::string& input, bool skip_special,
                  const std::string& path = AURORAEDGE_SMALL_TOKENIZER_JSON) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = RunDetokenizeCommand(path, skip_special, in, out, err);
  return {code, out.str(), err.str()};
}

std::string IdsLine(const std::vector<int32_t>& ids) { return nlohmann::json(ids).dump() + "\n"; }

TEST_CASE("tokenize writes one JSON array of ids per line") {
  const Tokenizer& t = SmallTokenizer();
  const Result r = Tokenize("The weld seam\n\nPrüfung 12\n", false);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out == IdsLine(t.Encode("The weld seam", false)) + "[]\n" +
                     IdsLine(t.Encode("Prüfung 12", false)));
}

TEST_CASE("tokenize recognises special tokens only with allow_special") {
  const Tokenizer& t = SmallTokenizer();
  const std::string line = "hi<|im_end|>";
  std::vector<int32_t> ids = t.Encode("hi", false);
  ids.push_back(t.SpecialTokenId("<|im_end|>"));
  CHECK(Tokenize(line, true).out == IdsLine(ids));
  CHECK(Tokenize(line, false).out == IdsLine(t.Encode(line, false)));
}

TEST_CASE("a line that is not UTF-8 stops tokenize with its line number") {
  const Result r = Tokenize("fine\nbad \xFF line\nnever read\n", false);
  CHECK(r.code == 1);
  CHECK(r.out == IdsLine(SmallTokenizer().Encode("fine", false)));
  CHECK(r.err == "error: line 2: invalid UTF-8 at byte 4 (the text must be UTF-8)\n");
}

TEST_CASE("detokenize reverses tokenize") {
  const std::string lines = "<|im_start|>user\n  tabs\tand ümlauts 👍🏽\n<|im_end|>\n";
  const Result tokens = Tokenize(lines, true);
  REQUIRE(tokens.code == 0);
  const Result text = Detokenize(tokens.out, false);
  CHECK(text.code == 0);
  CHECK(text.out == lines);
  CHECK(Detokenize(tokens.out, true).out == "user\n  tabs\tand ümlauts 👍🏽\n\n");
}

TEST_CASE("detokenize refuses a line that is not an array of token ids") {
  CHECK(Detokenize("[1,2]\nnot json\n", false).err ==
        "error: line 2: expected a JSON array of token ids, e.g. [9707,11,1879]\n");
  CHECK(Detokenize("[1,2]\nnot json\n", false).code == 1);
  CHECK(Detokenize("[1, \"a\"]\n", false).err ==
        "error: line 1: element 1 (\"a\") is not a token id in [0, 1024)\n");
  CHECK(Detokenize("[1024]\n", false).err ==
        "error: line 1: element 0 (1024) is not a token id in [0, 1024)\n");
  CHECK(Detokenize("[-1]\n", false).code == 1);
  CHECK(Detokenize("\n", false).code == 1);
}

TEST_CASE("a tokenizer that cannot be loaded gives exit code 2 and the reason") {
  const Result r = Tokenize("x\n", false, "/nonexistent/tokenizer.json");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("error: /nonexistent/tokenizer.json: cannot be read"));
  CHECK(Detokenize("[1]\n", false, "/nonexistent/tokenizer.json").code == 2);
}

}  // namespace
}  // namespace auroraedge::model
