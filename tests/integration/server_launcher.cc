#include "server_launcher.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

namespace auroraedge::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::minutes(10);

}  // namespace

ServerLauncher::ServerLauncher(const std::string& binary, const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_storage = {binary, "--listen", "127.0.0.1:0", "--metrics-listen",
                                           "off"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  log_fd_ = pipe_fds[0];
  WaitForPort();
  WaitServing();
}

ServerLauncher::~ServerLauncher() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (log_fd_ >= 0) close(log_fd_);
}

void ServerLauncher::WaitForPort() {
  const std::regex listening(R"(listening on \S+ \(port (\d+)\))");
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd poll_fd{log_fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, 1000) <= 0) continue;
    const ssize_t got = read(log_fd_, buffer, sizeof buffer);
    if (got <= 0) break;
    log_.append(buffer, static_cast<size_t>(got));
    std::smatch match;
    if (std::regex_search(log_, match, listening)) {
      address_ = "127.0.0.1:" + match[1].str();
      return;
    }
  }
  throw std::runtime_error("the server did not start listening:\n" + log_);
}

void ServerLauncher::WaitServing() {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the server exited during start-up:\n" + log_);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckResponse response;
    if (stub->Check(&context, {}, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  throw std::runtime_error("the server did not become SERVING:\n" + log_);
}

int ServerLauncher::Stop(int signal) {
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace auroraedge::testing
