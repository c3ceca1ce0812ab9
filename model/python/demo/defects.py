"""Drawing the five defects onto a part layer.

A part layer is a float RGB array (H, W, 3) in [0, 255] and an alpha array
(H, W) in [0, 1], both in the pixels of a PartFrame. Each drawer gets the
location box (pixels) its defect must stay in, and returns False when the
part has no room there (the caller then picks another location).

A flaw keeps clear of the part's edges and holes (FLAW_GAP): at the model's
resolution a scratch or dent that touches a hole reads as a misshapen hole,
and the hole count is one of the questions. A burr grows only from the part's
outer outline, never into a hole, and on a gear only from a tooth's tip,
where it cannot pass for one more tooth (burr_sites).
"""

import functools
import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Box = Tuple[float, float, float, float]
Point = Tuple[float, float]
PLACEMENT_TRIES = 40
# Least distance between a flaw's visible pixels and any edge or hole, as a
# fraction of the part's shorter side (at the model's resolution about 2 px).
FLAW_GAP = 0.025
# On a gear, the least distance from the centre (in part widths) of an edge
# pixel that a burr may grow from: tooth tips reach 0.5, roots 0.41.
GEAR_TIP_RADIUS = 0.47
# A burr's half width along the edge, as a fraction of the part's shorter side.
BURR_HALF_WIDTH = (0.08, 0.1)


def stroke_mask(shape: Tuple[int, int], points: List[Point], width: float,
                blur: float = 0.0) -> np.ndarray:
    """A float mask in [0, 1] of a polyline, optionally softened."""
    image = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(image).line(points, fill=255, width=max(1, round(width)), joint="curve")
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(image, dtype=np.float32) / 255.0


def dark_mark(base: np.ndarray) -> np.ndarray:
    """The colour of a dark flaw; on dark parts a flaw shows bare, bright metal."""
    if 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2] < 80:
        return np.array([165.0, 165.0, 170.0], dtype=np.float32)
    return base * 0.15


def blend(rgb: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    rgb *= 1.0 - mask[..., None]
    rgb += mask[..., None] * colour


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The mask dilated by a square of `pixels` around every pixel (a window
    sum over an integral image: its cost does not grow with `pixels`)."""
    if pixels < 1:
        return mask
    side = 2 * pixels + 1
    padded = np.pad(mask.astype(np.int32), ((pixels + 1, pixels), (pixels + 1, pixels)))
    total = padded.cumsum(axis=0).cumsum(axis=1)
    window = total[side:, side:] - total[:-side, side:] - total[side:, :-side] + total[:-side, :-side]
    return window > 0


def solid_material(alpha: np.ndarray, clearance: float) -> np.ndarray:
    """Pixels of material at least `clearance` pixels away from any edge or hole."""
    return ~grow(alpha <= 0.5, int(math.ceil(clearance)))


def flaw_clearance(size: int, half_width: float) -> float:
    """How far a flaw's centre line must keep from edges and holes so that
    its visible pixels, `half_width` to either side, keep FLAW_GAP."""
    return half_width + FLAW_GAP * size


def all_inside(solid: np.ndarray, box: Box, points: List[Point]) -> bool:
    """Whether every point lies on solid material and inside the location box."""
    height, width = solid.shape
    for x, y in points:
        if not (box[0] <= x <= box[2] and box[1] <= y <= box[3]):
            return False
        col, row = int(round(x)), int(round(y))
        if not (0 <= row < height and 0 <= col < width and solid[row, col]):
            return False
    return True


def random_point(rng: np.random.Generator, box: Box, inset: float) -> Point:
    x0, y0, x1, y1 = box
    return (rng.uniform(x0 + inset, max(x0 + inset, x1 - inset)),
            rng.uniform(y0 + inset, max(y0 + inset, y1 - inset)))


def polyline(rng: np.random.Generator, start: Point, angle: float, length: float,
             segments: int, jitter: float) -> List[Point]:
    """A path from `start` whose heading wanders by up to `jitter` radians per segment."""
    points = [start]
    step = length / segments
    for _ in range(segments):
        angle += rng.uniform(-jitter, jitter)
        x, y = points[-1]
        points.append((x + step * math.cos(angle), y + step * math.sin(angle)))
    return points


def draw_scratch(rng, rgb, alpha, base, box, size, bright: bool = True) -> bool:
    """A gouge: bright bare metal in a dark rim, or (bright=False, the flat
    style) a plain dark line."""
    width = max(3.0, 0.035 * size)
    solid = solid_material(alpha, flaw_clearance(size, 0.9 * width + 1))  # the dark rim, blurred
    length = rng.uniform(0.26, 0.34) * size
    for _ in range(PLACEMENT_TRIES):
        centre = random_point(rng, box, length / 2)
        angle = rng.uniform(0, math.pi)
        start = (centre[0] - math.cos(angle) * length / 2, centre[1] - math.sin(angle) * length / 2)
        points = polyline(rng, start, angle, length, 4, 0.08)
        if all_inside(solid, box, points):
            if not bright:
                blend(rgb, 0.95 * stroke_mask(alpha.shape, points, width, 0.3), dark_mark(base))
                return True
            blend(rgb, 0.6 * stroke_mask(alpha.shape, points, width * 1.8, 0.6), base * 0.45)
            blend(rgb, 0.95 * stroke_mask(alpha.shape, points, width, 0.3),
                  np.minimum(base * 1.3 + 90, 255))
            return True
    return False


def draw_dent(rng, rgb, alpha, base, box, size) -> bool:
    """A shallow round depression under a side light: its wall facing the
    light is bright, the opposite wall in shadow."""
    solid = solid_material(alpha, flaw_clearance(size, 0))
    radius = rng.uniform(0.1, 0.125) * size
    stretch = rng.uniform(0.8, 1.25)
    # The wall fades out at 1.12 radii; the ellipse reaches stretch radii across.
    reach_x, reach_y = 1.12 * radius * stretch, 1.12 * radius / stretch
    for _ in range(PLACEMENT_TRIES):
        cx, cy = random_point(rng, box, max(reach_x, reach_y))
        ring = [(cx + reach_x * math.cos(a), cy + reach_y * math.sin(a))
                for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
        if all_inside(solid, box, ring + [(cx, cy)]):
            yy, xx = np.mgrid[0:alpha.shape[0], 0:alpha.shape[1]]
            dx, dy = (xx - cx) / (radius * stretch), (yy - cy) * stretch / radius
            dist = np.hypot(dx, dy)
            light = rng.uniform(0, 2 * math.pi)
            facing = (dx * math.cos(light) + dy * math.sin(light)) / np.maximum(dist, 1e-6)
            wall = np.clip(1.15 - np.abs(dist - 0.6) / 0.45, 0, 1)
            blend(rgb, 0.9 * wall * np.clip(facing, 0, 1), np.minimum(base * 1.5 + 70, 255))
            blend(rgb, 0.9 * wall * np.clip(-facing, 0, 1), base * 0.3)
            return True
    return False


def draw_crack(rng, rgb, alpha, base, box, size) -> bool:
    width = max(3.0, 0.032 * size)
    solid = solid_material(alpha, flaw_clearance(size, 0.5 * width + 1))
    length = rng.uniform(0.22, 0.28) * size
    for _ in range(PLACEMENT_TRIES):
        centre = random_point(rng, box, length / 2)
        angle = rng.uniform(0, 2 * math.pi)
        start = (centre[0] - math.cos(angle) * length / 2, centre[1] - math.sin(angle) * length / 2)
        trunk = polyline(rng, start, angle, length, 7, 0.9)
        fork = trunk[rng.integers(2, 5)]
        branch = polyline(rng, fork, angle + rng.choice([-1, 1]) * 0.8, length * 0.4, 3, 0.7)
        if all_inside(solid, box, trunk + branch):
            dark = dark_mark(base)
            blend(rgb, 0.95 * stroke_mask(alpha.shape, trunk, width, 0.3), dark)
            blend(rgb, 0.85 * stroke_mask(alpha.shape, branch, width * 0.7, 0.3), dark)
            return True
    return False


def burr_sites(outline: np.ndarray, holes: np.ndarray, size: int,
               tip_distance: Optional[np.ndarray] = None) -> np.ndarray:
    """Where a burr may grow from: pixels of the outer outline (bool
    `outline`, holes not cut) that keep clear of every hole (bool `holes`)
    by the widest burr and FLAW_GAP; with `tip_distance` (each pixel's
    distance from a gear's centre, in part widths) only tooth tips."""
    edge = outline & ~solid_material(outline.astype(np.float32), 1)
    sites = edge & ~grow(holes, int(math.ceil((BURR_HALF_WIDTH[1] + FLAW_GAP) * size)))
    if tip_distance is not None:
        sites &= tip_distance >= GEAR_TIP_RADIUS
    return sites


def draw_burr(rng, rgb, alpha, base, box, size, sites) -> bool:
    """A ragged lip of metal standing out from the part's outer outline."""
    material = alpha > 0.5
    x0, y0, x1, y1 = (int(round(c)) for c in box)
    x0, y0 = max(x0, 0), max(y0, 0)
    rows, cols = np.nonzero(sites[y0:y1, x0:x1])
    if len(rows) == 0:
        return False
    pick = rng.integers(len(rows))
    ey, ex = rows[pick] + y0, cols[pick] + x0
    # Outward normal: away from the material's centre of mass nearby.
    window = 6
    patch = material[max(ey - window, 0):ey + window + 1, max(ex - window, 0):ex + window + 1]
    py, px = np.nonzero(patch)
    normal = np.array([ex - (px.mean() + max(ex - window, 0)), ey - (py.mean() + max(ey - window, 0))])
    if np.linalg.norm(normal) < 1e-3:
        return False
    normal /= np.linalg.norm(normal)
    tangent = np.array([-normal[1], normal[0]])
    half_width = rng.uniform(*BURR_HALF_WIDTH) * size
    reach = rng.uniform(0.1, 0.14) * size
    origin = np.array([ex, ey], dtype=np.float64) - normal * 1.5
    points = [tuple(origin - tangent * half_width)]
    for t in np.linspace(-0.7, 0.7, 5):
        out = reach * rng.uniform(0.45, 1.0)
        points.append(tuple(origin + tangent * half_width * t + normal * out))
    points.append(tuple(origin + tangent * half_width))
    image = Image.new("L", (alpha.shape[1], alpha.shape[0]), 0)
    ImageDraw.Draw(image).polygon(points, fill=255)
    lip = np.asarray(image, dtype=np.float32) / 255.0
    blend(rgb, lip * (1 - alpha), np.minimum(base * 1.15 + 25, 255))
    np.maximum(alpha, lip, out=alpha)
    return True


def draw_punch_mark(rgb, base, centre: Point, hole_radius: float, dimple_radius: float,
                    scribe: bool = True) -> None:
    """Where a hole should have been drilled: a centre-punch dimple (as small
    as a bolt hole's, whatever the hole: a wide dark dimple passes for a
    hole) and, unless scribe is False (the flat style), a scribed circle."""
    cx, cy = centre
    yy, xx = np.mgrid[0:rgb.shape[0], 0:rgb.shape[1]]
    dist = np.hypot(xx - cx, yy - cy)
    dimple = np.clip(1.3 - dist / max(2.0, dimple_radius), 0, 1)
    blend(rgb, 0.95 * dimple, dark_mark(base))
    if scribe:
        blend(rgb, 0.7 * np.exp(-((dist - hole_radius) ** 2) / 3.0), dark_mark(base))


SURFACE_DRAWERS: Dict[str, Callable] = {
    "scratch": draw_scratch,
    "dent": draw_dent,
    "crack": draw_crack,
}


def surface_drawer(defect: str, sites: Optional[np.ndarray], flat: bool = False) -> Callable:
    """drawer(rng, rgb, alpha, base, box, size) for `defect`; a burr's grows
    from `sites` (burr_sites); flat: the flat style's (a dark scratch)."""
    if defect == "burr":
        return functools.partial(draw_burr, sites=sites)
    if defect == "scratch" and flat:
        return functools.partial(draw_scratch, bright=False)
    return SURFACE_DRAWERS[defect]
