"""The token compressor and the fusion layer: compress_fusion.pt.

The fusion layer is one pre-norm transformer decoder layer over the text
tokens: causal self-attention with RoPE over text-token positions, then
cross-attention to every valid visual row V of the request, then a SwiGLU
MLP. The same code runs the batched training forward (masks built from the
sequence) and the cached incremental `fuse` the engine calls."""

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .layers import RMSNorm, SwiGLU, apply_rope, attention, rope_cos_sin, split_heads


class Compressor(nn.Module):
    """MLP along the token axis: P visual slots -> hidden -> N_c tokens."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.vision.max_num_patches, config.compressor.hidden_size)
        self.fc2 = nn.Linear(config.compressor.hidden_size, config.compressor.num_tokens)

    def forward(self, visual: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = visual * valid.unsqueeze(-1).to(visual.dtype)
        x = self.fc2(F.gelu(self.fc1(x.transpose(1, 2))))
        return x.transpose(1, 2)


class FusionAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int, head_dim: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.q_proj = nn.Linear(hidden_size, num_heads * head_dim)
        self.k_proj = nn.Linear(hidden_size, num_heads * head_dim)
        self.v_proj = nn.Linear(hidden_size, num_heads * head_dim)
        self.o_proj = nn.Linear(num_heads * head_dim, hidden_size, bias=False)

    def keys_values(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return (split_heads(self.k_proj(x), self.num_heads, self.head_dim),
                split_heads(self.v_proj(x), self.num_heads, self.head_dim))

    def query(self, x: torch.Tensor) -> torch.Tensor:
        return split_heads(self.q_proj(x), self.num_heads, self.head_dim)


class FusionLayer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        d, f = config.decoder, config.fusion
        self.rope_theta = d.rope_theta
        self.head_dim = f.head_dim
        self.input_layernorm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.self_attn = FusionAttention(d.hidden_size, f.num_heads, f.head_dim)
        self.cross_attn_layernorm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.cross_attn = FusionAttention(d.hidden_size, f.num_heads, f.head_dim)
        self.post_attention_layernorm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.mlp = SwiGLU(d.hidden_size, f.intermediate_size)

    def cross_kv(self, visual: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.cross_attn.keys_values(visual.to(self.mlp.up_proj.weight.dtype))

    def forward(self, x: torch.Tensor, positions: torch.Tensor, self_mask: torch.Tensor,
                past_k: torch.Tensor, past_v: torch.Tensor, cross_k: torch.Tensor,
                cross_v: torch.Tensor,
                cross_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: [B, T, H] text embeddings; positions: [B, T] text-token indices;
        self_mask: [B, 1, T, T_past + T]; cross_mask: [B, 1, 1, N_v].
        Returns the fused text and the self-attention cache (past + new)."""
        h = self.input_layernorm(x)
        cos, sin = rope_cos_sin(positions, self.head_dim, self.rope_theta, h.dtype)
        q = apply_rope(self.self_attn.query(h), cos, sin)
        k, v = self.self_attn.keys_values(h)
        k = torch.cat([past_k, apply_rope(k, cos, sin)], dim=2)
        v = torch.cat([past_v, v], dim=2)
        x = x + self.self_attn.o_proj(attention(q, k, v, self_mask))
        h = self.cross_attn_layernorm(x)
        x = x + self.cross_attn.o_proj(
            attention(self.cross_attn.query(h), cross_k, cross_v, cross_mask))
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class CompressFusion(nn.Module):
    """What compress_fusion.pt holds: the engine calls its three exported methods."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.compressor = Compressor(config)
        self.fusion = FusionLayer(config)

    @torch.jit.export
    def compress(self, visual: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return self.compressor(visual.to(self.compressor.fc1.weight.dtype), valid)

    @torch.jit.export
    def cross_kv(self, visual: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.fusion.cross_kv(visual)

    @torch.jit.export
    def fuse(self, text: torch.Tensor, positions: torch.Tensor, past_k: torch.Tensor,
             past_v: torch.Tensor, cross_k: torch.Tensor,
             cross_v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        text = text.to(self.fusion.mlp.up_proj.weight.dtype)
        past = past_k.shape[2]
        new = text.shape[1]
        query_index = torch.arange(new, device=text.device).unsqueeze(1) + past
        key_index = torch.arange(past + new, device=text.device).unsqueeze(0)
        self_mask = (key_index <= query_index).view(1, 1, new, past + new)
        cross_mask = torch.ones(1, 1, 1, cross_k.shape[2], dtype=torch.bool, device=text.device)
        return self.fusion(text, positions.unsqueeze(0), self_mask, past_k, past_v, cross_k,
                           cross_v, cross_mask)
