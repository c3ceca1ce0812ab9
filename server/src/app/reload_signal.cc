#include "reload_signal.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace auroraedge::server::app {
namespace {

// The eventfd the handler writes to; -1 when no ReloadOnSighup exists.
std::atomic<int> handler_wake_fd{-1};

void Wake(int fd) {
  const uint64_t one = 1;
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

extern "C" void OnSighup(int) {
  const int saved_errno = errno;
  const int fd = handler_wake_fd.load();
  if (fd >= 0) Wake(fd);
  errno = saved_errno;
}

void SetSighupAction(void (*action)(int)) {
  struct sigaction handling {};
  handling.sa_handler = action;
  sigemptyset(&handling.sa_mask);
  handling.sa_flags = SA_RESTART;  // the threads it interrupts go on with their calls
  sigaction(SIGHUP, &handling, nullptr);
}

int NewEventFd() {
  const int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd for SIGHUP");
  return fd;
}

void Log(const std::vector<ReloadOutcome>& outcomes) {
  if (outcomes.empty()) {
    spdlog::info("SIGHUP: nothing to reload (no --tls-cert, no --token-file)");
  }
  for (const ReloadOutcome& outcome : outcomes) {
    if (outcome.reloaded) {
      spdlog::info("SIGHUP: reloaded the {}: {}", outcome.what, outcome.detail);
    } else {
      spdlog::error("SIGHUP: cannot reload the {}: {}", outcome.what, outcome.detail);
    }
  }
}

}  // namespace

void IgnoreReloadSignal() { SetSighupAction(SIG_IGN); }

ReloadOnSighup::ReloadOnSighup(GrpcServer* server) : server_(server), wake_fd_(NewEventFd()) {
  thread_ = std::thread([this] { Run(); });
  handler_wake_fd = wake_fd_;
  SetSighupAction(OnSighup);
}

ReloadOnSighup::~ReloadOnSighup() {
  SetSighupAction(SIG_IGN);
  handler_wake_fd = -1;
  stopping_ = true;
  Wake(wake_fd_);
  thread_.join();
  // wake_fd_ stays open: a handler that began before SIG_IGN took effect may
  // still write to it, and a closed number could already be another file.
}

void ReloadOnSighup::Run() {
  while (true) {
    uint64_t signals = 0;  // SIGHUPs since the last read: one reload for all
    if (read(wake_fd_, &signals, sizeof signals) < 0 && errno == EINTR) continue;
    if (stopping_) return;
    Log(server_->ReloadSecurity());
  }
}

}  // namespace auroraedge::server::app
