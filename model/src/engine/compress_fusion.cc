#include "compress_fusion.h"

#include "script_module.h"

namespace auroraedge::model {

CompressFusion::CompressFusion(const std::string& path, const ModelConfig& config,
                               const at::Device& device, at::ScalarType dtype,
                               const LinearPlan& plan)
    : module_(
          LoadScriptModule(path, "compress_fusion.pt", {"compress", "cross_kv"}, device, dtype)),
      config_(config),
      fusion_(module_, config, device, plan) {}

at::Tensor CompressFusion::Compress(const at::Tensor& visual, const at::Tensor& valid) {
  auto out = module_.get_method("compress")({visual, valid}).toTensor();
  CheckOutputShape("compress_fusion.pt compress", out,
                   {visual.size(0), config_.compressor.num_tokens, config_.decoder.hidden_size});
  return out;
}

void CompressFusion::WriteCrossKv(const at::Tensor& visual_rows, int64_t first_row,
                                  const KvStorage& kv) {
  const int64_t n = visual_rows.size(0);
  if (n == 0) return;
  const auto result = module_.get_method("cross_kv")({visual_rows.unsqueeze(0)});
  const auto& elements = result.toTupleRef().elements();
  const std::vector<int64_t> shape{1, config_.fusion.num_heads, n, config_.fusion.head_dim};
  for (size_t i = 0; i < 2; ++i) {
    const auto t = elements.at(i).toTensor();
    CheckOutputShape("compress_fusion.pt cross_kv", t, shape);
    // [1, heads, N_v, head_dim] -> the storage's [N_v, heads, head_dim].
    (i == 0 ? kv.CrossKeys() : kv.CrossValues()).narrow(0, first_row, n).copy_(t[0].transpose(0, 1));
  }
}

int64_t CompressFusion::weight_bytes() const { return ParameterBytes(module_); }

int64_t CompressFusion::fusion_weight_bytes() const { return fusion_.weight_bytes(); }

}  // namespace auroraedge::model
