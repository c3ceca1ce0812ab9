#pragma once

// Starts the real auroraedge-server on a free loopback port (it logs the
// port it bound) and waits until its health service says SERVING.

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace auroraedge::testing {

class ServerLauncher {
 public:
  // Throws std::runtime_error with the server's log when it does not come up.
  ServerLauncher(const std::string& binary, const std::vector<std::string>& args);
  ~ServerLauncher();  // kills the server if it still runs
  ServerLauncher(const ServerLauncher&) = delete;
  ServerLauncher& operator=(const ServerLauncher&) = delete;

  const std::string& address() const { return address_; }
  // Sends `signal` and returns the exit status (-1 unless it exited normally).
  int Stop(int signal);

 private:
  void ReadLog();  // until the server closes its standard error
  void WaitForPort();
  void WaitServing();
  std::string Log();
  bool Exited();           // reaps the server when it has exited
  void Kill();             // SIGKILL unless it has exited, then Reap
  void Reap(int* status);  // waits for the exit, ends the log reader

  pid_t pid_ = -1;
  int log_fd_ = -1;
  std::thread log_reader_;
  std::mutex log_mutex_;
  std::string log_;  // guarded by log_mutex_
  std::string address_;
};

}  // namespace auroraedge::testing
