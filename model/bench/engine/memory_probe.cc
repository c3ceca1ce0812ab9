#include "memory_probe.h"

#include <ATen/ATen.h>

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

double MeasureReadBandwidth(int64_t bytes, int repeats) {
  const auto buffer = at::ones({bytes / 4}, at::kFloat);
  double best = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    buffer.sum().item<double>();  // item() waits for the sum
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::max(best, double(bytes) / elapsed.count());
  }
  return best;
}

}  // namespace auroraedge::model::bench
