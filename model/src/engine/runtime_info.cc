#include "auroraedge/model/runtime_info.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <torch/version.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

namespace auroraedge::model {
namespace {

// dl_iterate_phdr callback: remembers the first loaded object whose file
// name starts with "libblas.so".
int FindBlas(struct dl_phdr_info* info, size_t, void* data) {
  const std::string path = info->dlpi_name ? info->dlpi_name : "";
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.rfind("libblas.so", 0) != 0) return 0;
  *static_cast<std::string*>(data) = path;
  return 1;
}

// OpenBLAS keeps its own thread count, which at::set_num_threads does not
// reach; built with pthreads (Debian's libopenblas0-pthread) it also keeps
// its own pool, whose idle workers spin on sched_yield beside LibTorch's
// OpenMP workers (2 threads ran prefill at 0.68-0.87x of 1 thread that way;
// model/bench/linear/thread_pools.py). Looked up at run time: other BLAS
// libraries lack these functions.
template <typename Function>
Function* OpenBlasFunction(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? count : 1;
}

int IntraOpThreadsForCores(int cores) {
  constexpr int kAllCoresUpTo = 4;
  return cores <= kAllCoresUpTo ? std::max(1, cores) : cores - 1;
}

int DefaultIntraOpThreads() { return IntraOpThreadsForCores(AvailableCores()); }

int SetIntraOpThreads(int threads) {
  const int count = threads > 0 ? threads : DefaultIntraOpThreads();
  at::set_num_threads(count);
  if (auto* set_blas_threads = OpenBlasFunction<void(int)>("openblas_set_num_threads"))
    set_blas_threads(count);
  return count;
}

RuntimeInfo GetRuntimeInfo() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  std::string blas;
  dl_iterate_phdr(&FindBlas, &blas);
  if (!blas.empty()) {
    char resolved[PATH_MAX];
    info.blas_library = realpath(blas.c_str(), resolved) ? resolved : blas;
  }
  info.intra_op_threads = at::get_num_threads();
  if (auto* blas_threads = OpenBlasFunction<int()>("openblas_get_num_threads"))
    info.blas_threads = blas_threads();
  if (auto* parallel = OpenBlasFunction<int()>("openblas_get_parallel")) {
    static const char* const kThreading[] = {"sequential", "pthread", "openmp"};
    const int kind = parallel();
    info.blas_threading = kind >= 0 && kind <= 2 ? kThreading[kind] : "unknown";
  }
  if (const char* policy = std::getenv("OMP_WAIT_POLICY")) info.omp_wait_policy = policy;
  info.available_cores = AvailableCores();
  return info;
}

}  // namespace auroraedge::model
