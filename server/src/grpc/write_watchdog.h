#pragma once

// Cuts off streams whose client does not read. A Generate call writes one
// response at a time; a write completes only when HTTP/2 flow control lets
// it out, so a client that never opens its receive window holds the write
// (and the call, its reactor and gRPC's buffers) forever: no deadline of the
// client's, no callback of gRPC's and no buffer limit of the engine's ends
// it. Each stream registers here; one thread looks at them every quarter of
// the timeout and calls a stream's `cut` once its write has been pending for
// longer than the timeout. Plain C++; thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace auroraedge::server::grpc_api {

class WriteWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // One stream's write clock, shared by the stream and the watchdog.
  class Watch {
   public:
    explicit Watch(std::function<void()> cut) : cut_(std::move(cut)) {}
    void WriteStarted() { write_started_ = Clock::now().time_since_epoch().count(); }
    void WriteDone() { write_started_ = kNone; }
    // The stream is over: never cut it; the watchdog lets go of it.
    void Release() { released_ = true; }

   private:
    friend class WriteWatchdog;
    static constexpr Clock::rep kNone = 0;
    const std::function<void()> cut_;
    std::atomic<Clock::rep> write_started_{kNone};
    std::atomic<bool> released_{false};
    bool cut_done_ = false;  // the watchdog's thread only
  };

  // timeout 0: nothing is ever cut and no thread is started.
  explicit WriteWatchdog(std::chrono::milliseconds timeout);
  ~WriteWatchdog();  // stops the thread; `cut` is never called afterwards
  WriteWatchdog(const WriteWatchdog&) = delete;
  WriteWatchdog& operator=(const WriteWatchdog&) = delete;

  // Starts watching a stream. `cut` runs at most once, on the watchdog's
  // thread, without the watchdog's lock; it must not block and may be called
  // until Release (and shortly after, by a scan already under way: it must
  // stay safe to call, e.g. by holding a reference to the gRPC call).
  std::shared_ptr<Watch> Add(std::function<void()> cut);

  std::chrono::milliseconds timeout() const { return timeout_; }
  size_t watched() const;  // streams not yet let go of (for tests)

 private:
  void Run();
  // Drops released streams; returns those to cut now.
  std::vector<std::shared_ptr<Watch>> Scan(Clock::time_point now);

  const std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                        // guarded by mutex_
  std::vector<std::shared_ptr<Watch>> watches_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace auroraedge::server::grpc_api
