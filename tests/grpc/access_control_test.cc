#include "access_control.h"

#include <catch2/catch.hpp>

#include "token_bucket.h"

namespace auroraedge::server::auth {
namespace {

using Clock = AccessControl::Clock;
using std::chrono::milliseconds;

TokenPolicy Policy(const std::string& name, std::initializer_list<Priority> priorities,
                   double per_second = 0, int burst = 0) {
  TokenPolicy policy;
  policy.name = name;
  for (Priority priority : priorities)
    policy.allowed_priorities[static_cast<size_t>(priority)] = true;
  policy.requests_per_second = per_second;
  policy.burst = burst;
  return policy;
}

// "line-3" (normal, line_critical; 2/s, burst 2) and "batch" (background; no limit).
TokenTable Table() {
  TokenTable table;
  table[TokenDigest("token-line-3")] =
      Policy("line-3", {Priority::kNormal, Priority::kLineCritical}, 2, 2);
  table[TokenDigest("token-batch")] = Policy("batch", {Priority::kBackground});
  return table;
}

CallCredentials Bearer(std::string_view value, std::string subject = "") {
  CallCredentials credentials;
  credentials.authorization.push_back(value);
  credentials.certificate_subject = std::move(subject);
  return credentials;
}

Caller Authenticated(const AccessControl& access, std::string_view authorization) {
  Caller caller;
  const Status status = access.Authenticate(Bearer(authorization), &caller);
  REQUIRE(status.ok());
  return caller;
}

}  // namespace

TEST_CASE("token bucket: burst at once, then the rate") {
  const Clock::time_point start{};
  TokenBucket bucket(2, 3, start);
  CHECK(bucket.TryTake(start));
  CHECK(bucket.TryTake(start));
  CHECK(bucket.TryTake(start));
  CHECK_FALSE(bucket.TryTake(start));
  CHECK_FALSE(bucket.TryTake(start + milliseconds(400)));  // 0.8 of a call back
  CHECK(bucket.TryTake(start + milliseconds(500)));        // 1.0
  CHECK_FALSE(bucket.TryTake(start + milliseconds(500)));
  // Never more than the burst, however long it rested.
  const Clock::time_point later = start + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) CHECK(bucket.TryTake(later));
  CHECK_FALSE(bucket.TryTake(later));
}

TEST_CASE("without a token file every call passes and the caller is its certificate") {
  AccessControl access(std::nullopt);
  CHECK_FALSE(access.requires_tokens());
  Caller caller;
  CallCredentials credentials;
  credentials.certificate_subject = "CN=plc-3,O=Plant 1";
  REQUIRE(access.Authenticate(credentials, &caller).ok());
  CHECK(caller.Describe() == "subject=CN=plc-3,O=Plant 1");
  CHECK(access.Admit(caller, Priority::kBackground, Clock::now()).ok());
  CHECK(Caller{}.Describe().empty());
}

TEST_CASE("a missing, malformed, repeated or unknown token is UNAUTHENTICATED") {
  const AccessControl access(Table());
  Caller caller;
  const auto code = [&](const CallCredentials& credentials) {
    return access.Authenticate(credentials, &caller).code;
  };
  CHECK(code(CallCredentials{}) == StatusCode::kUnauthenticated);
  CHECK(code(Bearer("token-line-3")) == StatusCode::kUnauthenticated);  // no scheme
  CHECK(code(Bearer("Basic token-line-3")) == StatusCode::kUnauthenticated);
  CHECK(code(Bearer("Bearer ")) == StatusCode::kUnauthenticated);
  CHECK(code(Bearer("Bearer token-line-4")) == StatusCode::kUnauthenticated);
  CHECK(code(Bearer("Bearer token-line-3 ")) == StatusCode::kUnauthenticated);
  CallCredentials twice = Bearer("Bearer token-line-3");
  twice.authorization.push_back("Bearer token-batch");
  CHECK(code(twice) == StatusCode::kUnauthenticated);

  const Status unknown = access.Authenticate(Bearer("Bearer token-line-4"), &caller);
  CHECK(unknown.message == "unknown bearer token");
  const Status missing = access.Authenticate(CallCredentials{}, &caller);
  CHECK_THAT(missing.message, Catch::Matchers::Contains("authorization: Bearer <token>"));
}

TEST_CASE("a known token names the caller; the scheme is case-insensitive") {
  const AccessControl access(Table());
  Caller caller;
  REQUIRE(access.Authenticate(Bearer("bearer token-line-3", "CN=plc-3"), &caller).ok());
  REQUIRE(caller.token.has_value());
  CHECK(caller.token->name == "line-3");
  CHECK(caller.Describe() == "token=line-3 subject=CN=plc-3");
  CHECK(access.token_count() == 2);
}

TEST_CASE("a priority the token does not allow is PERMISSION_DENIED, and uses no rate") {
  AccessControl access(Table());
  const Caller line = Authenticated(access, "Bearer token-line-3");
  const Clock::time_point now = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const Status denied = access.Admit(line, Priority::kBackground, now);
    CHECK(denied.code == StatusCode::kPermissionDenied);
    CHECK(denied.message ==
          "priority: client 'line-3' may not use background (allowed: line_critical, normal)");
  }
  CHECK(access.Admit(line, Priority::kLineCritical, now).ok());
  CHECK(access.Admit(line, std::nullopt, now).ok());  // GetModelInfo has no priority
}

TEST_CASE("a client over its rate is RESOURCE_EXHAUSTED; the others are not") {
  AccessControl access(Table());
  const Caller line = Authenticated(access, "Bearer token-line-3");
  const Caller batch = Authenticated(access, "Bearer token-batch");
  const Clock::time_point now = Clock::now();
  CHECK(access.Admit(line, Priority::kNormal, now).ok());
  CHECK(access.Admit(line, Priority::kNormal, now).ok());
  const Status over = access.Admit(line, Priority::kNormal, now);
  CHECK(over.code == StatusCode::kResourceExhausted);
  CHECK(over.message == "client 'line-3' is over its rate of 2 requests/s, burst 2");
  for (int i = 0; i < 100; ++i) CHECK(access.Admit(batch, Priority::kBackground, now).ok());
  CHECK(access.Admit(line, Priority::kNormal, now + milliseconds(500)).ok());
}

TEST_CASE("without a token file the Admin service answers local callers only") {
  AccessControl access(std::nullopt);
  Caller caller;
  REQUIRE(access.Authenticate({}, &caller).ok());
  const Clock::time_point now = Clock::now();
  CHECK(access.AdmitAdmin(caller, "ipv4:127.0.0.1:40000", now).ok());
  CHECK(access.AdmitAdmin(caller, "ipv6:[::1]:40000", now).ok());
  const Status remote = access.AdmitAdmin(caller, "ipv4:10.0.0.7:40000", now);
  CHECK(remote.code == StatusCode::kPermissionDenied);
  CHECK_THAT(remote.message, Catch::Matchers::Contains("ipv4:10.0.0.7:40000") &&
                                 Catch::Matchers::Contains("--token-file"));
}

TEST_CASE("with a token file the Admin service needs a token with the admin permission") {
  TokenTable table = Table();
  TokenPolicy ops = Policy("ops", {Priority::kNormal}, 1, 1);
  ops.admin = true;
  table[TokenDigest("token-ops")] = ops;
  AccessControl access(std::move(table));
  const Clock::time_point now = Clock::now();
  const Caller line = Authenticated(access, "Bearer token-line-3");
  const Status denied = access.AdmitAdmin(line, "ipv4:127.0.0.1:40000", now);
  CHECK(denied.code == StatusCode::kPermissionDenied);
  CHECK(denied.message ==
        "admin: client 'line-3' may not call the Admin service (its token has no \"admin\": true)");
  const Caller admin = Authenticated(access, "Bearer token-ops");
  // Remote is fine with the permission; the token's rate still applies.
  CHECK(access.AdmitAdmin(admin, "ipv4:10.0.0.7:40000", now).ok());
  CHECK(access.AdmitAdmin(admin, "ipv4:10.0.0.7:40000", now).code ==
        StatusCode::kResourceExhausted);
}

TEST_CASE("a reloaded table: removed tokens fail, new ones pass, a changed rate applies") {
  AccessControl access(Table());
  const Clock::time_point now = Clock::now();
  const Caller line = Authenticated(access, "Bearer token-line-3");
  CHECK(access.Admit(line, Priority::kNormal, now).ok());
  CHECK(access.Admit(line, Priority::kNormal, now).ok());
  CHECK(access.Admit(line, Priority::kNormal, now).code == StatusCode::kResourceExhausted);

  TokenTable renewed;
  renewed[TokenDigest("token-line-3-new")] = Policy("line-3", {Priority::kNormal}, 10, 10);
  access.ReplaceTokens(std::move(renewed));
  Caller caller;
  CHECK(access.Authenticate(Bearer("Bearer token-line-3"), &caller).code ==
        StatusCode::kUnauthenticated);
  CHECK(access.Authenticate(Bearer("Bearer token-batch"), &caller).code ==
        StatusCode::kUnauthenticated);
  const Caller renewed_line = Authenticated(access, "Bearer token-line-3-new");
  for (int i = 0; i < 10; ++i) CHECK(access.Admit(renewed_line, Priority::kNormal, now).ok());
  CHECK(access.Admit(renewed_line, Priority::kNormal, now).code == StatusCode::kResourceExhausted);
  CHECK(access.token_count() == 1);
}

}  // namespace auroraedge::server::auth
