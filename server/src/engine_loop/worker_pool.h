#pragma once

// A fixed set of threads running posted jobs in order of arrival. The
// preprocessing workers: image decoding never runs on the engine thread.
//
// Threading: Post is thread-safe. The destructor runs the jobs already
// posted, then joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace auroraedge::server {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);  // at least one thread
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Jobs must not throw.
  void Post(std::function<void()> job);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;  // guarded
  bool stopping_ = false;                   // guarded
  std::vector<std::thread> threads_;
};

}  // namespace auroraedge::server
