#pragma once

// The access decision for one call of auroraedge.v1.Inference or Admin, taken in the
// service's handler before the request is mapped or submitted, so before any
// model work. Here rather than in a grpc::AuthMetadataProcessor because:
// the priority a token may use is in the request message, which a processor
// never sees, so one place decides all three codes (UNAUTHENTICATED,
// PERMISSION_DENIED, RESOURCE_EXHAUSTED) and reports them once; a processor
// runs for every method on the port, health checks and reflection included,
// which probes and load balancers call without a token; and gRPC 1.51 cannot
// attach a processor to plaintext credentials, while tokens on a loopback
// port behind a TLS-terminating proxy are a real setup. The price: the
// request message (at most --max-request-bytes) is received before a call
// without a valid token is refused; with mTLS an unknown client does not get
// past the handshake.

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <string_view>

#include "access_control.h"
#include "auroraedge/server/security_options.h"

namespace auroraedge::server::grpc_api {

class AccessCheck {
 public:
  // Both (not owned) must outlive this; `denied` may hold an empty function.
  AccessCheck(auth::AccessControl* access, const AccessDeniedListener* denied)
      : access_(access), denied_(denied) {}

  // UNAUTHENTICATED when the call's token is missing or wrong; fills
  // `caller` from the token and the client certificate otherwise.
  Status Authenticate(std::string_view method, const grpc::CallbackServerContext& context,
                      auth::Caller* caller) const;

  // PERMISSION_DENIED for a priority the caller may not use,
  // RESOURCE_EXHAUSTED when over its rate. `priority` unset: the call has
  // none (GetModelInfo).
  Status Admit(std::string_view method, const grpc::CallbackServerContext& context,
               const auth::Caller& caller, std::optional<Priority> priority) const;

  // For auroraedge.v1.Admin (see AccessControl::AdmitAdmin):
  // PERMISSION_DENIED for a token without the admin permission, or without a
  // token file for a peer not on this machine; RESOURCE_EXHAUSTED when over
  // the token's rate.
  Status AdmitAdmin(std::string_view method, const grpc::CallbackServerContext& context,
                    const auth::Caller& caller) const;

  // The peer and who it is, for the request log: "ipv4:10.0.0.7:5123
  // token=line-3 subject=CN=plc-3".
  static std::string ClientDescription(const grpc::CallbackServerContext& context,
                                       const auth::Caller& caller);

 private:
  Status Report(std::string_view method, const grpc::CallbackServerContext& context,
                const auth::Caller& caller, Status status) const;

  auth::AccessControl* const access_;
  const AccessDeniedListener* const denied_;
};

}  // namespace auroraedge::server::grpc_api
