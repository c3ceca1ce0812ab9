#include "auroraedge/model/runtime_info.h"

#include <ATen/Parallel.h>
#include <link.h>
#include <sched.h>
#include <torch/version.h>

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

}  // namespace

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? count : 1;
}

int SetIntraOpThreads(int threads) {
  const int count = threads > 0 ? threads : AvailableCores();
  at::set_num_threads(count);
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
  info.available_cores = AvailableCores();
  return info;
}

}  // namespace auroraedge::model
