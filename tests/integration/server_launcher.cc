#include "server_launcher.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
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
  // Read the log all along, so that a chatty server never blocks on a full pipe.
  log_reader_ = std::thread([this] { ReadLog(); });
  try {
    WaitForPort();
    WaitServing();
  } catch (...) {
    Kill();
    throw;
  }
}

ServerLauncher::~ServerLauncher() { Kill(); }

void ServerLauncher::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
  Reap(nullptr);
}

bool ServerLauncher::Exited() {
  if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
  return pid_ <= 0;
}

void ServerLauncher::Reap(int* status) {
  if (pid_ > 0) waitpid(pid_, status, 0);
  pid_ = -1;
  if (log_reader_.joinable()) log_reader_.join();
  if (log_fd_ >= 0) close(log_fd_);
  log_fd_ = -1;
}

void ServerLauncher::ReadLog() {
  char buffer[4096];
  ssize_t got = 0;
  while ((got = read(log_fd_, buffer, sizeof buffer)) > 0) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    log_.append(buffer, static_cast<size_t>(got));
  }
}

std::string ServerLauncher::Log() {
  std::lock_guard<std::mutex> lock(log_mutex_);
  return log_;
}

void ServerLauncher::WaitForPort() {
  const std::regex listening(R"(listening on \S+ \(port (\d+)\))");
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string log = Log();
    std::smatch match;
    if (std::regex_search(log, match, listening)) {
      address_ = "127.0.0.1:" + match[1].str();
      return;
    }
    if (Exited()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the server did not start listening:\n" + Log());
}

void ServerLauncher::WaitServing() {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Exited()) throw std::runtime_error("the server exited during start-up:\n" + Log());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckResponse response;
    if (stub->Check(&context, {}, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  throw std::runtime_error("the server did not become SERVING:\n" + Log());
}

int ServerLauncher::Stop(int signal) {
  kill(pid_, signal);
  int status = 0;
  Reap(&status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace auroraedge::testing
