#include "auroraedge/model/grammar_cache.h"

#include <catch2/catch.hpp>

#include "test_support.h"

namespace auroraedge::model::constrained::testing {
namespace {

ConstraintSpec Schema(const std::string& text) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = text;
  return spec;
}

}  // namespace

TEST_CASE("the cache compiles a constraint once per vocabulary and drops the least recent") {
  GrammarCache cache(2);
  const auto bytes = ByteVocabulary();
  const auto other = ByteVocabulary({"ab"});
  const auto a = cache.Get(Schema(R"({"type":"boolean"})"), bytes);
  CHECK(cache.Get(Schema(R"({"type":"boolean"})"), bytes) == a);
  CHECK(cache.hits() == 1);
  CHECK(cache.Get(Schema(R"({"type":"boolean"})"), other) != a);  // another vocabulary
  CHECK(cache.Get(Schema(R"({"type":"boolean"})"), bytes) == a);
  ConstraintSpec choice;
  choice.choices = {"a", "b"};
  const auto c = cache.Get(choice, bytes);  // drops the other vocabulary's entry
  CHECK(cache.size() == 2);
  CHECK(cache.Get(choice, bytes) == c);
  CHECK(cache.Get(Schema(R"({"type":"boolean"})"), bytes) == a);
  CHECK(cache.misses() == 3);
  ConstraintSpec joined;  // same bytes as {"a", "b"} run together: another key
  joined.choices = {"ab"};
  CHECK(cache.Get(joined, bytes) != c);
  CHECK_THROWS_AS(cache.Get(Schema("{"), bytes), ConstraintError);
  CHECK(cache.misses() == 5);
}

}  // namespace auroraedge::model::constrained::testing
