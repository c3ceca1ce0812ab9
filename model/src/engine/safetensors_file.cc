#include "safetensors_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "auroraedge/model/model_config.h"

namespace auroraedge::model {
namespace {

// Bounds the JSON header so that a corrupt length cannot make us parse
// gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

}  // namespace

at::ScalarType SafetensorsScalarType(const std::string& dtype) {
  if (dtype == "F32") return at::kFloat;
  if (dtype == "BF16") return at::kBFloat16;
  if (dtype == "F16") return at::kHalf;
  if (dtype == "I64") return at::kLong;
  return at::ScalarType::Undefined;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::Open(const std::string& path,
                                                       const std::string& display_name) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelLoadError(display_name + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw ModelLoadError(display_name + ": cannot stat: " + std::strerror(errno));
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw ModelLoadError(display_name + ": too short for a safetensors header (" +
                         std::to_string(size) + " bytes)");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    throw ModelLoadError(display_name + ": mmap failed: " + std::strerror(errno));

  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, map, sizeof(header_bytes));  // little-endian, as is x86/arm64
  if (header_bytes > kMaxHeaderBytes || 8 + header_bytes > size) {
    ::munmap(map, size);
    throw ModelLoadError(display_name + ": header length " + std::to_string(header_bytes) +
                         " does not fit the file of " + std::to_string(size) + " bytes");
  }
  std::shared_ptr<SafetensorsFile> file(
      new SafetensorsFile(display_name, map, size, 8 + static_cast<size_t>(header_bytes)));

  const char* header = static_cast<const char*>(map) + 8;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(header, header + header_bytes);
    const size_t data_size = size - file->data_offset_;
    for (const auto& [name, value] : root.items()) {
      if (name == "__metadata__") continue;
      SafetensorsEntry entry;
      entry.dtype = value.at("dtype").get<std::string>();
      entry.shape = value.at("shape").get<std::vector<int64_t>>();
      const auto offsets = value.at("data_offsets").get<std::vector<size_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
        throw ModelLoadError(display_name + ": tensor '" + name +
                             "' has data_offsets outside the data section of " +
                             std::to_string(data_size) + " bytes");
      }
      entry.begin = offsets[0];
      entry.end = offsets[1];
      file->entries_.emplace(name, std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelLoadError(display_name + ": malformed header: " + e.what());
  }
  return file;
}

SafetensorsFile::SafetensorsFile(std::string name, void* map, size_t size, size_t data_offset)
    : name_(std::move(name)), map_(map), size_(size), data_offset_(data_offset) {}

SafetensorsFile::~SafetensorsFile() { ::munmap(map_, size_); }

void SafetensorsFile::ReleaseResidentPages() const {
  // Advice only: a failure leaves the pages resident, nothing worse.
  ::madvise(map_, size_, MADV_DONTNEED);
}

at::Tensor SafetensorsFile::Get(const std::string& tensor_name) const {
  const auto it = entries_.find(tensor_name);
  if (it == entries_.end())
    throw ModelLoadError(name_ + ": tensor '" + tensor_name + "' is missing");
  const SafetensorsEntry& entry = it->second;
  const at::ScalarType type = SafetensorsScalarType(entry.dtype);
  if (type == at::ScalarType::Undefined) {
    throw ModelLoadError(name_ + ": tensor '" + tensor_name + "' has unsupported dtype " +
                         entry.dtype);
  }
  int64_t numel = 1;
  for (int64_t d : entry.shape) numel *= d;
  const size_t expected_bytes = static_cast<size_t>(numel) * c10::elementSize(type);
  if (entry.end - entry.begin != expected_bytes) {
    throw ModelLoadError(name_ + ": tensor '" + tensor_name + "' holds " +
                         std::to_string(entry.end - entry.begin) +
                         " bytes, its shape and dtype need " + std::to_string(expected_bytes));
  }
  char* data = static_cast<char*>(map_) + data_offset_ + entry.begin;
  auto keep_alive = shared_from_this();
  return at::from_blob(
      data, entry.shape, [keep_alive](void*) {}, at::TensorOptions().dtype(type));
}

}  // namespace auroraedge::model
