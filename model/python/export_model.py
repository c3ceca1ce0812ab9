#!/usr/bin/python3
"""Writes an AuroraEdge-V model directory (model/FORMAT.md).

Random weights (seeded, deterministic):
  /usr/bin/python3 model/python/export_model.py --config small --seed 0 --out DIR
  /usr/bin/python3 model/python/export_model.py --config 2b --seed 0 --out DIR --dtype bfloat16
Trained or converted weights:
  /usr/bin/python3 model/python/export_model.py --config CONFIG.json --from-state STATE --out DIR

--config is a named configuration (small, 2b, or a name in model/python/configs)
or a JSON file; --path overrides its path (compressed or baseline). STATE is a
state dict of auroraedge.reference.AuroraEdgeV (torch.save'd .pt or a
.safetensors file) or an existing model directory (to re-export it, e.g. in
bfloat16). Without --tokenizer, the small byte-level BPE tokenizer of
train_bpe_tokenizer.py is trained and used; the config's vocabulary and
special token ids follow the tokenizer.
"""

import argparse
import os
import sys
import tempfile

import torch

from auroraedge.config import ConfigError, ModelConfig, load_config, load_model_dir_config
from auroraedge.fusion import CompressFusion
from auroraedge.init import init_module, random_tensor
from auroraedge.model_dir import (ModelDirError, Progress, load_model_dir, run_with_fixed_hash_seed,
                                  write_model_dir)
from auroraedge.reference import AuroraEdgeV
from auroraedge.safetensors_io import read_safetensors
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info, write_default_tokenizer
from auroraedge.vision import VisionModule


def export_random(config: ModelConfig, seed: int, out_dir: str, tokenizer: str,
                  progress: Progress) -> None:
    """The decoder never exists in memory: each tensor is drawn when written."""
    std = config.initializer_range
    progress.note("vision: seeded random weights")
    vision = VisionModule(config)
    init_module(vision, seed, std, "vision.")
    compress_fusion = None
    if config.path == "compressed":
        compress_fusion = CompressFusion(config)
        init_module(compress_fusion, seed, std, "compress_fusion.")
    write_model_dir(out_dir, config, vision, compress_fusion,
                    lambda name, shape: random_tensor("decoder." + name, shape, seed, std),
                    tokenizer, progress)


def load_state(path: str) -> dict:
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return torch.load(path, map_location="cpu")


def export_state(config: ModelConfig, state_path: str, out_dir: str, tokenizer: str,
                 progress: Progress) -> None:
    if os.path.isdir(state_path):
        model = load_model_dir(state_path)
    else:
        model = AuroraEdgeV(config)
        try:
            missing, unexpected = model.load_state_dict(load_state(state_path), strict=False)
        except RuntimeError as error:  # shape mismatches, listed by name
            raise ModelDirError(f"--from-state {state_path}: {error}") from error
        if missing or unexpected:
            raise ModelDirError(f"--from-state {state_path}: missing tensors {missing[:5]}, "
                                f"unexpected tensors {unexpected[:5]} (of "
                                f"{len(missing)} and {len(unexpected)})")
    decoder = {name: tensor.float() for name, tensor in model.decoder.state_dict().items()}
    write_model_dir(out_dir, config, model.vision, model.compress_fusion,
                    lambda name, shape: decoder[name], tokenizer, progress)


def resolve_config(args) -> ModelConfig:
    if args.from_state and os.path.isdir(args.from_state):
        if args.config or args.path:
            raise ConfigError("--config/--path: a model directory given to --from-state "
                              "brings its own config")
        config = load_model_dir_config(args.from_state)
    else:
        config = load_config(args.config or "small")
    if args.path:
        config.path = args.path
    config.torch_dtype = args.dtype
    if args.version:
        config.version = args.version
    elif args.from_state:
        config.version = "from-" + os.path.basename(os.path.normpath(args.from_state))
    else:
        config.version = f"random-seed{args.seed}"
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--config", help="small, 2b, a named config or a JSON file "
                                         "(default: small)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--path", choices=["compressed", "baseline"],
                        help="override the config's path")
    parser.add_argument("--tokenizer", help="HF tokenizer.json (default: train the small one)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--from-state", help="trained state dict (.pt/.safetensors) or model dir")
    parser.add_argument("--version", help="version string in config.json")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    progress = Progress(args.quiet)
    try:
        config = resolve_config(args)
        with tempfile.TemporaryDirectory() as scratch:
            tokenizer = args.tokenizer
            if tokenizer is None and args.from_state and os.path.isdir(args.from_state):
                tokenizer = os.path.join(args.from_state, "tokenizer.json")
            if tokenizer is None:
                tokenizer = os.path.join(scratch, "tokenizer.json")
                progress.note("tokenizer.json: training the small tokenizer")
                write_default_tokenizer(tokenizer)
            apply_tokenizer(config, read_tokenizer_info(tokenizer), tokenizer)
            config.validate()
            if args.from_state:
                export_state(config, args.from_state, args.out, tokenizer, progress)
            else:
                export_random(config, args.seed, args.out, tokenizer, progress)
    except (ConfigError, ModelDirError, OSError) as error:
        print(f"export_model.py: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({config.name}, {config.path}, {config.torch_dtype}, "
          f"vocab {config.decoder.vocab_size})")
    return 0


if __name__ == "__main__":
    run_with_fixed_hash_seed(main)
