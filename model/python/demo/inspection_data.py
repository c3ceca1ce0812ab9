"""Synthetic inspection images prepared as the server prepares them.

Each image is resized by the preprocessing issue's Python reference
(preprocessing/python/naflex_reference.py) to its naflex patch grid and kept
as 8-bit pixels; `patch_batch` turns them into the exact float patches that
`naflex_reference.preprocess` gives (same functions, same order), which is
also what the C++ preprocessing computes for the PNG of that image.
"""

import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from multiprocessing import Pool
from typing import List, Sequence, Tuple

import numpy as np
import torch

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(DEMO_DIR)))
sys.path.insert(0, os.path.join(REPO_ROOT, "preprocessing", "python"))
sys.path.insert(0, DEMO_DIR)
import naflex_reference  # noqa: E402
import synthetic_parts  # noqa: E402
from camera_views import View, render_view  # noqa: E402
from inspection_task import LOCATIONS, PartTruth  # noqa: E402

GENERATOR_SOURCES = ("synthetic_parts.py", "defects.py", "part_geometry.py", "inspection_task.py",
                     "inspection_data.py", "camera_views.py",
                     os.path.join("..", "finetuning", "line_conditions.py"))


@dataclass(frozen=True)
class Preprocessing:
    patch_size: int
    max_num_patches: int
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]


@dataclass
class InspectionSet:
    pixels: List[np.ndarray]  # uint8 [grid_h * p, grid_w * p, 3], resized by the reference
    truths: List[PartTruth]
    patch_labels: List[np.ndarray]  # uint8 [grid_h * grid_w]: indices into PIXEL_LABELS
    cell_labels: List[np.ndarray]  # uint8 [grid_h * CELLS, grid_w * CELLS]: the same, finer
    patch_locations: List[np.ndarray]  # uint8 [grid_h * grid_w]: indices into LOCATIONS

    def __len__(self) -> int:
        return len(self.truths)


# A patch (or cell) shows a defect when this share of its source pixels do,
# a hole when HOLE_SHARE of them do, else the part when PART_SHARE of them do.
# A patch that a defect or hole only grazes (some pixels, fewer than its
# share) is IGNORED: neither answer would be fair to ask of it.
DEFECT_SHARE = 0.05
HOLE_SHARE = 0.1
HOLE_GRAZE = 0.02
PART_SHARE = 0.4
# A patch's location is the part's location under most of it, when that
# covers LOCATION_SHARE of the patch's part pixels and PART_SHARE of the patch.
LOCATION_SHARE = 0.75
IGNORED = 255
# Each patch side is split into this many cells for the finer labels, which
# tell the vision module where inside a patch a flaw lies.
CELLS = 4


def region_counts(values: np.ndarray, classes: int, grid_h: int, grid_w: int) -> np.ndarray:
    """[grid_h * grid_w, classes], row-major: how many pixels of each value
    (0 .. classes-1) every region of a grid_h x grid_w grid over the image holds."""
    rows = np.linspace(0, values.shape[0], grid_h + 1).round().astype(int)
    cols = np.linspace(0, values.shape[1], grid_w + 1).round().astype(int)
    one_hot = (values[..., None] == np.arange(classes)).astype(np.int32)
    counts = np.add.reduceat(np.add.reduceat(one_hot, rows[:-1], axis=0), cols[:-1], axis=1)
    return counts.reshape(grid_h * grid_w, classes)


def patch_labels(labels: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """What each patch of the grid shows (PIXEL_LABELS index, or IGNORED),
    from a render's pixel labels."""
    part, hole = synthetic_parts.PIXEL_LABELS.index("part"), synthetic_parts.PIXEL_LABELS.index("hole")
    counts = region_counts(labels, len(synthetic_parts.PIXEL_LABELS), grid_h, grid_w)
    size = counts.sum(axis=1)
    defects = counts[:, hole + 1:]
    rules = [(defects.max(axis=1) >= DEFECT_SHARE * size, hole + 1 + defects.argmax(axis=1)),
             (defects.max(axis=1) > 0, IGNORED),
             (counts[:, hole] >= HOLE_SHARE * size, hole),
             (counts[:, hole] >= HOLE_GRAZE * size, IGNORED),
             (counts[:, part] >= PART_SHARE * size, part)]
    return np.select([when for when, _ in rules], [label for _, label in rules],
                     default=synthetic_parts.PIXEL_LABELS.index("background")).astype(np.uint8)


def patch_locations(locations: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """Where on the part each patch lies (LOCATIONS index, or IGNORED off the
    part and across borders), from a render's location map."""
    on_part = region_counts(locations, len(LOCATIONS) + 1, grid_h, grid_w)
    size = on_part.sum(axis=1)
    on_part = on_part[:, 1:]
    placed = ((on_part.sum(axis=1) >= PART_SHARE * size)
              & (on_part.max(axis=1) >= LOCATION_SHARE * on_part.sum(axis=1)))
    return np.where(placed, on_part.argmax(axis=1), IGNORED).astype(np.uint8)


def _prepare(job: Tuple[int, int, Preprocessing, View]) -> Tuple[np.ndarray, PartTruth,
                                                                np.ndarray, np.ndarray,
                                                                np.ndarray]:
    seed, index, prep, view = job
    pixels, truth, labels, locations = render_view(seed, index, view)
    grid_h, grid_w = naflex_reference.naflex_grid(pixels.shape[0], pixels.shape[1],
                                                  prep.patch_size, prep.max_num_patches)
    resized = naflex_reference.resize(pixels, grid_h * prep.patch_size, grid_w * prep.patch_size)
    cells = patch_labels(labels, grid_h * CELLS, grid_w * CELLS).reshape(grid_h * CELLS, -1)
    return (resized, truth, patch_labels(labels, grid_h, grid_w), cells,
            patch_locations(locations, grid_h, grid_w))


def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        with open(os.path.join(DEMO_DIR, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def build_set(split: str, count: int, prep: Preprocessing, workers: int = 2,
              view: View = None) -> InspectionSet:
    """Images 0..count-1 of the split's seed (synthetic_parts.generate order),
    seen in `view` (camera_views.render_view)."""
    seed = synthetic_parts.split_seed(split)
    jobs = [(seed, index, prep, view) for index in range(count)]
    if workers > 1:
        with Pool(workers) as pool:
            prepared = pool.map(_prepare, jobs, chunksize=64)
    else:
        prepared = [_prepare(job) for job in jobs]
    pixels, truths, labels, cells, locations = (list(column) for column in zip(*prepared))
    return InspectionSet(pixels, truths, labels, cells, locations)


def load_or_build(cache_dir: str, split: str, count: int, prep: Preprocessing,
                  workers: int = 2, view: View = None) -> InspectionSet:
    """build_set, cached in cache_dir under a key of the arguments and the generator's code."""
    key = (f"{split}-{view or 'clean'}-{count}-{prep.patch_size}-{prep.max_num_patches}-"
           f"{generator_fingerprint()}")
    path = os.path.join(cache_dir, f"inspection-{key}.pkl")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    data = build_set(split, count, prep, workers, view)
    os.makedirs(cache_dir, exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)
    return data


def patch_batch(data: InspectionSet, indices: Sequence[int],
                prep: Preprocessing) -> Tuple[torch.Tensor, torch.Tensor]:
    """(patches [n, P, 3*p*p] float32, grid_hw [n, 2] int64) of the chosen images."""
    patches, grids = [], []
    for index in indices:
        pixels = data.pixels[index]
        patches.append(naflex_reference.to_patches(pixels, prep.patch_size, prep.max_num_patches,
                                                   prep.mean, prep.std))
        grids.append((pixels.shape[0] // prep.patch_size, pixels.shape[1] // prep.patch_size))
    return torch.from_numpy(np.stack(patches)), torch.tensor(grids, dtype=torch.long)


def per_patch_batch(rows: Sequence[np.ndarray], max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches, ...] int64 of per-patch labels, -100 where IGNORED and
    at padded rows."""
    out = torch.full((len(rows), max_num_patches, *rows[0].shape[1:]), -100, dtype=torch.long)
    for i, labels in enumerate(rows):
        values = torch.from_numpy(labels.astype(np.int64))
        out[i, :len(labels)] = values.masked_fill(values == IGNORED, -100)
    return out


def patch_label_batch(data: InspectionSet, indices: Sequence[int],
                      max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches] patch labels of the chosen images."""
    return per_patch_batch([data.patch_labels[i] for i in indices], max_num_patches)


def patch_location_batch(data: InspectionSet, indices: Sequence[int],
                         max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches] patch locations of the chosen images."""
    return per_patch_batch([data.patch_locations[i] for i in indices], max_num_patches)


def cell_label_batch(data: InspectionSet, indices: Sequence[int],
                     max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches, CELLS * CELLS] cell labels of each patch's cells
    (row-major inside the patch)."""
    rows = []
    for index in indices:
        cells = data.cell_labels[index]
        grid_h, grid_w = cells.shape[0] // CELLS, cells.shape[1] // CELLS
        per_patch = cells.reshape(grid_h, CELLS, grid_w, CELLS).transpose(0, 2, 1, 3)
        rows.append(per_patch.reshape(grid_h * grid_w, CELLS * CELLS))
    return per_patch_batch(rows, max_num_patches)
