#pragma once

// Deterministic mixed text for the tokenizer benchmark: inspection reports,
// English prose, German, Chinese, Japanese and Korean, code, numbers and
// emoji, cut into documents the size of prompts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace auroraedge::model::bench {

// Documents of about `document_bytes` each, `total_bytes` in all.
std::vector<std::string> MixedDocuments(size_t total_bytes, size_t document_bytes, uint32_t seed);

}  // namespace auroraedge::model::bench
