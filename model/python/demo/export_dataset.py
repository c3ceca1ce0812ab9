#!/usr/bin/python3
"""Writes demo images in the fine-tuning dataset format (labels.jsonl), every
question type asked of every image: the replay set that keeps a fine-tuned
model answering the demo's own parts, or a ready-made dataset to try
model/python/finetune.py on.

  /usr/bin/python3 model/python/demo/export_dataset.py --out DIR --count 600
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_parts  # noqa: E402
from inspection_task import QUESTION_TYPES, QUESTIONS, answer  # noqa: E402


def write_dataset(out: str, count: int, split: str, question_types) -> None:
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    with open(os.path.join(out, "labels.jsonl"), "w", encoding="utf-8") as labels:
        for index, (image, truth) in enumerate(
                synthetic_parts.generate(synthetic_parts.split_seed(split), count)):
            name = os.path.join("images", f"{split}-{index:05d}.png")
            image.save(os.path.join(out, name))
            for question_type in question_types:
                labels.write(json.dumps({"image": name, "question": QUESTIONS[question_type],
                                         "answer": answer(truth, question_type)}) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="dataset directory to write")
    parser.add_argument("--count", type=int, default=600, help="images")
    parser.add_argument("--split", default="train", choices=sorted(synthetic_parts.SPLIT_SEEDS),
                        help="the generator's split (its seed)")
    parser.add_argument("--questions", default=",".join(QUESTION_TYPES),
                        help="question types asked of every image, comma-separated")
    args = parser.parse_args(argv)
    asked = args.questions.split(",")
    unknown = [q for q in asked if q not in QUESTION_TYPES]
    if unknown:
        parser.error(f"--questions: unknown {unknown}, expected some of {QUESTION_TYPES}")
    write_dataset(args.out, args.count, args.split, asked)
    print(f"wrote {args.count} images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
