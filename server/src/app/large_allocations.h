#pragma once

// Gives every large block (model weights, KV caches, big activations) a
// mapping of its own, returned to the system when it is freed. glibc's
// default moves its mmap threshold up to the size of each mapped block that
// is freed (up to 32 MiB); from then on blocks of that size come from the
// heap, where freeing them does not shrink the process. A replaced model's
// weights then stayed resident: measured with a model whose 75 MB of
// weights are 25 MB blocks, six swaps to it and back left the server at
// 248, 253, 250, 299, 311 and 307 MiB against 207 MiB before the first
// (test_model_swap.py); with the threshold fixed, 213-218 MiB. Call once,
// before anything large is allocated.

#include <cstddef>

namespace auroraedge::server::app {

inline constexpr size_t kLargeAllocationBytes = size_t{4} << 20;
// Fixing the threshold also fixes glibc's trim threshold (the free memory
// at the heap's top given back at once) at 128 KiB, where the dynamic one
// had grown with it: each serving step then gave back and faulted in its
// buffers again (16 streams of the demo model: 1,160 -> 944 tokens/s).
// The heap is trimmed when the server goes idle (idle_heap_trim.h) and
// when a model is released instead.
inline constexpr size_t kHeapTopKeptBytes = size_t{64} << 20;

// Fixes glibc's mmap threshold at `bytes` (which also stops it moving) and
// its trim threshold at kHeapTopKeptBytes. False when glibc refuses.
bool MapLargeAllocationsAlone(size_t bytes = kLargeAllocationBytes);

}  // namespace auroraedge::server::app
