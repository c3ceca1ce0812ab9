#pragma once

// Process memory and memory bandwidth, measured the same way on every run.

#include <cstdint>
#include <string>

namespace auroraedge::model::bench {

// VmRSS and VmHWM of this process, in bytes (from /proc/self/status).
int64_t ResidentBytes();
int64_t PeakResidentBytes();

// Sustained memory bandwidth of `device` in bytes/s, the best of `repeats`:
// on the CPU, sums over a `bytes` float32 buffer with LibTorch's intra-op
// threads (the threads and instructions that stream the weights during
// decode); on a GPU, a device-to-device copy of `bytes`, counting the bytes
// read and written.
double MeasureBandwidth(const std::string& device, int64_t bytes, int repeats);

// Waits for the device's queued work (nothing to wait for on the CPU).
void Synchronize(const std::string& device);

}  // namespace auroraedge::model::bench
