#include "auroraedge/model/packed_linear.h"

#include <ATen/Parallel.h>

#include <map>
#include <mutex>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <utility>

#include "row_quantization.h"

namespace auroraedge::model {
namespace {

using dnnl::memory;
using DataType = memory::data_type;
using Tag = memory::format_tag;

// oneDNN's kernels are built for one row count, and a kernel kept per row
// count grew a serving process by megabytes as batches of new sizes came.
// So a call runs in pieces whose sizes come from a fixed set: 1 to
// kExactRows rows exactly (decode batches, where a second pass over the
// weights would cost as much as the first), else a multiple of kExactRows
// up to kRowBlock, then the remainder. That is at most kExactRows +
// kRowBlock / kExactRows - 1 kernels per layer and thread count, no row is
// padded and no input is copied.
constexpr int64_t kExactRows = 16;
constexpr int64_t kRowBlock = 256;

int64_t PieceRows(int64_t rows_left) {
  if (rows_left >= kRowBlock) return kRowBlock;
  if (rows_left <= kExactRows) return rows_left;
  return rows_left / kExactRows * kExactRows;
}

const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

DataType KernelType(LinearWeights weights) {
  switch (weights) {
    case LinearWeights::kFloat32:
      return DataType::f32;
    case LinearWeights::kInt8:
      return DataType::s8;
    case LinearWeights::kBFloat16:
      return DataType::bf16;
  }
  throw std::invalid_argument("unknown LinearWeights");
}

void Check(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("PackedLinear: " + message);
}

// The parts' weights as one [out, in] row-major matrix: the parts
// themselves when there is one, else a concatenated copy in `storage`.
const float* ConcatenatedWeight(const std::vector<LinearPart>& parts, int64_t in_features,
                                std::vector<float>& storage) {
  if (parts.size() == 1) return parts[0].weight;
  for (const LinearPart& part : parts)
    storage.insert(storage.end(), part.weight, part.weight + part.out_features * in_features);
  return storage.data();
}

// The parts' biases side by side, zeros for a part without one; empty when
// no part has a bias.
std::vector<float> ConcatenatedBias(const std::vector<LinearPart>& parts) {
  std::vector<float> bias;
  const bool any = std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.bias; });
  if (!any) return bias;
  for (const LinearPart& part : parts) {
    if (part.bias)
      bias.insert(bias.end(), part.bias, part.bias + part.out_features);
    else
      bias.insert(bias.end(), part.out_features, 0.0f);
  }
  return bias;
}

}  // namespace

LinearWeights ParseLinearWeights(const std::string& name, const std::string& field) {
  if (name == "float32") return LinearWeights::kFloat32;
  if (name == "int8") return LinearWeights::kInt8;
  if (name == "bfloat16") return LinearWeights::kBFloat16;
  throw std::invalid_argument(field + ": expected one of float32, int8, bfloat16, found '" + name +
                              "'");
}

const char* LinearWeightsName(LinearWeights weights) {
  switch (weights) {
    case LinearWeights::kFloat32:
      return "float32";
    case LinearWeights::kInt8:
      return "int8";
    case LinearWeights::kBFloat16:
      return "bfloat16";
  }
  return "unknown";
}

LinearCpuSupport DetectLinearCpuSupport() {
  using Isa = dnnl::cpu_isa;
  LinearCpuSupport support;
  switch (dnnl::get_effective_cpu_isa()) {
    case Isa::avx512_core_amx:
      support = {"avx512_core_amx", true, true};
      break;
    case Isa::avx512_core_bf16:
      support = {"avx512_core_bf16", true, true};
      break;
    case Isa::avx512_core_vnni:
      support = {"avx512_core_vnni", true, false};
      break;
    case Isa::avx2_vnni:
      support = {"avx2_vnni", true, false};
      break;
    case Isa::avx512_core:
      support = {"avx512_core", false, false};
      break;
    case Isa::avx2:
      support = {"avx2", false, false};
      break;
    default:
      support = {"older than avx2", false, false};
      break;
  }
  return support;
}

// One row count's kernel and the oneDNN memory handles it runs on; the
// handles are pointed at the caller's buffers (or the scratch) on each call.
struct RowKernel {
  dnnl::matmul matmul;
  memory source;          // fp32: the caller's x; int8 and bf16: the scratch rows
  memory destination;     // the caller's y
  memory fp32_source;     // bf16 only: the caller's x, reordered into `source`
  dnnl::reorder to_bf16;  // bf16 only
};

// The converted input rows of the piece being multiplied, one set per
// calling thread and shared by every layer: memory stays one piece's worth
// (kRowBlock x the widest input), where a buffer per layer and row count
// held 29 MB for each 896-wide int8 layer after all 256 row counts.
struct SourceScratch {
  std::vector<int8_t> quantized;  // int8: the rows in int8
  std::vector<float> row_scales;  // int8: each row's scale
  std::vector<uint16_t> bf16;     // bf16: the rows in bf16
};

template <typename T>
T* AtLeast(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(size);
  return buffer.data();
}

SourceScratch& ThreadScratch() {
  thread_local SourceScratch scratch;
  return scratch;
}

struct PackedLinear::Impl {
  int64_t in_features = 0;
  int64_t out_features = 0;
  std::vector<int64_t> part_features;
  LinearWeights weights = LinearWeights::kFloat32;
  memory packed;                      // the weights in the kernel's layout
  std::vector<float> bias;            // empty when none
  memory bias_memory;                 // fp32 and bf16: bias as oneDNN's [1, out]
  std::vector<float> channel_scales;  // int8 only: each output channel's scale
  std::string implementation;

  mutable std::mutex mutex;  // guards everything below
  mutable dnnl::stream stream{CpuEngine()};
  mutable std::map<std::pair<int64_t, int>, RowKernel> kernels;  // by (rows, threads)

  bool FusedBias() const { return !bias.empty() && weights != LinearWeights::kInt8; }

  dnnl::matmul::primitive_desc Describe(int64_t rows, const memory::desc& packed_desc) const {
    const DataType type = KernelType(weights);
    const memory::desc source({rows, in_features}, type, Tag::ab);
    const memory::desc destination({rows, out_features}, DataType::f32, Tag::ab);
    if (FusedBias()) {
      const memory::desc bias_desc({1, out_features}, DataType::f32, Tag::ab);
      return {dnnl::matmul::desc(source, packed_desc, bias_desc, destination), CpuEngine()};
    }
    return {dnnl::matmul::desc(source, packed_desc, destination), CpuEngine()};
  }

  RowKernel& Kernel(int64_t rows) const {
    at::internal::lazy_init_num_threads();  // this thread's OpenMP count = LibTorch's
    const auto key = std::make_pair(rows, at::get_num_threads());
    auto found = kernels.find(key);
    if (found != kernels.end()) return found->second;
    const auto description = Describe(rows, packed.get_desc());
    RowKernel kernel;
    kernel.matmul = dnnl::matmul(description);
    kernel.destination = memory(description.dst_desc(), CpuEngine(), DNNL_MEMORY_NONE);
    kernel.source = memory(description.src_desc(), CpuEngine(), DNNL_MEMORY_NONE);
    if (weights == LinearWeights::kBFloat16) {
      kernel.fp32_source =
          memory({{rows, in_features}, DataType::f32, Tag::ab}, CpuEngine(), DNNL_MEMORY_NONE);
      kernel.to_bf16 = dnnl::reorder(kernel.fp32_source, kernel.source);
    }
    return kernels.emplace(key, std::move(kernel)).first->second;
  }

  // Runs one piece of PieceRows' sizes.
  void RunPiece(const float* x, int64_t rows, float* y) const {
    RowKernel& kernel = Kernel(rows);
    SourceScratch& scratch = ThreadScratch();
    kernel.destination.set_data_handle(y);
    float* row_scales = nullptr;
    if (weights == LinearWeights::kFloat32) {
      kernel.source.set_data_handle(const_cast<float*>(x));
    } else if (weights == LinearWeights::kBFloat16) {
      kernel.source.set_data_handle(AtLeast(scratch.bf16, rows * in_features));
      kernel.fp32_source.set_data_handle(const_cast<float*>(x));
      Execute(kernel.to_bf16,
              {{DNNL_ARG_FROM, kernel.fp32_source.get()}, {DNNL_ARG_TO, kernel.source.get()}});
    } else {
      int8_t* quantized = AtLeast(scratch.quantized, rows * in_features);
      row_scales = AtLeast(scratch.row_scales, rows);
      QuantizeRows(x, rows, in_features, quantized, row_scales);
      kernel.source.set_data_handle(quantized);
    }
    if (FusedBias()) {
      Execute(kernel.matmul, {{DNNL_ARG_SRC, kernel.source.get()},
                              {DNNL_ARG_WEIGHTS, packed.get()},
                              {DNNL_ARG_BIAS, bias_memory.get()},
                              {DNNL_ARG_DST, kernel.destination.get()}});
    } else {
      Execute(kernel.matmul, {{DNNL_ARG_SRC, kernel.source.get()},
                              {DNNL_ARG_WEIGHTS, packed.get()},
                              {DNNL_ARG_DST, kernel.destination.get()}});
    }
    if (weights == LinearWeights::kInt8)
      ScaleOutputs(row_scales, channel_scales.data(), bias.empty() ? nullptr : bias.data(), rows,
                   out_features, y);
  }

  // Through oneDNN's C API: its arguments are an array on the stack, where
  // the C++ API would build a hash map on every call (oneDNN 2.6 still
  // builds one inside: about 6 small nodes per execute, no buffers).
  template <size_t N>
  void Execute(const dnnl::primitive& primitive, const dnnl_exec_arg_t (&args)[N]) const {
    const dnnl_status_t status = dnnl_primitive_execute(primitive.get(), stream.get(), N, args);
    if (status != dnnl_success)
      throw std::runtime_error("PackedLinear: oneDNN execution failed (status " +
                               std::to_string(int(status)) + ")");
    stream.wait();
  }
};

PackedLinear::PackedLinear(const std::vector<LinearPart>& parts, int64_t in_features,
                           LinearWeights weights)
    : impl_(std::make_unique<Impl>()) {
  Check(!parts.empty(), "no weight parts");
  Check(in_features > 0, "in_features must be positive, found " + std::to_string(in_features));
  for (size_t i = 0; i < parts.size(); ++i) {
    Check(parts[i].weight != nullptr, "part " + std::to_string(i) + " has no weight");
    Check(parts[i].out_features > 0, "part " + std::to_string(i) +
                                         " out_features must be positive, found " +
                                         std::to_string(parts[i].out_features));
    impl_->part_features.push_back(parts[i].out_features);
  }
  const LinearCpuSupport support = DetectLinearCpuSupport();
  if (weights == LinearWeights::kBFloat16 && !support.native_bf16)
    throw std::runtime_error(
        "PackedLinear: bfloat16 needs native bf16 instructions (AVX512-BF16 "
        "or AMX); this CPU's oneDNN ISA is " +
        support.isa);
  Impl& impl = *impl_;
  impl.in_features = in_features;
  impl.out_features =
      std::accumulate(impl.part_features.begin(), impl.part_features.end(), int64_t{0});
  impl.weights = weights;
  impl.bias = ConcatenatedBias(parts);

  // The layout of the packed weights comes from the one-row kernel (the
  // decode step's); kernels for other row counts take the same layout.
  const memory::desc any({in_features, impl.out_features}, KernelType(weights), Tag::any);
  dnnl::matmul::primitive_desc one_row;
  try {
    one_row = impl.Describe(1, any);
  } catch (const dnnl::error&) {
    one_row = {};
  }
  impl.implementation = one_row ? one_row.impl_info_str() : "none";
  if (!one_row || impl.implementation.rfind("ref", 0) == 0)
    throw std::runtime_error(std::string("PackedLinear: no fast ") + LinearWeightsName(weights) +
                             " matmul on this CPU (oneDNN ISA " + support.isa +
                             ", implementation " + impl.implementation + ")");
  impl.packed = memory(one_row.weights_desc(), CpuEngine());

  std::vector<float> concatenated;
  const float* weight = ConcatenatedWeight(parts, in_features, concatenated);
  // W is [out, in] row-major: as oneDNN's [in, out] matrix it is tag ba.
  const memory::dims plain_dims{in_features, impl.out_features};
  memory plain({plain_dims, DataType::f32, Tag::ba}, CpuEngine(), const_cast<float*>(weight));
  std::vector<int8_t> quantized;
  if (weights == LinearWeights::kInt8) {
    // Each output channel is a row of W: the same symmetric rounding as the
    // input rows. (oneDNN 2.6 has no f32 -> s8 reorder with per-channel
    // scales into the compensated layout; s8 -> s8 it has.)
    quantized.resize(impl.out_features * in_features);
    impl.channel_scales.resize(impl.out_features);
    QuantizeRows(weight, impl.out_features, in_features, quantized.data(),
                 impl.channel_scales.data());
    plain = memory({plain_dims, DataType::s8, Tag::ba}, CpuEngine(), quantized.data());
  }
  dnnl::reorder(plain, impl.packed).execute(impl.stream, plain, impl.packed);
  impl.stream.wait();
  if (impl.FusedBias())
    impl.bias_memory =
        memory({{1, impl.out_features}, DataType::f32, Tag::ab}, CpuEngine(), impl.bias.data());
}

PackedLinear::~PackedLinear() = default;
PackedLinear::PackedLinear(PackedLinear&&) noexcept = default;
PackedLinear& PackedLinear::operator=(PackedLinear&&) noexcept = default;

void PackedLinear::Run(const float* x, int64_t rows, float* y) const {
  if (rows < 1)
    throw std::invalid_argument("PackedLinear::Run: rows must be >= 1, found " +
                                std::to_string(rows));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (int64_t done = 0; done < rows;) {
    const int64_t piece = PieceRows(rows - done);
    impl_->RunPiece(x + done * impl_->in_features, piece, y + done * impl_->out_features);
    done += piece;
  }
}

int64_t PackedLinear::in_features() const { return impl_->in_features; }
int64_t PackedLinear::out_features() const { return impl_->out_features; }
const std::vector<int64_t>& PackedLinear::part_features() const { return impl_->part_features; }
LinearWeights PackedLinear::weights() const { return impl_->weights; }
int64_t PackedLinear::packed_bytes() const {
  return static_cast<int64_t>(impl_->packed.get_desc().get_size());
}
std::string PackedLinear::implementation() const { return impl_->implementation; }
void PackedLinear::BuildKernels() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (int64_t rows = 1; rows <= kRowBlock; rows = rows < kExactRows ? rows + 1 : rows + kExactRows)
    impl_->Kernel(rows);
}

int64_t PackedLinear::kernel_count() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int64_t>(impl_->kernels.size());
}

}  // namespace auroraedge::model
