#include "patchify.h"

#include <array>

namespace auroraedge::preprocessing {
namespace {

using ChannelTable = std::array<float, 256>;

// normalised[c][v] = (v / 255 - mean[c]) / std[c] for each RGB channel c.
std::array<ChannelTable, 3> NormalisationTables(const PreprocessConfig& config) {
  std::array<ChannelTable, 3> tables{};
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      tables[c][v] = static_cast<float>((v / 255.0 - config.mean[c]) / config.std[c]);
    }
  }
  return tables;
}

// The image channel that holds RGB channel c.
std::array<int, 3> SourceChannels(ChannelOrder order) {
  switch (order) {
    case ChannelOrder::kGray:
      return {0, 0, 0};
    case ChannelOrder::kBgr:
      return {2, 1, 0};
    case ChannelOrder::kRgb:
      break;
  }
  return {0, 1, 2};
}

}  // namespace

PatchImage ToPatches(const Pixels& pixels, const PreprocessConfig& config) {
  const int p = config.patch_size;
  PatchImage out;
  out.max_num_patches = config.max_num_patches;
  out.patch_dim = 3 * p * p;
  out.grid_h = pixels.image.rows / p;
  out.grid_w = pixels.image.cols / p;
  out.patches.assign(static_cast<size_t>(out.max_num_patches) * out.patch_dim, 0.0f);

  const auto tables = NormalisationTables(config);
  const auto source = SourceChannels(pixels.order);
  const int channels = pixels.image.channels();
  for (int y = 0; y < pixels.image.rows; ++y) {
    const uint8_t* row = pixels.image.ptr<uint8_t>(y);
    for (int x = 0; x < pixels.image.cols; ++x) {
      const uint8_t* pixel = row + x * channels;
      const size_t patch = static_cast<size_t>(y / p) * out.grid_w + x / p;
      float* value = &out.patches[patch * out.patch_dim + ((y % p) * p + x % p) * 3];
      for (int c = 0; c < 3; ++c) value[c] = tables[c][pixel[source[c]]];
    }
  }
  return out;
}

}  // namespace auroraedge::preprocessing
