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

// The same normalisation for float pixels on the 0..255 scale.
class FloatNormalisation {
 public:
  explicit FloatNormalisation(const PreprocessConfig& config) {
    for (int c = 0; c < 3; ++c) {
      scale_[c] = static_cast<float>(1.0 / (255.0 * config.std[c]));
      offset_[c] = static_cast<float>(-config.mean[c] / config.std[c]);
    }
  }
  float operator()(int c, float v) const { return v * scale_[c] + offset_[c]; }

 private:
  std::array<float, 3> scale_{};
  std::array<float, 3> offset_{};
};

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

// Writes normalise(c, pixel value) of every pixel into its patch slot.
template <typename Value, typename Normalise>
void FillPatches(const Pixels& pixels, int p, const Normalise& normalise, PatchImage* out) {
  const auto source = SourceChannels(pixels.order);
  const int channels = pixels.image.channels();
  for (int y = 0; y < pixels.image.rows; ++y) {
    const Value* row = pixels.image.ptr<Value>(y);
    for (int x = 0; x < pixels.image.cols; ++x) {
      const Value* pixel = row + x * channels;
      const size_t patch = static_cast<size_t>(y / p) * out->grid_w + x / p;
      float* value = &out->patches[patch * out->patch_dim + ((y % p) * p + x % p) * 3];
      for (int c = 0; c < 3; ++c) value[c] = normalise(c, pixel[source[c]]);
    }
  }
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

  if (pixels.image.depth() == CV_32F) {
    FillPatches<float>(pixels, p, FloatNormalisation(config), &out);
  } else {
    const auto tables = NormalisationTables(config);
    FillPatches<uint8_t>(
        pixels, p, [&tables](int c, uint8_t v) { return tables[c][v]; }, &out);
  }
  return out;
}

}  // namespace auroraedge::preprocessing
