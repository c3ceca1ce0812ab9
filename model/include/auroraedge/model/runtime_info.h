#pragma once

// What the math underneath the engine really is, for logs, benchmarks and
// /healthz-style reports. Plain C++: no LibTorch in this header.

#include <string>

namespace auroraedge::model {

struct RuntimeInfo {
  std::string torch_version;  // e.g. "1.13.0"
  // Real path of the BLAS library LibTorch calls (the loaded libblas.so.3
  // resolved through the Debian alternatives symlinks), or "" when none is
  // loaded.
  std::string blas_library;
  int intra_op_threads = 0;  // LibTorch's current intra-op thread count
  int available_cores = 0;   // cores this process may run on
};

RuntimeInfo GetRuntimeInfo();

// Cores in this process's affinity mask (sched_getaffinity), at least 1.
int AvailableCores();

// Sets LibTorch's intra-op thread count; 0 means AvailableCores(). Returns
// the count set. Call once, before the first inference: LibTorch's thread
// pool cannot be resized reliably once it has run work.
int SetIntraOpThreads(int threads);

}  // namespace auroraedge::model
