#pragma once

#include <cstdint>

#include "kv_cache.h"

namespace auroraedge::model {

// The rows [offset, offset + length) of a packed batch belong to one
// sequence whose cache already holds `past` positions. Not owning.
struct CacheSegment {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t past = 0;
  SequenceKvCache* cache = nullptr;
};

}  // namespace auroraedge::model
