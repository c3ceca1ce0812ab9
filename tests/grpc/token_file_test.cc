#include "token_file.h"

#include <catch2/catch.hpp>
#include <string>

namespace auroraedge::server::auth {
namespace {

std::string HexDigest(const std::string& token) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : TokenDigest(token)) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

void RequireError(const std::string& json, const std::string& message) {
  try {
    ParseTokenFile(json, "tokens.json");
    FAIL("no TokenFileError");
  } catch (const TokenFileError& error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains("token file tokens.json: " + message));
  }
}

std::string OneToken(const std::string& fields) {
  return R"({"tokens": [{"name": "line-3", "sha256": ")" + HexDigest("secret-a") + R"(", )" +
         fields + "}]}";
}

}  // namespace

TEST_CASE("the digest is SHA-256 of the token, as sha256sum prints it") {
  CHECK(HexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a token file: names, digests, priorities, rates and their defaults") {
  const std::string json = R"({"tokens": [
    {"name": "line-3", "sha256": ")" +
                           HexDigest("secret-a") + R"(",
     "priorities": ["line_critical", "normal"], "requests_per_second": 2.5, "burst": 7},
    {"name": "batch.job_1", "sha256": ")" +
                           HexDigest("secret-b") + R"(",
     "priorities": ["background"], "requests_per_second": 0.5},
    {"name": "MES", "sha256": ")" +
                           HexDigest("secret-c") + R"(", "priorities": ["normal"]}]})";
  const TokenTable table = ParseTokenFile(json, "tokens.json");
  REQUIRE(table.size() == 3);
  const TokenPolicy& line = table.at(TokenDigest("secret-a"));
  CHECK(line.name == "line-3");
  CHECK(line.Allows(Priority::kLineCritical));
  CHECK(line.Allows(Priority::kNormal));
  CHECK_FALSE(line.Allows(Priority::kBackground));
  CHECK(line.requests_per_second == 2.5);
  CHECK(line.burst == 7);
  const TokenPolicy& batch = table.at(TokenDigest("secret-b"));
  CHECK(batch.burst == 1);  // 0.5/s rounded up
  CHECK_FALSE(batch.Allows(Priority::kNormal));
  const TokenPolicy& mes = table.at(TokenDigest("secret-c"));
  CHECK(mes.requests_per_second == 0);  // no limit
  CHECK(table.count(TokenDigest("secret-d")) == 0);
  for (const auto& [digest, policy] : table) CHECK_FALSE(policy.admin);  // by default
}

TEST_CASE("the admin permission is given explicitly") {
  CHECK(ParseTokenFile(OneToken(R"("priorities": ["normal"], "admin": true)"), "tokens.json")
            .at(TokenDigest("secret-a"))
            .admin);
  CHECK_FALSE(ParseTokenFile(OneToken(R"("priorities": ["normal"], "admin": false)"), "tokens.json")
                  .at(TokenDigest("secret-a"))
                  .admin);
}

TEST_CASE("upper-case hex digests are accepted") {
  std::string json = OneToken(R"("priorities": ["normal"])");
  const std::string lower = HexDigest("secret-a");
  std::string upper = lower;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  json.replace(json.find(lower), lower.size(), upper);
  CHECK(ParseTokenFile(json, "tokens.json").count(TokenDigest("secret-a")) == 1);
}

TEST_CASE("every bad token file names the field and what is allowed") {
  RequireError("{", "not valid JSON");
  RequireError("[]", "tokens: missing");
  RequireError(R"({"tokens": []})", "tokens: missing");
  RequireError(R"({"tokens": [{"name": "a"}], "extra": 1})", "extra: unknown key");
  RequireError(R"({"tokens": [3]})", "tokens[0]: must be an object");
  RequireError(OneToken(R"("priorities": ["normal"], "rate": 1)"), "tokens[0].rate: unknown key");
  RequireError(OneToken(R"("priorities": ["normal"], "admin": "yes")"),
               "tokens[0].admin: \"yes\" is not true or false");
  RequireError(OneToken(R"("priorities": ["normal"], "admin": 1)"),
               "tokens[0].admin: 1 is not true or false");
  RequireError(R"({"tokens": [{"sha256": "00", "priorities": ["normal"]}]})",
               "tokens[0].name: missing");
  RequireError(R"({"tokens": [{"name": "has space", "priorities": ["normal"]}]})",
               "tokens[0].name: 'has space' is not 1 to 64 characters");
  RequireError(R"({"tokens": [{"name": "a", "sha256": "abc", "priorities": ["normal"]}]})",
               "tokens[0].sha256: is not 64 hex digits");
  RequireError(R"({"tokens": [{"name": "a", "sha256": ")" + std::string(64, 'g') +
                   R"(", "priorities": ["normal"]}]})",
               "tokens[0].sha256: is not 64 hex digits");
  RequireError(OneToken(R"("priorities": [])"), "tokens[0].priorities: missing");
  RequireError(OneToken(R"("priorities": ["normal", "urgent"])"),
               "tokens[0].priorities[1]: urgent is not line_critical, normal or background");
  RequireError(OneToken(R"("priorities": ["normal"], "requests_per_second": 0)"),
               "tokens[0].requests_per_second: 0 is not a number greater than 0");
  RequireError(OneToken(R"("priorities": ["normal"], "requests_per_second": "5")"),
               "tokens[0].requests_per_second:");
  RequireError(OneToken(R"("priorities": ["normal"], "burst": 3)"),
               "tokens[0].burst: needs requests_per_second");
  RequireError(OneToken(R"("priorities": ["normal"], "requests_per_second": 1, "burst": 0)"),
               "tokens[0].burst: 0 is not an integer from 1 to 1000000");
  const std::string a = HexDigest("secret-a");
  RequireError(R"({"tokens": [{"name": "a", "sha256": ")" + a +
                   R"(", "priorities": ["normal"]}, {"name": "a", "sha256": ")" +
                   HexDigest("secret-b") + R"(", "priorities": ["normal"]}]})",
               "tokens[1].name: 'a' is used twice");
  RequireError(R"({"tokens": [{"name": "a", "sha256": ")" + a +
                   R"(", "priorities": ["normal"]}, {"name": "b", "sha256": ")" + a +
                   R"(", "priorities": ["normal"]}]})",
               "tokens[1].sha256: the same token is listed twice");
}

TEST_CASE("a token file that cannot be opened is named") {
  try {
    LoadTokenFile("/nonexistent/tokens.json");
    FAIL("no TokenFileError");
  } catch (const TokenFileError& error) {
    CHECK_THAT(error.what(),
               Catch::Matchers::Contains("token file /nonexistent/tokens.json: cannot be opened"));
  }
}

}  // namespace auroraedge::server::auth
