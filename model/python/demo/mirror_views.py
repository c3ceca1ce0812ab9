"""Mirrored training views of the prepared images.

A part seen in a mirror is still a part of the same shape, colour and hole
count, and its defect's location mirrors with it; so mirroring each training
image across its diagonal, left-right and top-bottom at random (the eight
symmetries of a rectangle) shows the model eight times as many distinct
images for the cost of none. Mirroring the resized pixels is mirroring the
camera image before the resize (whose grid and weights treat height and
width alike), so the patches are still the server's.
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
DIAGONAL = {"top-right": "bottom-left", "bottom-left": "top-right"}  # rows become columns
MIRRORS = {"diagonal": DIAGONAL, "left_right": LEFT_RIGHT, "top_bottom": TOP_BOTTOM}


def location_lookup(mirror: dict) -> np.ndarray:
    """uint8 table taking a patch-location value to its mirror image's."""
    table = np.arange(256, dtype=np.uint8)
    for index, name in enumerate(LOCATIONS):
        table[index] = LOCATIONS.index(mirror.get(name, name))
    assert table[IGNORED] == IGNORED
    return table


MIRRORED_LOCATION = {name: location_lookup(mirror) for name, mirror in MIRRORS.items()}


def mirror_grid(grid: np.ndarray, mirror: str) -> np.ndarray:
    """A [rows, columns, ...] array seen in one of MIRRORS."""
    if mirror == "diagonal":
        return grid.swapaxes(0, 1)
    return grid[:, ::-1] if mirror == "left_right" else grid[::-1]


def mirror_truth(truth: PartTruth, mirrors: Sequence[str]) -> PartTruth:
    location = truth.location
    for mirror in mirrors:
        location = MIRRORS[mirror].get(location, location)
    return dataclasses.replace(truth, location=location)


def mirrored_views(data: InspectionSet, indices: Sequence[int], patch_size: int,
                   generator: torch.Generator) -> InspectionSet:
    """The chosen images, each mirrored in each of MIRRORS (in that order) with
    probability 1/2."""
    chosen = torch.rand(len(indices), len(MIRRORS), generator=generator) < 0.5
    views = InspectionSet([], [], [], [], [])
    for index, flags in zip(indices, chosen.tolist()):
        mirrors = [name for name, flag in zip(MIRRORS, flags) if flag]
        image, fine = data.pixels[index], data.cell_labels[index]
        grid_shape = (image.shape[0] // patch_size, image.shape[1] // patch_size)
        grid = data.patch_labels[index].reshape(grid_shape)
        where = data.patch_locations[index].reshape(grid_shape)
        for mirror in mirrors:
            image, grid, fine = (mirror_grid(a, mirror) for a in (image, grid, fine))
            where = MIRRORED_LOCATION[mirror][mirror_grid(where, mirror)]
        views.pixels.append(np.ascontiguousarray(image))
        views.patch_labels.append(np.ascontiguousarray(grid).ravel())
        views.cell_labels.append(np.ascontiguousarray(fine))
        views.patch_locations.append(np.ascontiguousarray(where).ravel())
        views.truths.append(mirror_truth(data.truths[index], mirrors))
    return views
