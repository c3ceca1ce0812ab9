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
  // How OpenBLAS was built to run threads: "openmp" (on LibTorch's libgomp
  // pool, the flavour scripts/setup.sh installs), "pthread" (a pool of its
  // own beside LibTorch's), "sequential"; "" for other BLAS libraries.
  std::string blas_threading;
  // OMP_WAIT_POLICY from the environment, which libgomp reads once, when
  // it is loaded ("" when unset: idle workers spin about 3.5 ms, then sleep).
  std::string omp_wait_policy;
  int available_cores = 0;  // cores this process may run on
};

RuntimeInfo GetRuntimeInfo();

// Cores in this process's affinity mask (sched_getaffinity), at least 1.
int AvailableCores();

// The intra-op thread count for a box of `cores` cores: all of them up to
// 4 cores, one less above. LibTorch, oneDNN and OpenBLAS (the OpenMP
// flavour scripts/setup.sh installs) share one libgomp pool whose idle
// workers spin about 3.5 ms and then sleep (OMP_WAIT_POLICY unset), so a
// server thread (gRPC, image preparation) competes with them only while the
// engine works. On a small box the engine's work is nearly all of the CPU:
// on 2 cores, 2 threads gave the packed linears of the 0.5B- and 2b-shaped
// decoders 1.6-1.9x the decode and prefill tokens/s of 1 thread, and
// 0.8-0.96x with a neighbour keeping one core busy (auroraedge-linear-bench).
// From 5 cores on, one core stays with gRPC, image preparation and the OS
// at a small cost: a 16-core box runs 15 intra-op threads.
int IntraOpThreadsForCores(int cores);

// IntraOpThreadsForCores(AvailableCores()): the count used when none is
// asked for.
int DefaultIntraOpThreads();

// Sets LibTorch's intra-op thread count, and OpenBLAS's own pool to the
// same; 0 means DefaultIntraOpThreads(). Returns the count set. Call once,
// before the first inference: LibTorch's thread pool cannot be resized
// reliably once it has run work.
int SetIntraOpThreads(int threads);

}  // namespace auroraedge::model
