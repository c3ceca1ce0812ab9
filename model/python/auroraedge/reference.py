"""AuroraEdge-V in PyTorch: the definition the C++ engine is checked against.

    model = AuroraEdgeV(config); init_random(model, seed)
    logits = model(input_ids, patches, grid_hw)         # full sequence, batched
    tokens, logits = generate(model, prompt, patches, grid_hw, 20)  # cached, greedy

The two paths of the paper's comparison:
  compressed: decoder input [C ; T'] where C = compressor(V) per image and
              T' = fusion(T) (causal self-attention over the text tokens,
              cross-attention to all valid rows of V of the sequence's images);
  baseline:   decoder input [V ; T], all max_num_patches rows per image
              (padded rows zero), no compressor, no fusion.
Where the image tokens go is the prompt's `<|image_pad|>` runs (FORMAT.md).
"""

from typing import List, Optional, Tuple

import torch
from torch import nn

from .config import ModelConfig
from .decoder import Decoder, KVCache
from .fusion import CompressFusion
from .init import init_module
from .vision import VisionModule, valid_rows


class AuroraEdgeV(nn.Module):
    """State-dict names: vision.* (vision.pt), compress_fusion.* (compress_fusion.pt,
    compressed path only), decoder.* (decoder.safetensors)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.vision = VisionModule(config)
        self.compress_fusion = CompressFusion(config) if config.path == "compressed" else None
        self.decoder = Decoder(config)

    @property
    def compressed(self) -> bool:
        return self.compress_fusion is not None

    def encode_images(self, patches: torch.Tensor, grid_hw: torch.Tensor) -> torch.Tensor:
        """V [N, P, H_dec], padded rows zero."""
        return self.vision(patches, grid_hw)

    def visual_tokens(self, visual: torch.Tensor, grid_hw: torch.Tensor) -> torch.Tensor:
        """What the decoder sees of each image: C [N, N_c, H] or V [N, P, H]."""
        if not self.compressed:
            return visual
        return self.compress_fusion.compress(visual, valid_rows(grid_hw, visual.shape[1]))

    def forward(self, input_ids: torch.Tensor, patches: Optional[torch.Tensor] = None,
                grid_hw: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None,
                visual_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits [B, L, vocab] of whole sequences in one pass.

        input_ids [B, L]; attention_mask [B, L] (1 for tokens, 0 for right
        padding); patches [N, P, 3*p*p] and grid_hw [N, 2] for every image of
        the batch, in order of appearance (row by row); visual_mask [B, L]
        marks the image slots (default: the `<|image_pad|>` tokens; pass it
        when generated tokens follow the prompt, since those are text)."""
        batch, length = input_ids.shape
        device = input_ids.device
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        attention_mask = attention_mask.bool()
        if visual_mask is None:
            visual_mask = input_ids == self.config.image_pad_token_id
        visual_mask = visual_mask & attention_mask
        num_images = 0 if patches is None else patches.shape[0]
        images_per_row = self._images_per_row(visual_mask, num_images)

        embeds = self.decoder.embed_tokens(input_ids)
        visual = tokens = None
        if num_images:
            visual = self.encode_images(patches, grid_hw)
            tokens = self.visual_tokens(visual, grid_hw)
        if self.compressed:
            embeds = self._fuse_text(embeds, attention_mask & ~visual_mask, visual, grid_hw,
                                     images_per_row)
        if tokens is not None:
            embeds = embeds.masked_scatter(visual_mask.unsqueeze(-1),
                                           tokens.reshape(-1, tokens.shape[-1]).to(embeds.dtype))

        positions = torch.arange(length, device=device).unsqueeze(0).expand(batch, length)
        causal = torch.ones(length, length, dtype=torch.bool, device=device).tril()
        mask = causal.unsqueeze(0) & attention_mask.unsqueeze(1)
        logits, _ = self.decoder(embeds, positions, mask.unsqueeze(1))
        return logits

    def _images_per_row(self, visual_mask: torch.Tensor, num_images: int) -> List[int]:
        per_image = self.config.visual_tokens_per_image
        slots = visual_mask.sum(dim=1).tolist()
        for row, count in enumerate(slots):
            if count % per_image:
                raise ValueError(f"input_ids[{row}]: {count} image slots, not a multiple of "
                                 f"visual_tokens_per_image ({per_image})")
        counts = [count // per_image for count in slots]
        if sum(counts) != num_images:
            raise ValueError(f"input_ids: placeholders for {sum(counts)} images, "
                             f"patches hold {num_images}")
        return counts

    def _fuse_text(self, embeds: torch.Tensor, is_text: torch.Tensor,
                   visual: Optional[torch.Tensor], grid_hw: Optional[torch.Tensor],
                   images_per_row: List[int]) -> torch.Tensor:
        """T' over the full sequence: image slots are neither keys nor
        positions of the self-attention; their outputs are replaced later."""
        batch, length, hidden = embeds.shape
        fusion = self.compress_fusion.fusion
        positions = (is_text.long().cumsum(dim=1) - 1).clamp(min=0)
        causal = torch.ones(length, length, dtype=torch.bool, device=embeds.device).tril()
        self_mask = (causal.unsqueeze(0) & is_text.unsqueeze(1)).unsqueeze(1)
        cross, cross_valid = self._cross_rows(visual, grid_hw, images_per_row, batch, hidden,
                                              embeds)
        cross_k, cross_v = fusion.cross_kv(cross)
        empty = cross_k.new_zeros(batch, cross_k.shape[1], 0, cross_k.shape[3])
        fused, _, _ = fusion(embeds, positions, self_mask, empty, empty, cross_k, cross_v,
                             cross_valid[:, None, None, :])
        return fused

    @staticmethod
    def _cross_rows(visual, grid_hw, images_per_row, batch, hidden, like):
        """Each row's valid V rows, concatenated in image order and padded to
        the longest: ([B, N_v, H], valid [B, N_v])."""
        rows: List[torch.Tensor] = []
        image = 0
        for count in images_per_row:
            parts = [visual[i, :int(grid_hw[i, 0] * grid_hw[i, 1])]
                     for i in range(image, image + count)]
            image += count
            rows.append(torch.cat(parts) if parts else like.new_zeros(0, hidden))
        longest = max(r.shape[0] for r in rows)
        cross = like.new_zeros(batch, longest, hidden)
        valid = torch.zeros(batch, longest, dtype=torch.bool, device=like.device)
        for b, r in enumerate(rows):
            cross[b, :r.shape[0]] = r
            valid[b, :r.shape[0]] = True
        return cross, valid


class Sequence:
    """Incremental decoding of one sequence with the fusion cache and the
    decoder KV cache, fed chunk by chunk as the engine does."""

    def __init__(self, model: AuroraEdgeV, prompt: List[int], patches: Optional[torch.Tensor],
                 grid_hw: Optional[torch.Tensor]):
        self.model = model
        self.prompt = list(prompt)
        pad = model.config.image_pad_token_id
        num_images = 0 if patches is None else patches.shape[0]
        slots = sum(1 for t in prompt if t == pad)
        if slots != num_images * model.config.visual_tokens_per_image:
            raise ValueError(f"prompt: {slots} image slots for {num_images} images of "
                             f"{model.config.visual_tokens_per_image} tokens")
        hidden = model.config.decoder.hidden_size
        if num_images:
            visual = model.encode_images(patches, grid_hw)
            self.visual_queue = model.visual_tokens(visual, grid_hw).reshape(-1, hidden)
            valid = torch.cat([visual[i, :int(grid_hw[i, 0] * grid_hw[i, 1])]
                               for i in range(num_images)])
        else:
            self.visual_queue = torch.zeros(0, hidden)
            valid = torch.zeros(0, hidden)
        self.visual_used = 0
        self.length = 0
        self.text_length = 0
        self.decoder_cache: Optional[KVCache] = None
        if model.compressed:
            fusion = model.compress_fusion
            self.cross_k, self.cross_v = fusion.cross_kv(valid.unsqueeze(0))
            heads, head_dim = model.config.fusion.num_heads, model.config.fusion.head_dim
            self.fusion_k = torch.zeros(1, heads, 0, head_dim)
            self.fusion_v = torch.zeros(1, heads, 0, head_dim)

    def feed(self, tokens: List[int], visual: List[bool]) -> torch.Tensor:
        """Appends tokens (visual[i]: token i is an image slot); returns their logits [n, vocab]."""
        model = self.model
        ids = torch.tensor(tokens, dtype=torch.long)
        is_visual = torch.tensor(visual, dtype=torch.bool)
        embeds = model.decoder.embed_tokens(ids)
        text_index = (~is_visual).nonzero().flatten()
        if model.compressed and text_index.numel():
            positions = torch.arange(self.text_length, self.text_length + text_index.numel())
            fused, self.fusion_k, self.fusion_v = model.compress_fusion.fuse(
                embeds[text_index].unsqueeze(0), positions, self.fusion_k, self.fusion_v,
                self.cross_k, self.cross_v)
            embeds = embeds.index_copy(0, text_index, fused[0])
        self.text_length += text_index.numel()
        visual_index = is_visual.nonzero().flatten()
        if visual_index.numel():
            rows = self.visual_queue[self.visual_used:self.visual_used + visual_index.numel()]
            self.visual_used += visual_index.numel()
            embeds = embeds.index_copy(0, visual_index, rows.to(embeds.dtype))
        n = len(tokens)
        positions = torch.arange(self.length, self.length + n).unsqueeze(0)
        mask = torch.ones(n, self.length + n, dtype=torch.bool).tril(diagonal=self.length)
        logits, self.decoder_cache = model.decoder(embeds.unsqueeze(0), positions,
                                                   mask[None, None], self.decoder_cache)
        self.length += n
        return logits[0]

    def prefill(self, chunk_size: int = 0) -> torch.Tensor:
        """Feeds the whole prompt (in chunks of chunk_size when > 0); returns its logits."""
        pad = self.model.config.image_pad_token_id
        step = chunk_size if chunk_size > 0 else max(1, len(self.prompt))
        outputs = []
        for start in range(0, len(self.prompt), step):
            chunk = self.prompt[start:start + step]
            outputs.append(self.feed(chunk, [t == pad for t in chunk]))
        return torch.cat(outputs)


@torch.no_grad()
def generate(model: AuroraEdgeV, prompt: List[int], patches: Optional[torch.Tensor],
             grid_hw: Optional[torch.Tensor], max_new_tokens: int,
             chunk_size: int = 0) -> Tuple[List[int], torch.Tensor]:
    """Greedy decoding through the caches. Returns the generated tokens and
    the logits at every position of prompt + generated,
    [len(prompt) + max_new_tokens, vocab]."""
    sequence = Sequence(model, prompt, patches, grid_hw)
    logits = [sequence.prefill(chunk_size)]
    generated: List[int] = []
    for _ in range(max_new_tokens):
        token = int(logits[-1][-1].argmax())
        generated.append(token)
        logits.append(sequence.feed([token], [False]))
    return generated, torch.cat(logits)


def build_random(config: ModelConfig, seed: int) -> AuroraEdgeV:
    model = AuroraEdgeV(config)
    init_module(model, seed, config.initializer_range)
    return model.eval()
