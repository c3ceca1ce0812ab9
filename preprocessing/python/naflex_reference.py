"""Reference implementation of AuroraEdge's SigLIP2-naflex image preprocessing.

The C++ library (preprocessing/src) must match this module: the tests compare
both on generated images, and the demo-model training prepares its images
with it. Plain Python, PIL and numpy; written to be read, not to be fast.

Rules, in order:
  1. decode (PIL; EXIF orientation is not applied) or unpack a raw frame
     (PIXEL_FORMATS; Bayer mosaics demosaiced bilinearly as OpenCV does;
     values wider than 8 bits scaled to floats on the 0..255 scale);
  2. crop to the region of interest, if any;
  3. target size: the SigLIP2 naflex bisection (naflex_grid);
  4. resize axis by axis, 8-bit in and out (floats for wide formats): area
     averaging along an axis that shrinks, bilinear (half-pixel centres,
     clamped edges) along one that grows; a shrinking axis goes first,
     rounded to 8 bits in between (floats are not rounded);
  5. rescale to [0, 1], normalise with mean and std per RGB channel;
  6. patches flattened in (row, column, channel) order, zero rows up to
     max_num_patches.
"""

import io
import math

import numpy as np
from PIL import Image

# name: (values per pixel, bits a value takes in a row, bits that carry it,
# Bayer pattern: the colours of the first two pixels of rows 0 and 1).
# Values wider than 8 bits: 16-bit little-endian words, or packed LSB first
# (GenICam PFNC "p" formats: MONO10P 4 pixels in 5 bytes, MONO12P 2 in 3).
PIXEL_FORMATS = {
    "MONO8": (1, 8, 8, None),
    "RGB8": (3, 8, 8, None),
    "BGR8": (3, 8, 8, None),
    "BAYER_RG8": (1, 8, 8, "RGGB"),
    "BAYER_GR8": (1, 8, 8, "GRBG"),
    "BAYER_GB8": (1, 8, 8, "GBRG"),
    "BAYER_BG8": (1, 8, 8, "BGGR"),
    "MONO10": (1, 16, 10, None),
    "MONO12": (1, 16, 12, None),
    "MONO16": (1, 16, 16, None),
    "MONO10P": (1, 10, 10, None),
    "MONO12P": (1, 12, 12, None),
    "BAYER_RG12": (1, 16, 12, "RGGB"),
    "BAYER_RG16": (1, 16, 16, "RGGB"),
}


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
    """PIL image or array ([H, W] grey, [H, W, 3] RGB) -> [H, W, 3].

    uint8 stays uint8; floats (wide raw formats, on the 0..255 scale) stay floats.
    """
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(image)
    if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"expected uint8 or float pixels, got {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    raise ValueError(f"expected [H, W] or [H, W, 3] pixels, got shape {array.shape}")


def row_bytes(pixel_format, width):
    """Bytes one row of `width` pixels takes; a packed row must end on a byte."""
    channels, bits, _, _ = PIXEL_FORMATS[pixel_format]
    if width * channels * bits % 8:
        raise ValueError(f"{pixel_format} rows of {width} pixels do not end on a byte")
    return width * channels * bits // 8


def unpack(data, width, height, pixel_format, stride=0):
    """A camera frame (rows of `stride` bytes, 0: packed) -> its values.

    uint8 [H, W] or [H, W, 3] for 8-bit formats, uint16 [H, W] for wider ones.
    """
    channels, bits, significant, _ = PIXEL_FORMATS[pixel_format]
    row = row_bytes(pixel_format, width)
    stride = stride or row
    # The last row may end right after its pixels (the rule of RawFrame.data).
    least, most = stride * (height - 1) + row, stride * height
    if not least <= len(data) <= most:
        raise ValueError(f"{len(data)} bytes; a {width} x {height} {pixel_format} frame with "
                         f"stride {stride} takes {least} to {most}")
    flat = np.frombuffer(data, dtype=np.uint8)
    rows = np.lib.stride_tricks.as_strided(flat, shape=(height, row), strides=(stride, 1),
                                           writeable=False)
    if bits == 8:
        values = rows.reshape(height, width, channels)
        return values[:, :, 0] if channels == 1 else values
    if bits == 16:
        values = np.ascontiguousarray(rows).view("<u2").astype(np.uint16)
    else:
        stream = np.unpackbits(rows, axis=1, bitorder="little").reshape(height, width, bits)
        values = (stream.astype(np.uint16) << np.arange(bits, dtype=np.uint16)).sum(axis=2, dtype=np.uint16)
    if values.max() >= 1 << significant:
        raise ValueError(f"{pixel_format} values above {(1 << significant) - 1}")
    return values


def raw_frame_to_rgb(data, width, height, pixel_format, stride=0):
    """A camera frame -> RGB [H, W, 3]: uint8 for 8-bit formats, float64 on the
    0..255 scale for wider ones (scaled, not truncated to 8 bits)."""
    _, _, significant, pattern = PIXEL_FORMATS[pixel_format]
    values = unpack(data, width, height, pixel_format, stride)
    if pattern:
        values = demosaic(values, pattern)
    elif pixel_format == "BGR8":
        values = values[:, :, ::-1]
    if significant > 8:
        values = values * (255.0 / ((1 << significant) - 1))
    return to_rgb_array(values).copy()


def demosaic(bayer, pattern):
    """Bilinear demosaic of a Bayer mosaic; `pattern` names the colours of
    the first two pixels of rows 0 and 1 ("RGGB": row 0 R G R G, row 1 G B G B).

    Interior pixels average their 2 or 4 nearest samples of each missing
    colour, rounding halves up; the outermost rows and columns repeat their
    inner neighbours, as OpenCV's COLOR_Bayer*2RGB does. Same dtype out as in.
    """
    b = bayer.astype(np.int64)
    height, width = b.shape
    if height < 3 or width < 3:
        raise ValueError("a Bayer frame needs at least 3 x 3 pixels")
    centre = b[1:-1, 1:-1]
    horizontal = (b[1:-1, :-2] + b[1:-1, 2:] + 1) >> 1
    vertical = (b[:-2, 1:-1] + b[2:, 1:-1] + 1) >> 1
    cross = (b[:-2, 1:-1] + b[2:, 1:-1] + b[1:-1, :-2] + b[1:-1, 2:] + 2) >> 2
    diagonal = (b[:-2, :-2] + b[:-2, 2:] + b[2:, :-2] + b[2:, 2:] + 2) >> 2

    rows, cols = np.meshgrid(np.arange(1, height - 1), np.arange(1, width - 1), indexing="ij")
    colour = np.asarray(list(pattern)).reshape(2, 2)[rows % 2, cols % 2]
    red_row = (rows % 2) == pattern.index("R") // 2  # the rows that hold red samples
    green = colour == "G"

    def missing(site):
        # At a green site the colour is a horizontal pair on its own rows,
        # else a vertical pair; at the opposite colour's site, a diagonal.
        own_rows = red_row if site == "R" else ~red_row
        return np.select([colour == site, green & own_rows, green], [centre, horizontal, vertical], diagonal)

    rgb = np.zeros((height, width, 3), dtype=bayer.dtype)
    rgb[1:-1, 1:-1] = np.stack([missing("R"), np.where(green, centre, cross), missing("B")], axis=-1)
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
    """Applies both axes' weights in float64; rounds once to 8 bits for uint8 pixels."""
    rows = np.tensordot(height_weights, pixels.astype(np.float64), axes=(1, 0))
    both = np.tensordot(rows, width_weights, axes=(1, 1)).transpose(0, 2, 1)  # [H, W, C]
    if pixels.dtype != np.uint8:
        return both
    return np.clip(np.rint(both), 0, 255).astype(np.uint8)


def resize(pixels, height, width):
    """[h, w, 3] -> [height, width, 3], same dtype (uint8 or float), by the rules
    in the module docstring."""
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
    """[H, W, 3] on the 0..255 scale (uint8 or float), sides multiples of patch_size -> float32 [max_num_patches, 3*p*p]."""
    normalised = (pixels / 255.0 - np.asarray(mean, dtype=np.float64)) / np.asarray(std, dtype=np.float64)
    grid_h, grid_w = pixels.shape[0] // patch_size, pixels.shape[1] // patch_size
    patches = normalised.reshape(grid_h, patch_size, grid_w, patch_size, 3).transpose(0, 2, 1, 3, 4)
    patches = patches.reshape(grid_h * grid_w, -1)
    padded = np.zeros((max_num_patches, 3 * patch_size * patch_size), dtype=np.float32)
    padded[: grid_h * grid_w] = patches
    return padded


def preprocess(image, patch_size=16, max_num_patches=256, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), roi=None):
    """PIL image or array (uint8, or float on the 0..255 scale) -> (patches float32 [max_num_patches, 3*p*p], grid_h, grid_w).

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
