// auroraedge_preprocessing_torch on cuda against the CPU path. CTest label
// gpu; exits 77 (CTest: skipped) with a message where there is no GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <iostream>

#include "device_parity.h"

#ifdef AURORAEDGE_CUDA
#include <torch/cuda.h>
#endif

TEST_CASE("on cuda, raw frames match the CPU path within one grey level") {
  auroraedge::preprocessing::testing::CheckParityWithCpuPath(c10::Device(c10::kCUDA));
}

int main(int argc, char** argv) {
  constexpr int kSkipped = 77;
#ifdef AURORAEDGE_CUDA
  if (!torch::cuda::is_available()) {
    std::cout << "skipped: LibTorch sees no CUDA device\n";
    return kSkipped;
  }
  return Catch::Session().run(argc, argv);
#else
  (void)argc;
  (void)argv;
  std::cout << "skipped: built without -DAURORAEDGE_CUDA=ON\n";
  return kSkipped;
#endif
}
