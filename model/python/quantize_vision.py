#!/usr/bin/python3
"""Adds vision_int8.pt to a float32 model directory written before
export_model.py wrote it (the server's `--weights int8` loads it):

  /usr/bin/python3 model/python/quantize_vision.py MODEL_DIR

The directory is verified against its manifest first; the new file's entry
is added to manifest.json. Directories exported now have the file already.
"""

import os
import sys

import torch

from auroraedge.config import load_model_dir_config
from auroraedge.model_dir import (ModelDirError, run_with_fixed_hash_seed, save_vision_int8,
                                  sha256_file, verify_model_dir, write_json)
from auroraedge.vision import VisionModule


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    model_dir = args[0]
    try:
        manifest = verify_model_dir(model_dir)
        config = load_model_dir_config(model_dir)
        if config.torch_dtype != "float32":
            raise ModelDirError(f"{model_dir}: torch_dtype is {config.torch_dtype}; int8 weights "
                                "are made from a float32 directory")
        vision = VisionModule(config)
        vision.load_state_dict(torch.jit.load(os.path.join(model_dir, "vision.pt")).state_dict())
        path = os.path.join(model_dir, "vision_int8.pt")
        save_vision_int8(vision, path)
    except (ModelDirError, OSError) as error:
        print(f"quantize_vision.py: {error}", file=sys.stderr)
        return 1
    manifest["files"]["vision_int8.pt"] = {"bytes": os.path.getsize(path),
                                           "sha256": sha256_file(path)}
    write_json(os.path.join(model_dir, "manifest.json"), manifest)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_with_fixed_hash_seed(main)
