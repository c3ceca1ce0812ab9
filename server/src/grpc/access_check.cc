#include "access_check.h"

#include <grpc/grpc_security_constants.h>

#include <chrono>

namespace auroraedge::server::grpc_api {
namespace {

std::string_view View(grpc::string_ref text) { return {text.data(), text.size()}; }

auth::CallCredentials CredentialsOf(const grpc::CallbackServerContext& context) {
  auth::CallCredentials credentials;
  const auto [begin, end] = context.client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) credentials.authorization.push_back(View(it->second));
  // Set by gRPC's TLS handshake once the client certificate is verified.
  const std::shared_ptr<const grpc::AuthContext> auth_context = context.auth_context();
  if (auth_context != nullptr) {
    const std::vector<grpc::string_ref> subjects =
        auth_context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
    if (!subjects.empty()) credentials.certificate_subject = std::string(View(subjects.front()));
  }
  return credentials;
}

}  // namespace

Status AccessCheck::Authenticate(std::string_view method,
                                 const grpc::CallbackServerContext& context,
                                 auth::Caller* caller) const {
  return Report(method, context, *caller, access_->Authenticate(CredentialsOf(context), caller));
}

Status AccessCheck::Admit(std::string_view method, const grpc::CallbackServerContext& context,
                          const auth::Caller& caller, std::optional<Priority> priority) const {
  return Report(method, context, caller,
                access_->Admit(caller, priority, std::chrono::steady_clock::now()));
}

Status AccessCheck::AdmitAdmin(std::string_view method, const grpc::CallbackServerContext& context,
                               const auth::Caller& caller) const {
  return Report(method, context, caller,
                access_->AdmitAdmin(caller, context.peer(), std::chrono::steady_clock::now()));
}

std::string AccessCheck::ClientDescription(const grpc::CallbackServerContext& context,
                                           const auth::Caller& caller) {
  const std::string who = caller.Describe();
  return who.empty() ? context.peer() : context.peer() + " " + who;
}

Status AccessCheck::Report(std::string_view method, const grpc::CallbackServerContext& context,
                           const auth::Caller& caller, Status status) const {
  if (!status.ok() && denied_ != nullptr && *denied_) {
    (*denied_)(method, context.peer(), caller.Describe(), static_cast<int>(status.code),
               status.message);
  }
  return status;
}

}  // namespace auroraedge::server::grpc_api
