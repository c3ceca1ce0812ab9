#include "model_info.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include "auroraedge/server/inspection.h"

namespace auroraedge::server::grpc_api {
namespace {

void DescribeLimits(const EngineSnapshot& snapshot, v1::Limits* out) {
  const model::ModelConfig& config = snapshot.config;
  const ServingOptions& options = snapshot.options;
  const int images = options.max_images_per_request > 0
                         ? std::min(options.max_images_per_request, config.max_images_per_request)
                         : config.max_images_per_request;
  out->set_max_images_per_request(images);
  out->set_max_patches_per_image(config.vision.max_num_patches);
  out->set_patch_size(config.vision.patch_size);
  out->set_context_length(config.context_length);
  out->set_max_prompt_bytes(options.max_prompt_bytes);
  out->set_max_encoded_image_bytes(options.limits.max_encoded_bytes);
  out->set_max_image_pixels(options.limits.max_pixels);
  out->set_visual_tokens_per_image(config.visual_tokens_per_image);
  out->set_max_waiting_requests(options.scheduling.max_waiting_requests);
  out->set_max_inspection_labels(kMaxInspectionLabels);
}

void DescribeArchitecture(const model::ModelConfig& config, v1::ModelArchitecture* out) {
  out->set_path(config.path);
  out->set_vision_hidden_size(config.vision.hidden_size);
  out->set_vision_layers(config.vision.num_layers);
  out->set_decoder_hidden_size(config.decoder.hidden_size);
  out->set_decoder_layers(config.decoder.num_layers);
  out->set_decoder_attention_heads(config.decoder.num_attention_heads);
  out->set_decoder_key_value_heads(config.decoder.num_key_value_heads);
  out->set_vocab_size(config.decoder.vocab_size);
}

void DescribeDefaults(const model::GenerationDefaults& defaults, v1::GenerationDefaults* out) {
  out->set_max_new_tokens(defaults.max_new_tokens);
  out->set_temperature(defaults.temperature);
  out->set_top_k(defaults.top_k);
  out->set_top_p(defaults.top_p);
  out->set_repetition_penalty(defaults.repetition_penalty);
}

void DescribeBuild(v1::BuildInfo* out) {
  out->set_server_version(AURORAEDGE_VERSION);
  out->set_build_type(AURORAEDGE_BUILD_TYPE);
#if defined(__clang__)
  out->set_compiler("clang " __clang_version__);
#else
  out->set_compiler("gcc " __VERSION__);
#endif
  out->set_grpc_version(grpc::Version());
  out->set_protobuf_version(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
}

}  // namespace

v1::ModelInfo DescribeModel(const EngineSnapshot& snapshot) {
  v1::ModelInfo info;
  info.set_name(snapshot.config.name);
  info.set_version(snapshot.config.version);
  DescribeLimits(snapshot, info.mutable_limits());
  DescribeArchitecture(snapshot.config, info.mutable_architecture());
  DescribeDefaults(snapshot.config.generation, info.mutable_generation_defaults());
  DescribeBuild(info.mutable_build());
  v1::RuntimeInfo* runtime = info.mutable_runtime();
  runtime->set_device(snapshot.options.engine.device);
  runtime->set_dtype(snapshot.options.engine.dtype);
  runtime->set_intra_op_threads(snapshot.options.engine.intra_op_threads);
  info.mutable_kv_cache()->set_tokens_used(snapshot.kv_tokens_used);
  info.mutable_kv_cache()->set_tokens_total(snapshot.kv_tokens_total);
  return info;
}

}  // namespace auroraedge::server::grpc_api
