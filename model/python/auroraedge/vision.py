"""SigLIP2-naflex vision encoder and the MLP projector: vision.pt.

The tower's parameter names follow Hugging Face's Siglip2VisionModel
(`tower.X` is `vision_model.X`), so that import_hf.py maps them one to one."""

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .layers import attention, split_heads


class VisionEmbeddings(nn.Module):
    """Linear patch embedding plus the learned position grid resized to each
    image's patch grid (bilinear, antialiased, as SigLIP2 naflex does)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        v = config.vision
        self.grid = v.position_grid
        self.max_num_patches = v.max_num_patches
        self.patch_embedding = nn.Linear(v.patch_dim, v.hidden_size)
        self.position_embedding = nn.Embedding(v.position_grid * v.position_grid, v.hidden_size)

    def resized_positions(self, grid_hw: torch.Tensor) -> torch.Tensor:
        """[B, P, hidden]: the position grid resized per image; padded rows zero."""
        table = self.position_embedding.weight
        hidden = table.shape[1]
        # antialias is not implemented for reduced precision on CPU: resize in float32.
        grid = table.float().reshape(self.grid, self.grid, hidden).permute(2, 0, 1).unsqueeze(0)
        out = torch.zeros(grid_hw.shape[0], self.max_num_patches, hidden, dtype=table.dtype,
                          device=table.device)
        for i in range(grid_hw.shape[0]):
            h = int(grid_hw[i, 0])
            w = int(grid_hw[i, 1])
            if h < 1 or w < 1 or h * w > self.max_num_patches:
                raise ValueError("grid_hw[" + str(i) + "]: " + str(h) + "x" + str(w) +
                                 " patches; expected at least 1x1 and at most " +
                                 str(self.max_num_patches) + " patches")
            resized = F.interpolate(grid, size=(h, w), mode="bilinear", align_corners=False,
                                    antialias=True)
            out[i, :h * w] = resized.reshape(hidden, h * w).transpose(0, 1).to(table.dtype)
        return out

    def forward(self, patches: torch.Tensor, grid_hw: torch.Tensor) -> torch.Tensor:
        weight = self.patch_embedding.weight
        if (patches.dim() != 3 or patches.shape[1] != self.max_num_patches
                or patches.shape[2] != weight.shape[1]):
            raise ValueError("patches: expected [B, " + str(self.max_num_patches) + ", " +
                             str(weight.shape[1]) + "], found " + str(patches.shape))
        if grid_hw.dim() != 2 or grid_hw.shape[0] != patches.shape[0] or grid_hw.shape[1] != 2:
            raise ValueError("grid_hw: expected [" + str(patches.shape[0]) + ", 2], found " +
                             str(grid_hw.shape))
        return self.patch_embedding(patches.to(weight.dtype)) + self.resized_positions(grid_hw)


class VisionAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q_proj(x), self.num_heads, self.head_dim)
        k = split_heads(self.k_proj(x), self.num_heads, self.head_dim)
        v = split_heads(self.v_proj(x), self.num_heads, self.head_dim)
        return self.out_proj(attention(q, k, v, key_mask))


class VisionMLP(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int):
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class VisionEncoderLayer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        v = config.vision
        self.layer_norm1 = nn.LayerNorm(v.hidden_size, eps=v.layer_norm_eps)
        self.self_attn = VisionAttention(v.hidden_size, v.num_heads)
        self.layer_norm2 = nn.LayerNorm(v.hidden_size, eps=v.layer_norm_eps)
        self.mlp = VisionMLP(v.hidden_size, v.intermediate_size)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), key_mask)
        return x + self.mlp(self.layer_norm2(x))


class VisionEncoder(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.layers = nn.ModuleList(
            [VisionEncoderLayer(config) for _ in range(config.vision.num_layers)])

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, key_mask)
        return x


class VisionTower(nn.Module):
    """SigLIP2 vision transformer without the pooling head."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embeddings = VisionEmbeddings(config)
        self.encoder = VisionEncoder(config)
        self.post_layernorm = nn.LayerNorm(config.vision.hidden_size,
                                           eps=config.vision.layer_norm_eps)

    def forward(self, patches: torch.Tensor, grid_hw: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(patches, grid_hw)
        x = self.encoder(x, valid[:, None, None, :])
        return self.post_layernorm(x)


class Projector(nn.Module):
    """LLaVA-style 2-layer MLP: vision hidden -> projector hidden -> decoder hidden."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.linear_1 = nn.Linear(config.vision.hidden_size, config.projector.hidden_size)
        self.linear_2 = nn.Linear(config.projector.hidden_size, config.decoder.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.gelu(self.linear_1(x)))


def valid_rows(grid_hw: torch.Tensor, num_patches: int) -> torch.Tensor:
    """[B, P] bool: row r of image b holds a patch when r < grid_h * grid_w."""
    counts = grid_hw[:, 0] * grid_hw[:, 1]
    rows = torch.arange(num_patches, device=grid_hw.device)
    return rows.unsqueeze(0) < counts.unsqueeze(1)


class VisionModule(nn.Module):
    """What vision.pt holds: patches [B, P, 3*p*p] + grid_hw [B, 2] -> V [B, P, H_dec],
    padded rows zero."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.tower = VisionTower(config)
        self.projector = Projector(config)

    def forward(self, patches: torch.Tensor, grid_hw: torch.Tensor) -> torch.Tensor:
        valid = valid_rows(grid_hw, patches.shape[1])
        x = self.projector(self.tower(patches, grid_hw, valid))
        return x * valid.unsqueeze(-1).to(x.dtype)
