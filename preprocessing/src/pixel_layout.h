#pragma once

#include <cstdint>

#include "auroraedge/preprocessing/image_source.h"
#include "pixels.h"

namespace auroraedge::preprocessing {

// The colours of a Bayer mosaic's first two rows, first two pixels each.
enum class Mosaic { kNone, kRggb, kGrbg, kGbrg, kBggr };

// How one raw pixel format lays out a row. The one place that knows each
// format's byte counts: the frame checks, the unpacking and the messages
// all derive from it.
struct PixelLayout {
  const char* name;      // as the API spells it, e.g. "MONO12P"
  int channels;          // values per pixel: 1 or 3
  int bits_per_value;    // bits a value takes in the row: 8, 16 (a word), 10 or 12 (packed)
  int significant_bits;  // bits that carry the value: 8, 10, 12 or 16
  Mosaic mosaic;
  ChannelOrder order;  // of the unpacked (demosaiced) pixels

  bool packed() const { return bits_per_value % 8 != 0; }
  // Largest value a pixel may hold: 2^significant_bits - 1.
  int max_value() const { return (1 << significant_bits) - 1; }
};

// Throws PreprocessError naming images[image_index].raw.format for a value
// outside the enum.
PixelLayout LayoutOf(PixelFormat format, int image_index);

// Widths must be a multiple of this so that a packed row ends on a byte
// boundary (4 for 10-bit, 2 for 12-bit packing; 1 otherwise). PFNC packs a
// frame as one bit stream: with such widths each row starts on a byte and a
// tightly packed frame is rows of RowBytes() each.
int WidthMultiple(const PixelLayout& layout);

// Bytes one row of `width` pixels takes (width a multiple of WidthMultiple()).
int64_t RowBytes(const PixelLayout& layout, int64_t width);

}  // namespace auroraedge::preprocessing
