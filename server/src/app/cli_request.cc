#include "cli_request.h"

#include <fstream>
#include <iterator>

namespace auroraedge::server::app {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError(path + ": cannot be read");
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

v1::PixelFormat PixelFormatFromName(const std::string& name) {
  v1::PixelFormat format = v1::PIXEL_FORMAT_UNSPECIFIED;
  if (name.empty() || !v1::PixelFormat_Parse("PIXEL_FORMAT_" + name, &format) ||
      format == v1::PIXEL_FORMAT_UNSPECIFIED) {
    throw UsageError("--pixel-format: '" + name +
                     "' is not a pixel format (auroraedge-cli --help lists them)");
  }
  return format;
}

v1::Priority PriorityFromName(const std::string& name) {
  if (name == "line-critical") return v1::PRIORITY_LINE_CRITICAL;
  if (name == "background") return v1::PRIORITY_BACKGROUND;
  return v1::PRIORITY_NORMAL;
}

void FillImage(const ImageArg& arg, v1::Image* image) {
  if (arg.raw) {
    v1::RawFrame* raw = image->mutable_raw();
    raw->set_data(ReadFile(arg.path));
    raw->set_width(arg.width);
    raw->set_height(arg.height);
    raw->set_stride(arg.stride);
    raw->set_pixel_format(PixelFormatFromName(arg.pixel_format));
  } else {
    image->set_encoded(ReadFile(arg.path));
  }
  if (arg.reference) image->set_role(v1::IMAGE_ROLE_REFERENCE);
  if (arg.roi) {
    v1::RegionOfInterest* roi = image->mutable_roi();
    roi->set_x(arg.roi->x);
    roi->set_y(arg.roi->y);
    roi->set_width(arg.roi->width);
    roi->set_height(arg.roi->height);
  }
}

}  // namespace

v1::GenerateRequest BuildGenerateRequest(const GenerateArgs& args) {
  v1::GenerateRequest request;
  for (const ImageArg& image : args.images) FillImage(image, request.add_images());
  request.set_prompt(args.prompt);
  request.set_system_prompt(args.system_prompt);
  request.set_priority(PriorityFromName(args.priority));
  request.set_request_id(args.request_id);
  v1::SamplingParams* sampling = request.mutable_sampling();
  if (args.max_new_tokens) sampling->set_max_new_tokens(*args.max_new_tokens);
  if (args.temperature) sampling->set_temperature(*args.temperature);
  if (args.top_k) sampling->set_top_k(*args.top_k);
  if (args.top_p) sampling->set_top_p(*args.top_p);
  if (args.repetition_penalty) sampling->set_repetition_penalty(*args.repetition_penalty);
  if (args.seed) sampling->set_seed(*args.seed);
  for (const std::string& stop : args.stop) sampling->add_stop(stop);
  if (args.top_logprobs) sampling->set_top_logprobs(*args.top_logprobs);
  for (const std::string& choice : args.choice) sampling->add_choice(choice);
  if (!args.json_schema_path.empty()) sampling->set_json_schema(ReadFile(args.json_schema_path));
  return request;
}

v1::InspectRequest BuildInspectRequest(const InspectArgs& args) {
  v1::InspectRequest request;
  for (const ImageArg& image : args.images) FillImage(image, request.add_images());
  request.set_prompt(args.prompt);
  request.set_system_prompt(args.system_prompt);
  for (const std::string& label : args.labels) request.add_labels(label);
  if (args.threshold) {
    v1::DecisionRule* rule = request.mutable_decision_rule();
    rule->set_label(args.threshold->label);
    rule->set_ok_below(args.threshold->ok_below);
    rule->set_ng_from(args.threshold->ng_from);
  }
  request.set_priority(PriorityFromName(args.priority));
  request.set_request_id(args.request_id);
  return request;
}

}  // namespace auroraedge::server::app
