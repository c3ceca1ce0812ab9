#include "auroraedge/model/runtime_info.h"

#include <catch2/catch.hpp>
#include <filesystem>

namespace auroraedge::model {
namespace {

TEST_CASE("available cores come from the affinity mask") {
  CHECK(AvailableCores() >= 1);
  CHECK(GetRuntimeInfo().available_cores == AvailableCores());
}

TEST_CASE("the intra-op thread count is set, 0 meaning the available cores") {
  CHECK(SetIntraOpThreads(1) == 1);
  CHECK(GetRuntimeInfo().intra_op_threads == 1);
  CHECK(SetIntraOpThreads(0) == AvailableCores());
  CHECK(GetRuntimeInfo().intra_op_threads == AvailableCores());
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
