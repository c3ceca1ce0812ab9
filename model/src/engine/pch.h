#pragma once

// Precompiled for every translation unit of auroraedge_model: LibTorch's
// headers dominate the build time on a 2-core machine.

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/script.h>
