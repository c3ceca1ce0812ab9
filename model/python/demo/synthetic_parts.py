"""Seeded generator of machined parts as a line camera sees them, with ground truth.

Each image shows one part (plate, washer, bracket or gear) in one of several
colours, with drilled holes, on a conveyor-like background under uneven light,
slightly rotated, blurred and noisy. Most parts carry one defect (scratch,
dent, crack, missing hole, burr) in a known location; the rest are OK.
Parts come in two drawing styles (STYLES): machined metal (shading,
brushed streaks, chamfered holes, a bright gouge for a scratch, a scribed
circle round a missing hole, a ribbed belt, a cast shadow) and flat (one
flat colour, plain holes, a dark line for a scratch, a bare punch mark, a
plain background), so that the model learns what a defect is rather than
one way of drawing it.

The same seed always gives the same images, so train, validation and test sets
are just different seeds (see SPLIT_SEEDS). Nothing is downloaded.

    /usr/bin/python3 model/python/demo/synthetic_parts.py --samples models/samples
"""

import argparse
import json
import math
import os
import sys
from typing import Iterator, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from defects import burr_sites, draw_punch_mark, surface_drawer  # noqa: E402
from inspection_task import (COLOURS, DEFECTS, LOCATIONS, NO_DEFECT, SHAPES,  # noqa: E402
                             PartTruth)
from part_geometry import (EDGE_BOXES, HOLE_PATTERNS, HOLE_RADIUS, HOLE_SLOTS,  # noqa: E402
                           LOCATION_BOXES, LOCATION_MARGIN, PartFrame, border_clearance,
                           draw_outline, hole_radius_px, location_at)

SPLIT_SEEDS = {"train": 1000, "validation": 2000, "test": 3000}
OK_SHARE = 0.25
STYLES = ("machined", "flat")

PART_COLOURS = {
    "silver": (172, 174, 178), "gold": (196, 162, 72), "copper": (186, 104, 62),
    "black": (44, 44, 48), "blue": (52, 86, 176),
}
BACKGROUNDS = [(68, 70, 74), (120, 122, 120), (190, 188, 182), (58, 104, 78),
               (176, 158, 120), (96, 112, 132), (214, 214, 208)]
MIN_CONTRAST = 45.0
# Placements of a defect tried per candidate location.
DEFECT_TRIES = 4
# What a pixel of render_with_labels' label map shows.
PIXEL_LABELS = ("background", "part", "hole", *DEFECTS)


def luminance(rgb) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def jitter_colour(rng: np.random.Generator, rgb, amount: float) -> np.ndarray:
    return np.clip(np.array(rgb, dtype=np.float32) * rng.uniform(1 - amount, 1 + amount)
                   + rng.normal(0, 6, 3), 0, 255)


def sample_defect(rng: np.random.Generator) -> str:
    return NO_DEFECT if rng.random() < OK_SHARE else DEFECTS[rng.integers(len(DEFECTS))]


def sample_part(rng: np.random.Generator, defect: str) -> Tuple[str, str, Tuple[str, ...]]:
    """Shape, colour and drilling pattern of a part that can carry `defect`."""
    while True:
        shape = SHAPES[rng.integers(len(SHAPES))]
        colour = COLOURS[rng.integers(len(COLOURS))]
        patterns = HOLE_PATTERNS[shape]
        pattern = patterns[rng.integers(len(patterns))]
        if pattern or defect != "missing hole":
            return shape, colour, pattern


def part_size(rng: np.random.Generator, shape: str, canvas: Tuple[int, int]) -> Tuple[int, int]:
    aspect = {"plate": rng.uniform(0.75, 1.35), "bracket": rng.uniform(0.85, 1.2)}.get(shape, 1.0)
    fill = rng.uniform(0.7, 0.86)
    width = fill * canvas[0]
    height = width / aspect
    if height > fill * canvas[1]:
        height = fill * canvas[1]
        width = height * aspect
    return int(width), int(height)


def part_surface(rng: np.random.Generator, colour: str, shape: Tuple[int, int],
                 flat: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Metal in the part's colour: a shading gradient and brushed streaks, or
    (flat) one colour."""
    base = jitter_colour(rng, PART_COLOURS[colour], 0.08)
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)) / max(height, width)
    shade = 1.0 + rng.uniform(0.1, 0.25) * (ramp - ramp.mean())
    streaks = np.repeat(rng.normal(0, 1, (height, 1)), width, axis=1) * rng.uniform(2, 6)
    if flat:  # drawn after the same draws, so that a seed gives the same part in both styles
        return np.broadcast_to(base, (height, width, 3)).astype(np.float32), base
    rgb = base[None, None, :] * shade[..., None] + streaks[..., None]
    return np.clip(rgb, 0, 255).astype(np.float32), base


def damage_location(damaged: np.ndarray, frame: PartFrame) -> Optional[str]:
    """The location of a drawn defect's middle, or None when that lies too
    near a border between locations to name one."""
    rows, cols = np.nonzero(damaged)
    if len(rows) == 0:
        return None
    u, v = frame.to_unit(cols.mean() + 0.5, rows.mean() + 0.5)
    if border_clearance(u, v) < LOCATION_MARGIN:
        return None
    return LOCATIONS[int(location_at(np.array(u), np.array(v)))]


def draw_surface_defect(rng: np.random.Generator, defect: str, rgb: np.ndarray, alpha: np.ndarray,
                        base: np.ndarray, frame: PartFrame,
                        sites: Optional[np.ndarray], flat: bool) -> Optional[str]:
    """Draws `defect` where it has room and an unambiguous location (rgb and
    alpha in place; a burr from `sites`; flat: in the flat style); its
    location, or None when the part has no such room."""
    drawer = surface_drawer(defect, sites, flat)
    undamaged_rgb, undamaged_alpha = rgb.copy(), alpha.copy()
    for candidate in rng.permutation(LOCATIONS):
        u0, v0, u1, v1 = (EDGE_BOXES if defect == "burr" else LOCATION_BOXES)[candidate]
        box = (*frame.to_px(u0, v0), *frame.to_px(u1, v1))
        for _ in range(DEFECT_TRIES):
            if not drawer(rng, rgb, alpha, base, box, frame.size):
                break
            if damage_location(damage_mask(rgb, undamaged_rgb, alpha), frame) == candidate:
                return str(candidate)
            rgb[...], alpha[...] = undamaged_rgb, undamaged_alpha
    return None


def damage_mask(rgb: np.ndarray, undamaged: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Pixels of the part that a defect changed visibly."""
    return (np.abs(rgb - undamaged).max(axis=2) > 12) & (alpha > 0.5)


def draw_part(rng: np.random.Generator, shape: str, colour: str, pattern: Tuple[str, ...],
              defect: str, frame: PartFrame,
              style: str = "machined") -> Optional[Tuple[Image.Image, Image.Image,
                                                         Image.Image, int, str]]:
    """The part layer (RGBA), its label layer (PIXEL_LABELS), its location
    layer (1 + LOCATIONS index on the part, 0 off it), its hole count and the
    defect location; None when the defect found no room on this part (the
    caller draws another)."""
    layer_w, layer_h = frame.layer_size
    outline = Image.new("L", (layer_w, layer_h), 0)
    draw_outline(ImageDraw.Draw(outline), shape, frame, teeth=int(rng.integers(10, 19)))
    flat = style == "flat"
    rgb, base = part_surface(rng, colour, (layer_h, layer_w), flat)

    drilled = list(pattern)
    location = NO_DEFECT
    if defect == "missing hole":
        location = drilled.pop(rng.integers(len(drilled)))

    holes = Image.new("L", (layer_w, layer_h), 0)
    chamfers = Image.new("L", (layer_w, layer_h), 0)
    for slot in drilled:
        cx, cy = frame.to_px(*HOLE_SLOTS[shape][slot])
        r = hole_radius_px(shape, slot, frame)
        ImageDraw.Draw(holes).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        rc = r + max(1.5, 0.015 * frame.size)
        ImageDraw.Draw(chamfers).ellipse((cx - rc, cy - rc, cx + rc, cy + rc), fill=255)
    chamfer = (np.asarray(chamfers, np.float32) - np.asarray(holes, np.float32)) / 255.0
    if not flat:
        rgb *= 1.0 - 0.35 * chamfer[..., None]
    alpha = (np.asarray(outline, np.float32) - np.asarray(holes, np.float32)).clip(0, 255) / 255.0

    # Only what the defect changes is labelled as the defect (not the chamfers).
    undamaged = rgb.copy()
    if defect == "missing hole":
        centre = frame.to_px(*HOLE_SLOTS[shape][location])
        draw_punch_mark(rgb, base, centre, hole_radius_px(shape, location, frame),
                        0.45 * HOLE_RADIUS[shape] * frame.size, scribe=not flat)
    elif defect != NO_DEFECT:
        sites = (burr_sites(np.asarray(outline) > 127, np.asarray(holes) > 127, frame.size,
                            frame.centre_distance() if shape == "gear" else None)
                 if defect == "burr" else None)
        location = draw_surface_defect(rng, defect, rgb, alpha, base, frame, sites, flat)
        if location is None:
            return None

    rgba = np.dstack([np.clip(rgb, 0, 255), alpha * 255]).astype(np.uint8)
    labels = np.where(alpha > 0.5, PIXEL_LABELS.index("part"), PIXEL_LABELS.index("background"))
    labels[np.asarray(holes) > 127] = PIXEL_LABELS.index("hole")
    if defect != NO_DEFECT:
        labels[damage_mask(rgb, undamaged, alpha)] = PIXEL_LABELS.index(defect)
    on_part = (alpha > 0.5) | (np.asarray(outline) > 127)
    locations = np.where(on_part, frame.location_map(), 0).astype(np.uint8)
    return (Image.fromarray(rgba, "RGBA"), Image.fromarray(labels.astype(np.uint8), "L"),
            Image.fromarray(locations, "L"), len(drilled), location)


def background(rng: np.random.Generator, canvas: Tuple[int, int], part_colour: str,
               flat: bool = False) -> np.ndarray:
    """A conveyor or fixture surface that contrasts with the part (flat: one colour)."""
    part_lum = luminance(PART_COLOURS[part_colour])
    choices = [bg for bg in BACKGROUNDS if abs(luminance(bg) - part_lum) >= MIN_CONTRAST]
    base = jitter_colour(rng, choices[rng.integers(len(choices))], 0.1)
    width, height = canvas
    if flat:
        return np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    texture = rng.normal(0, rng.uniform(2, 8), (height, width, 1))
    if rng.random() < 0.5:  # belt ribs across the image
        period = rng.uniform(6, 18)
        ribs = 6 * np.sin(2 * math.pi * np.arange(height if rng.random() < 0.5 else width) / period)
        texture = texture + (ribs[:, None, None] if len(ribs) == height else ribs[None, :, None])
    return np.clip(base[None, None, :] + texture, 0, 255).astype(np.float32)


def lighting(rng: np.random.Generator, canvas: Tuple[int, int]) -> np.ndarray:
    """Uneven illumination: a linear gradient and a soft vignette."""
    width, height = canvas
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = ((xx - width / 2) * math.cos(angle) + (yy - height / 2) * math.sin(angle)) / max(width, height)
    gain = 1.0 + rng.uniform(0.15, 0.45) * ramp
    vignette = 1.0 - rng.uniform(0.0, 0.25) * (((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2) * 2)
    return (gain * vignette * rng.uniform(0.85, 1.1))[..., None]


def render(rng: np.random.Generator, scene_margin: float = 0.0,
           style: str = "machined") -> Tuple[Image.Image, PartTruth]:
    """One camera image and what is in it."""
    image, truth, _, _ = render_with_labels(rng, scene_margin, style)
    return image, truth


def render_with_labels(rng: np.random.Generator, scene_margin: float = 0.0,
                       style: str = "machined") -> Tuple[Image.Image, PartTruth, np.ndarray,
                                                         np.ndarray]:
    """render() plus training's dense auxiliary targets: what each pixel shows
    (uint8 [H, W] indices into PIXEL_LABELS) and where on the part it lies
    (uint8 [H, W]: 1 + LOCATIONS index on the part, 0 off it).

    scene_margin: a looser region of interest: the frame grown by this share
    of its width and height on every side, showing more of the same scene
    (the same part; its place in the inner frame is drawn after the larger
    floor, so it may differ from scene_margin 0's). style: one of STYLES; the same seed draws the
    same part in either."""
    if style not in STYLES:
        raise ValueError(f"style: unknown '{style}', expected one of {STYLES}")
    flat = style == "flat"
    defect = sample_defect(rng)
    while True:
        shape, colour, pattern = sample_part(rng, defect)
        long_side = int(rng.integers(240, 321))
        aspect = rng.uniform(0.65, 1.6)
        canvas = ((long_side, int(long_side / aspect)) if aspect >= 1
                  else (int(long_side * aspect), long_side))
        width, height = part_size(rng, shape, canvas)
        frame = PartFrame(width, height, margin=int(0.1 * min(width, height)) + 4)
        drawn = draw_part(rng, shape, colour, pattern, defect, frame, style)
        if drawn is not None:
            break
    layer, label_layer, location_layer, holes, location = drawn
    angle = rng.uniform(-10, 10)
    layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
    label_layer = label_layer.rotate(angle, resample=Image.NEAREST, expand=True)
    location_layer = location_layer.rotate(angle, resample=Image.NEAREST, expand=True)

    inner = canvas
    grow_x, grow_y = (int(round(scene_margin * side)) for side in inner)
    canvas = (inner[0] + 2 * grow_x, inner[1] + 2 * grow_y)
    scene = background(rng, canvas, colour, flat)
    free_x = max(inner[0] - layer.width, 0)
    free_y = max(inner[1] - layer.height, 0)
    x = grow_x + int(rng.integers(0, free_x + 1)) - max(layer.width - inner[0], 0) // 2
    y = grow_y + int(rng.integers(0, free_y + 1)) - max(layer.height - inner[1], 0) // 2

    part = Image.new("RGBA", canvas, (0, 0, 0, 0))
    part.paste(layer, (x, y))
    labels = Image.new("L", canvas, PIXEL_LABELS.index("background"))
    labels.paste(label_layer, (x, y))
    locations = Image.new("L", canvas, 0)
    locations.paste(location_layer, (x, y))
    part_alpha = np.asarray(part.getchannel("A"), np.float32) / 255.0
    shadow = Image.fromarray((part_alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))
    offset = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    shadow_alpha = np.asarray(shadow.transform(canvas, Image.AFFINE, (1, 0, -offset[0], 0, 1, -offset[1])),
                              np.float32) / 255.0
    if not flat:
        scene *= 1.0 - 0.45 * shadow_alpha[..., None]
    part_rgb = np.asarray(part.convert("RGB"), np.float32)
    scene = scene * (1 - part_alpha[..., None]) + part_rgb * part_alpha[..., None]

    scene *= lighting(rng, canvas)
    image = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 0.9)))
    noisy = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(1.5, 6), (canvas[1], canvas[0], 1))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return (image, PartTruth(shape, colour, holes, defect, location), np.asarray(labels),
            np.asarray(locations))


def generate(seed: int, count: int, scene_margin: float = 0.0,
             style: str = "machined") -> Iterator[Tuple[Image.Image, PartTruth]]:
    """`count` images from one seed; image i depends only on (seed, i)."""
    for index in range(count):
        yield render(np.random.default_rng([seed, index]), scene_margin, style)


def split_seed(split: str) -> int:
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split: unknown '{split}', expected one of {sorted(SPLIT_SEEDS)}")
    return SPLIT_SEEDS[split]


def write_samples(directory: str, per_kind: int) -> List[str]:
    """A few test-split images per defect (and OK parts), with their truth in truth.json."""
    os.makedirs(directory, exist_ok=True)
    wanted = {kind: per_kind for kind in (NO_DEFECT, *DEFECTS)}
    truths = {}
    for index, (image, truth) in enumerate(generate(split_seed("test"), 10_000)):
        if wanted[truth.defect] == 0:
            continue
        wanted[truth.defect] -= 1
        kind = "ok" if truth.defect == NO_DEFECT else truth.defect.replace(" ", "-")
        name = f"{kind}-{per_kind - wanted[truth.defect]}.png"
        image.save(os.path.join(directory, name), optimize=True)
        truths[name] = {**truth.to_json(), "test_index": index}
        if not any(wanted.values()):
            break
    with open(os.path.join(directory, "truth.json"), "w") as out:
        json.dump(truths, out, indent=1, sort_keys=True)
        out.write("\n")
    return sorted(truths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", help="directory to write sample images per defect into")
    parser.add_argument("--per-kind", type=int, default=2, help="samples per defect kind")
    parser.add_argument("--preview", help="write a contact sheet of the first images of --split")
    parser.add_argument("--split", default="train", choices=sorted(SPLIT_SEEDS))
    args = parser.parse_args()
    if args.samples:
        for name in write_samples(args.samples, args.per_kind):
            print(os.path.join(args.samples, name))
    if args.preview:
        tiles = []
        for image, truth in generate(split_seed(args.split), 24):
            tile = image.resize((240, 180))
            ImageDraw.Draw(tile).text((3, 3), f"{truth.shape} {truth.colour} h{truth.holes}\n"
                                      f"{truth.defect} {truth.location}", fill=(255, 0, 0))
            tiles.append(tile)
        sheet = Image.new("RGB", (240 * 6, 180 * 4))
        for i, tile in enumerate(tiles):
            sheet.paste(tile, ((i % 6) * 240, (i // 6) * 180))
        sheet.save(args.preview)


if __name__ == "__main__":
    main()
