"""Training on several CPU processes at once.

Every process draws the same images for a step (same seeded generator), takes
its share of them, computes the gradient of that share, and the gradients are
averaged (torch.distributed, gloo) before each process takes the same
optimizer step: the processes hold identical weights throughout.

Why processes and not threads: on the 2-core machine a vision-stage step of
32 images took 0.23 s on one process of two threads and 0.165 s on two
processes of one thread (the small model's ops are too short to split well).
"""

import os
from typing import Callable, List, Sequence, TypeVar

import torch
import torch.distributed as dist

Item = TypeVar("Item")


def run(processes: int, rendezvous_dir: str, worker: Callable, *args) -> None:
    """worker(*args) in `processes` forked processes joined into one group (or
    in this process when there is one). Fork shares the prepared images with
    the workers without copying them; the parent must not have run torch
    computations before (an OpenMP pool does not survive fork)."""
    if processes == 1:
        worker(*args)
        return
    # Absolute: in a relative file:// URL the first folder would be read as a host.
    store = os.path.abspath(os.path.join(rendezvous_dir, "process-group"))
    if os.path.exists(store):
        os.remove(store)
    try:
        torch.multiprocessing.start_processes(_join, args=(processes, store, worker, args),
                                              nprocs=processes, start_method="fork")
    finally:
        if os.path.exists(store):
            os.remove(store)


def _join(rank: int, processes: int, store: str, worker: Callable, args) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                            world_size=processes)
    try:
        worker(*args)
    finally:
        dist.destroy_process_group()


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def process_count() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def share(items: Sequence[Item]) -> List[Item]:
    """This process's share of a step's items."""
    return list(items[rank()::process_count()])


def average_gradients(parameters: Sequence[torch.nn.Parameter]) -> None:
    """Replaces every parameter's gradient by its mean over the processes (a
    parameter this process's share left without gradient counts as zero)."""
    if process_count() == 1:
        return
    for p in parameters:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in parameters])
    dist.all_reduce(flat)
    flat /= process_count()
    offset = 0
    for p in parameters:
        p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
        offset += p.numel()


def total(counts: torch.Tensor) -> torch.Tensor:
    """Element-wise sum of a tensor over the processes."""
    if process_count() > 1:
        dist.all_reduce(counts)
    return counts
