#pragma once

// EngineOptions' strings turned into LibTorch types, with clear errors.

#include <string>

#include "pch.h"

namespace auroraedge::model {

// "cpu", or "cuda[:N]" in a build with AURORAEDGE_CUDA on a machine with a
// GPU. Throws std::invalid_argument naming EngineOptions.device.
at::Device ParseDevice(const std::string& device);

// "float32" or "bfloat16". Throws std::invalid_argument naming
// EngineOptions.dtype.
at::ScalarType ParseDtype(const std::string& dtype);

}  // namespace auroraedge::model
