#pragma once

// The requests in flight by their client-facing id: Cancel finds the
// request through it, Submit refuses an id already in flight, and WaitIdle
// waits until every accepted request has had its end delivered.
//
// Threading: every method is thread-safe.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "live_request.h"

namespace auroraedge::server {

class RequestRegistry {
 public:
  // False when `request_id` is already in flight. Otherwise the request
  // counts as in flight until Finished.
  bool Insert(const std::string& request_id, std::shared_ptr<RequestControl> control);
  // The request's control, or null when no request has that id.
  std::shared_ptr<RequestControl> Find(const std::string& request_id) const;
  // The id may be used again; the request still counts until Finished.
  void ReleaseId(const std::string& request_id);
  void Finished();
  // True when nothing is in flight before the timeout.
  bool WaitEmpty(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable emptied_;
  std::unordered_map<std::string, std::shared_ptr<RequestControl>> ids_;  // guarded
  int in_flight_ = 0;                                                      // guarded
};

}  // namespace auroraedge::server
