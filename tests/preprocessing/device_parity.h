#pragma once

#include <c10/core/Device.h>

namespace auroraedge::preprocessing::testing {

// Raw frames of every format, with padded strides, regions of interest and
// sizes that shrink, grow and do both, through Preprocess() (the CPU path)
// and PreprocessRawFrameOn(device): identical grids and source sizes, zero
// padding rows, every value within one 8-bit grey level. Catch2 assertions.
void CheckParityWithCpuPath(c10::Device device);

}  // namespace auroraedge::preprocessing::testing
