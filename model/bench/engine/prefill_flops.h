#pragma once

// Analytic FLOP counts (multiply-add = 2 FLOPs) of one prefill, for the
// compressed-vs-baseline comparison.

#include <cstdint>

#include "auroraedge/model/model_config.h"

namespace auroraedge::model::bench {

// The decoder over `length` positions from an empty cache, logits of the
// last position only (as the engine computes them).
double DecoderPrefillFlops(const ModelConfig& config, int64_t length);

// The fusion layer over `text_tokens` text tokens with cross-attention to
// `visual_rows` rows (compressed path), including the cross K/V projection.
double FusionPrefillFlops(const ModelConfig& config, int64_t text_tokens, int64_t visual_rows);

}  // namespace auroraedge::model::bench
