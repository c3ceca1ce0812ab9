#pragma once

// The engine thread's mailbox: new requests from Submit, finished
// preprocessing jobs from the workers, and wake-ups (Cancel). The engine
// thread takes everything at once after each plan and sleeps here when it
// has nothing to do.
//
// Threading: every method is thread-safe.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "auroraedge/server/status.h"
#include "live_request.h"

namespace auroraedge::server {

class EngineInbox {
 public:
  struct Mail {
    std::vector<std::unique_ptr<LiveRequest>> requests;
    std::vector<PreprocessedImages> preprocessed;
  };

  // Calls `admit` (the scheduler's Add) and queues the request when it
  // answers OK, both under the inbox's lock: once the scheduler has planned
  // a request, a Take that follows the plan always finds it. UNAVAILABLE
  // once closed.
  Status Admit(std::unique_ptr<LiveRequest> request, const std::function<Status()>& admit);
  void PostPreprocessed(PreprocessedImages images);
  void Wake();

  Mail Take();
  // Returns when something was posted or woken since the last Take, when
  // closed, or at `until`.
  void WaitUntil(std::optional<TimePoint> until);

  // From now on Admit answers UNAVAILABLE and the engine loop ends.
  void Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable signal_;
  Mail mail_;              // guarded
  bool signaled_ = false;  // guarded
  bool closed_ = false;    // guarded
};

}  // namespace auroraedge::server
