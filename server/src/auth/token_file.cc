#include "token_file.h"

#include <openssl/sha.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

namespace auroraedge::server::auth {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr double kMaxRequestsPerSecond = 1e6;
constexpr int64_t kMaxBurst = 1'000'000;
constexpr Priority kPriorities[] = {Priority::kLineCritical, Priority::kNormal,
                                    Priority::kBackground};

// Errors name the file and the field; `Fail` adds both.
class ErrorReporter {
 public:
  explicit ErrorReporter(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& problem) const {
    throw TokenFileError("token file " + path_ + ": " + field + ": " + problem);
  }

 private:
  std::string path_;
};

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string ReadName(const nlohmann::json& entry, const std::string& field,
                     const ErrorReporter& reader) {
  if (!entry.contains("name") || !entry["name"].is_string())
    reader.Fail(field + ".name", "missing; a string is required");
  const std::string name = entry["name"].get<std::string>();
  bool valid = !name.empty() && name.size() <= kMaxNameLength;
  for (char c : name) valid = valid && IsNameCharacter(c);
  if (!valid) {
    reader.Fail(field + ".name", "'" + name + "' is not 1 to " + std::to_string(kMaxNameLength) +
                                     " characters of A-Z a-z 0-9 . _ -");
  }
  return name;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The 64 hex digits as 32 raw bytes.
std::string ReadDigest(const nlohmann::json& entry, const std::string& field,
                       const ErrorReporter& reader) {
  if (!entry.contains("sha256") || !entry["sha256"].is_string())
    reader.Fail(field + ".sha256", "missing; the token's SHA-256 in hex is required");
  const std::string hex = entry["sha256"].get<std::string>();
  std::string digest;
  for (size_t i = 0; hex.size() == 2 * SHA256_DIGEST_LENGTH && i < hex.size(); i += 2) {
    const int high = HexValue(hex[i]);
    const int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) break;
    digest += static_cast<char>(high * 16 + low);
  }
  if (digest.size() != SHA256_DIGEST_LENGTH) {
    reader.Fail(field + ".sha256",
                "is not 64 hex digits (make it with: printf %s \"$TOKEN\" | sha256sum)");
  }
  return digest;
}

void ReadPriorities(const nlohmann::json& entry, const std::string& field,
                    const ErrorReporter& reader, TokenPolicy* policy) {
  const std::string key = field + ".priorities";
  if (!entry.contains("priorities") || !entry["priorities"].is_array() ||
      entry["priorities"].empty()) {
    reader.Fail(key, "missing; a list of at least one of line_critical, normal, background");
  }
  const nlohmann::json& list = entry["priorities"];
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string item_field = key + "[" + std::to_string(i) + "]";
    const std::string name = list[i].is_string() ? list[i].get<std::string>() : list[i].dump();
    bool known = false;
    for (Priority priority : kPriorities) {
      if (PriorityName(priority) == name) {
        policy->allowed_priorities[static_cast<size_t>(priority)] = true;
        known = true;
      }
    }
    if (!known) reader.Fail(item_field, name + " is not line_critical, normal or background");
  }
}

void ReadRate(const nlohmann::json& entry, const std::string& field, const ErrorReporter& reader,
              TokenPolicy* policy) {
  if (entry.contains("requests_per_second")) {
    const nlohmann::json& rate = entry["requests_per_second"];
    if (!rate.is_number() || !(rate.get<double>() > 0) ||
        rate.get<double>() > kMaxRequestsPerSecond) {
      reader.Fail(field + ".requests_per_second",
                  rate.dump() + " is not a number greater than 0 and at most 1e6");
    }
    policy->requests_per_second = rate.get<double>();
    policy->burst = static_cast<int>(std::max(1.0, std::ceil(policy->requests_per_second)));
  }
  if (entry.contains("burst")) {
    const nlohmann::json& burst = entry["burst"];
    if (policy->requests_per_second == 0)
      reader.Fail(field + ".burst", "needs requests_per_second");
    if (!burst.is_number_integer() || burst.get<int64_t>() < 1 || burst.get<int64_t>() > kMaxBurst)
      reader.Fail(field + ".burst", burst.dump() + " is not an integer from 1 to 1000000");
    policy->burst = static_cast<int>(burst.get<int64_t>());
  }
}

bool ReadAdmin(const nlohmann::json& entry, const std::string& field, const ErrorReporter& reader) {
  if (!entry.contains("admin")) return false;
  const nlohmann::json& admin = entry["admin"];
  if (!admin.is_boolean()) reader.Fail(field + ".admin", admin.dump() + " is not true or false");
  return admin.get<bool>();
}

void CheckKeys(const nlohmann::json& entry, const std::string& field, const ErrorReporter& reader) {
  static const std::unordered_set<std::string> kKeys = {
      "name", "sha256", "priorities", "requests_per_second", "burst", "admin"};
  for (const auto& [key, value] : entry.items()) {
    if (kKeys.count(key) == 0) {
      reader.Fail(field + "." + key,
                  "unknown key (name, sha256, priorities, requests_per_second, burst, admin)");
    }
  }
}

}  // namespace

std::string TokenDigest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

TokenTable ParseTokenFile(const std::string& text, const std::string& path) {
  const ErrorReporter reader(path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw TokenFileError("token file " + path + ": not valid JSON (" + error.what() + ")");
  }
  if (!json.is_object() || !json.contains("tokens") || !json["tokens"].is_array() ||
      json["tokens"].empty()) {
    reader.Fail("tokens", "missing; one object {\"tokens\": [...]} with at least one token");
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "tokens") reader.Fail(key, "unknown key (only \"tokens\")");
  }
  TokenTable table;
  std::unordered_set<std::string> names;
  const nlohmann::json& tokens = json["tokens"];
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string field = "tokens[" + std::to_string(i) + "]";
    const nlohmann::json& entry = tokens[i];
    if (!entry.is_object()) reader.Fail(field, "must be an object");
    CheckKeys(entry, field, reader);
    TokenPolicy policy;
    policy.name = ReadName(entry, field, reader);
    if (!names.insert(policy.name).second)
      reader.Fail(field + ".name", "'" + policy.name + "' is used twice");
    const std::string digest = ReadDigest(entry, field, reader);
    ReadPriorities(entry, field, reader, &policy);
    ReadRate(entry, field, reader, &policy);
    policy.admin = ReadAdmin(entry, field, reader);
    if (!table.emplace(digest, std::move(policy)).second)
      reader.Fail(field + ".sha256", "the same token is listed twice");
  }
  return table;
}

TokenTable LoadTokenFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw TokenFileError("token file " + path + ": cannot be opened");
  std::stringstream text;
  text << file.rdbuf();
  return ParseTokenFile(text.str(), path);
}

}  // namespace auroraedge::server::auth
