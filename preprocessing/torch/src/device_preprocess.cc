#include "auroraedge/preprocessing/torch/device_preprocess.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "demosaic.h"
#include "resize.h"
#include "unpack_frame.h"

namespace auroraedge::preprocessing {
namespace {

// [h, w, c] pixels of the region, c = 1 (grey) or 3, as 8-bit samples.
at::Tensor RegionPixels(const UnpackedRegion& region, const RegionOfInterest& roi) {
  if (!region.bayer) return region.samples;
  return DemosaicBilinear(region.samples, region.phase)
      .narrow(0, region.inner_y, roi.height)
      .narrow(1, region.inner_x, roi.width);
}

// (v / 255 - mean[c]) / std[c] per RGB channel, from grey, RGB or BGR pixels.
at::Tensor Normalised(const at::Tensor& pixels, bool bgr, const PreprocessConfig& config) {
  at::Tensor rgb = pixels;
  if (pixels.size(2) == 1) rgb = pixels.expand({pixels.size(0), pixels.size(1), 3});
  if (bgr) rgb = rgb.flip({2});
  std::vector<double> scale(3), offset(3);
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0 / (255.0 * config.std[c]);
    offset[c] = -config.mean[c] / config.std[c];
  }
  const auto options = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor a = at::tensor(scale, options).to(pixels.device(), at::kFloat);
  const at::Tensor b = at::tensor(offset, options).to(pixels.device(), at::kFloat);
  return rgb.to(at::kFloat) * a + b;
}

// [grid_h * p, grid_w * p, 3] -> [max_num_patches, 3 * p * p], each patch in
// (row, column, channel) order, zero rows after the grid.
at::Tensor Patchified(const at::Tensor& image, const PatchGrid& grid,
                      const PreprocessConfig& config) {
  const int64_t p = config.patch_size;
  const at::Tensor patches = image.reshape({grid.rows, p, grid.columns, p, 3})
                                 .permute({0, 2, 1, 3, 4})
                                 .reshape({grid.rows * grid.columns, 3 * p * p});
  at::Tensor padded = at::zeros({config.max_num_patches, 3 * p * p}, patches.options());
  padded.narrow(0, 0, patches.size(0)).copy_(patches);
  return padded;
}

}  // namespace

DevicePatches PreprocessRawFrameOn(const ImageSource& image, int image_index,
                                   const PreprocessConfig& config, c10::Device device) {
  const RawFramePlan plan = PlanRawFrame(image, image_index, config);
  c10::InferenceMode no_autograd;
  const UnpackedRegion region = UnpackRegion(*image.raw, plan, device);
  const at::Tensor resized =
      ResizeForNaflex(RegionPixels(region, plan.region), plan.grid.rows * config.patch_size,
                      plan.grid.columns * config.patch_size);
  return {Patchified(Normalised(resized, region.bgr, config), plan.grid, config), plan.grid,
          plan.region.width, plan.region.height};
}

PatchImage ToPatchImage(const DevicePatches& device_patches) {
  const at::Tensor host = device_patches.patches.to(at::kCPU).contiguous();
  PatchImage out;
  out.max_num_patches = static_cast<int>(host.size(0));
  out.patch_dim = static_cast<int>(host.size(1));
  out.grid_h = device_patches.grid.rows;
  out.grid_w = device_patches.grid.columns;
  out.source_width = device_patches.source_width;
  out.source_height = device_patches.source_height;
  out.patches.assign(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
  return out;
}

}  // namespace auroraedge::preprocessing
