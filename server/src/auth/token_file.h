#pragma once

// The bearer-token file (--token-file): which clients may call the server,
// at which priorities and how often. One JSON object:
//
//   {"tokens": [
//     {"name": "line-3-plc",
//      "sha256": "<64 hex digits: SHA-256 of the token>",
//      "priorities": ["line_critical", "normal"],
//      "requests_per_second": 20,
//      "burst": 40},
//     {"name": "line-3-ops", "sha256": "...", "priorities": ["normal"], "admin": true}
//   ]}
//
// name: 1 to 64 of [A-Za-z0-9._-], unique; it is what the logs and the
// request log show, never the token. sha256: the digest of the token the
// client sends as "authorization: Bearer <token>" (so the file reveals no
// token), unique. priorities: the request priorities the client may use
// (line_critical, normal, background; at least one). requests_per_second:
// optional, greater than 0 and at most 1e6; absent: no limit. burst:
// optional, 1 to 1e6 calls at once, needs requests_per_second; default:
// requests_per_second rounded up. admin: optional, true or false (default):
// whether the client may also call auroraedge.v1.Admin (change the model);
// its rate applies to those calls too. Unknown keys are errors.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auroraedge/server/generation.h"

namespace auroraedge::server::auth {

struct TokenPolicy {
  std::string name;
  std::array<bool, 3> allowed_priorities{};  // indexed by Priority
  double requests_per_second = 0;            // 0: no limit
  int burst = 0;                             // calls allowed at once; 0 when no limit
  bool admin = false;                        // may call auroraedge.v1.Admin

  bool Allows(Priority priority) const { return allowed_priorities[static_cast<size_t>(priority)]; }
};

// Policies by the token's SHA-256 (32 raw bytes).
using TokenTable = std::unordered_map<std::string, TokenPolicy>;

// The file cannot be read or is not valid; the message names the file and
// the field (for example `tokens[1].priorities[0]`) and what is allowed.
class TokenFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `path` only names the file in error messages. Throws TokenFileError.
TokenTable ParseTokenFile(const std::string& text, const std::string& path);
TokenTable LoadTokenFile(const std::string& path);

// SHA-256 of `token` as 32 raw bytes, as TokenTable is keyed.
std::string TokenDigest(std::string_view token);

}  // namespace auroraedge::server::auth
