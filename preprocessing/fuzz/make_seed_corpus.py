"""Writes a seed corpus for auroraedge-preprocess-fuzzer into the given folder:
small JPEG, PNG, BMP and TIFF images and raw frames of every pixel format,
with and without a region of interest, in the fuzzer's input layout."""

import io
import pathlib
import struct
import sys

import numpy as np
from PIL import Image

RAW, ROI = 1, 2
# name: (code in the C++ PixelFormat enum, values per pixel, bits a value
# takes in a row, bits that carry it).
FORMATS = {
    "MONO8": (0, 1, 8, 8), "RGB8": (1, 3, 8, 8), "BGR8": (2, 3, 8, 8), "BAYER_RG8": (3, 1, 8, 8),
    "MONO10": (4, 1, 16, 10), "MONO12": (5, 1, 16, 12), "MONO16": (6, 1, 16, 16),
    "MONO10P": (7, 1, 10, 10), "MONO12P": (8, 1, 12, 12),
    "BAYER_RG12": (9, 1, 16, 12), "BAYER_RG16": (10, 1, 16, 16),
    "BAYER_GR8": (11, 1, 8, 8), "BAYER_GB8": (12, 1, 8, 8), "BAYER_BG8": (13, 1, 8, 8),
}


def packed_rows(rng, width, height, channels, bits, significant, padding):
    """Valid values of the format, LSB first at `bits` each, rows padded."""
    rows = b""
    for _ in range(height):
        values = rng.integers(0, 1 << significant, width * channels)
        number = sum(int(v) << (i * bits) for i, v in enumerate(values))
        rows += number.to_bytes(width * channels * bits // 8, "little") + bytes(padding)
    return rows


def encoded_seeds(rng):
    for fmt in ("JPEG", "PNG", "BMP", "TIFF"):
        for mode, (h, w) in (("RGB", (24, 40)), ("L", (9, 5)), ("RGBA", (3, 70))):
            if fmt == "JPEG" and mode == "RGBA":
                continue
            pixels = rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8).squeeze()
            data = io.BytesIO()
            Image.fromarray(pixels, mode).save(data, fmt)
            yield f"{fmt.lower()}-{mode}-{w}x{h}", bytes([0]) + data.getvalue()
            roi = struct.pack("<4h", 1, 1, w // 2, h // 2)
            yield f"{fmt.lower()}-{mode}-{w}x{h}-roi", bytes([ROI]) + roi + data.getvalue()


def raw_seeds(rng):
    for name, (code, channels, bits, significant) in FORMATS.items():
        w, h, padding = 20, 12, 4
        stride = w * channels * bits // 8 + padding
        payload = packed_rows(rng, w, h, channels, bits, significant, padding)
        header = bytes([code]) + struct.pack("<3H", w, h, stride)
        yield f"raw-{name}", bytes([RAW]) + header + payload
        roi = struct.pack("<4h", 3, 1, 7, 9)
        yield f"raw-{name}-roi", bytes([RAW | ROI]) + header + roi + payload


def main(folder):
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    for name, data in [*encoded_seeds(rng), *raw_seeds(rng)]:
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1])
