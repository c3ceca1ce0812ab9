#pragma once

// Hands freed heap memory back to the system once the server goes idle.
// glibc keeps the pages that a burst of requests freed, in every thread's
// arena, for reuse: after a burst of clients that never read (each stream
// cut after stream_write_timeout_ms, its request and buffers freed) the
// resident memory stays at the burst's peak although nothing holds it
// (measured: 200 such streams, 194 -> 258 MiB, and 258 MiB after they were
// gone; malloc_trim brought it to 213 MiB). Every `period` this checks
// whether the server is idle with calls ended since the last trim, and if
// so calls malloc_trim(0) on its own thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace auroraedge::server::app {

class IdleHeapTrim {
 public:
  // `ended_calls_when_idle`: the number of calls ended so far when none is
  // in flight, nullopt while some are. Called from the trimming thread.
  IdleHeapTrim(std::function<std::optional<uint64_t>()> ended_calls_when_idle,
               std::chrono::milliseconds period);
  ~IdleHeapTrim();  // stops the thread
  IdleHeapTrim(const IdleHeapTrim&) = delete;
  IdleHeapTrim& operator=(const IdleHeapTrim&) = delete;

  int trims() const;  // how many times memory was trimmed (for tests and logs)

 private:
  void Run();

  const std::function<std::optional<uint64_t>()> ended_calls_when_idle_;
  const std::chrono::milliseconds period_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  int trims_ = 0;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace auroraedge::server::app
