#pragma once

// Loading a TorchScript part of the model directory.

#include <string>
#include <vector>

#include "pch.h"

namespace auroraedge::model {

// Loads `path` onto `device`, converts its floating parameters to `dtype`,
// switches it to eval mode and checks that it has every method in
// `methods`. Throws ModelLoadError naming `display_name`.
torch::jit::Module LoadScriptModule(const std::string& path, const std::string& display_name,
                                    const std::vector<std::string>& methods,
                                    const at::Device& device, at::ScalarType dtype);

// Bytes of the module's parameters whose names start with `prefix`.
int64_t ParameterBytes(const torch::jit::Module& module, const std::string& prefix = "");

// Throws std::runtime_error naming the module's output when `t` does not
// have `expected` sizes: a model directory whose TorchScript disagrees with
// its config.
void CheckOutputShape(const std::string& what, const at::Tensor& t,
                      const std::vector<int64_t>& expected);

}  // namespace auroraedge::model
