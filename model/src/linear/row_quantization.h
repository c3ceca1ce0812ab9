#pragma once

// The int8 path's arithmetic around oneDNN's int8 matmul: symmetric scales
// (largest magnitude -> 127) of the rows of a matrix: the weights' output
// channels and the input rows, and the fp32 output rebuilt from the int32 sums.

#include <cstdint>

namespace auroraedge::model {

// quantized[r][i] = round(x[r][i] / scales[r]) with scales[r] the row's
// largest magnitude / 127. A row that is all zeros gets scale 0; a row
// holding NaN or infinity gets scale NaN (its outputs become NaN, as in
// fp32) and zeros.
void QuantizeRows(const float* x, int64_t rows, int64_t features, int8_t* quantized, float* scales);

// y[r][c] = y[r][c] * row_scales[r] * channel_scales[c] + bias[c], in
// place; y holds the int32 sums as floats. bias may be null.
void ScaleOutputs(const float* row_scales, const float* channel_scales, const float* bias,
                  int64_t rows, int64_t out, float* y);

}  // namespace auroraedge::model
