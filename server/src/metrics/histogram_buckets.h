#pragma once

// Histogram bucket upper bounds, in seconds or items. Chosen for this
// service: a token step takes milliseconds to tens of milliseconds on the
// small model and up to a few hundred on the full one on CPU, a request from
// tens of milliseconds to a minute. deploy/README.md lists them with the
// metrics that use them.

#include <vector>

namespace auroraedge::server {

// End-to-end, time to first token, queue, per-stage and gRPC call durations:
// 1 ms .. 60 s, about 2.5x apart.
inline const std::vector<double> kRequestLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

// Inter-token latency and engine step time: 1 ms .. 2 s, finer in the
// 10-100 ms range where decode steps fall.
inline const std::vector<double> kTokenLatencyBuckets = {
    0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2};

// Vision and decode batch sizes.
inline const std::vector<double> kBatchSizeBuckets = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};

}  // namespace auroraedge::server
