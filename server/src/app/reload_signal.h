#pragma once

// SIGHUP reloads the TLS certificate, key and client CA and the token file
// (GrpcServer::ReloadSecurity) and logs what was reloaded and what failed;
// it never stops or drains the server.
//
// Blocking SIGHUP and waiting for it with sigwait would not do: some threads
// start before main (OpenBLAS's pool) with no signal blocked, and the kernel
// hands a process-wide signal to any thread that does not block it, where
// its default action ends the process. So SIGHUP gets a handler, which runs
// on whichever thread receives it and only wakes a thread of its own (an
// eventfd write is async-signal-safe); that thread reloads.

#include <atomic>
#include <thread>

#include "auroraedge/server/grpc_server.h"

namespace auroraedge::server::app {

// SIGHUP is ignored until a ReloadOnSighup exists and after it is gone. Call
// first in main.
void IgnoreReloadSignal();

// One at a time per process.
class ReloadOnSighup {
 public:
  // `server` (not owned) must outlive this object. Throws std::system_error.
  explicit ReloadOnSighup(GrpcServer* server);
  ~ReloadOnSighup();  // SIGHUP ignored again; the thread stopped and joined
  ReloadOnSighup(const ReloadOnSighup&) = delete;
  ReloadOnSighup& operator=(const ReloadOnSighup&) = delete;

 private:
  void Run();

  GrpcServer* const server_;
  const int wake_fd_;  // eventfd: the handler and the destructor write, Run reads
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace auroraedge::server::app
