"""The generator's pixel labels (training's auxiliary targets) agree with its
images and ground truth, patches are labelled by the documented rules, and
the per-row attribute targets repeat the image's class."""

import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))

import inspection_data  # noqa: E402
import synthetic_parts  # noqa: E402
from inspection_task import LOCATIONS, NO_DEFECT  # noqa: E402
from part_geometry import HOLE_SLOTS, location_at  # noqa: E402

LABELS = synthetic_parts.PIXEL_LABELS


def test_labels_match_the_image_and_its_truth():
    seed = synthetic_parts.split_seed("validation")
    for index in range(24):
        image, truth, labels, _ = synthetic_parts.render_with_labels(
            np.random.default_rng([seed, index]))
        plain, plain_truth = synthetic_parts.render(np.random.default_rng([seed, index]))
        assert np.array_equal(np.asarray(image), np.asarray(plain)) and truth == plain_truth
        assert labels.shape == (image.height, image.width)
        counts = np.bincount(labels.ravel(), minlength=len(LABELS))
        assert counts[LABELS.index("part")] > 0.2 * labels.size
        assert (counts[LABELS.index("hole")] > 0) == (truth.holes > 0), truth
        for defect in LABELS[3:]:
            assert (counts[LABELS.index(defect)] > 0) == (truth.defect == defect), (truth, defect)
        if truth.defect == NO_DEFECT:
            assert truth.location == NO_DEFECT


def test_patch_label_rule():
    part, hole, scratch = LABELS.index("part"), LABELS.index("hole"), LABELS.index("scratch")
    ignored = inspection_data.IGNORED
    labels = np.zeros((20, 40), np.uint8)           # 2 x 4 patches of 10 x 10 pixels
    labels[0:10, 10:20] = part                      # patch 1: all part
    labels[0:10, 20:30] = part                      # patch 2: part with a hole and a scratch
    labels[2:6, 22:26] = hole
    labels[8, 20:25] = scratch                      # 5 % of the patch
    labels[0:10, 30:40] = part                      # patch 3: a scratch grazes it
    labels[0, 39] = scratch
    labels[10:20, 0:10] = part                      # patch 4: part, a hole touches one pixel
    labels[10, 0] = hole
    labels[10:13, 10:20] = part                     # patch 5: mostly background
    labels[10:20, 20:30] = part                     # patch 6: a hole grazes it
    labels[19, 28:30] = hole
    assert inspection_data.patch_labels(labels, 2, 4).tolist() == [0, part, scratch, ignored,
                                                                   part, 0, ignored, 0]


def test_patch_location_rule():
    ignored = inspection_data.IGNORED
    locations = np.zeros((10, 40), np.uint8)        # 1 x 4 patches of 10 x 10 pixels
    locations[:, 0:10] = 1 + LOCATIONS.index("top-right")
    locations[:, 10:20] = 1 + LOCATIONS.index("centre")
    locations[0:2, 10:20] = 1 + LOCATIONS.index("top-left")   # 20 %: still the centre
    locations[:, 20:30] = 1 + LOCATIONS.index("top-left")
    locations[0:5, 20:30] = 1 + LOCATIONS.index("centre")     # across a border
    locations[0:3, 30:40] = 1 + LOCATIONS.index("centre")     # mostly off the part
    assert inspection_data.patch_locations(locations, 1, 4).tolist() == [
        LOCATIONS.index("top-right"), LOCATIONS.index("centre"), ignored, ignored]


def test_location_is_where_the_defect_is():
    """The answer to "where" is the part location under the middle of the
    flaw's pixels, never within LOCATION_MARGIN of a border; hole slots lie in
    the location they are named after."""
    for shape, slots in HOLE_SLOTS.items():
        for name, (u, v) in slots.items():
            assert LOCATIONS[int(location_at(np.array(u), np.array(v)))] == name, (shape, name)
    seed = synthetic_parts.split_seed("validation")
    checked = 0
    for index in range(40):
        _, truth, labels, locations = synthetic_parts.render_with_labels(
            np.random.default_rng([seed, index]))
        if truth.defect in (NO_DEFECT, "missing hole"):
            continue
        rows, cols = np.nonzero(labels == LABELS.index(truth.defect))
        middle = locations[int(round(rows.mean())), int(round(cols.mean()))]
        if middle:  # a burr's middle may lie just off the part
            assert LOCATIONS[middle - 1] == truth.location, (index, truth)
            checked += 1
    assert checked >= 15


def test_mirrors_take_each_location_to_where_the_geometry_puts_it():
    from mirror_views import MIRRORS
    u, v = np.meshgrid(np.linspace(0.01, 0.99, 44), np.linspace(0.01, 0.99, 44))
    seen = {"diagonal": (v, u), "left_right": (1 - u, v), "top_bottom": (u, 1 - v)}
    for name, mirror in MIRRORS.items():
        expected = [LOCATIONS.index(mirror.get(LOCATIONS[i], LOCATIONS[i]))
                    for i in location_at(u, v).ravel()]
        assert location_at(*seen[name]).ravel().tolist() == expected, name


def test_mirrored_views_keep_pixels_labels_and_truth_together():
    import torch
    from mirror_views import mirrored_views
    prep = inspection_data.Preprocessing(16, 64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    data = inspection_data.build_set("validation", 32, prep, workers=1)
    views = mirrored_views(data, range(len(data)), 16, torch.Generator().manual_seed(0))
    first_defect = LABELS.index("scratch")
    mirrored = set()
    located = 0
    for original, view, labels, view_labels, cells, view_cells, view_where, truth, view_truth in zip(
            data.pixels, views.pixels, data.patch_labels, views.patch_labels, data.cell_labels,
            views.cell_labels, views.patch_locations, data.truths, views.truths):
        grid = labels.reshape(original.shape[0] // 16, -1)
        view_grid = view_labels.reshape(view.shape[0] // 16, -1)
        symmetries = [(diagonal, axis) for diagonal in (False, True)
                      for axis in ((), (1,), (0,), (0, 1))]
        for diagonal, axis in symmetries:
            def seen(a, diagonal=diagonal, axis=axis):
                return np.flip(a.swapaxes(0, 1) if diagonal else a, axis)
            if all(a.shape == seen(b).shape and np.array_equal(seen(b), a) for a, b in
                   ((view, original), (view_grid, grid), (view_cells, cells))):
                break
        else:
            raise AssertionError("pixels and patch labels were not mirrored alike")
        mirrored.add((diagonal, axis))
        assert (view_truth.shape, view_truth.holes, view_truth.defect) == \
            (truth.shape, truth.holes, truth.defect)
        # Every mirror keeps the centre, and a missing centre hole's scribed
        # circle reaches into all four quadrants.
        if truth.defect == NO_DEFECT or truth.location == "centre":
            continue
        flaw = (view_grid >= first_defect) & (view_grid != inspection_data.IGNORED)
        where = view_where.reshape(view_grid.shape)[flaw]
        where = where[where != inspection_data.IGNORED]
        if not where.size:  # a flat-style punch mark too small to label a patch
            continue
        located += 1
        assert LOCATIONS[np.bincount(where).argmax()] == view_truth.location, (truth, diagonal, axis)
    assert any(diagonal for diagonal, _ in mirrored) and any(axis for _, axis in mirrored)
    assert located >= 12


def test_defect_pixels_are_one_local_flaw():
    """Only the flaw itself is labelled as the defect: its pixels stay within
    a small region of the part (hole chamfers elsewhere are not defects)."""
    seed = synthetic_parts.split_seed("validation")
    checked = 0
    for index in range(40):
        _, truth, labels, _ = synthetic_parts.render_with_labels(
            np.random.default_rng([seed, index]))
        if truth.defect == NO_DEFECT:
            continue
        rows, cols = np.nonzero(labels == LABELS.index(truth.defect))
        part_rows, part_cols = np.nonzero(labels != LABELS.index("background"))
        for flaw, part in ((rows, part_rows), (cols, part_cols)):
            assert np.ptp(flaw) <= 0.45 * np.ptp(part), (index, truth)
        checked += 1
    assert checked >= 20


def test_cell_labels_are_batched_patch_by_patch():
    cells_per_side = inspection_data.CELLS
    grid_h, grid_w = 2, 3
    fine = np.arange(grid_h * cells_per_side * grid_w * cells_per_side, dtype=np.uint8)
    fine = fine.reshape(grid_h * cells_per_side, grid_w * cells_per_side)
    data = inspection_data.InspectionSet([np.zeros((32, 48, 3), np.uint8)], [None],
                                         [np.zeros(6, np.uint8)], [fine], [np.zeros(6, np.uint8)])
    batch = inspection_data.cell_label_batch(data, [0], 8)
    assert batch.shape == (1, 8, cells_per_side * cells_per_side)
    patch = 1 * grid_w + 2  # second row, third column
    expected = fine[cells_per_side:, 2 * cells_per_side:].ravel()
    assert batch[0, patch].tolist() == expected.tolist()
    assert (batch[0, grid_h * grid_w:] == -100).all()


def test_every_row_targets_repeat_the_image_class_on_valid_rows():
    import torch
    from auxiliary_heads import EVERY_ROW_ATTRIBUTES, IMAGE_ATTRIBUTES, AuxiliaryHeads
    attributes = torch.tensor([[0, 1, 3, 2, 4], [1, 0, 5, 0, 0]])
    valid = torch.tensor([[True, True, False], [True, False, False]])
    targets = AuxiliaryHeads.every_row_targets(attributes, valid)
    assert len(targets) == len(EVERY_ROW_ATTRIBUTES)
    for name, rows in zip(EVERY_ROW_ATTRIBUTES, targets):
        column = list(IMAGE_ATTRIBUTES).index(name)
        expected = [[int(attributes[0, column])] * 2 + [-100], [int(attributes[1, column])] + [-100] * 2]
        assert rows.tolist() == expected, name
