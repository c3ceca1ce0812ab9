// PackedLinear allocates no buffer once a row count has run: every heap
// allocation of this executable (LibTorch's, oneDNN's and the library's,
// C and C++) goes through the recording malloc family below, which hands
// them to glibc's own entry points. oneDNN 2.6's execute itself allocates
// a few small nodes per call (it copies the arguments into a hash map), so
// the test bounds the size of what is allocated, and its count per call.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>

#include "auroraedge/model/packed_linear.h"
#include "packed_linear_tensor.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {
std::atomic<long> allocations{0};
std::atomic<size_t> largest{0};  // the largest allocation since the last reset

void Record(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  size_t seen = largest.load(std::memory_order_relaxed);
  while (size > seen && !largest.compare_exchange_weak(seen, size)) {
  }
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  Record(size);
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  Record(count * size);
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  Record(size);
  return __libc_realloc(pointer, size);
}
void* memalign(size_t alignment, size_t size) {
  Record(size);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }
int posix_memalign(void** out, size_t alignment, size_t size) {
  void* pointer = memalign(alignment, size);
  if (!pointer) return ENOMEM;
  *out = pointer;
  return 0;
}
}

namespace auroraedge::model {
namespace {

TEST_CASE("running a packed layer again allocates no buffer, on 1 and 2 threads") {
  const int threads = at::get_num_threads();
  for (const LinearWeights kind : {LinearWeights::kFloat32, LinearWeights::kInt8}) {
    const auto linear = PackLinear({at::randn({96, 64}), at::randn({32, 64})},
                                   {at::randn({96}), at::Tensor()}, kind);
    const auto x = at::randn({300, 64});  // three pieces: 256, 32 and 12 rows
    auto y = at::empty({300, 128});
    for (const int t : {1, 2}) {
      at::set_num_threads(t);
      LinearInto(linear, x, y);  // builds this row count's kernels
      const long before = allocations.load();
      largest = 0;
      constexpr int kCalls = 20;
      for (int i = 0; i < kCalls; ++i) LinearInto(linear, x, y);
      INFO(LinearWeightsName(kind) << " on " << t << " threads");
      // oneDNN's execute: about 6 nodes of at most 513 bytes (its hash map
      // of the arguments); a piece's buffer would be 2.8 KB or more.
      CHECK(largest.load() <= 1024);
      CHECK(allocations.load() - before <= kCalls * 3 * 7);
    }
  }
  at::set_num_threads(threads);
}

TEST_CASE("the recorder sees LibTorch's and plain allocations and their size") {
  const long before = allocations.load();
  largest = 0;
  const auto t = at::empty({1 << 20});
  void* p = std::malloc(64);
  std::free(p);
  CHECK(allocations.load() >= before + 2);
  CHECK(largest.load() >= size_t{4} << 20);
}

}  // namespace
}  // namespace auroraedge::model
