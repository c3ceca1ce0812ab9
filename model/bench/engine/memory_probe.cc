#include "memory_probe.h"

#include <ATen/ATen.h>
#ifdef AURORAEDGE_CUDA
#include <torch/cuda.h>
#endif

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

namespace auroraedge::model::bench {
namespace {

int64_t StatusKilobytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

}  // namespace

int64_t ResidentBytes() { return StatusKilobytes("VmRSS"); }
int64_t PeakResidentBytes() { return StatusKilobytes("VmHWM"); }

void Synchronize(const std::string& device) {
#ifdef AURORAEDGE_CUDA
  if (device.rfind("cuda", 0) == 0) torch::cuda::synchronize();
#endif
}

double MeasureBandwidth(const std::string& device, int64_t bytes, int repeats) {
  const auto options = at::TensorOptions().dtype(at::kFloat).device(device);
  const bool cpu = device == "cpu";
  const auto source = at::ones({bytes / 4}, options);
  const auto target = cpu ? at::Tensor() : at::empty_like(source);
  double best = 0;
  for (int i = 0; i <= repeats; ++i) {
    Synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    if (cpu) {
      source.sum().item<double>();  // item() waits for the sum
    } else {
      target.copy_(source);
      Synchronize(device);
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    // The first round warms up (allocation, kernels).
    if (i > 0) best = std::max(best, double(cpu ? bytes : 2 * bytes) / elapsed.count());
  }
  return best;
}

}  // namespace auroraedge::model::bench
