#!/usr/bin/python3
"""OK/NG accuracy of a model directory on held-out demo images, clean and in
every shifted view (camera_views.SHIFTS), with the Python reference (greedy,
exact match; what the server answers, up to its preprocessing's rounding).

  /usr/bin/python3 model/python/demo/view_accuracy.py --model models/auroraedge-demo --images 200
"""

import argparse
import json
import os
import sys

import torch

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DEMO_DIR))
sys.path.insert(0, DEMO_DIR)
import inspection_data  # noqa: E402
from auroraedge.model_dir import load_model_dir  # noqa: E402
from camera_views import SHIFTS  # noqa: E402
from prompt_ids import BpeEncoder, ChatPrompt  # noqa: E402
from question_batch import SharedImageModel, build_batch, exact_matches, forward  # noqa: E402


def status_accuracy(model, chat, pad_id, data, prep, batch_size=32) -> float:
    right = 0
    for start in range(0, len(data), batch_size):
        indices = list(range(start, min(len(data), start + batch_size)))
        batch = build_batch(chat, [data.truths[i] for i in indices], pad_id,
                            [["status"]] * len(indices))
        patches, grid_hw = inspection_data.patch_batch(data, indices, prep)
        right += int(exact_matches(forward(model, batch, patches, grid_hw), batch.targets).sum())
    return right / len(data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model directory")
    parser.add_argument("--images", type=int, default=200, help="held-out images per view")
    parser.add_argument("--out", help="also write the figures here (JSON)")
    args = parser.parse_args(argv)
    reference = load_model_dir(args.model)
    model = SharedImageModel(reference.config)
    model.load_state_dict(reference.state_dict())
    model.eval()
    encoder = BpeEncoder(os.path.join(args.model, "tokenizer.json"))
    chat = ChatPrompt(encoder, reference.config.visual_tokens_per_image)
    vision = reference.config.vision
    prep = inspection_data.Preprocessing(vision.patch_size, vision.max_num_patches,
                                         tuple(vision.image_mean), tuple(vision.image_std))
    figures = {}
    with torch.no_grad():
        for view in (None, *SHIFTS):
            data = inspection_data.build_set("test", args.images, prep, view=view)
            figures[view or "clean"] = status_accuracy(
                model, chat, encoder.special_id("<|endoftext|>"), data, prep)
            print(f"{view or 'clean'}: OK/NG {100 * figures[view or 'clean']:.1f}%", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"model": args.model, "images": args.images, "status": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
