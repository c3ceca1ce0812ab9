"""Each training step's tensors, prepared ahead on worker processes when asked.

The draws (which images, which mirrors, which questions) stay in the
training process, in step order, from its one seeded generator, so a run
with workers sees exactly the images and questions of a run without. The
workers only turn the drawn views into patches and auxiliary targets, the
costly part (about 14 ms of CPU per 32 images), so that a GPU step need not
wait for them.
"""

import collections
import dataclasses
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import torch

from auxiliary_heads import attribute_targets
from inspection_data import (InspectionSet, Preprocessing, cell_label_batch, patch_batch,
                            patch_label_batch, patch_location_batch)
from inspection_task import PartTruth

# Steps prepared ahead of the one being trained, per worker.
AHEAD_PER_WORKER = 3


@dataclasses.dataclass
class Drawn:
    views: InspectionSet                   # this process's images of the step, in order
    asked: Optional[List[List[str]]] = None  # question types per image (stage 2)


@dataclasses.dataclass
class Prepared:
    patches: torch.Tensor
    grid_hw: torch.Tensor
    targets: Tuple[torch.Tensor, ...]  # AuxiliaryHeads.loss order
    truths: List[PartTruth]
    asked: Optional[List[List[str]]]

    def to(self, device: torch.device) -> "Prepared":
        return dataclasses.replace(self, patches=self.patches.to(device),
                                   grid_hw=self.grid_hw.to(device),
                                   targets=tuple(t.to(device) for t in self.targets))


def select(data: InspectionSet, indices: Sequence[int]) -> InspectionSet:
    """The chosen images of a set, in order."""
    return InspectionSet(*([column[i] for i in indices] for column in
                           (data.pixels, data.truths, data.patch_labels, data.cell_labels,
                            data.patch_locations)))


def auxiliary_targets(data: InspectionSet, indices: List[int], rows: int):
    """The auxiliary heads' targets for the chosen images (AuxiliaryHeads.loss order)."""
    return (patch_label_batch(data, indices, rows), cell_label_batch(data, indices, rows),
            patch_location_batch(data, indices, rows),
            attribute_targets([data.truths[i] for i in indices]))


def prepare(drawn: Drawn, prep: Preprocessing) -> Prepared:
    indices = list(range(len(drawn.views)))
    patches, grid_hw = patch_batch(drawn.views, indices, prep)
    return Prepared(patches, grid_hw, auxiliary_targets(drawn.views, indices, patches.shape[1]),
                    drawn.views.truths, drawn.asked)


def stream(draw: Callable[[], Drawn], steps: int, prep: Preprocessing, pool,
           device: torch.device) -> Iterator[Prepared]:
    """`steps` prepared steps on `device`: in this process, or ahead on a
    multiprocessing pool's workers (draws still made here, in order)."""
    if pool is None:
        for _ in range(steps):
            yield prepare(draw(), prep).to(device)
        return
    ahead = AHEAD_PER_WORKER * pool._processes  # noqa: SLF001 - the pool's size
    pending = collections.deque()
    for _ in range(min(steps, ahead)):
        pending.append(pool.apply_async(prepare, (draw(), prep)))
    for step in range(steps):
        ready = pending.popleft().get()
        if step + ahead < steps:
            pending.append(pool.apply_async(prepare, (draw(), prep)))
        yield ready.to(device)
