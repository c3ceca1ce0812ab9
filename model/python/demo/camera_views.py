"""How a generated part reaches the model: the generator's own framing, the
line conditions drawn at random for training, or one of the shifted views
that the held-out evaluation measures against clean images.

Shifted views (SHIFTS), each of a held-out image i of the clean set:
  loose-roi  the region of interest grown by LOOSE_ROI_MARGIN of its width
             and height on every side: more of the same scene around the part;
  padding    the frame letterboxed to a square with its own background
             colour (the median of its border);
  rotated    the whole frame rotated by 3-5 degrees either way, the corners
             filled with that background colour;
  grey       a grey-only (MONO8) camera: ITU-R 601 luma in every channel,
             as the server expands a MONO8 frame;
  flat       the part drawn in the generator's flat style (one flat colour,
             plain holes, a dark scratch, a bare punch mark, a plain floor).
The part, its truth and its place are those of the clean image, which is
drawn in the machined style. Training draws FLAT_SHARE of its parts flat.
"""

import os
import sys
from typing import List, Optional, Tuple

import numpy as np

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, DEMO_DIR)
sys.path.insert(0, os.path.dirname(DEMO_DIR))
import synthetic_parts  # noqa: E402
from finetuning.line_conditions import (LineConditions, border_colour, grey,  # noqa: E402
                                        pad_to_square, rotate_frame)
from inspection_task import PartTruth  # noqa: E402

SHIFTS = ("loose-roi", "padding", "rotated", "grey", "flat")
FLAT_SHARE = 0.3
LOOSE_ROI_MARGIN = 0.08
ROTATION_DEGREES = (3.0, 5.0)

# Training's line conditions. The generator draws a looser region of
# interest itself (a real scene, not a filled border), in SCENE_MARGIN_SHARE
# of the images, up to MAX_SCENE_MARGIN per side; a tighter one could cut a
# burr off the part.
TRAINING_CONDITIONS = LineConditions(margin_share=0.0, zoom_in_share=0.0, padding_share=0.15,
                                     rotation_share=0.15, grey_share=0.25)
SCENE_MARGIN_SHARE = 0.25
MAX_SCENE_MARGIN = 0.15

View = Optional[str]  # None: clean; "training": random line conditions; or one of SHIFTS


def render_view(seed: int, index: int, view: View) -> Tuple[np.ndarray, PartTruth,
                                                            np.ndarray, np.ndarray]:
    """Image `index` of the seed seen in `view`: (uint8 RGB [H, W, 3], truth,
    pixel labels, location map), the label maps moved with the pixels."""
    if view is not None and view not in SHIFTS and view != "training":
        raise ValueError(f"view: unknown '{view}', expected None, 'training' or one of {SHIFTS}")
    chance = np.random.default_rng([seed, index, 1])
    margin = 0.0
    style = "flat" if view == "flat" else "machined"
    if view == "loose-roi":
        margin = LOOSE_ROI_MARGIN
    elif view == "training":
        if chance.random() < SCENE_MARGIN_SHARE:
            margin = chance.uniform(0.02, MAX_SCENE_MARGIN)
        style = "flat" if chance.random() < FLAT_SHARE else "machined"
    image, truth, labels, locations = synthetic_parts.render_with_labels(
        np.random.default_rng([seed, index]), margin, style)
    pixels = np.asarray(image.convert("RGB"))
    maps: List[np.ndarray] = [labels, locations]
    if view == "training":
        pixels, maps = TRAINING_CONDITIONS.apply(chance, pixels, maps)
    elif view == "padding":
        pixels, maps = pad_to_square(pixels, maps, border_colour(pixels))
    elif view == "rotated":
        degrees = chance.uniform(*ROTATION_DEGREES) * chance.choice([-1, 1])
        pixels, maps = rotate_frame(pixels, maps, degrees, border_colour(pixels))
    elif view == "grey":
        pixels = grey(pixels)
    return np.ascontiguousarray(pixels), truth, maps[0], maps[1]
