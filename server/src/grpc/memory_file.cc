#include "memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace auroraedge::server::grpc_api {
namespace {

[[noreturn]] void ThrowErrno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// A new memfd holding `content`, its modification time `version` seconds
// after the epoch: distinct for every version, whatever the clock does.
int NewVersion(const std::string& content, int64_t version) {
  const int fd = memfd_create("auroraedge-tls", MFD_CLOEXEC);
  if (fd < 0) ThrowErrno("memfd_create");
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      throw std::system_error(error, std::generic_category(), "writing a memfd");
    }
    written += static_cast<size_t>(n);
  }
  const timespec times[2] = {{static_cast<time_t>(version), 0}, {static_cast<time_t>(version), 0}};
  if (futimens(fd, times) != 0) {
    const int error = errno;
    close(fd);
    throw std::system_error(error, std::generic_category(), "futimens on a memfd");
  }
  return fd;
}

}  // namespace

MemoryFile::MemoryFile(const std::string& content) {
  fd_ = NewVersion(content, ++version_);
  path_ = "/proc/self/fd/" + std::to_string(fd_);
  // Readers find the file by this path only; without /proc they could not.
  const int reader = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) {
    const int error = errno;
    close(fd_);
    throw std::system_error(error, std::generic_category(),
                            "opening " + path_ + " (is /proc mounted?)");
  }
  close(reader);
}

MemoryFile::~MemoryFile() { close(fd_); }

void MemoryFile::Replace(const std::string& content) {
  const int next = NewVersion(content, version_ + 1);
  // dup3 keeps close-on-exec on fd_ (dup2 would clear it).
  if (dup3(next, fd_, O_CLOEXEC) < 0) {
    const int error = errno;
    close(next);
    throw std::system_error(error, std::generic_category(), "dup3 onto the memfd");
  }
  close(next);
  ++version_;
}

}  // namespace auroraedge::server::grpc_api
