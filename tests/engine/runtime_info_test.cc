#include "auroraedge/model/runtime_info.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

namespace auroraedge::model {
namespace {

TEST_CASE("available cores come from the affinity mask") {
  CHECK(AvailableCores() >= 1);
  CHECK(GetRuntimeInfo().available_cores == AvailableCores());
}

TEST_CASE("intra-op threads take every core of a small box and leave one on a big one") {
  CHECK(IntraOpThreadsForCores(1) == 1);
  CHECK(IntraOpThreadsForCores(2) == 2);
  CHECK(IntraOpThreadsForCores(4) == 4);
  CHECK(IntraOpThreadsForCores(5) == 4);
  CHECK(IntraOpThreadsForCores(16) == 15);
  CHECK(DefaultIntraOpThreads() == IntraOpThreadsForCores(AvailableCores()));
}

TEST_CASE("the intra-op thread count is set, 0 meaning the default") {
  CHECK(SetIntraOpThreads(2) == 2);
  CHECK(GetRuntimeInfo().intra_op_threads == 2);
  CHECK(SetIntraOpThreads(0) == DefaultIntraOpThreads());
  CHECK(GetRuntimeInfo().intra_op_threads == DefaultIntraOpThreads());
}

TEST_CASE("OpenBLAS's own thread pool follows the intra-op thread count") {
  // Which BLAS is loaded decides what to expect: scripts/setup.sh points
  // libblas.so.3 at OpenBLAS, whose pool must follow; another BLAS (MKL in
  // the official CUDA LibTorch) has none, reported as 0. Either way the
  // reported count must match the library, so a pool that stopped
  // following, or an OpenBLAS no longer recognised, fails here.
  const std::string blas = GetRuntimeInfo().blas_library;
  INFO("BLAS library: " << blas);
  const bool openblas = blas.find("openblas") != std::string::npos;
  SetIntraOpThreads(2);
  CHECK(GetRuntimeInfo().blas_threads == (openblas ? 2 : 0));
  SetIntraOpThreads(1);
  CHECK(GetRuntimeInfo().blas_threads == (openblas ? 1 : 0));
}

TEST_CASE("the BLAS library LibTorch loaded is resolved to a real file") {
  const RuntimeInfo info = GetRuntimeInfo();
  CHECK(!info.torch_version.empty());
  REQUIRE(!info.blas_library.empty());
  const std::filesystem::path blas(info.blas_library);
  CHECK(blas.is_absolute());
  CHECK(std::filesystem::is_regular_file(blas));
  CHECK(!std::filesystem::is_symlink(blas));
}

TEST_CASE("OpenBLAS's threading flavour is read from the library LibTorch loaded") {
  const RuntimeInfo info = GetRuntimeInfo();
  // Debian installs each flavour in a folder of its name.
  const bool openmp = info.blas_library.find("openblas-openmp") != std::string::npos;
  const bool pthread = info.blas_library.find("openblas-pthread") != std::string::npos;
  REQUIRE((openmp || pthread));
  CHECK(info.blas_threading == (openmp ? "openmp" : "pthread"));
}

}  // namespace
}  // namespace auroraedge::model
