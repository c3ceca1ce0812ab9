"""The generator's pixel labels (training's auxiliary targets) agree with its
images and ground truth, and patches are labelled by the documented rule."""

import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))

import inspection_data  # noqa: E402
import synthetic_parts  # noqa: E402
from inspection_task import NO_DEFECT  # noqa: E402

LABELS = synthetic_parts.PIXEL_LABELS


def test_labels_match_the_image_and_its_truth():
    seed = synthetic_parts.split_seed("validation")
    for index in range(24):
        image, truth, labels = synthetic_parts.render_with_labels(np.random.default_rng([seed, index]))
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
    labels = np.zeros((20, 30), np.uint8)           # 2 x 3 patches of 10 x 10 pixels
    labels[0:10, 10:20] = part                      # patch 1: all part
    labels[0:10, 20:30] = part                      # patch 2: part with a hole and a scratch
    labels[2:6, 22:26] = hole
    labels[8, 20:20 + inspection_data.DEFECT_PIXELS] = scratch
    labels[10:20, 0:10] = part                      # patch 3: part with a small hole
    labels[10:13, 0:3] = hole
    labels[10:13, 10:20] = part                     # patch 4: mostly background
    assert inspection_data.patch_labels(labels, 2, 3).tolist() == [0, part, scratch,
                                                                   part, 0, 0]
