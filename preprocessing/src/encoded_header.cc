#include "encoded_header.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "input_error.h"

namespace auroraedge::preprocessing {
namespace {

constexpr char kField[] = "encoded";

bool StartsWith(std::string_view bytes, std::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

// Bounds-checked integer reads; nullopt past the end of the data.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, bool big_endian) : bytes_(bytes), big_endian_(big_endian) {}

  std::optional<uint32_t> Unsigned(size_t offset, size_t size) const {
    if (offset > bytes_.size() || size > bytes_.size() - offset) return std::nullopt;
    uint32_t value = 0;
    for (size_t i = 0; i < size; ++i) {
      const auto byte = static_cast<uint8_t>(bytes_[offset + (big_endian_ ? i : size - 1 - i)]);
      value = (value << 8) | byte;
    }
    return value;
  }

 private:
  std::string_view bytes_;
  bool big_endian_;
};

[[noreturn]] void RejectTruncated(int image_index, const char* format) {
  RejectField(image_index, kField, std::string("truncated ") + format + " header");
}

EncodedHeader ReadPngHeader(std::string_view bytes, int image_index) {
  const ByteReader reader(bytes, /*big_endian=*/true);
  // The signature (8 bytes), then the IHDR chunk: length, type, width, height.
  const auto width = reader.Unsigned(16, 4);
  const auto height = reader.Unsigned(20, 4);
  if (!width || !height) RejectTruncated(image_index, "PNG");
  if (bytes.substr(12, 4) != "IHDR") {
    RejectField(image_index, kField, "PNG does not start with an IHDR chunk");
  }
  return {EncodedFormat::kPng, *width, *height};
}

bool IsStartOfFrame(uint8_t marker) {
  // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Markers without a length field, which libjpeg skips between segments.
bool IsStandaloneMarker(uint8_t marker) {
  return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);
}

// Each progressive scan makes libjpeg walk every block of the image again, and
// an all-zero scan takes a few bytes: a small file with very many scans can
// keep a worker busy for minutes. Real encoders write about ten.
constexpr int kMaxJpegScans = 1000;

size_t CountScans(std::string_view bytes, size_t first_scan_offset) {
  size_t scans = 0;
  for (size_t at = first_scan_offset; (at = bytes.find("\xFF\xDA", at)) != std::string_view::npos;
       at += 2) {
    ++scans;
  }
  return scans;
}

bool HasEndAfterScan(std::string_view bytes, size_t scan_offset) {
  // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart
  // marker, so FF D9 after the first scan can only be the end-of-image marker.
  return bytes.find("\xFF\xD9", scan_offset) != std::string_view::npos;
}

EncodedHeader ReadJpegHeader(std::string_view bytes, int image_index) {
  const ByteReader reader(bytes, /*big_endian=*/true);
  std::optional<EncodedHeader> header;
  // Data that ends after the frame header is a truncated image, not a bad header.
  auto out_of_data = [&]() {
    if (!header) RejectTruncated(image_index, "JPEG");
    header->truncated = true;
    return *header;
  };
  size_t offset = 2;  // after SOI
  while (true) {
    const auto prefix = reader.Unsigned(offset, 1);
    const auto marker = reader.Unsigned(offset + 1, 1);
    if (!prefix || !marker) return out_of_data();
    if (*prefix != 0xFF) RejectField(image_index, kField, "corrupt JPEG (expected a marker)");
    if (*marker == 0xFF) {  // fill byte before a marker
      ++offset;
      continue;
    }
    if (*marker == 0xD9) RejectField(image_index, kField, "JPEG ends before its image data");
    if (IsStandaloneMarker(static_cast<uint8_t>(*marker))) {
      offset += 2;
      continue;
    }
    const auto length = reader.Unsigned(offset + 2, 2);
    if (!length) return out_of_data();
    if (*length < 2) RejectField(image_index, kField, "corrupt JPEG (marker segment length < 2)");
    if (IsStartOfFrame(static_cast<uint8_t>(*marker))) {
      if (header) RejectField(image_index, kField, "JPEG has more than one frame header");
      // Segment: length, precision, height, width.
      const auto height = reader.Unsigned(offset + 5, 2);
      const auto width = reader.Unsigned(offset + 7, 2);
      if (!height || !width) RejectTruncated(image_index, "JPEG");
      header = EncodedHeader{EncodedFormat::kJpeg, *width, *height};
    }
    if (*marker == 0xDA) {  // start of scan
      if (!header) RejectField(image_index, kField, "JPEG scan data before its frame header");
      if (CountScans(bytes, offset) > kMaxJpegScans) {
        RejectField(image_index, kField,
                    "JPEG has more than " + std::to_string(kMaxJpegScans) +
                        " scans (a limit against decoding-time bombs)");
      }
      header->truncated = !HasEndAfterScan(bytes, offset + 2 + *length);
      return *header;
    }
    offset += 2 + *length;
  }
}

EncodedHeader ReadBmpHeader(std::string_view bytes, int image_index) {
  const ByteReader reader(bytes, /*big_endian=*/false);
  const auto info_size = reader.Unsigned(14, 4);
  if (!info_size) RejectTruncated(image_index, "BMP");
  if (*info_size == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes
    const auto width = reader.Unsigned(18, 2);
    const auto height = reader.Unsigned(20, 2);
    if (!width || !height) RejectTruncated(image_index, "BMP");
    return {EncodedFormat::kBmp, *width, *height};
  }
  const auto width = reader.Unsigned(18, 4);
  const auto height = reader.Unsigned(22, 4);
  if (!width || !height) RejectTruncated(image_index, "BMP");
  // Signed 32-bit sizes; a negative height means rows stored top-down.
  return {EncodedFormat::kBmp, static_cast<int32_t>(*width),
          std::llabs(static_cast<int32_t>(*height))};
}

EncodedHeader ReadTiffHeader(std::string_view bytes, int image_index) {
  const ByteReader reader(bytes, /*big_endian=*/bytes[0] == 'M');
  // The decoder reads the first image file directory: a count, then 12-byte
  // entries of tag, type, count and value.
  const auto directory = reader.Unsigned(4, 4);
  if (!directory) RejectTruncated(image_index, "TIFF");
  const auto entries = reader.Unsigned(*directory, 2);
  if (!entries) RejectTruncated(image_index, "TIFF");
  constexpr uint32_t kImageWidth = 256, kImageLength = 257, kShort = 3, kLong = 4;
  std::optional<uint32_t> width, height;
  for (uint32_t i = 0; i < *entries; ++i) {
    const size_t entry = *directory + 2 + 12 * static_cast<size_t>(i);
    const auto tag = reader.Unsigned(entry, 2);
    const auto type = reader.Unsigned(entry + 2, 2);
    if (!tag || !type) RejectTruncated(image_index, "TIFF");
    if (*tag != kImageWidth && *tag != kImageLength) continue;
    if (*type != kShort && *type != kLong) {
      RejectField(image_index, kField, "TIFF image size has an unsupported field type");
    }
    const auto value = reader.Unsigned(entry + 8, *type == kShort ? 2 : 4);
    if (!value) RejectTruncated(image_index, "TIFF");
    std::optional<uint32_t>& size = *tag == kImageWidth ? width : height;
    // Which copy a decoder would use is not ours to guess.
    if (size) RejectField(image_index, kField, "TIFF directory repeats the image width or length");
    size = value;
  }
  if (!width || !height)
    RejectField(image_index, kField, "TIFF header lacks the image width or length");
  return {EncodedFormat::kTiff, *width, *height};
}

}  // namespace

EncodedHeader ReadEncodedHeader(std::string_view bytes, int image_index) {
  struct Signature {
    std::string_view magic;
    const char* name;
    EncodedHeader (*read)(std::string_view, int);
  };
  static constexpr Signature kSignatures[] = {
      {std::string_view("\x89PNG\r\n\x1A\n", 8), "PNG", ReadPngHeader},
      {std::string_view("\xFF\xD8\xFF", 3), "JPEG", ReadJpegHeader},
      {std::string_view("BM", 2), "BMP", ReadBmpHeader},
      {std::string_view("II*\0", 4), "TIFF", ReadTiffHeader},
      {std::string_view("MM\0*", 4), "TIFF", ReadTiffHeader}};
  if (bytes.empty()) RejectField(image_index, kField, "empty (no image data)");
  for (const Signature& signature : kSignatures) {
    if (StartsWith(bytes, signature.magic)) return signature.read(bytes, image_index);
    if (StartsWith(signature.magic, bytes)) RejectTruncated(image_index, signature.name);
  }
  RejectField(image_index, kField, "unknown image format (expected JPEG, PNG, BMP or TIFF)");
}

const char* FormatName(EncodedFormat format) {
  switch (format) {
    case EncodedFormat::kJpeg:
      return "JPEG";
    case EncodedFormat::kPng:
      return "PNG";
    case EncodedFormat::kBmp:
      return "BMP";
    case EncodedFormat::kTiff:
      return "TIFF";
  }
  return "image";
}

}  // namespace auroraedge::preprocessing
