"""Parity: the C++ preprocessing (through auroraedge-preprocess-dump) against
the Python reference (preprocessing/python/naflex_reference.py).

Tolerance: every value within one 8-bit grey level, i.e. 1 / (255 * std[c])
in normalised units, and at most 20% of values off at all. Both sides resize
8-bit images with the same rules; the remaining differences are OpenCV's
fixed-point bilinear weights and its rounding of exact halves. Grid shapes
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


def assert_parity(cpp, expected, config):
    patches, grid_h, grid_w = cpp
    ref_patches, ref_h, ref_w = expected
    assert (grid_h, grid_w) == (ref_h, ref_w)
    assert patches.shape == ref_patches.shape == (config["max_num_patches"], 3 * config["patch_size"] ** 2)
    valid = grid_h * grid_w
    assert not patches[valid:].any(), "padding rows must be zero"
    # Values interleave the channels (row, column, channel): a level per channel.
    one_level = np.tile(1.0 / (255.0 * np.asarray(config["std"])), config["patch_size"] ** 2)
    difference = np.abs(patches[:valid] - ref_patches[:valid])
    assert (difference <= one_level + 1e-5).all(), f"max difference {difference.max()}"
    assert (difference > 1e-5).mean() <= 0.2


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
]


@pytest.mark.parametrize("config", [DEFAULT, CLIP], ids=["siglip2", "other-config"])
@pytest.mark.parametrize("pixel_format,height,width,padding,roi", RAW_CASES)
def test_raw_frames_match(tmp_path, pixel_format, height, width, padding, roi, config):
    channels = 3 if pixel_format in ("RGB8", "BGR8") else 1
    stride = width * channels + padding
    pixels = textured(height, width, seed=1)
    if channels == 1:
        pixels = pixels[:, :, 1]
    rows = np.full((height, stride), 0xAB, dtype=np.uint8)
    rows[:, : width * channels] = pixels.reshape(height, -1)
    path = tmp_path / "frame.raw"
    path.write_bytes(rows.tobytes())
    args = ["--raw", str(path), "--width", str(width), "--height", str(height),
            "--pixel-format", pixel_format, "--stride", str(stride)]
    if roi:
        args += ["--roi", ",".join(map(str, roi))]
    cpp = run_cpp(tmp_path, args, config)
    rgb = reference.raw_frame_to_rgb(rows.tobytes(), width, height, pixel_format, stride)
    assert_parity(cpp, reference.preprocess(rgb, roi=roi, **config), config)


def test_bayer_demosaic_is_exact(tmp_path):
    """patch_size 1 keeps the size, so the demosaiced pixels are compared directly."""
    height, width = 31, 46
    bayer = np.random.default_rng(3).integers(0, 256, (height, width), dtype=np.uint8)
    path = tmp_path / "frame.raw"
    path.write_bytes(bayer.tobytes())
    config = dict(patch_size=1, max_num_patches=height * width, mean=(0, 0, 0), std=(1, 1, 1))
    patches, grid_h, grid_w = run_cpp(
        tmp_path, ["--raw", str(path), "--width", str(width), "--height", str(height), "--pixel-format", "BAYER_RG8"], config)
    assert (grid_h, grid_w) == (height, width)
    expected = reference.demosaic_rggb(bayer).reshape(-1, 3) / 255.0
    np.testing.assert_allclose(patches, expected, atol=1e-6)
