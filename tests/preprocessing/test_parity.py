"""Parity: the C++ preprocessing (through auroraedge-preprocess-dump) against
the Python reference (preprocessing/python/naflex_reference.py).

Tolerance: every value within one 8-bit grey level, i.e. 1 / (255 * std[c])
in normalised units, and at most 20% of values off at all. Both sides resize
8-bit images with the same rules; the remaining differences are OpenCV's
fixed-point bilinear weights and its rounding of exact halves. Raw formats
wider than 8 bits are resized as floats on both sides, with no rounding to
8 bits: there every value must be within WIDE_LEVELS of a level. Grid shapes
must match exactly and padding rows must be exactly zero.
"""

import io
import json
import os
import subprocess

import numpy as np
import pytest
from PIL import Image

import naflex_reference as reference

DUMP = os.environ["AURORAEDGE_PREPROCESS_DUMP"]
SIZES = [(1080, 1920), (1, 1000), (1000, 1), (1, 1), (37, 53), (300, 17), (5, 5), (240, 320), (16, 4096)]
DEFAULT = dict(patch_size=16, max_num_patches=256, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
# Wide raw formats stay float on both sides: float32 in C++ against float64.
WIDE_LEVELS = 0.01
CLIP = dict(patch_size=14, max_num_patches=64, mean=(0.481, 0.458, 0.408), std=(0.269, 0.261, 0.276))


def textured(height, width, seed=0):
    """Smooth colour waves plus noise: both edges and gradients to resample."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    waves = np.stack([127 + 120 * np.sin(x / 7.0 + y / 13.0), 127 + 120 * np.cos(x / 5.0 - y / 9.0), (x * 3 + y * 5) % 256], -1)
    return np.clip(waves + rng.normal(0, 12, waves.shape), 0, 255).astype(np.uint8)


def run_cpp(tmp_path, args, config):
    out = tmp_path / "patches.npy"
    command = [DUMP, *args, "--out", str(out), "--patch-size", str(config["patch_size"]),
               "--max-num-patches", str(config["max_num_patches"]),
               "--mean", ",".join(map(str, config["mean"])), "--std", ",".join(map(str, config["std"]))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    grid = json.loads(result.stdout)
    return np.load(out), grid["grid_h"], grid["grid_w"]


def assert_parity(cpp, expected, config, levels=1.0, share_off=0.2):
    patches, grid_h, grid_w = cpp
    ref_patches, ref_h, ref_w = expected
    assert (grid_h, grid_w) == (ref_h, ref_w)
    assert patches.shape == ref_patches.shape == (config["max_num_patches"], 3 * config["patch_size"] ** 2)
    valid = grid_h * grid_w
    assert not patches[valid:].any(), "padding rows must be zero"
    # Values interleave the channels (row, column, channel): a level per channel.
    one_level = np.tile(1.0 / (255.0 * np.asarray(config["std"])), config["patch_size"] ** 2)
    difference = np.abs(patches[:valid] - ref_patches[:valid])
    assert (difference <= levels * one_level + 1e-5).all(), f"max difference {(difference / one_level).max()} levels"
    assert (difference > 1e-5).mean() <= share_off


@pytest.mark.parametrize("config", [DEFAULT, CLIP], ids=["siglip2", "other-config"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
def test_encoded_images_match(tmp_path, size, fmt, config):
    encoded = io.BytesIO()
    Image.fromarray(textured(*size)).save(encoded, fmt)
    path = tmp_path / "image"
    path.write_bytes(encoded.getvalue())
    cpp = run_cpp(tmp_path, ["--encoded", str(path)], config)
    assert_parity(cpp, reference.preprocess(reference.decode(encoded.getvalue()), **config), config)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_png_colour_modes_match(tmp_path, mode):
    image = Image.fromarray(textured(90, 130)).convert(mode)
    path = tmp_path / "image.png"
    image.save(path)
    cpp = run_cpp(tmp_path, ["--encoded", str(path)], DEFAULT)
    assert_parity(cpp, reference.preprocess(reference.decode(path.read_bytes()), **DEFAULT), DEFAULT)


RAW_CASES = [
    # pixel format, height, width, extra stride bytes, roi (x, y, width, height)
    ("MONO8", 1200, 1600, 0, None),
    ("MONO8", 3, 2000, 5, (1, 0, 1999, 3)),
    ("RGB8", 480, 640, 3, (101, 33, 300, 401)),
    ("BGR8", 1, 700, 0, None),
    ("BGR8", 500, 2, 1, None),
    ("BAYER_RG8", 600, 800, 0, None),
    ("BAYER_RG8", 600, 800, 7, (201, 151, 333, 123)),
    ("BAYER_RG8", 3, 3, 0, None),
    ("BAYER_RG8", 1000, 4, 0, (1, 1, 3, 999)),
    ("BAYER_GR8", 300, 401, 1, (5, 7, 200, 150)),
    ("BAYER_GB8", 240, 320, 0, None),
    ("BAYER_BG8", 241, 33, 3, (1, 1, 31, 239)),
    ("MONO10", 480, 640, 0, None),
    ("MONO12", 37, 1001, 6, (3, 1, 997, 35)),
    ("MONO16", 600, 800, 0, (1, 1, 700, 500)),
    ("MONO10P", 480, 640, 0, None),
    ("MONO10P", 31, 1000, 3, (7, 5, 990, 9)),
    ("MONO12P", 600, 802, 1, None),
    ("MONO12P", 9, 2, 0, None),
    ("BAYER_RG12", 600, 800, 0, None),
    ("BAYER_RG12", 600, 800, 10, (201, 151, 333, 123)),
    ("BAYER_RG16", 3, 3, 0, None),
    ("BAYER_RG16", 1000, 6, 2, (1, 1, 3, 999)),
]


def frame_values(pixel_format, height, width, seed=1):
    """The textured test image as the values a camera of this format sends."""
    channels, _, significant, pattern = reference.PIXEL_FORMATS[pixel_format]
    pixels = textured(height, width, seed).astype(np.uint32)
    if channels == 1:
        pixels = pixels[:, :, 1]
    # Wide formats: the 8-bit image scaled up, plus noise in the extra bits.
    extra = significant - 8
    noise = np.random.default_rng(seed).integers(0, 1 << extra, pixels.shape) if extra else 0
    return (pixels << extra) | noise


def pack_rows(values, bits, stride):
    """Rows of values as bytes, LSB first at `bits` per value (8 and 16: bytes
    and little-endian words), each row padded to `stride` with 0xAB. Built
    with Python integers, apart from the reference's numpy unpacking."""
    out = bytearray()
    for row in values.reshape(values.shape[0], -1):
        number = sum(int(v) << (i * bits) for i, v in enumerate(row))
        packed = number.to_bytes(len(row) * bits // 8, "little")
        out += packed + b"\xAB" * (stride - len(packed))
    return bytes(out)


def wide(pixel_format):
    return reference.PIXEL_FORMATS[pixel_format][2] > 8


@pytest.mark.parametrize("config", [DEFAULT, CLIP], ids=["siglip2", "other-config"])
@pytest.mark.parametrize("pixel_format,height,width,padding,roi", RAW_CASES)
def test_raw_frames_match(tmp_path, pixel_format, height, width, padding, roi, config):
    bits = reference.PIXEL_FORMATS[pixel_format][1]
    stride = reference.row_bytes(pixel_format, width) + padding
    data = pack_rows(frame_values(pixel_format, height, width), bits, stride)
    # The last row stops right after its pixels: the shortest frame the rule
    # of RawFrame.data allows.
    data = data[: len(data) - padding]
    path = tmp_path / "frame.raw"
    path.write_bytes(data)
    args = ["--raw", str(path), "--width", str(width), "--height", str(height),
            "--pixel-format", pixel_format, "--stride", str(stride)]
    if roi:
        args += ["--roi", ",".join(map(str, roi))]
    cpp = run_cpp(tmp_path, args, config)
    rgb = reference.raw_frame_to_rgb(data, width, height, pixel_format, stride)
    assert rgb.dtype == (np.float64 if wide(pixel_format) else np.uint8)
    expected = reference.preprocess(rgb, roi=roi, **config)
    if wide(pixel_format):
        # Floats on both sides, no 8-bit rounding: far inside one level.
        assert_parity(cpp, expected, config, levels=WIDE_LEVELS, share_off=1.0)
    else:
        assert_parity(cpp, expected, config)


@pytest.mark.parametrize("pixel_format", ["BAYER_RG8", "BAYER_GR8", "BAYER_GB8", "BAYER_BG8", "BAYER_RG12", "BAYER_RG16"])
def test_bayer_demosaic_is_exact(tmp_path, pixel_format):
    """patch_size 1 keeps the size, so the demosaiced pixels are compared directly."""
    height, width = 31, 46
    _, bits, significant, _ = reference.PIXEL_FORMATS[pixel_format]
    bayer = np.random.default_rng(3).integers(0, 1 << significant, (height, width))
    data = pack_rows(bayer, bits, reference.row_bytes(pixel_format, width))
    path = tmp_path / "frame.raw"
    path.write_bytes(data)
    config = dict(patch_size=1, max_num_patches=height * width, mean=(0, 0, 0), std=(1, 1, 1))
    patches, grid_h, grid_w = run_cpp(
        tmp_path, ["--raw", str(path), "--width", str(width), "--height", str(height), "--pixel-format", pixel_format], config)
    assert (grid_h, grid_w) == (height, width)
    pattern = reference.PIXEL_FORMATS[pixel_format][3]
    expected = reference.demosaic(bayer.astype(np.uint16), pattern).reshape(-1, 3) / ((1 << significant) - 1)
    np.testing.assert_allclose(patches, expected, atol=1e-6)


@pytest.mark.parametrize("extra", [-1, 0, 30, 31])
def test_reference_takes_frames_the_server_takes(extra):
    """stride * (height - 1) + width * channels bytes up to stride * height,
    as preprocessing/src/raw_frame_pixels.cc (bad_input_test.cc) decides."""
    width, height, stride = 10, 4, 3 * 10 + 30
    data = bytes(stride * (height - 1) + 3 * width + extra)
    if 0 <= extra <= 30:
        assert reference.raw_frame_to_rgb(data, width, height, "RGB8", stride).shape == (4, 10, 3)
    else:
        with pytest.raises(ValueError, match="takes 210 to 240"):
            reference.raw_frame_to_rgb(data, width, height, "RGB8", stride)
