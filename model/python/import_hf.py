#!/usr/bin/python3
"""Builds an AuroraEdge-V model directory (model/FORMAT.md) from Hugging Face
checkpoints: a SigLIP2 naflex vision tower, a Qwen2.5 language model, and a
file with the projector, compressor and fusion weights.

  /usr/bin/python3 model/python/import_hf.py \\
      --vision siglip2-so400m-patch16-naflex/ --language Qwen2.5-1.5B-Instruct/ \\
      --extra auroraedge-extra.safetensors --out models/auroraedge-v-2b

Checkpoint directories hold config.json and model.safetensors or a sharded
model.safetensors.index.json. The tensor name mapping is in
model/python/IMPORT.md. Sizes come from the checkpoints' config.json files
and the extra weights' shapes; --config (default 2b) supplies the rest
(max_images_per_request, context_length, fusion heads, generation defaults).
The tokenizer defaults to the language checkpoint's tokenizer.json.
"""

import argparse
import os
import sys

import torch

from auroraedge.config import ConfigError, load_config
from auroraedge.hf_checkpoint import CheckpointError, HfCheckpoint
from auroraedge.hf_import import (decoder_from_hf, decoder_source, extra_from_state,
                                  load_compress_fusion, load_vision, vision_from_hf)
from auroraedge.model_dir import ModelDirError, Progress, run_with_fixed_hash_seed, write_model_dir
from auroraedge.safetensors_io import read_safetensors
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info


def read_extra(path: str) -> dict:
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return torch.load(path, map_location="cpu")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--vision", required=True, help="SigLIP2 naflex checkpoint directory")
    parser.add_argument("--language", required=True, help="Qwen2.5 checkpoint directory")
    parser.add_argument("--extra", required=True,
                        help="projector/compressor/fusion weights (.safetensors or .pt)")
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--config", default="2b", help="base config for what checkpoints "
                                                       "do not say (default: 2b)")
    parser.add_argument("--path", choices=["compressed", "baseline"], default="compressed")
    parser.add_argument("--tokenizer", help="tokenizer.json (default: the language "
                                            "checkpoint's)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--name", help="name in config.json (default: the base config's)")
    parser.add_argument("--version", default="imported", help="version in config.json")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    progress = Progress(args.quiet)
    try:
        config = load_config(args.config)
        config.path = args.path
        config.torch_dtype = args.dtype
        config.version = args.version
        config.name = args.name or config.name
        vision = HfCheckpoint(args.vision)
        language = HfCheckpoint(args.language)
        extra = read_extra(args.extra)
        vision_from_hf(vision, config)
        decoder_from_hf(language, config)
        extra_from_state(extra, config, args.extra)
        tokenizer = args.tokenizer or os.path.join(args.language, "tokenizer.json")
        apply_tokenizer(config, read_tokenizer_info(tokenizer), tokenizer)
        config.validate()
        decoder = decoder_source(language, config)
        vision_module = load_vision(vision, extra, config, progress)
        compress_fusion = load_compress_fusion(extra, config) if args.path == "compressed" \
            else None
        write_model_dir(args.out, config, vision_module, compress_fusion, decoder, tokenizer,
                        progress)
    except (CheckpointError, ConfigError, ModelDirError, OSError, KeyError) as error:
        print(f"import_hf.py: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({config.name}, {config.path}, {config.torch_dtype})")
    return 0


if __name__ == "__main__":
    run_with_fixed_hash_seed(main)
