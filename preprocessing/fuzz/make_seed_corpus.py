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
FORMATS = {"MONO8": (0, 1), "RGB8": (1, 3), "BGR8": (2, 3), "BAYER_RG8": (3, 1)}


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
    for name, (code, channels) in FORMATS.items():
        w, h, stride = 20, 12, 20 * channels + 4
        payload = rng.integers(0, 256, stride * h, dtype=np.uint8).tobytes()
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
