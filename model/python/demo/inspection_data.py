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

GENERATOR_SOURCES = ("synthetic_parts.py", "defects.py", "part_geometry.py", "inspection_task.py")


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

    def __len__(self) -> int:
        return len(self.truths)


def _prepare(job: Tuple[int, int, Preprocessing]) -> Tuple[np.ndarray, PartTruth]:
    seed, index, prep = job
    image, truth = synthetic_parts.render(np.random.default_rng([seed, index]))
    pixels = naflex_reference.to_rgb_array(image)
    grid_h, grid_w = naflex_reference.naflex_grid(pixels.shape[0], pixels.shape[1],
                                                  prep.patch_size, prep.max_num_patches)
    resized = naflex_reference.resize(pixels, grid_h * prep.patch_size, grid_w * prep.patch_size)
    return resized, truth


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
    return InspectionSet([p for p, _ in prepared], [t for _, t in prepared])


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
