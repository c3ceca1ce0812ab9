#include "access_control.h"

#include <strings.h>

#include <cstdio>

#include "local_peer.h"

namespace auroraedge::server::auth {
namespace {

constexpr std::string_view kBearer = "bearer ";  // the scheme is case-insensitive (RFC 7235)

Status Unauthenticated(const std::string& message) {
  return {StatusCode::kUnauthenticated, message};
}

std::string AllowedList(const TokenPolicy& policy) {
  std::string list;
  for (Priority priority : {Priority::kLineCritical, Priority::kNormal, Priority::kBackground}) {
    if (!policy.Allows(priority)) continue;
    if (!list.empty()) list += ", ";
    list += PriorityName(priority);
  }
  return list;
}

std::string Rate(const TokenPolicy& policy) {
  char text[64];
  std::snprintf(text, sizeof text, "%g requests/s, burst %d", policy.requests_per_second,
                policy.burst);
  return text;
}

}  // namespace

std::string Caller::Describe() const {
  std::string description;
  if (token) description = "token=" + token->name;
  if (!certificate_subject.empty()) {
    description += (description.empty() ? "" : " ") + std::string("subject=") + certificate_subject;
  }
  return description;
}

AccessControl::AccessControl(std::optional<TokenTable> tokens) : tokens_(std::move(tokens)) {}

bool AccessControl::requires_tokens() const {
  std::lock_guard lock(mu_);
  return tokens_.has_value();
}

size_t AccessControl::token_count() const {
  std::lock_guard lock(mu_);
  return tokens_ ? tokens_->size() : 0;
}

Status AccessControl::Authenticate(const CallCredentials& credentials, Caller* caller) const {
  caller->certificate_subject = credentials.certificate_subject;
  caller->token.reset();
  if (!requires_tokens()) return Status::Ok();
  if (credentials.authorization.empty()) {
    return Unauthenticated("missing bearer token: send metadata 'authorization: Bearer <token>'");
  }
  if (credentials.authorization.size() > 1) {
    return Unauthenticated("more than one 'authorization' metadata entry");
  }
  const std::string_view value = credentials.authorization.front();
  if (value.size() <= kBearer.size() ||
      strncasecmp(value.data(), kBearer.data(), kBearer.size()) != 0) {
    return Unauthenticated("the 'authorization' metadata is not 'Bearer <token>'");
  }
  const std::string digest = TokenDigest(value.substr(kBearer.size()));
  std::lock_guard lock(mu_);
  const auto found = tokens_->find(digest);
  if (found == tokens_->end()) return Unauthenticated("unknown bearer token");
  caller->token = found->second;
  return Status::Ok();
}

Status AccessControl::Admit(const Caller& caller, std::optional<Priority> priority,
                            Clock::time_point now) {
  if (!caller.token) return Status::Ok();
  const TokenPolicy& policy = *caller.token;
  if (priority && !policy.Allows(*priority)) {
    return {StatusCode::kPermissionDenied, "priority: client '" + policy.name + "' may not use " +
                                               std::string(PriorityName(*priority)) +
                                               " (allowed: " + AllowedList(policy) + ")"};
  }
  if (policy.requests_per_second == 0) return Status::Ok();
  std::lock_guard lock(mu_);
  auto bucket = buckets_.find(policy.name);
  if (bucket == buckets_.end() || bucket->second.per_second() != policy.requests_per_second ||
      bucket->second.burst() != policy.burst) {
    bucket = buckets_
                 .insert_or_assign(policy.name,
                                   TokenBucket(policy.requests_per_second, policy.burst, now))
                 .first;
  }
  if (!bucket->second.TryTake(now)) {
    return {StatusCode::kResourceExhausted,
            "client '" + policy.name + "' is over its rate of " + Rate(policy)};
  }
  return Status::Ok();
}

Status AccessControl::AdmitAdmin(const Caller& caller, std::string_view peer,
                                 Clock::time_point now) {
  if (!caller.token) {
    if (IsLocalPeer(peer)) return Status::Ok();
    return {StatusCode::kPermissionDenied,
            "admin: without a token file the Admin service answers callers on the server's own "
            "machine only, not " +
                std::string(peer) + "; give the server --token-file with an \"admin\": true token"};
  }
  if (!caller.token->admin) {
    return {StatusCode::kPermissionDenied,
            "admin: client '" + caller.token->name +
                "' may not call the Admin service (its token has no \"admin\": true)"};
  }
  return Admit(caller, std::nullopt, now);
}

void AccessControl::ReplaceTokens(TokenTable tokens) {
  std::lock_guard lock(mu_);
  tokens_ = std::move(tokens);
  // Forget the buckets of names no longer listed; the others are checked
  // against the caller's policy at their next call.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    bool listed = false;
    for (const auto& [digest, policy] : *tokens_) listed = listed || policy.name == it->first;
    it = listed ? std::next(it) : buckets_.erase(it);
  }
}

}  // namespace auroraedge::server::auth
