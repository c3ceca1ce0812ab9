#!/usr/bin/python3
"""Writes the equivalence fixtures of a model directory: what the reference
model computes, in float32, for the C++ engine's tests to match.

  /usr/bin/python3 model/python/make_fixtures.py --model DIR --out FIXTURE_DIR

FIXTURE_DIR/fixtures.safetensors holds (i: image, j: prompt):
  image.{i}.patches    F32 [P, 3*p*p]   vision.pt input, rows past grid_h*grid_w zero
  image.{i}.grid_hw    I64 [2]          (grid_h, grid_w)
  image.{i}.visual     F32 [P, H]       vision.pt output V (padded rows zero)
  image.{i}.compressed F32 [N_c, H]     compress() of V (compressed path only)
  prompt.{j}.tokens    I64 [L]          prompt ids with the image placeholder runs
  prompt.{j}.images    I64 [n]          indices i of the prompt's images, in order (may be empty)
  prompt.{j}.generated I64 [G]          greedy continuation (G = 20)
  prompt.{j}.logits    F32 [L + G, V]   logits at every position of tokens + generated,
                                        from one full-sequence forward pass
  prompt.{j}.margin    F32 [G]          top-1 minus top-2 logit where each generated
                                        token was chosen (compare the C++ greedy choice
                                        only where the margin exceeds the tolerance)
FIXTURE_DIR/fixtures.json describes them: model path, tolerance, per image its
grid, per prompt its length, images and number of generated tokens.
"""

import argparse
import json
import os
import sys
from typing import List, Tuple

import torch

from auroraedge.model_dir import load_model_dir
from auroraedge.reference import AuroraEdgeV, generate
from auroraedge.safetensors_io import write_safetensors
from auroraedge.vision import valid_rows

TOLERANCE = 1e-4
NUM_GENERATED = 20
# Square, wide and tall with padded slots, tiny, and an extreme aspect ratio
# (the position grid shrinks along one axis and grows along the other).
GRIDS = [(8, 8), (4, 12), (10, 5), (3, 3), (2, 32)]
# Prompt layouts: no image, one image in the middle, one image first, two
# images, three images with little text. ("text", n): n random text tokens;
# ("image", i): the placeholder run of image i.
PROMPTS = [
    [("text", 12)],
    [("text", 5), ("image", 0), ("text", 9)],
    [("image", 1), ("text", 20)],
    [("text", 3), ("image", 2), ("text", 4), ("image", 3), ("text", 6)],
    [("text", 1), ("image", 4), ("image", 0), ("text", 1), ("image", 1), ("text", 2)],
]


def make_images(model: AuroraEdgeV, generator: torch.Generator) -> Tuple[torch.Tensor,
                                                                         torch.Tensor]:
    vision = model.config.vision
    for h, w in GRIDS:
        if h * w > vision.max_num_patches:
            raise ValueError(f"make_fixtures.py: grid {h}x{w} exceeds vision.max_num_patches "
                             f"({vision.max_num_patches}); fixtures need at least 64")
    grid_hw = torch.tensor(GRIDS, dtype=torch.long)
    patches = torch.rand(len(GRIDS), vision.max_num_patches, vision.patch_dim,
                         generator=generator) * 2 - 1
    return patches * valid_rows(grid_hw, vision.max_num_patches).unsqueeze(-1), grid_hw


def make_prompt(model: AuroraEdgeV, layout: List[Tuple[str, int]],
                generator: torch.Generator) -> Tuple[List[int], List[int]]:
    config = model.config
    first_special = min(config.image_pad_token_id, config.vision_start_token_id,
                        config.vision_end_token_id, *config.eos_token_ids)
    tokens: List[int] = []
    images: List[int] = []
    for kind, value in layout:
        if kind == "text":
            tokens += torch.randint(0, first_special, (value,), generator=generator).tolist()
        else:
            images.append(value)
            tokens += ([config.vision_start_token_id]
                       + [config.image_pad_token_id] * config.visual_tokens_per_image
                       + [config.vision_end_token_id])
    return tokens, images


@torch.no_grad()
def make_fixtures(model: AuroraEdgeV) -> Tuple[dict, dict]:
    generator = torch.Generator().manual_seed(0)
    patches, grid_hw = make_images(model, generator)
    visual = model.encode_images(patches, grid_hw)
    tensors = {}
    description = {"path": model.config.path, "tolerance": TOLERANCE,
                   "num_generated": NUM_GENERATED, "images": [], "prompts": []}
    for i, (h, w) in enumerate(GRIDS):
        tensors[f"image.{i}.patches"] = patches[i]
        tensors[f"image.{i}.grid_hw"] = grid_hw[i]
        tensors[f"image.{i}.visual"] = visual[i]
        description["images"].append({"grid_h": h, "grid_w": w})
    if model.compressed:
        compressed = model.visual_tokens(visual, grid_hw)
        for i in range(len(GRIDS)):
            tensors[f"image.{i}.compressed"] = compressed[i]

    for j, layout in enumerate(PROMPTS):
        tokens, images = make_prompt(model, layout, generator)
        index = torch.tensor(images, dtype=torch.long)
        image_patches = patches[index] if images else None
        image_grids = grid_hw[index] if images else None
        generated, _ = generate(model, tokens, image_patches, image_grids, NUM_GENERATED)
        pad = model.config.image_pad_token_id
        visual_mask = torch.tensor([[t == pad for t in tokens] + [False] * NUM_GENERATED])
        logits = model(torch.tensor([tokens + generated]), image_patches, image_grids,
                       visual_mask=visual_mask)[0]
        chosen = logits[len(tokens) - 1:-1].topk(2, dim=-1).values
        tensors[f"prompt.{j}.tokens"] = torch.tensor(tokens, dtype=torch.long)
        tensors[f"prompt.{j}.images"] = index
        tensors[f"prompt.{j}.generated"] = torch.tensor(generated, dtype=torch.long)
        tensors[f"prompt.{j}.logits"] = logits
        tensors[f"prompt.{j}.margin"] = chosen[:, 0] - chosen[:, 1]
        description["prompts"].append({"length": len(tokens), "images": images,
                                       "generated": generated})
    return {name: t.float() if t.is_floating_point() else t for name, t in tensors.items()}, \
        description


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model directory (float32)")
    parser.add_argument("--out", required=True, help="directory for fixtures.{safetensors,json}")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = load_model_dir(args.model).float()
    tensors, description = make_fixtures(model)
    description["model_dir"] = os.path.abspath(args.model)
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "fixtures.safetensors"), tensors)
    with open(os.path.join(args.out, "fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(description, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}: {len(GRIDS)} images, {len(PROMPTS)} prompts ({model.config.path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
