#pragma once

// The engine thread's one queue: prepared requests and finished
// preprocessing jobs, and wake-ups for cancels (a cancel itself is a flag
// on the request, RequestControl). The engine thread takes everything at
// once before each plan and sleeps here when it has nothing to do.
//
// Threading: every method is thread-safe.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "live_request.h"

namespace auroraedge::server {

class EngineInbox {
 public:
  struct Mail {
    std::vector<std::unique_ptr<LiveRequest>> requests;
    std::vector<PreprocessedImages> preprocessed;
  };

  // Queues a prepared request. Once closed it is handed back (the caller
  // ends its stream) instead.
  std::unique_ptr<LiveRequest> PostRequest(std::unique_ptr<LiveRequest> request);
  void PostPreprocessed(PreprocessedImages images);
  void Wake();

  Mail Take();
  // Returns when something was posted since the last Take, when closed, or
  // at `until`.
  void WaitUntil(std::optional<TimePoint> until);

  // From now on PostRequest refuses and the engine loop ends.
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
