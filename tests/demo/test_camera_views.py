"""Line conditions move label maps with the pixels, and the shifted views
of a held-out image show the same part as its clean view."""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))
sys.path.insert(0, os.path.join(ROOT, "model", "python"))
import camera_views  # noqa: E402
import synthetic_parts  # noqa: E402
from finetuning.line_conditions import LineConditions, pad, rotate_frame  # noqa: E402

SEED = synthetic_parts.split_seed("test")
NONE = dict(margin_share=0, padding_share=0, rotation_share=0, zoom_in_share=0, light_share=0,
            blur_share=0, noise_share=0, jpeg_share=0, grey_share=0)


def square_scene():
    """A grey frame with a white square, and a label map marking the square."""
    pixels = np.full((60, 80, 3), 90, np.uint8)
    labels = np.zeros((60, 80), np.uint8)
    pixels[20:40, 45:65] = 255
    labels[20:40, 45:65] = 7
    return pixels, labels


def overlap(pixels, labels):
    """Share of the labelled pixels that are the white square's, and of its pixels labelled."""
    white = pixels[..., 0] > 200
    marked = labels == 7
    return (white & marked).sum() / marked.sum(), (white & marked).sum() / white.sum()


@pytest.mark.parametrize("condition", ["margin_share", "padding_share", "rotation_share",
                                       "zoom_in_share"])
def test_each_framing_change_moves_the_labels_with_the_pixels(condition):
    changed = 0
    for seed in range(20):
        pixels, labels = square_scene()
        moved, (moved_labels,) = LineConditions(**{**NONE, condition: 1.0}).apply(
            np.random.default_rng(seed), pixels, [labels])
        assert moved.shape[:2] == moved_labels.shape
        changed += moved.shape != pixels.shape or not np.array_equal(moved, pixels)
        labelled_white, white_labelled = overlap(moved, moved_labels)
        assert labelled_white > 0.9 and white_labelled > 0.9, (condition, seed)
    assert changed == 20


def test_padding_and_rotation_fill_with_the_given_colour():
    pixels, labels = square_scene()
    padded, (padded_labels,) = pad(pixels, [labels], (5, 0, 0, 3), np.array([10, 20, 30]))
    assert padded.shape == (63, 85, 3)
    assert (padded[:, :5] == [10, 20, 30]).all() and (padded_labels[:, :5] == 0).all()
    rotated, (rotated_labels,) = rotate_frame(pixels, [labels], 5.0, np.array([10, 20, 30]))
    assert rotated.shape == pixels.shape
    assert (rotated[0, 0] == [10, 20, 30]).all() and rotated_labels[0, 0] == 0


def test_the_clean_view_is_the_generators_image():
    image, truth = next(synthetic_parts.generate(SEED, 1))
    pixels, view_truth, labels, locations = camera_views.render_view(SEED, 0, None)
    np.testing.assert_array_equal(pixels, np.asarray(image))
    assert view_truth == truth and labels.shape == locations.shape == pixels.shape[:2]


@pytest.mark.parametrize("index", range(4))
def test_every_shifted_view_shows_the_same_part(index):
    clean, truth, labels, _ = camera_views.render_view(SEED, index, None)
    height, width = clean.shape[:2]
    for view in camera_views.SHIFTS:
        pixels, shifted_truth, shifted_labels, locations = camera_views.render_view(
            SEED, index, view)
        assert shifted_truth == truth, view
        assert shifted_labels.shape == locations.shape == pixels.shape[:2], view
        if view == "loose-roi":  # the same part, 8 % more of the scene on every side
            grow_x = int(round(camera_views.LOOSE_ROI_MARGIN * width))
            grow_y = int(round(camera_views.LOOSE_ROI_MARGIN * height))
            assert pixels.shape[:2] == (height + 2 * grow_y, width + 2 * grow_x)
            assert abs(int((shifted_labels > 0).sum()) - int((labels > 0).sum())) \
                <= 0.02 * (labels > 0).sum()
        elif view == "padding":
            assert pixels.shape[0] == pixels.shape[1] == max(height, width)
            assert (shifted_labels > 0).sum() == (labels > 0).sum()
        elif view in ("rotated", "flat"):
            assert pixels.shape == clean.shape and not np.array_equal(pixels, clean)
        else:
            assert (pixels == pixels[..., :1]).all() and not (clean == clean[..., :1]).all()


def test_training_views_keep_the_truth_and_differ_from_the_clean_image():
    train = synthetic_parts.split_seed("train")
    differing = 0
    for index in range(6):
        clean, truth, _, _ = camera_views.render_view(train, index, None)
        pixels, view_truth, labels, locations = camera_views.render_view(train, index, "training")
        assert view_truth == truth and labels.shape == locations.shape == pixels.shape[:2]
        differing += pixels.shape != clean.shape or not np.array_equal(pixels, clean)
    assert differing >= 4
