"""The Qwen2 language decoder: RMSNorm, RoPE, grouped-query attention with
QKV bias, SwiGLU, tied embeddings. Parameter names are those of
decoder.safetensors (Hugging Face's Qwen2 names without `model.`)."""

from typing import List, Optional, Tuple

import torch
from torch import nn

from .config import ModelConfig
from .layers import RMSNorm, SwiGLU, apply_rope, attention, rope_cos_sin, split_heads

KVCache = List[Tuple[torch.Tensor, torch.Tensor]]


class DecoderAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        d = config.decoder
        self.heads = d.num_attention_heads
        self.kv_heads = d.num_key_value_heads
        self.head_dim = d.head_dim
        self.q_proj = nn.Linear(d.hidden_size, d.num_attention_heads * d.head_dim)
        self.k_proj = nn.Linear(d.hidden_size, d.num_key_value_heads * d.head_dim)
        self.v_proj = nn.Linear(d.hidden_size, d.num_key_value_heads * d.head_dim)
        self.o_proj = nn.Linear(d.num_attention_heads * d.head_dim, d.hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor,
                past: Optional[Tuple[torch.Tensor, torch.Tensor]]):
        q = apply_rope(split_heads(self.q_proj(x), self.heads, self.head_dim), cos, sin)
        k = apply_rope(split_heads(self.k_proj(x), self.kv_heads, self.head_dim), cos, sin)
        v = split_heads(self.v_proj(x), self.kv_heads, self.head_dim)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        return self.o_proj(attention(q, k, v, mask)), (k, v)


class DecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        d = config.decoder
        self.input_layernorm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.self_attn = DecoderAttention(config)
        self.post_attention_layernorm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.mlp = SwiGLU(d.hidden_size, d.intermediate_size)

    def forward(self, x, cos, sin, mask, past):
        attn, cache = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + attn
        return x + self.mlp(self.post_attention_layernorm(x)), cache


class Decoder(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        d = config.decoder
        self.head_dim = d.head_dim
        self.rope_theta = d.rope_theta
        self.embed_tokens = nn.Embedding(d.vocab_size, d.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(d.num_layers)])
        self.norm = RMSNorm(d.hidden_size, d.rms_norm_eps)
        self.lm_head = None if d.tie_word_embeddings else nn.Linear(d.hidden_size, d.vocab_size,
                                                                     bias=False)

    def forward(self, embeds: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor,
                cache: Optional[KVCache] = None) -> Tuple[torch.Tensor, KVCache]:
        """embeds: [B, L, H]; positions: [B, L]; mask: bool [B, 1, L, L_past + L].
        Returns logits [B, L, vocab] and the KV cache including these tokens."""
        cos, sin = rope_cos_sin(positions, self.head_dim, self.rope_theta, embeds.dtype)
        x = embeds
        new_cache: KVCache = []
        for i, layer in enumerate(self.layers):
            x, layer_cache = layer(x, cos, sin, mask, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        x = self.norm(x)
        head = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return torch.matmul(x, head.t()), new_cache


def decoder_tensor_shapes(config: ModelConfig) -> List[Tuple[str, Tuple[int, ...]]]:
    """decoder.safetensors' tensors in file order (FORMAT.md), without
    building the decoder: the 2b export streams them."""
    d = config.decoder
    q, kv = d.num_attention_heads * d.head_dim, d.num_key_value_heads * d.head_dim
    shapes = [("embed_tokens.weight", (d.vocab_size, d.hidden_size))]
    for i in range(d.num_layers):
        p = f"layers.{i}."
        shapes += [
            (p + "input_layernorm.weight", (d.hidden_size,)),
            (p + "self_attn.q_proj.weight", (q, d.hidden_size)),
            (p + "self_attn.q_proj.bias", (q,)),
            (p + "self_attn.k_proj.weight", (kv, d.hidden_size)),
            (p + "self_attn.k_proj.bias", (kv,)),
            (p + "self_attn.v_proj.weight", (kv, d.hidden_size)),
            (p + "self_attn.v_proj.bias", (kv,)),
            (p + "self_attn.o_proj.weight", (d.hidden_size, q)),
            (p + "post_attention_layernorm.weight", (d.hidden_size,)),
            (p + "mlp.gate_proj.weight", (d.intermediate_size, d.hidden_size)),
            (p + "mlp.up_proj.weight", (d.intermediate_size, d.hidden_size)),
            (p + "mlp.down_proj.weight", (d.hidden_size, d.intermediate_size)),
        ]
    shapes.append(("norm.weight", (d.hidden_size,)))
    if not d.tie_word_embeddings:
        shapes.append(("lm_head.weight", (d.vocab_size, d.hidden_size)))
    return shapes
