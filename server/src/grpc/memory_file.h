#pragma once

// A file that lives only in memory (memfd_create) and is reached by a path,
// /proc/self/fd/N, for readers that take a path: gRPC's
// FileWatcherCertificateProvider. Replace swaps the whole content at once
// (dup3 onto the same descriptor), so a reader opens either the old or the
// new version, never a mix; each version gets its own modification time so
// that the provider, which compares times before and after it reads, notices
// a swap in the middle of its read and reads again. Private keys put here
// never touch a disk and are gone with the process.
//
// Threading: Replace from one thread at a time; readers may open path() at
// any time.

#include <cstdint>
#include <string>

namespace auroraedge::server::grpc_api {

class MemoryFile {
 public:
  // Throws std::system_error when the kernel refuses.
  explicit MemoryFile(const std::string& content);
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  const std::string& path() const { return path_; }

  // Throws std::system_error; the old content stays then.
  void Replace(const std::string& content);

 private:
  int fd_ = -1;
  std::string path_;
  int64_t version_ = 0;
};

}  // namespace auroraedge::server::grpc_api
