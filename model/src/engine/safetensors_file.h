#pragma once

// A safetensors file, memory-mapped read-only. Tensors handed out alias the
// mapping (no copy); each keeps the mapping alive.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pch.h"

namespace auroraedge::model {

struct SafetensorsEntry {
  std::string dtype;  // as the file spells it: "F32", "BF16", "F16", "I64", ...
  std::vector<int64_t> shape;
  size_t begin = 0;  // byte offsets into the data section
  size_t end = 0;
};

class SafetensorsFile : public std::enable_shared_from_this<SafetensorsFile> {
 public:
  // Maps the file and parses its header. `display_name` names the file in
  // errors. Throws ModelLoadError.
  static std::shared_ptr<SafetensorsFile> Open(const std::string& path,
                                               const std::string& display_name);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::string& name() const { return name_; }

  // A CPU tensor over the mapped bytes of `tensor_name` (F32, BF16, F16 or
  // I64).
  // The mapping is read-only: writing through the tensor faults.
  at::Tensor Get(const std::string& tensor_name) const;

  // Gives the mapped pages back to the kernel once the weights that were
  // copied out (packed, cast or moved to a device) are built: their pages
  // would otherwise stay resident beside the copies. Tensors still read
  // through the mapping fault their pages back in from the page cache.
  void ReleaseResidentPages() const;

 private:
  SafetensorsFile(std::string name, void* map, size_t size, size_t data_offset);

  std::string name_;
  void* map_ = nullptr;
  size_t size_ = 0;
  size_t data_offset_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
};

// The ScalarType of a safetensors dtype string; Undefined for dtypes the
// engine does not load.
at::ScalarType SafetensorsScalarType(const std::string& dtype);

}  // namespace auroraedge::model
