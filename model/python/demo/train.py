#!/usr/bin/python3
"""Trains the demo AuroraEdge-V on the synthetic inspection task and writes its
model directory (with model/python/export_model.py) and a training report.

  nice -n 10 /usr/bin/python3 model/python/demo/train.py --out models/auroraedge-demo
  /usr/bin/python3 model/python/demo/train.py --path baseline --out build/auroraedge-demo-baseline

The baseline path (LLaVA: all visual tokens into the decoder, no compressor,
no fusion) trains on the same data with the same seed and step budget.
"""

import argparse
import math
import os
import shlex
import subprocess
import sys
import time
from typing import Dict, List

import torch

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(DEMO_DIR)
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, DEMO_DIR)
from auroraedge.config import load_config  # noqa: E402
from auroraedge.init import init_module  # noqa: E402
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info  # noqa: E402
from demo_tokenizer import write_tokenizer  # noqa: E402
from inspection_data import InspectionSet, Preprocessing, load_or_build, patch_batch  # noqa: E402
from inspection_task import QUESTION_TYPES  # noqa: E402
from prompt_ids import BpeEncoder, ChatPrompt  # noqa: E402
from question_batch import (SharedImageModel, answer_loss, build_batch, exact_matches,  # noqa: E402
                            forward)
from training_report import markdown_table, write_report  # noqa: E402

CONFIG = os.path.join(DEMO_DIR, "auroraedge-demo.json")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the data workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model, data: InspectionSet, chat: ChatPrompt, pad_id: int, prep: Preprocessing,
             images_per_batch: int = 16) -> Dict[str, float]:
    """Exact-match accuracy per question type and overall, greedy."""
    model.eval()
    right = {t: 0 for t in QUESTION_TYPES}
    asked = {t: 0 for t in QUESTION_TYPES}
    for start in range(0, len(data), images_per_batch):
        indices = list(range(start, min(start + images_per_batch, len(data))))
        batch = build_batch(chat, [data.truths[i] for i in indices], pad_id)
        patches, grid_hw = patch_batch(data, indices, prep)
        matches = exact_matches(forward(model, batch, patches, grid_hw), batch.targets)
        for question_type, match in zip(batch.question_types, matches.tolist()):
            right[question_type] += int(match)
            asked[question_type] += 1
    model.train()
    accuracy = {t: right[t] / asked[t] for t in QUESTION_TYPES}
    accuracy["overall"] = sum(right.values()) / sum(asked.values())
    return accuracy


def export(args, state_path: str, tokenizer: str) -> None:
    command = [sys.executable, os.path.join(PYTHON_DIR, "export_model.py"), "--config", CONFIG,
               "--path", args.path, "--from-state", state_path, "--tokenizer", tokenizer,
               "--out", args.out, "--version", f"demo-{args.path}-seed{args.seed}-{args.steps}steps"]
    print("exporting:", " ".join(shlex.quote(c) for c in command), flush=True)
    subprocess.run(command, check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--path", choices=["compressed", "baseline"], default="compressed")
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--images-per-step", type=int, default=8,
                        help="images per step")
    parser.add_argument("--questions-per-image", type=int, default=3,
                        help="question types asked about each image per step (drawn at random)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW)")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--train-images", type=int, default=3000)
    parser.add_argument("--validation-images", type=int, default=200)
    parser.add_argument("--test-images", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    # On a machine shared with other jobs, OpenMP threads that spin while
    # waiting for each other cost ten times the CPU of one thread (measured
    # here: 3.9 s against 0.35 s of CPU per step); give 2 on an idle machine.
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--cache", default=os.path.join(PYTHON_DIR, "..", "..", "build-demo",
                                                        "data"),
                        help="directory for the prepared images (reused across runs)")
    parser.add_argument("--eval-every", type=int, default=400)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started, cpu_started = time.time(), cpu_seconds()

    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "training-report")
    os.makedirs(work, exist_ok=True)
    tokenizer = os.path.join(work, "tokenizer.json")
    write_tokenizer(tokenizer)
    config = load_config(CONFIG)
    config.path = args.path
    apply_tokenizer(config, read_tokenizer_info(tokenizer), tokenizer)
    config.validate()
    encoder = BpeEncoder(tokenizer)
    chat = ChatPrompt(encoder, config.visual_tokens_per_image)
    pad_id = encoder.special_id("<|endoftext|>")
    vision = config.vision
    prep = Preprocessing(vision.patch_size, vision.max_num_patches, tuple(vision.image_mean),
                         tuple(vision.image_std))

    print(f"preparing {args.train_images} training images ...", flush=True)
    train_set = load_or_build(args.cache, "train", args.train_images, prep)
    validation_set = load_or_build(args.cache, "validation", args.validation_images, prep)
    test_set = load_or_build(args.cache, "test", args.test_images, prep)
    print(f"data ready after {time.time() - started:.0f}s", flush=True)

    model = SharedImageModel(config)
    init_module(model, args.seed, config.initializer_range)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{config.name} ({args.path}): {parameters / 1e6:.2f}M parameters, "
          f"{config.visual_tokens_per_image} visual tokens per image", flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    order = torch.Generator().manual_seed(args.seed)
    permutation: List[int] = []
    losses = []
    train_started = time.time()
    for step in range(args.steps):
        if len(permutation) < args.images_per_step:
            permutation += torch.randperm(len(train_set), generator=order).tolist()
        indices, permutation = permutation[:args.images_per_step], permutation[args.images_per_step:]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.steps, args.lr, args.warmup)
        asked = [[QUESTION_TYPES[int(t)] for t in
                  torch.randperm(len(QUESTION_TYPES), generator=order)[:args.questions_per_image]]
                 for _ in indices]
        batch = build_batch(chat, [train_set.truths[i] for i in indices], pad_id, asked)
        patches, grid_hw = patch_batch(train_set, indices, prep)
        loss = answer_loss(forward(model, batch, patches, grid_hw), batch.targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append((step + 1, float(loss)))
        if (step + 1) % 20 == 0 or step == 0:
            elapsed = time.time() - train_started
            recent = [v for _, v in losses[-20:]]
            print(f"step {step + 1}/{args.steps} loss {sum(recent) / len(recent):.4f} "
                  f"lr {group['lr']:.2e} {elapsed:.0f}s elapsed, "
                  f"eta {elapsed / (step + 1) * (args.steps - step - 1):.0f}s", flush=True)
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            accuracy = evaluate(model, validation_set, chat, pad_id, prep)
            print(f"validation at step {step + 1}: " +
                  ", ".join(f"{t} {100 * a:.1f}%" for t, a in accuracy.items()), flush=True)

    accuracies = {"validation": evaluate(model, validation_set, chat, pad_id, prep),
                  "test": evaluate(model, test_set, chat, pad_id, prep)}
    print(markdown_table(accuracies), flush=True)
    state_path = os.path.join(work, "state.pt")
    torch.save(model.state_dict(), state_path)
    export(args, state_path, tokenizer)
    os.remove(state_path)
    os.remove(tokenizer)  # the model directory carries its copy
    summary = {"name": config.name, "path": args.path, "steps": args.steps,
               "images_per_step": args.images_per_step, "train_images": args.train_images,
               "questions_per_image": args.questions_per_image, "parameters": parameters,
               "seed": args.seed, "threads": args.threads,
               "wall_seconds": round(time.time() - started),
               "cpu_seconds": round(cpu_seconds() - cpu_started),
               "command": " ".join(shlex.quote(a) for a in sys.argv)}
    write_report(work, summary, losses, accuracies)
    print(f"wrote {args.out} and its report in {work}: {summary['wall_seconds']}s wall, "
          f"{summary['cpu_seconds']}s CPU", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
