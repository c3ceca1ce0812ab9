#pragma once

#include <string>

namespace auroraedge::preprocessing {

// Throws PreprocessError "images[<image_index>].<field>: <problem>".
[[noreturn]] void RejectField(int image_index, const std::string& field,
                              const std::string& problem);

}  // namespace auroraedge::preprocessing
