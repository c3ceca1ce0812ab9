#pragma once

// Decides at admission, before any model work, whether a call may go on:
// its bearer token (when a token file is configured), whether the token
// may use the request's priority, and the token's request rate. The
// transport (TLS, mTLS) has checked the certificate before this; its
// subject only travels along as part of the caller's identity.
//
// Plain C++: the gRPC layer hands in what the call carries. Thread-safe.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auroraedge/server/generation.h"
#include "auroraedge/server/status.h"
#include "token_bucket.h"
#include "token_file.h"

namespace auroraedge::server::auth {

// What one call carries.
struct CallCredentials {
  std::vector<std::string_view> authorization;  // every "authorization" metadata value
  std::string certificate_subject;  // the verified client certificate's subject; empty: none
};

// Who is calling. Never holds the token itself.
struct Caller {
  std::optional<TokenPolicy> token;  // set when tokens are required
  std::string certificate_subject;

  // "token=NAME subject=SUBJECT", either part alone, or "" for an
  // anonymous caller: what the logs and the request log show.
  std::string Describe() const;
};

class AccessControl {
 public:
  using Clock = std::chrono::steady_clock;

  // No table: no token is required and every call passes.
  explicit AccessControl(std::optional<TokenTable> tokens);

  bool requires_tokens() const;
  size_t token_count() const;

  // UNAUTHENTICATED when tokens are required and the call has no
  // "authorization: Bearer <token>", more than one, or an unknown token.
  // The message never repeats the token.
  Status Authenticate(const CallCredentials& credentials, Caller* caller) const;

  // PERMISSION_DENIED when the caller's token may not use `priority` (unset:
  // a call without a priority, such as GetModelInfo); RESOURCE_EXHAUSTED
  // when the token is over its rate. Only calls that pass count against the
  // rate.
  Status Admit(const Caller& caller, std::optional<Priority> priority, Clock::time_point now);

  // For auroraedge.v1.Admin (changing the model), after Authenticate. With
  // a token file: PERMISSION_DENIED unless the caller's token has the admin
  // permission, then its rate as in Admit. Without one there is nobody to
  // give the permission to, so only the server's own machine may: `peer`
  // (gRPC's peer string) must be local (local_peer.h), else
  // PERMISSION_DENIED.
  Status AdmitAdmin(const Caller& caller, std::string_view peer, Clock::time_point now);

  // The table a SIGHUP loaded. Callers authenticated before keep their
  // snapshot; a token whose rate changed starts a fresh bucket.
  void ReplaceTokens(TokenTable tokens);

 private:
  mutable std::mutex mu_;
  std::optional<TokenTable> tokens_;                      // guarded by mu_
  std::unordered_map<std::string, TokenBucket> buckets_;  // by token name; guarded by mu_
};

}  // namespace auroraedge::server::auth
