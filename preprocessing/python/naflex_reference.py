"""Reference implementation of AuroraEdge's SigLIP2-naflex image preprocessing.

The C++ library (preprocessing/src) must match this module: the tests compare
both on generated images, and the demo-model training prepares its images
with it. Plain Python, PIL and numpy; written to be read, not to be fast.

Rules, in order:
  1. decode (PIL; EXIF orientation is not applied) or unpack a raw frame
     (MONO8, RGB8, BGR8, or BAYER_RG8 demosaiced bilinearly as OpenCV does);
  2. crop to the region of interest, if any;
  3. target size: the SigLIP2 naflex bisection (naflex_grid);
  4. resize axis by axis, 8-bit in and out: area averaging along an axis that
     shrinks, bilinear (half-pixel centres, clamped edges) along one that
     grows; a shrinking axis goes first, rounded to 8 bits in between;
  5. rescale to [0, 1], normalise with mean and std per RGB channel;
  6. patches flattened in (row, column, channel) order, zero rows up to
     max_num_patches.
"""

import io
import math

import numpy as np
from PIL import Image

PIXEL_FORMATS = ("MONO8", "RGB8", "BGR8", "BAYER_RG8")


def naflex_grid(height, width, patch_size, max_num_patches):
    """(grid_h, grid_w) as transformers' get_image_size_for_max_num_patches bisects it."""

    def patches_along(scale, size):
        return max(1, math.ceil(size * scale / patch_size))

    eps = 1e-5
    scale_min, scale_max = eps / 10, 100.0
    while scale_max - scale_min >= eps:
        scale = (scale_min + scale_max) / 2
        if patches_along(scale, height) * patches_along(scale, width) <= max_num_patches:
            scale_min = scale
        else:
            scale_max = scale
    return patches_along(scale_min, height), patches_along(scale_min, width)


def decode(data):
    """Encoded bytes (JPEG, PNG, BMP, TIFF) -> uint8 RGB array [H, W, 3]."""
    with Image.open(io.BytesIO(data)) as image:
        return to_rgb_array(image)


def to_rgb_array(image):
    """PIL image or uint8 array ([H, W] grey, [H, W, 3] RGB) -> uint8 [H, W, 3]."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    raise ValueError(f"expected [H, W] or [H, W, 3] pixels, got shape {array.shape}")


def raw_frame_to_rgb(data, width, height, pixel_format, stride=0):
    """A camera frame (rows of `stride` bytes, 0: packed) -> uint8 RGB [H, W, 3]."""
    channels = 3 if pixel_format in ("RGB8", "BGR8") else 1
    stride = stride or width * channels
    rows = np.frombuffer(data, dtype=np.uint8).reshape(height, stride)
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    if pixel_format == "MONO8":
        return to_rgb_array(pixels[:, :, 0])
    if pixel_format == "RGB8":
        return pixels.copy()
    if pixel_format == "BGR8":
        return pixels[:, :, ::-1].copy()
    if pixel_format == "BAYER_RG8":
        return demosaic_rggb(pixels[:, :, 0])
    raise ValueError(f"unknown pixel format {pixel_format!r}")


def demosaic_rggb(bayer):
    """Bilinear demosaic of an RGGB mosaic (row 0: R G R G, row 1: G B G B).

    Interior pixels average their 2 or 4 nearest samples of each missing
    colour, rounding halves up; the outermost rows and columns repeat their
    inner neighbours, as OpenCV's COLOR_BayerRGGB2RGB does.
    """
    b = bayer.astype(np.int32)
    height, width = b.shape
    if height < 3 or width < 3:
        raise ValueError("a Bayer frame needs at least 3 x 3 pixels")
    centre = b[1:-1, 1:-1]
    horizontal = (b[1:-1, :-2] + b[1:-1, 2:] + 1) >> 1
    vertical = (b[:-2, 1:-1] + b[2:, 1:-1] + 1) >> 1
    cross = (b[:-2, 1:-1] + b[2:, 1:-1] + b[1:-1, :-2] + b[1:-1, 2:] + 2) >> 2
    diagonal = (b[:-2, :-2] + b[:-2, 2:] + b[2:, :-2] + b[2:, 2:] + 2) >> 2

    rows, cols = np.meshgrid(np.arange(1, height - 1), np.arange(1, width - 1), indexing="ij")
    red_site = (rows % 2 == 0) & (cols % 2 == 0)
    blue_site = (rows % 2 == 1) & (cols % 2 == 1)
    green_on_red_row = (rows % 2 == 0) & (cols % 2 == 1)
    green_on_blue_row = (rows % 2 == 1) & (cols % 2 == 0)

    red = np.select([red_site, green_on_red_row, green_on_blue_row], [centre, horizontal, vertical], diagonal)
    green = np.where(red_site | blue_site, cross, centre)
    blue = np.select([blue_site, green_on_blue_row, green_on_red_row], [centre, horizontal, vertical], diagonal)

    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[1:-1, 1:-1] = np.stack([red, green, blue], axis=-1)
    rgb[:, 0] = rgb[:, 1]
    rgb[:, -1] = rgb[:, -2]
    rgb[0] = rgb[1]
    rgb[-1] = rgb[-2]
    return rgb


def _area_weights(source, target):
    """[target, source]: the share of each source pixel inside each target pixel."""
    scale = source / target
    starts = np.arange(target)[:, None] * scale
    pixels = np.arange(source)[None, :]
    overlap = np.minimum(pixels + 1, starts + scale) - np.maximum(pixels, starts)
    return np.clip(overlap, 0, None) / scale


def _bilinear_weights(source, target):
    """[target, source]: bilinear taps at half-pixel centres, clamped at the edges."""
    weights = np.zeros((target, source))
    for i in range(target):
        x = (i + 0.5) * source / target - 0.5
        left = math.floor(x)
        fraction = x - left
        if left < 0:
            left, fraction = 0, 0.0
        if left >= source - 1:
            left, fraction = source - 1, 0.0
        weights[i, left] += 1 - fraction
        if fraction > 0:
            weights[i, left + 1] += fraction
    return weights


def _resample(pixels, height_weights, width_weights):
    """Applies both axes' weights in float64 and rounds once to 8 bits."""
    rows = np.tensordot(height_weights, pixels.astype(np.float64), axes=(1, 0))
    both = np.tensordot(rows, width_weights, axes=(1, 1))  # [H, C, W]
    return np.clip(np.rint(both.transpose(0, 2, 1)), 0, 255).astype(np.uint8)


def resize(pixels, height, width):
    """uint8 [h, w, 3] -> uint8 [height, width, 3] by the rules in the module docstring."""
    source_height, source_width = pixels.shape[:2]

    def weights(source, target):
        return _bilinear_weights(source, target) if target > source else _area_weights(source, target)

    grows = height > source_height or width > source_width
    shrinks = height < source_height or width < source_width
    if grows and shrinks:
        if height < source_height:
            pixels = _resample(pixels, _area_weights(source_height, height), np.eye(source_width))
        else:
            pixels = _resample(pixels, np.eye(source_height), _area_weights(source_width, width))
        source_height, source_width = pixels.shape[:2]
    return _resample(pixels, weights(source_height, height), weights(source_width, width))


def to_patches(pixels, patch_size, max_num_patches, mean, std):
    """uint8 [H, W, 3], sides multiples of patch_size -> float32 [max_num_patches, 3*p*p]."""
    normalised = (pixels / 255.0 - np.asarray(mean, dtype=np.float64)) / np.asarray(std, dtype=np.float64)
    grid_h, grid_w = pixels.shape[0] // patch_size, pixels.shape[1] // patch_size
    patches = normalised.reshape(grid_h, patch_size, grid_w, patch_size, 3).transpose(0, 2, 1, 3, 4)
    patches = patches.reshape(grid_h * grid_w, -1)
    padded = np.zeros((max_num_patches, 3 * patch_size * patch_size), dtype=np.float32)
    padded[: grid_h * grid_w] = patches
    return padded


def preprocess(image, patch_size=16, max_num_patches=256, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), roi=None):
    """PIL image or uint8 array -> (patches float32 [max_num_patches, 3*p*p], grid_h, grid_w).

    roi: optional (x, y, width, height) kept before resizing.
    """
    pixels = to_rgb_array(image)
    if roi is not None:
        x, y, w, h = roi
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > pixels.shape[1] or y + h > pixels.shape[0]:
            raise ValueError(f"roi {roi} is empty or outside the {pixels.shape[1]} x {pixels.shape[0]} image")
        pixels = pixels[y : y + h, x : x + w]
    grid_h, grid_w = naflex_grid(pixels.shape[0], pixels.shape[1], patch_size, max_num_patches)
    if grid_h * grid_w > max_num_patches:
        raise ValueError(f"a {pixels.shape[1]} x {pixels.shape[0]} image needs more than {max_num_patches} patches")
    resized = resize(pixels, grid_h * patch_size, grid_w * patch_size)
    return to_patches(resized, patch_size, max_num_patches, mean, std), grid_h, grid_w
