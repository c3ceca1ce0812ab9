#include "large_allocations.h"

#include <malloc.h>

namespace auroraedge::server::app {

bool MapLargeAllocationsAlone(size_t bytes) {
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kHeapTopKeptBytes)) == 1;
}

}  // namespace auroraedge::server::app
