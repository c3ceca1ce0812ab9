#include "input_error.h"

#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::preprocessing {

void RejectField(int image_index, const std::string& field, const std::string& problem) {
  throw PreprocessError("images[" + std::to_string(image_index) + "]." + field + ": " + problem);
}

}  // namespace auroraedge::preprocessing
