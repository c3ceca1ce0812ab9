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
    elif pixel_format == "BAYER_RG8":
        plane = np.empty((height, width), np.uint8)
        plane[0::2, 0::2] = array[0::2, 0::2, 0]
        plane[0::2, 1::2] = array[0::2, 1::2, 1]
        plane[1::2, 0::2] = array[1::2, 0::2, 1]
        plane[1::2, 1::2] = array[1::2, 1::2, 2]
    else:
        raise ValueError(pixel_format)
    row = plane.shape[1]
    stride = stride or row
    padded = np.zeros((height, stride), np.uint8)
    padded[:, :row] = plane
    return padded.tobytes(), width, height, stride
