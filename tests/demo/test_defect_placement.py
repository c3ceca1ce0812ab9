"""Where the generator puts a defect: surface flaws keep clear of holes (a
flaw touching a hole reads as a misshapen hole at the model's resolution),
burrs grow from the outer outline only, on a gear from a tooth's tip."""

import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))

import defects  # noqa: E402
import synthetic_parts  # noqa: E402

LABELS = synthetic_parts.PIXEL_LABELS
# Camera pixels between a flaw and a hole that the rotation and blur of the
# rendered image may take from FLAW_GAP (about 5 pixels on these parts).
SLACK = 2


def test_flaws_and_burrs_keep_clear_of_holes():
    seed = synthetic_parts.split_seed("validation")
    checked = {"scratch": 0, "dent": 0, "crack": 0, "burr": 0}
    for index in range(160):
        _, truth, labels, _ = synthetic_parts.render_with_labels(
            np.random.default_rng([seed, index]))
        if truth.defect not in checked:
            continue
        near_hole = defects.grow(labels == LABELS.index("hole"), SLACK)
        flaw = labels == LABELS.index(truth.defect)
        assert not (flaw & near_hole).any(), (index, truth)
        checked[truth.defect] += 1
    assert min(checked.values()) >= 10, checked


def ring(size: int, outer: float, inner: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    distance = np.hypot(xx - size / 2 + 0.5, yy - size / 2 + 0.5)
    return (distance <= outer) & (distance > inner)


def test_burr_sites_are_the_outer_outline_away_from_holes():
    outline = ring(120, 50, -1)
    holes = ring(120, 12, -1)
    sites = defects.burr_sites(outline, holes, size=100)
    assert sites.any()
    material = outline & ~holes
    assert not (sites & ~material).any()
    # Every site touches the outside of the part, none the hole.
    assert (defects.grow(~outline, 1) & sites).sum() == sites.sum()
    assert not (defects.grow(holes, 20) & sites).any()


def test_a_gear_grows_burrs_from_its_tooth_tips_only():
    outline = ring(120, 50, -1)
    yy, xx = np.mgrid[0:120, 0:120]
    tip_distance = np.hypot(xx - 59.5, yy - 59.5) / 100
    tips = tip_distance >= defects.GEAR_TIP_RADIUS
    sites = defects.burr_sites(outline, np.zeros_like(outline), 100, tip_distance)
    assert sites.any() and not (sites & ~tips).any()
    smaller = defects.burr_sites(ring(120, 45, -1), np.zeros_like(outline), 100, tip_distance)
    assert not smaller.any()  # an outline inside the tip circle: roots only


def test_grow_dilates_by_a_square():
    mask = np.zeros((7, 9), bool)
    mask[3, 4] = True
    grown = defects.grow(mask, 2)
    assert grown.sum() == 25 and grown[1:6, 2:7].all()
    assert np.array_equal(defects.grow(mask, 0), mask)
