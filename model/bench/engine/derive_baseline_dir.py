#!/usr/bin/python3
"""Derives the baseline-path model directory of an exported compressed one,
for auroraedge-engine-bench's compressed-vs-baseline comparison.

  /usr/bin/python3 model/bench/engine/derive_baseline_dir.py --model DIR --out BASELINE_DIR

export_model.py draws every tensor from (seed, tensor name), so vision.pt and
decoder.safetensors of `--path baseline` are byte for byte those of the
compressed directory of the same seed (the build's two small directories
list the same sha256 for them). Hard links spare drawing 2B random weights
again; only config.json (path, visual_tokens_per_image) and the manifest
(no compress_fusion.pt) differ.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from auroraedge.model_dir import sha256_file  # noqa: E402  pylint: disable=wrong-import-position

SHARED = ["generation_config.json", "tokenizer.json", "vision.pt", "decoder.safetensors"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="compressed model directory")
    parser.add_argument("--out", required=True, help="baseline model directory to write")
    args = parser.parse_args()
    with open(os.path.join(args.model, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    if config["path"] != "compressed":
        print(f"{args.model}: path is {config['path']}, expected compressed", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    files = {}
    for name in SHARED:
        target = os.path.join(args.out, name)
        if os.path.exists(target):
            os.remove(target)
        os.link(os.path.join(args.model, name), target)
        files[name] = manifest["files"][name]
    config["path"] = "baseline"
    config["visual_tokens_per_image"] = config["vision"]["max_num_patches"]
    config["version"] = config["version"] + "-baseline"
    config_path = os.path.join(args.out, "config.json")
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    files["config.json"] = {"bytes": os.path.getsize(config_path),
                            "sha256": sha256_file(config_path)}
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"format_version": manifest["format_version"], "files": files}, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} (baseline of {args.model}, weights hard-linked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
