"""Test images: a synthetic part with a scratch, in every encoding and raw layout."""
import io

import numpy as np
from PIL import Image


def part_rgb(width=96, height=64):
    """An RGB uint8 array: grey plate, dark scratch."""
    rows = np.arange(height, dtype=np.uint16)[:, None]
    cols = np.arange(width, dtype=np.uint16)[None, :]
    base = (96 + (rows + cols) % 64).astype(np.uint8)
    image = np.stack([base, base, base], axis=-1)
    image[height // 2 - 1:height // 2 + 1, width // 4:3 * width // 4] = (20, 20, 30)
    return image


def encoded(fmt, array=None):
    array = part_rgb() if array is None else array
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


# Raw formats beyond 8-bit RGB: (bits a value takes in a row, bits that carry
# it, Bayer pattern of the first two rows). 16-bit values are little-endian
# words; 10 and 12 are packed LSB first (GenICam Mono10p, Mono12p).
WIDE_AND_BAYER = {
    "BAYER_RG8": (8, 8, "RGGB"), "BAYER_GR8": (8, 8, "GRBG"),
    "BAYER_GB8": (8, 8, "GBRG"), "BAYER_BG8": (8, 8, "BGGR"),
    "MONO10": (16, 10, None), "MONO12": (16, 12, None), "MONO16": (16, 16, None),
    "MONO10P": (10, 10, None), "MONO12P": (12, 12, None),
    "BAYER_RG12": (16, 12, "RGGB"), "BAYER_RG16": (16, 16, "RGGB"),
}
RAW_FORMATS = ["MONO8", "RGB8", "BGR8", *WIDE_AND_BAYER]


def _values_as_bytes(values, bits):
    """A [H, W] array of values -> [H, W * bits / 8] bytes, LSB first."""
    rows = []
    for row in values:
        number = sum(int(v) << (i * bits) for i, v in enumerate(row))
        rows.append(np.frombuffer(number.to_bytes(len(row) * bits // 8, "little"), np.uint8))
    return np.stack(rows)


def raw_bytes(pixel_format, array=None, stride=None):
    """(data, width, height, stride) of the array in one raw layout."""
    array = part_rgb() if array is None else array
    height, width, _ = array.shape
    if pixel_format == "MONO8":
        plane = array.mean(axis=-1).astype(np.uint8)
    elif pixel_format == "RGB8":
        plane = array.reshape(height, width * 3)
    elif pixel_format == "BGR8":
        plane = array[..., ::-1].reshape(height, width * 3)
    elif pixel_format in WIDE_AND_BAYER:
        bits, significant, pattern = WIDE_AND_BAYER[pixel_format]
        values = array.mean(axis=-1).astype(np.uint32)
        if pattern:
            colour = np.asarray(["RGB".index(c) for c in pattern]).reshape(2, 2)
            rows, cols = np.mgrid[0:height, 0:width]
            values = array[rows, cols, colour[rows % 2, cols % 2]].astype(np.uint32)
        plane = _values_as_bytes(values << (significant - 8), bits)
    else:
        raise ValueError(pixel_format)
    row = plane.shape[1]
    stride = stride or row
    padded = np.zeros((height, stride), np.uint8)
    padded[:, :row] = plane
    return padded.tobytes(), width, height, stride
