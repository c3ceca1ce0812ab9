// Compares the C++ tokenizer with the JavaScript reference on the corpus of
// make_corpus.py: every text's ids (special tokens recognised and not), and
// the decode of those ids and of random id sequences. CTest runs it after
// the fixtures that install the reference and write reference.json, and
// names the files in AURORAEDGE_TOKENIZER_{JSON,CORPUS,REFERENCE}.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auroraedge/model/tokenizer.h"

namespace {

using auroraedge::model::Tokenizer;
using nlohmann::json;

std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set (CTest's fixtures set it)");
  }
  return value;
}

json ReadJson(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read " + path);
  return json::parse(file);
}

struct Corpus {
  Tokenizer tokenizer;
  json corpus;
  json reference;
};

const Corpus& GetCorpus() {
  static const Corpus corpus{Tokenizer::Load(RequiredEnv("AURORAEDGE_TOKENIZER_JSON")),
                             ReadJson(RequiredEnv("AURORAEDGE_TOKENIZER_CORPUS")),
                             ReadJson(RequiredEnv("AURORAEDGE_TOKENIZER_REFERENCE"))};
  return corpus;
}

std::string Escaped(const std::string& text) { return json(text).dump(); }

std::string IdsText(const std::vector<int32_t>& ids) { return json(ids).dump(); }

// Collects mismatches so that one failure shows the first few cases whole.
class Mismatches {
 public:
  void Add(const std::string& what) {
    if (count_ < kShown) shown_ << what << "\n";
    ++count_;
  }
  int count() const { return count_; }
  std::string report() const { return shown_.str(); }

 private:
  static constexpr int kShown = 10;
  int count_ = 0;
  std::ostringstream shown_;
};

void CheckEncode(const char* reference_key, bool allow_special) {
  const Corpus& c = GetCorpus();
  const json& cases = c.corpus.at("cases");
  const json& expected = c.reference.at(reference_key);
  REQUIRE(expected.size() == cases.size());
  Mismatches mismatches;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string text = cases[i].at("text");
    const auto want = expected[i].get<std::vector<int32_t>>();
    const auto got = c.tokenizer.Encode(text, allow_special);
    if (got != want) {
      mismatches.Add("case " + std::to_string(i) + " (" + cases[i].at("class").get<std::string>() +
                     ") " + Escaped(text) + "\n  reference " + IdsText(want) + "\n  c++       " +
                     IdsText(got));
    }
  }
  INFO(mismatches.report());
  CHECK(mismatches.count() == 0);
}

void CheckDecode(const json& id_lists, const char* reference_key, bool skip_special) {
  const Corpus& c = GetCorpus();
  const json& expected = c.reference.at(reference_key);
  REQUIRE(expected.size() == id_lists.size());
  Mismatches mismatches;
  for (size_t i = 0; i < id_lists.size(); ++i) {
    const auto ids = id_lists[i].get<std::vector<int32_t>>();
    const std::string want = expected[i];
    const std::string got = c.tokenizer.Decode(ids, skip_special);
    if (got != want) {
      mismatches.Add("ids " + IdsText(ids) + "\n  reference " + Escaped(want) + "\n  c++       " +
                     Escaped(got));
    }
  }
  INFO(mismatches.report());
  CHECK(mismatches.count() == 0);
}

TEST_CASE("every corpus text encodes to the reference ids, special tokens recognised") {
  CheckEncode("encode", true);
}

TEST_CASE("every corpus text encodes to the reference ids, special tokens as plain text") {
  CheckEncode("encode_plain", false);
}

TEST_CASE("the reference ids of every corpus text decode to the reference text") {
  const json& ids = GetCorpus().reference.at("encode");
  CheckDecode(ids, "decode", false);
  CheckDecode(ids, "decode_skip", true);
}

TEST_CASE("random id sequences decode to the reference text") {
  const json& ids = GetCorpus().corpus.at("decode_cases");
  CheckDecode(ids, "decode_cases", false);
  CheckDecode(ids, "decode_cases_skip", true);
}

TEST_CASE("the corpus covers every class the conformance tests promise") {
  std::map<std::string, int> per_class;
  for (const json& c : GetCorpus().corpus.at("cases")) ++per_class[c.at("class")];
  for (const char* name : {"english", "chinese", "japanese", "korean", "german", "emoji", "numbers",
                           "code", "spaces", "special_text"}) {
    INFO(name);
    CHECK(per_class[name] > 0);
  }
  CHECK(per_class["random"] >= 2000);
}

}  // namespace
