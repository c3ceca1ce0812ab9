"""Building blocks shared by the vision encoder, the fusion layer and the
decoder. Everything here is TorchScript-compatible: vision.pt and
compress_fusion.pt are scripted from these very classes."""

import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Qwen2's RMSNorm: normalised in float32, weight applied in the input dtype."""

    def __init__(self, hidden_size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float,
                 dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of shape [..., T, head_dim] for integer positions [..., T],
    computed in float32 as Qwen2 does (frequencies repeated for both halves)."""
    exponents = torch.arange(0, head_dim, 2, dtype=torch.int64,
                             device=positions.device).float() / head_dim
    inv_freq = 1.0 / torch.pow(torch.full_like(exponents, theta), exponents)
    angles = positions.float().unsqueeze(-1) * inv_freq
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: [B, heads, T, d]; cos, sin: [B, T, d]."""
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    return x * cos + rotate_half(x) * sin


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              mask: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product attention with grouped KV heads.

    q: [B, h, T, d]; k, v: [B, kv_h, S, d]; mask: bool, broadcastable to
    [B, h, T, S], True where a query may attend. Softmax runs in float32. A
    query with no key to attend to gets zeros rather than NaN (a request
    without images in the fusion cross-attention). Returns [B, T, h * d]."""
    batch, heads, length, head_dim = q.shape
    groups = heads // k.shape[1]
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)).float() * (1.0 / math.sqrt(head_dim))
    # The lowest float32 rather than -inf: a fully masked row stays finite.
    scores = scores.masked_fill(~mask, -3.4028234663852886e38)
    probs = torch.softmax(scores, dim=-1) * mask.to(torch.float32)
    out = torch.matmul(probs.to(v.dtype), v)
    return out.transpose(1, 2).reshape(batch, length, heads * head_dim)


def split_heads(x: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    """[B, T, heads * d] -> [B, heads, T, d]."""
    return x.view(x.shape[0], x.shape[1], heads, head_dim).transpose(1, 2)


class SwiGLU(nn.Module):
    """Qwen2 MLP: down(silu(gate(x)) * up(x)), no biases."""

    def __init__(self, hidden_size: int, intermediate_size: int):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
