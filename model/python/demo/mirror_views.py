"""Mirrored training views of the prepared images.

A part seen in a mirror is still a part of the same shape, colour and hole
count, and its defect's location mirrors with it; so flipping each training
image left-right and/or top-bottom at random shows the model four times as
many distinct images for the cost of none. Flipping the resized pixels is
flipping the camera image before the (symmetric) resize, so the patches are
still the server's.
"""

import dataclasses
from typing import Sequence

import numpy as np
import torch

from inspection_data import IGNORED, InspectionSet
from inspection_task import LOCATIONS, PartTruth

LEFT_RIGHT = {"top-left": "top-right", "top-right": "top-left",
              "bottom-left": "bottom-right", "bottom-right": "bottom-left"}
TOP_BOTTOM = {"top-left": "bottom-left", "bottom-left": "top-left",
              "top-right": "bottom-right", "bottom-right": "top-right"}


def location_lookup(mirror: dict) -> np.ndarray:
    """uint8 table taking a patch-location value to its mirror image's."""
    table = np.arange(256, dtype=np.uint8)
    for index, name in enumerate(LOCATIONS):
        table[index] = LOCATIONS.index(mirror.get(name, name))
    assert table[IGNORED] == IGNORED
    return table


MIRRORED_LOCATION = {"left_right": location_lookup(LEFT_RIGHT),
                     "top_bottom": location_lookup(TOP_BOTTOM)}


def mirror_truth(truth: PartTruth, left_right: bool, top_bottom: bool) -> PartTruth:
    location = truth.location
    if left_right:
        location = LEFT_RIGHT.get(location, location)
    if top_bottom:
        location = TOP_BOTTOM.get(location, location)
    return dataclasses.replace(truth, location=location)


def mirrored_views(data: InspectionSet, indices: Sequence[int], patch_size: int,
                   generator: torch.Generator) -> InspectionSet:
    """The chosen images, each flipped left-right and top-bottom with probability 1/2."""
    flips = torch.rand(len(indices), 2, generator=generator) < 0.5
    views = InspectionSet([], [], [], [], [])
    for index, (left_right, top_bottom) in zip(indices, flips.tolist()):
        image, fine = data.pixels[index], data.cell_labels[index]
        grid_shape = (image.shape[0] // patch_size, image.shape[1] // patch_size)
        grid = data.patch_labels[index].reshape(grid_shape)
        where = data.patch_locations[index].reshape(grid_shape)
        if left_right:
            image, grid, fine = image[:, ::-1], grid[:, ::-1], fine[:, ::-1]
            where = MIRRORED_LOCATION["left_right"][where[:, ::-1]]
        if top_bottom:
            image, grid, fine = image[::-1], grid[::-1], fine[::-1]
            where = MIRRORED_LOCATION["top_bottom"][where[::-1]]
        views.pixels.append(np.ascontiguousarray(image))
        views.patch_labels.append(np.ascontiguousarray(grid).ravel())
        views.cell_labels.append(np.ascontiguousarray(fine))
        views.patch_locations.append(np.ascontiguousarray(where).ravel())
        views.truths.append(mirror_truth(data.truths[index], left_right, top_bottom))
    return views
