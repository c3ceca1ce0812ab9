"""Seeded random initialisation, one generator per tensor.

Every tensor's values depend only on (seed, its full parameter name, its
shape), never on construction order: the exporter can stream the 2b
decoder to disk tensor by tensor and get exactly what an in-memory model
built with the same seed holds."""

import hashlib
from typing import Sequence

import torch
from torch import nn


def _tensor_seed(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def _is_norm(name: str) -> bool:
    return "norm" in name.rsplit(".", 2)[-2]


def random_tensor(name: str, shape: Sequence[int], seed: int, std: float) -> torch.Tensor:
    """float32 values of parameter `name`: normal(0, std), norm weights
    centred on 1 so that a wrong or missing norm weight shows."""
    generator = torch.Generator().manual_seed(_tensor_seed(seed, name))
    values = torch.randn(*shape, generator=generator) * std
    if _is_norm(name) and name.endswith(".weight"):
        values += 1.0
    return values


@torch.no_grad()
def init_module(module: nn.Module, seed: int, std: float, prefix: str = "") -> None:
    for name, param in module.named_parameters():
        param.copy_(random_tensor(prefix + name, param.shape, seed, std))
