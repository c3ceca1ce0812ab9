#include "script_module.h"

#include <catch2/catch.hpp>
#include <filesystem>

namespace auroraedge::model {
namespace {

// The executor that respecializes per input shape cost the server 40-300 ms
// per image encode (every request brings its own grid and batch); the
// engine benchmark's warm TTFT shows the effect, this test the setting.
TEST_CASE("loading a TorchScript part turns off the shape-specializing executor") {
  torch::jit::getProfilingMode() = true;
  const auto path = std::filesystem::path(AURORAEDGE_TEST_MODEL_DIR) / "vision.pt";
  LoadScriptModule(path.string(), "vision.pt", {"forward"}, at::kCPU, at::kFloat);
  CHECK_FALSE(torch::jit::getProfilingMode());
}

}  // namespace
}  // namespace auroraedge::model
