"""What a factory line does to a camera image, as training augmentations.

An operator's region of interest is rarely pixel-exact, frames get padded or
letterboxed, a camera sits a few degrees off and its rotated frame has
filled corners, light drifts and is uneven, lenses blur, sensors add noise,
images travel as JPEG and some cameras are grey-only (MONO8). A model that
has seen only one framing answers wrongly under another, so training draws
these at random (`LineConditions.apply`).

Geometric changes move an image's pixels; every label map passed along
(per-pixel classes, 0 meaning background) moves with them, by nearest
neighbour, so that per-pixel training targets stay true.
"""

import io
import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageFilter

Pixels = np.ndarray  # uint8 [H, W, 3]


def border_colour(pixels: Pixels) -> np.ndarray:
    """The median colour of the image's outermost rows and columns: the
    background, for a part that does not fill the frame."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return np.median(border, axis=0)


def pad(pixels: Pixels, labels: Sequence[np.ndarray], sides: Tuple[int, int, int, int],
        fill: np.ndarray, noise: float = 0.0,
        rng: np.random.Generator = None) -> Tuple[Pixels, List[np.ndarray]]:
    """Adds (left, top, right, bottom) pixels filled with `fill` (plus Gaussian
    `noise`, the look of more background); labels get background (0)."""
    left, top, right, bottom = sides
    height, width = pixels.shape[:2]
    out_h, out_w = height + top + bottom, width + left + right
    canvas = np.broadcast_to(np.asarray(fill, np.float32), (out_h, out_w, 3)).copy()
    if noise > 0:
        canvas += rng.normal(0, noise, (out_h, out_w, 1))
    canvas[top:top + height, left:left + width] = pixels
    padded_labels = []
    for label in labels:
        grown = np.zeros((out_h, out_w), label.dtype)
        grown[top:top + height, left:left + width] = label
        padded_labels.append(grown)
    return np.clip(canvas, 0, 255).astype(np.uint8), padded_labels


def pad_to_square(pixels: Pixels, labels: Sequence[np.ndarray],
                  fill: np.ndarray) -> Tuple[Pixels, List[np.ndarray]]:
    """Letterboxing: the shorter side padded evenly to the longer one."""
    height, width = pixels.shape[:2]
    extra_h, extra_w = max(width - height, 0), max(height - width, 0)
    return pad(pixels, labels, (extra_w // 2, extra_h // 2, extra_w - extra_w // 2,
                                extra_h - extra_h // 2), fill)


def rotate_frame(pixels: Pixels, labels: Sequence[np.ndarray], degrees: float,
                 fill: np.ndarray) -> Tuple[Pixels, List[np.ndarray]]:
    """The whole frame rotated about its centre (same size), the corners that
    come in from outside filled with `fill`."""
    colour = tuple(int(round(c)) for c in fill)
    image = Image.fromarray(pixels).rotate(degrees, resample=Image.BILINEAR, fillcolor=colour)
    rotated = [np.asarray(Image.fromarray(label).rotate(degrees, resample=Image.NEAREST,
                                                        fillcolor=0)) for label in labels]
    return np.asarray(image), rotated


def crop(pixels: Pixels, labels: Sequence[np.ndarray],
         box: Tuple[int, int, int, int]) -> Tuple[Pixels, List[np.ndarray]]:
    """(left, top, right, bottom) in pixels: a tighter region of interest."""
    left, top, right, bottom = box
    return pixels[top:bottom, left:right], [label[top:bottom, left:right] for label in labels]


def grey(pixels: Pixels) -> Pixels:
    """What a MONO8 camera gives (ITU-R 601 luma), as the server expands it:
    the same value in all three channels."""
    luma = np.asarray(Image.fromarray(pixels).convert("L"))
    return np.repeat(luma[:, :, None], 3, axis=2)


def uneven_light(pixels: Pixels, rng: np.random.Generator, gain: float,
                 slope: float) -> Pixels:
    """Overall gain and a linear light gradient of +-slope across the frame."""
    height, width = pixels.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = ((xx - width / 2) * math.cos(angle) + (yy - height / 2) * math.sin(angle)) \
        / max(width, height)
    light = gain * (1.0 + 2 * slope * ramp)
    return np.clip(pixels * light[..., None], 0, 255).astype(np.uint8)


def blur(pixels: Pixels, radius: float) -> Pixels:
    return np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(radius)))


def noise(pixels: Pixels, rng: np.random.Generator, sigma: float) -> Pixels:
    noisy = pixels + rng.normal(0, sigma, pixels.shape[:2] + (1,))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def jpeg(pixels: Pixels, quality: int) -> Pixels:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def turned_or_mirrored(rng: np.random.Generator, pixels: Pixels) -> Pixels:
    """The image under one of the eight symmetries of a rectangle, drawn at
    random: as it is, turned by quarter turns, mirrored. A part that may lie
    on the line any way round looks like this; its answers must not depend
    on which way it faces (a defect's location does)."""
    if rng.random() < 0.5:
        pixels = pixels.transpose(1, 0, 2)
    if rng.random() < 0.5:
        pixels = pixels[::-1]
    if rng.random() < 0.5:
        pixels = pixels[:, ::-1]
    return np.ascontiguousarray(pixels)


@dataclass(frozen=True)
class LineConditions:
    """How often and how strongly each condition is drawn. A share is the
    probability that an image gets that change; geometric ones exclude each
    other (one framing change at most)."""

    margin_share: float = 0.2     # a looser region of interest, more background around
    max_margin: float = 0.15      # per side, of the side's length
    padding_share: float = 0.15   # padded: letterboxed to a square, or 5-25 % on some sides
    rotation_share: float = 0.15  # the frame rotated, corners filled
    max_rotation: float = 6.0     # degrees
    zoom_in_share: float = 0.1    # a tighter region of interest
    max_zoom_in: float = 0.04     # per side
    light_share: float = 0.5      # gain 0.7-1.3 and a light gradient of up to +-25 %
    blur_share: float = 0.3       # Gaussian blur, radius 0.3-1.4 px
    noise_share: float = 0.3      # sensor noise, sigma 2-8
    jpeg_share: float = 0.3       # re-encoded as JPEG, quality 35-90
    grey_share: float = 0.15      # a grey-only camera

    def apply(self, rng: np.random.Generator, pixels: Pixels,
              labels: Sequence[np.ndarray] = ()) -> Tuple[Pixels, List[np.ndarray]]:
        """The image (uint8 [H, W, 3]) under randomly drawn conditions, and
        its label maps moved with it."""
        labels = list(labels)
        pixels, labels = self._frame(rng, pixels, labels)
        if rng.random() < self.light_share:
            pixels = uneven_light(pixels, rng, rng.uniform(0.7, 1.3), rng.uniform(0, 0.25))
        if rng.random() < self.blur_share:
            pixels = blur(pixels, rng.uniform(0.3, 1.4))
        if rng.random() < self.noise_share:
            pixels = noise(pixels, rng, rng.uniform(2, 8))
        if rng.random() < self.grey_share:
            pixels = grey(pixels)
        if rng.random() < self.jpeg_share:
            pixels = jpeg(pixels, int(rng.integers(35, 91)))
        return pixels, labels

    def _frame(self, rng: np.random.Generator, pixels: Pixels,
               labels: List[np.ndarray]) -> Tuple[Pixels, List[np.ndarray]]:
        height, width = pixels.shape[:2]
        pick = rng.random()
        for share, change in ((self.margin_share, self._margin), (self.padding_share, self._pad),
                              (self.rotation_share, self._rotate),
                              (self.zoom_in_share, self._zoom_in)):
            if pick < share:
                return change(rng, pixels, labels, height, width)
            pick -= share
        return pixels, labels

    def _margin(self, rng, pixels, labels, height, width):
        sides = [int(round(rng.uniform(0.02, self.max_margin) * size))
                 for size in (width, height, width, height)]
        background = pixels[np.r_[0:2, -2:0]].reshape(-1, 3).std(axis=0).mean()
        return pad(pixels, labels, tuple(sides), border_colour(pixels), min(background, 10.0), rng)

    def _pad(self, rng, pixels, labels, height, width):
        fill = self._fill(rng, pixels)
        if rng.random() < 0.5:
            return pad_to_square(pixels, labels, fill)
        chosen = rng.random(4) < 0.5
        chosen[rng.integers(4)] = True
        sides = [int(round(rng.uniform(0.05, 0.25) * size)) if on else 0
                 for on, size in zip(chosen, (width, height, width, height))]
        return pad(pixels, labels, tuple(sides), fill)

    def _rotate(self, rng, pixels, labels, height, width):
        degrees = rng.uniform(1.0, self.max_rotation) * rng.choice([-1, 1])
        return rotate_frame(pixels, labels, degrees, self._fill(rng, pixels))

    def _zoom_in(self, rng, pixels, labels, height, width):
        left, right = (int(rng.uniform(0, self.max_zoom_in) * width) for _ in range(2))
        top, bottom = (int(rng.uniform(0, self.max_zoom_in) * height) for _ in range(2))
        return crop(pixels, labels, (left, top, width - right, height - bottom))

    @staticmethod
    def _fill(rng, pixels) -> np.ndarray:
        """What fills added pixels: the background's colour, black or mid-grey."""
        choice = rng.random()
        if choice < 0.6:
            return border_colour(pixels)
        return np.zeros(3) if choice < 0.8 else np.full(3, 128.0)
