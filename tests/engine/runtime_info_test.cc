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

TEST_CASE("the default intra-op thread count leaves one core to the rest of the server") {
  CHECK(DefaultIntraOpThreads() == std::max(1, AvailableCores() - 1));
}

TEST_CASE("the intra-op thread count is set, 0 meaning the default") {
  CHECK(SetIntraOpThreads(2) == 2);
  CHECK(GetRuntimeInfo().intra_op_threads == 2);
  CHECK(SetIntraOpThreads(0) == DefaultIntraOpThreads());
  CHECK(GetRuntimeInfo().intra_op_threads == DefaultIntraOpThreads());
}

TEST_CASE("OpenBLAS's own thread pool follows the intra-op thread count") {
  if (GetRuntimeInfo().blas_threads == 0) return;  // not OpenBLAS: nothing to follow
  SetIntraOpThreads(2);
  CHECK(GetRuntimeInfo().blas_threads == 2);
  SetIntraOpThreads(1);
  CHECK(GetRuntimeInfo().blas_threads == 1);
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

}  // namespace
}  // namespace auroraedge::model
