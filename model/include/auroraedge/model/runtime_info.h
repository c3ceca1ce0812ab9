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
  int blas_threads = 0;      // OpenBLAS's own thread pool; 0 for other BLAS libraries
  int available_cores = 0;   // cores this process may run on
};

RuntimeInfo GetRuntimeInfo();

// Cores in this process's affinity mask (sched_getaffinity), at least 1.
int AvailableCores();

// The intra-op thread count used when none is asked for: the available
// cores less one, at least 1. The engine thread is one of the intra-op
// threads, and the left-out core runs gRPC, preprocessing and streaming:
// on a 2-core box two intra-op threads wait on each other whenever the
// rest of the server (or a neighbour) takes a core, and a single stream's
// time to first token grows about sevenfold.
int DefaultIntraOpThreads();

// Sets LibTorch's intra-op thread count, and OpenBLAS's own pool to the
// same; 0 means DefaultIntraOpThreads(). Returns the count set. Call once,
// before the first inference: LibTorch's thread pool cannot be resized
// reliably once it has run work.
int SetIntraOpThreads(int threads);

}  // namespace auroraedge::model
