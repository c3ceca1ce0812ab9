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
from inspection_task import PartTruth  # noqa: E402

GENERATOR_SOURCES = ("synthetic_parts.py", "defects.py", "part_geometry.py", "inspection_task.py",
                     "inspection_data.py")


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

    def __len__(self) -> int:
        return len(self.truths)


# A patch shows a defect when this many of its source pixels do, else a hole
# or the part when that share of them does.
DEFECT_PIXELS = 4
HOLE_SHARE = 0.1
PART_SHARE = 0.4
# Each patch side is split into this many cells for the finer labels, which
# tell the vision module where inside a patch a flaw lies.
CELLS = 4


def patch_labels(labels: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """What each patch of the naflex grid mostly shows, from a render's pixel labels."""
    rows = np.linspace(0, labels.shape[0], grid_h + 1).round().astype(int)
    cols = np.linspace(0, labels.shape[1], grid_w + 1).round().astype(int)
    part, hole = synthetic_parts.PIXEL_LABELS.index("part"), synthetic_parts.PIXEL_LABELS.index("hole")
    out = np.zeros(grid_h * grid_w, np.uint8)
    for r in range(grid_h):
        for c in range(grid_w):
            region = labels[rows[r]:rows[r + 1], cols[c]:cols[c + 1]]
            counts = np.bincount(region.ravel(), minlength=len(synthetic_parts.PIXEL_LABELS))
            defects = counts[hole + 1:]
            if defects.max() >= DEFECT_PIXELS:
                out[r * grid_w + c] = hole + 1 + int(defects.argmax())
            elif counts[hole] >= HOLE_SHARE * region.size:
                out[r * grid_w + c] = hole
            elif counts[part] >= PART_SHARE * region.size:
                out[r * grid_w + c] = part
    return out


def _prepare(job: Tuple[int, int, Preprocessing]) -> Tuple[np.ndarray, PartTruth, np.ndarray,
                                                          np.ndarray]:
    seed, index, prep = job
    image, truth, labels = synthetic_parts.render_with_labels(np.random.default_rng([seed, index]))
    pixels = naflex_reference.to_rgb_array(image)
    grid_h, grid_w = naflex_reference.naflex_grid(pixels.shape[0], pixels.shape[1],
                                                  prep.patch_size, prep.max_num_patches)
    resized = naflex_reference.resize(pixels, grid_h * prep.patch_size, grid_w * prep.patch_size)
    cells = patch_labels(labels, grid_h * CELLS, grid_w * CELLS).reshape(grid_h * CELLS, -1)
    return resized, truth, patch_labels(labels, grid_h, grid_w), cells


def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        with open(os.path.join(DEMO_DIR, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def build_set(split: str, count: int, prep: Preprocessing, workers: int = 2) -> InspectionSet:
    """Images 0..count-1 of the split's seed (synthetic_parts.generate order)."""
    seed = synthetic_parts.split_seed(split)
    jobs = [(seed, index, prep) for index in range(count)]
    if workers > 1:
        with Pool(workers) as pool:
            prepared = pool.map(_prepare, jobs, chunksize=64)
    else:
        prepared = [_prepare(job) for job in jobs]
    pixels, truths, labels, cells = (list(column) for column in zip(*prepared))
    return InspectionSet(pixels, truths, labels, cells)


def load_or_build(cache_dir: str, split: str, count: int, prep: Preprocessing,
                  workers: int = 2) -> InspectionSet:
    """build_set, cached in cache_dir under a key of the arguments and the generator's code."""
    key = f"{split}-{count}-{prep.patch_size}-{prep.max_num_patches}-{generator_fingerprint()}"
    path = os.path.join(cache_dir, f"inspection-{key}.pkl")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    data = build_set(split, count, prep, workers)
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


def cell_label_batch(data: InspectionSet, indices: Sequence[int],
                     max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches, CELLS * CELLS] int64 cell labels of each patch's cells
    (row-major inside the patch), -100 at padded rows."""
    out = torch.full((len(indices), max_num_patches, CELLS * CELLS), -100, dtype=torch.long)
    for row, index in enumerate(indices):
        cells = data.cell_labels[index]
        grid_h, grid_w = cells.shape[0] // CELLS, cells.shape[1] // CELLS
        per_patch = cells.reshape(grid_h, CELLS, grid_w, CELLS).transpose(0, 2, 1, 3)
        out[row, :grid_h * grid_w] = torch.from_numpy(
            per_patch.reshape(grid_h * grid_w, CELLS * CELLS).astype(np.int64))
    return out


def patch_label_batch(data: InspectionSet, indices: Sequence[int],
                      max_num_patches: int) -> torch.Tensor:
    """[n, max_num_patches] int64 patch labels of the chosen images, -100 at padded rows."""
    out = torch.full((len(indices), max_num_patches), -100, dtype=torch.long)
    for row, index in enumerate(indices):
        labels = torch.from_numpy(data.patch_labels[index]).long()
        out[row, :labels.numel()] = labels
    return out
