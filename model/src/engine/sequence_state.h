#pragma once

// What the engine keeps per sequence between steps.

#include <cstdint>
#include <memory>
#include <vector>

#include "kv_cache.h"
#include "pch.h"

namespace auroraedge::model {

struct SequenceState {
  std::vector<int32_t> prompt;
  // Per prompt position: the row of `visual_rows` spliced there, or -1 for
  // a text token.
  std::vector<int32_t> visual_row;
  at::Tensor visual_rows;       // [images * visual_tokens_per_image, hidden]
  int64_t reserved_tokens = 0;  // prompt + max_new_tokens
  int64_t num_computed = 0;     // positions held by the decoder cache
  std::unique_ptr<SequenceKvCache> cache;
  // Fusion layer (compressed path): cross-attention K/V of the request's
  // visual rows [1, 2, heads, N_v, head_dim], the causal self-attention
  // cache (one layer) and the text tokens it holds.
  at::Tensor cross;
  std::unique_ptr<SequenceKvCache> fusion_cache;
  int64_t num_text_fused = 0;
};

}  // namespace auroraedge::model
