#include "row_quantization.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace auroraedge::model {
namespace {

constexpr float kInt8Max = 127.0f;

// Rows per task so that a task has at least this many elements: the small
// decode rows stay on the calling thread.
constexpr int64_t kElementsPerTask = 32768;

int64_t RowGrain(int64_t features) { return std::max<int64_t>(1, kElementsPerTask / features); }

float LargestMagnitude(const float* row, int64_t n) {
  float largest = 0.0f;
  for (int64_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(row[i]));
  return largest;
}

// Nearest integer, ties to even (the default rounding mode's), for
// |v| < 2^22: adding 1.5 * 2^23 leaves no bits for the fraction. Unlike
// std::nearbyint it needs no libm call per element (baseline x86-64 has no
// rounding instruction), so the loop vectorizes; int8 prefill spent a
// third of its time in nearbyintf.
float RoundToNearest(float v) {
  constexpr float kShift = 12582912.0f;
  return (v + kShift) - kShift;
}

bool AllFinite(const float* row, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(row[i])) return false;
  return true;
}

}  // namespace

void QuantizeRows(const float* x, int64_t rows, int64_t features, int8_t* quantized,
                  float* scales) {
  at::parallel_for(0, rows, RowGrain(features), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* row = x + r * features;
      int8_t* out = quantized + r * features;
      const float largest = LargestMagnitude(row, features);
      // Checked apart: std::max drops NaN, so a row of NaN has largest 0.
      if (largest == 0.0f || !AllFinite(row, features)) {
        for (int64_t i = 0; i < features; ++i) out[i] = 0;
        scales[r] = AllFinite(row, features) ? 0.0f : std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      const float inverse = kInt8Max / largest;
      for (int64_t i = 0; i < features; ++i)
        out[i] =
            static_cast<int8_t>(std::clamp(RoundToNearest(row[i] * inverse), -kInt8Max, kInt8Max));
      scales[r] = largest / kInt8Max;
    }
  });
}

void ScaleOutputs(const float* row_scales, const float* channel_scales, const float* bias,
                  int64_t rows, int64_t out, float* y) {
  at::parallel_for(0, rows, RowGrain(out), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = y + r * out;
      const float scale = row_scales[r];
      if (bias) {
        for (int64_t c = 0; c < out; ++c) row[c] = row[c] * scale * channel_scales[c] + bias[c];
      } else {
        for (int64_t c = 0; c < out; ++c) row[c] = row[c] * scale * channel_scales[c];
      }
    }
  });
}

}  // namespace auroraedge::model
