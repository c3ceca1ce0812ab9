#pragma once

#include "auroraedge/model/model_runner.h"
#include "pch.h"

namespace auroraedge::model {

struct VisualFeatures::Impl {
  // Rows spliced at the image's placeholders: the compressed tokens C
  // (compressed path) or all max_num_patches rows of V, padded rows zero
  // (baseline).
  at::Tensor splice_rows;
  // The valid rows of V, which the fusion layer cross-attends to
  // (compressed path only).
  at::Tensor valid_rows;
};

}  // namespace auroraedge::model
