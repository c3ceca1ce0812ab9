#include "memory_file.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace auroraedge::server::grpc_api {
namespace {

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

time_t ModificationTime(const std::string& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mtime;
}

}  // namespace

TEST_CASE("a memory file is read by its path; Replace swaps the content and the time") {
  MemoryFile file("first version");
  const std::string path = file.path();
  CHECK(Read(path) == "first version");
  const time_t first = ModificationTime(path);

  file.Replace("second, longer version");
  CHECK(file.path() == path);
  CHECK(Read(path) == "second, longer version");
  // Within the same second of wall time, yet a different time: what gRPC's
  // file watcher compares to notice a swap during its read.
  CHECK(ModificationTime(path) != first);

  // A reader that opened the first version keeps reading it.
  std::ifstream opened(path);
  file.Replace("third");
  std::stringstream text;
  text << opened.rdbuf();
  CHECK(text.str() == "second, longer version");
  CHECK(Read(path) == "third");
}

}  // namespace auroraedge::server::grpc_api
