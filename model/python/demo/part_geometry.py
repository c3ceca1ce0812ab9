"""Shapes of the synthetic machined parts, in the part's own unit square.

Coordinates are fractions (u, v) of the part's bounding box, u to the right
and v down, so a location name (top-left ... centre) means the same on every
part whatever its size, position or small rotation in the image.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
from PIL import ImageDraw

from inspection_task import LOCATIONS

# Hole slots: where a part of each shape may have a drilled hole. A slot is
# named after the location it lies in, so a missing hole has a location.
HOLE_SLOTS: Dict[str, Dict[str, Tuple[float, float]]] = {
    "plate": {"top-left": (0.2, 0.2), "top-right": (0.8, 0.2), "bottom-left": (0.2, 0.8),
              "bottom-right": (0.8, 0.8), "centre": (0.5, 0.5)},
    "washer": {"top-left": (0.27, 0.27), "top-right": (0.73, 0.27),
               "bottom-left": (0.27, 0.73), "bottom-right": (0.73, 0.73), "centre": (0.5, 0.5)},
    "gear": {"top-left": (0.31, 0.31), "top-right": (0.69, 0.31),
             "bottom-left": (0.31, 0.69), "bottom-right": (0.69, 0.69), "centre": (0.5, 0.5)},
    "bracket": {"top-left": (0.22, 0.2), "bottom-left": (0.22, 0.78),
                "bottom-right": (0.8, 0.78)},
}

# Hole radius as a fraction of the part's shorter side; the centre bore of a
# washer or gear is wider than its bolt holes.
HOLE_RADIUS = {"plate": 0.065, "washer": 0.055, "gear": 0.05, "bracket": 0.06}
BORE_RADIUS = {"washer": 0.16, "gear": 0.12}

# Drilling patterns per shape: the sets of slots that are drilled. Washers
# and gears always have their centre bore; brackets have no centre.
HOLE_PATTERNS: Dict[str, List[Tuple[str, ...]]] = {
    "plate": [(), ("centre",), ("top-left", "bottom-right"), ("top-right", "bottom-left"),
              ("top-left", "bottom-right", "centre"), ("top-right", "bottom-left", "centre"),
              ("top-left", "top-right", "bottom-left", "bottom-right"),
              ("top-left", "top-right", "bottom-left", "bottom-right", "centre")],
    "washer": [("centre",), ("top-left", "bottom-right", "centre"),
               ("top-right", "bottom-left", "centre"),
               ("top-left", "top-right", "bottom-left", "bottom-right", "centre")],
    "gear": [("centre",), ("top-left", "bottom-right", "centre"),
             ("top-right", "bottom-left", "centre"),
             ("top-left", "top-right", "bottom-left", "bottom-right", "centre")],
    "bracket": [(), ("bottom-left",), ("top-left", "bottom-right"),
                ("top-left", "bottom-left", "bottom-right")],
}

# The five locations partition the part's unit square: a centre square and
# the four quadrants around it. A defect is where its middle is, and a defect
# whose middle lies closer than LOCATION_MARGIN to a border between locations
# is drawn elsewhere, so that every answer is unambiguous.
CENTRE_HALF_WIDTH = 0.15
LOCATION_MARGIN = 0.06

# Where a defect at a location is tried first: (u0, v0, u1, v1) in the unit square.
LOCATION_BOXES = {
    "top-left": (0.04, 0.04, 0.44, 0.44), "top-right": (0.56, 0.04, 0.96, 0.44),
    "bottom-left": (0.04, 0.56, 0.44, 0.96), "bottom-right": (0.56, 0.56, 0.96, 0.96),
    "centre": (0.32, 0.32, 0.68, 0.68),
}
# A burr sits on an edge, so its boxes reach past the part's outline.
EDGE_BOXES = {
    "top-left": (-0.1, -0.1, 0.42, 0.42), "top-right": (0.58, -0.1, 1.1, 0.42),
    "bottom-left": (-0.1, 0.58, 0.42, 1.1), "bottom-right": (0.58, 0.58, 1.1, 1.1),
    "centre": (0.32, 0.32, 0.68, 0.68),
}


def location_at(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Indices into LOCATIONS of the locations at unit-square points."""
    du, dv = u - 0.5, v - 0.5
    quadrant = np.where(dv < 0, np.where(du < 0, 0, 1), np.where(du < 0, 2, 3))
    centre = np.maximum(np.abs(du), np.abs(dv)) < CENTRE_HALF_WIDTH
    return np.where(centre, LOCATIONS.index("centre"), quadrant)


def border_clearance(u: float, v: float) -> float:
    """How far a unit-square point lies from the nearest border between locations."""
    du, dv = abs(u - 0.5), abs(v - 0.5)
    to_centre_square = abs(max(du, dv) - CENTRE_HALF_WIDTH)
    if max(du, dv) < CENTRE_HALF_WIDTH:
        return to_centre_square
    return min(du, dv, to_centre_square)


@dataclass(frozen=True)
class PartFrame:
    """Maps the unit square of a part onto pixels of its drawing layer."""

    width: int
    height: int
    margin: int  # empty border around the part, room for burrs and rotation

    def to_px(self, u: float, v: float) -> Tuple[float, float]:
        return self.margin + u * self.width, self.margin + v * self.height

    @property
    def size(self) -> int:
        return min(self.width, self.height)

    def to_unit(self, x, y):
        return (x - self.margin) / self.width, (y - self.margin) / self.height

    @property
    def layer_size(self) -> Tuple[int, int]:
        return self.width + 2 * self.margin, self.height + 2 * self.margin

    def unit_grid(self):
        """(u, v) of every layer pixel's centre, each [layer h, layer w]."""
        layer_w, layer_h = self.layer_size
        yy, xx = np.mgrid[0:layer_h, 0:layer_w].astype(np.float32)
        return self.to_unit(xx + 0.5, yy + 0.5)

    def centre_distance(self) -> np.ndarray:
        """[layer h, layer w]: every layer pixel's distance from the part's
        centre, in part widths (a round part's edge is at 0.5)."""
        u, v = self.unit_grid()
        return np.hypot(u - 0.5, v - 0.5)

    def location_map(self) -> np.ndarray:
        """uint8 [layer h, layer w]: 1 + the LOCATIONS index of every layer pixel."""
        return (1 + location_at(*self.unit_grid())).astype(np.uint8)


def draw_outline(draw: ImageDraw.ImageDraw, shape: str, frame: PartFrame, teeth: int) -> None:
    """Fills the part's outer outline (without holes) with 255."""
    x0, y0 = frame.to_px(0, 0)
    x1, y1 = frame.to_px(1, 1)
    if shape == "plate":
        draw.rounded_rectangle((x0, y0, x1, y1), radius=0.06 * frame.size, fill=255)
    elif shape == "washer":
        draw.ellipse((x0, y0, x1, y1), fill=255)
    elif shape == "gear":
        draw.polygon(gear_polygon(frame, teeth), fill=255)
    elif shape == "bracket":
        xm, _ = frame.to_px(0.46, 0)
        _, ym = frame.to_px(0, 0.54)
        radius = 0.04 * frame.size
        draw.rounded_rectangle((x0, y0, xm, y1), radius=radius, fill=255)
        draw.rounded_rectangle((x0, ym, x1, y1), radius=radius, fill=255)
    else:
        raise ValueError(f"shape: unknown '{shape}'")


def gear_polygon(frame: PartFrame, teeth: int) -> List[Tuple[float, float]]:
    """A spur gear outline: trapezoidal teeth between radii 0.41 and 0.5."""
    points = []
    steps_per_tooth = 4
    for i in range(teeth * steps_per_tooth):
        angle = 2 * math.pi * i / (teeth * steps_per_tooth)
        radius = 0.5 if i % steps_per_tooth in (1, 2) else 0.41
        points.append(frame.to_px(0.5 + radius * math.cos(angle), 0.5 + radius * math.sin(angle)))
    return points


def hole_radius_px(shape: str, slot: str, frame: PartFrame) -> float:
    if slot == "centre" and shape in BORE_RADIUS:
        return BORE_RADIUS[shape] * frame.size
    return HOLE_RADIUS[shape] * frame.size
