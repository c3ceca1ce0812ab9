#pragma once

// Process memory and memory bandwidth, measured the same way on every run.

#include <cstdint>

namespace auroraedge::model::bench {

// VmRSS and VmHWM of this process, in bytes (from /proc/self/status).
int64_t ResidentBytes();
int64_t PeakResidentBytes();

// Sustained read bandwidth in bytes/s: the best of `repeats` sums over a
// `bytes` float32 buffer, with LibTorch's intra-op threads (the same
// threads and instructions that stream the weights during decode).
double MeasureReadBandwidth(int64_t bytes, int repeats);

}  // namespace auroraedge::model::bench
