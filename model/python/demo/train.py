#!/usr/bin/python3
"""Trains the demo AuroraEdge-V on the synthetic inspection task and writes its
model directory (with model/python/export_model.py) and a training report.

  /usr/bin/python3 model/python/demo/train.py --out models/auroraedge-demo
  /usr/bin/python3 model/python/demo/train.py --path baseline --out build/auroraedge-demo-baseline

Two stages: the vision module alone against the auxiliary heads'
ground-truth targets (auxiliary_heads.py), then the whole model end to end
on the answers, the auxiliary loss kept as a smaller second term. The
baseline path (LLaVA: all visual tokens into the decoder, no compressor, no
fusion) trains on the same data with the same seed and step budget.
Both stages run on --processes processes that share every step's images
(data_parallel.py). Training images are seen under a factory line's
conditions (camera_views.py: looser and padded framing, a rotated frame,
light, blur, noise, JPEG, a grey camera); the report gives the accuracy on
clean held-out images and on each shifted view of them.
"""

import argparse
import ctypes
import math
import multiprocessing
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
from auroraedge.model_dir import load_model_dir  # noqa: E402
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info  # noqa: E402
from auroraedge.vision import valid_rows  # noqa: E402
import data_parallel  # noqa: E402
from auxiliary_heads import AuxiliaryHeads  # noqa: E402
from camera_views import SHIFTS  # noqa: E402
from demo_tokenizer import write_tokenizer  # noqa: E402
from inspection_data import (InspectionSet, Preprocessing,  # noqa: E402
                             generator_fingerprint, load_or_build, patch_batch)
from inspection_task import QUESTION_TYPES  # noqa: E402
from mirror_views import mirrored_views  # noqa: E402
from prompt_ids import BpeEncoder, ChatPrompt  # noqa: E402
from question_batch import (SharedImageModel, answer_loss, build_batch, exact_matches,  # noqa: E402
                            forward)
from step_inputs import Drawn, Prepared, auxiliary_targets, select, stream  # noqa: E402
from training_report import markdown_table, write_report  # noqa: E402

DEFAULT_CONFIG = os.path.join(DEMO_DIR, "auroraedge-demo.json")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the data workers;
    a forked process starts from zero)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def size_blas_pool(threads: int) -> None:
    """Debian's libblas.so.3 is OpenBLAS, whose own thread pool
    torch.set_num_threads does not size; its idle worker spins on sched_yield
    (measured: two training runs of one thread each went 1.5x slower)."""
    try:
        blas = ctypes.CDLL("libblas.so.3")
    except OSError:
        return
    if hasattr(blas, "openblas_set_num_threads"):
        blas.openblas_set_num_threads(threads)


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model, data: InspectionSet, chat: ChatPrompt, pad_id: int, prep: Preprocessing,
             images_per_batch: int = 16) -> Dict[str, float]:
    """Exact-match accuracy per question type and overall, greedy (each
    process answers its share of the images)."""
    model.eval()
    device = next(model.parameters()).device
    right = torch.zeros(len(QUESTION_TYPES), dtype=torch.long)
    asked = torch.zeros(len(QUESTION_TYPES), dtype=torch.long)
    mine = data_parallel.share(range(len(data)))
    for start in range(0, len(mine), images_per_batch):
        indices = mine[start:start + images_per_batch]
        batch = build_batch(chat, [data.truths[i] for i in indices], pad_id).to(device)
        patches, grid_hw = patch_batch(data, indices, prep)
        matches = exact_matches(forward(model, batch, patches.to(device), grid_hw.to(device)),
                                batch.targets)
        for question_type, match in zip(batch.question_types, matches.tolist()):
            right[QUESTION_TYPES.index(question_type)] += int(match)
            asked[QUESTION_TYPES.index(question_type)] += 1
    model.train()
    right, asked = data_parallel.total(right), data_parallel.total(asked)
    accuracy = {t: int(right[i]) / int(asked[i]) for i, t in enumerate(QUESTION_TYPES)}
    accuracy["overall"] = int(right.sum()) / int(asked.sum())
    return accuracy


def version(args) -> str:
    """Distinct for every generator, framing, path, seed and step count, so
    that a response's model version tells which training made it."""
    views = "lines" if args.line_conditions else "clean"
    start = "-continued" if args.init_from else ""
    return (f"demo-{args.path}-{views}-gen{generator_fingerprint()[:8]}-seed{args.seed}-"
            f"{args.vision_steps}+{args.steps}steps{start}")


def export(args, state_path: str, tokenizer: str) -> None:
    command = [sys.executable, os.path.join(PYTHON_DIR, "export_model.py"), "--config", args.config,
               "--path", args.path, "--from-state", state_path, "--tokenizer", tokenizer,
               "--out", args.out, "--version", version(args)]
    print("exporting:", " ".join(shlex.quote(c) for c in command), flush=True)
    subprocess.run(command, check=True)


class ImageOrder:
    """Training images in reshuffled epochs, from one seeded generator."""

    def __init__(self, count: int, generator: torch.Generator):
        self.count = count
        self.generator = generator
        self.pending: List[int] = []

    def take(self, n: int) -> List[int]:
        while len(self.pending) < n:
            self.pending += torch.randperm(self.count, generator=self.generator).tolist()
        taken, self.pending = self.pending[:n], self.pending[n:]
        return taken


def training_views(args, train_set: InspectionSet, order: ImageOrder, count: int,
                   prep: Preprocessing) -> InspectionSet:
    """This process's share of the next `count` training images (mirrored at
    random unless --no-mirror). Every process draws all `count` (its
    generator stays in step with the others')."""
    indices = order.take(count)
    if not args.mirror:
        return select(train_set, data_parallel.share(indices))
    views = mirrored_views(train_set, indices, prep.patch_size, order.generator)
    return select(views, data_parallel.share(range(count)))


def auxiliary_loss(heads: AuxiliaryHeads, visual: torch.Tensor, inputs: Prepared) -> torch.Tensor:
    return heads.loss(visual, valid_rows(inputs.grid_hw, visual.shape[1]), *inputs.targets)


def take_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, parameters) -> None:
    """One optimizer step on the gradient averaged over the processes, clipped."""
    optimizer.zero_grad()
    loss.backward()
    data_parallel.average_gradients(parameters)
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimizer.step()


def report_progress(stage: str, step: int, steps: int, losses, started: float) -> None:
    if not data_parallel.is_main():
        return
    elapsed = time.time() - started
    recent = [v for _, v in losses[-20:]]
    print(f"{stage} step {step}/{steps} loss {sum(recent) / len(recent):.4f} "
          f"{elapsed:.0f}s elapsed, eta {elapsed / step * (steps - step):.0f}s", flush=True)


class VisionProbe:
    """The auxiliary heads' accuracy on the first `count` images of a set (or all)."""

    def __init__(self, data: InspectionSet, count: int, prep: Preprocessing,
                 device: torch.device):
        count = min(count, len(data))
        indices = list(range(count))
        patches, grid_hw = patch_batch(data, indices, prep)
        self.inputs = Prepared(patches, grid_hw, auxiliary_targets(data, indices, patches.shape[1]),
                               [], None).to(device)

    @torch.no_grad()
    def accuracy(self, model: SharedImageModel, heads: AuxiliaryHeads) -> Dict[str, float]:
        visual = model.vision(self.inputs.patches, self.inputs.grid_hw)
        return heads.accuracy(visual, valid_rows(self.inputs.grid_hw, visual.shape[1]),
                              *self.inputs.targets)

    def report(self, title: str, model: SharedImageModel, heads: AuxiliaryHeads) -> None:
        print(f"{title}: " + ", ".join(f"{t} {100 * a:.1f}%" for t, a in
                                       self.accuracy(model, heads).items()), flush=True)


def train_vision(args, model: SharedImageModel, heads: AuxiliaryHeads, train_set: InspectionSet,
                 validation_set: InspectionSet, order: ImageOrder, prep: Preprocessing, pool):
    """Stage 1: the vision module against the auxiliary targets only."""
    device = next(model.parameters()).device
    parameters = list(model.vision.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=args.vision_lr, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    # Training images as well as validation ones: a gap between them means the
    # stage lacks data, none that it lacks steps.
    watched = {"validation": VisionProbe(validation_set, len(validation_set), prep, device),
               "training": VisionProbe(train_set, len(validation_set), prep, device)
               } if data_parallel.is_main() else {}
    losses = []
    started = time.time()
    steps = stream(lambda: Drawn(training_views(args, train_set, order, args.vision_batch, prep)),
                   args.vision_steps, prep, pool, device)
    for step, inputs in enumerate(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.vision_steps, args.vision_lr, args.warmup)
        loss = auxiliary_loss(heads, model.vision(inputs.patches, inputs.grid_hw), inputs)
        take_step(optimizer, loss, parameters)
        losses.append((step + 1, float(loss)))
        if (step + 1) % 50 == 0:
            report_progress("vision", step + 1, args.vision_steps, losses, started)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.vision_steps:
            for name, probe in watched.items():
                probe.report(f"vision stage, {name} images at step {step + 1}", model, heads)
    return losses


def train_answers(args, model: SharedImageModel, heads: AuxiliaryHeads, train_set: InspectionSet,
                  validation_set: InspectionSet, order: ImageOrder, chat: ChatPrompt, pad_id: int,
                  prep: Preprocessing, pool):
    """Stage 2: the whole model on the answers, plus the auxiliary loss."""
    device = next(model.parameters()).device

    def draw() -> Drawn:
        views = training_views(args, train_set, order, args.images_per_step, prep)
        asked = data_parallel.share([[QUESTION_TYPES[int(t)] for t in
                                      torch.randperm(len(QUESTION_TYPES), generator=order.generator)
                                      [:args.questions_per_image]]
                                     for _ in range(args.images_per_step)])
        return Drawn(views, asked)

    vision = set(id(p) for p in model.vision.parameters())
    groups = [{"params": [p for p in model.parameters() if id(p) not in vision], "scale": 1.0},
              {"params": list(model.vision.parameters()) + list(heads.parameters()),
               "scale": args.vision_lr_scale}]
    optimizer = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    losses = []
    started = time.time()
    for step, inputs in enumerate(stream(draw, args.steps, prep, pool, device)):
        for group in optimizer.param_groups:
            group["lr"] = group["scale"] * learning_rate(step, args.steps, args.lr, args.warmup)
        batch = build_batch(chat, inputs.truths, pad_id, inputs.asked).to(device)
        answers = answer_loss(forward(model, batch, inputs.patches, inputs.grid_hw), batch.targets)
        loss = answers + args.aux_weight * auxiliary_loss(heads, model.last_visual, inputs)
        take_step(optimizer, loss, [p for group in groups for p in group["params"]])
        losses.append((step + 1, float(answers)))
        if (step + 1) % 20 == 0:
            report_progress("answers", step + 1, args.steps, losses, started)
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            accuracy = evaluate(model, validation_set, chat, pad_id, prep)
            if data_parallel.is_main():
                print(f"validation at step {step + 1}: " +
                      ", ".join(f"{t} {100 * a:.1f}%" for t, a in accuracy.items()), flush=True)
    if data_parallel.is_main():  # what the vision module still knows, set against the answers
        VisionProbe(validation_set, len(validation_set), prep, device).report(
            "auxiliary heads after stage 2, validation images", model, heads)
    return losses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--path", choices=["compressed", "baseline"], default="compressed")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="model configuration (JSON)")
    parser.add_argument("--vision-steps", type=int, default=14000,
                        help="stage 1 steps (vision module and auxiliary heads)")
    parser.add_argument("--vision-batch", type=int, default=32, help="images per stage 1 step")
    parser.add_argument("--vision-lr", type=float, default=2e-3, help="stage 1 peak learning rate")
    parser.add_argument("--steps", type=int, default=1800, help="stage 2 steps (whole model)")
    parser.add_argument("--images-per-step", type=int, default=12, help="images per stage 2 step")
    parser.add_argument("--questions-per-image", type=int, default=3,
                        help="question types asked about each image per step (drawn at random)")
    parser.add_argument("--lr", type=float, default=2e-3, help="stage 2 peak learning rate (AdamW)")
    parser.add_argument("--vision-lr-scale", type=float, default=0.3,
                        help="stage 2 learning rate of the vision module, relative to --lr")
    parser.add_argument("--defect-weight", type=float, default=60.0,
                        help="weight of a defect patch or cell in the auxiliary loss "
                             "(background and part: 1, hole: 3)")
    parser.add_argument("--aux-weight", type=float, default=0.3,
                        help="weight of the auxiliary loss in stage 2")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True,
                        help="mirror training images across the diagonal, left-right and "
                             "top-bottom at random")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--train-images", type=int, default=20000)
    parser.add_argument("--validation-images", type=int, default=200)
    parser.add_argument("--test-images", type=int, default=300)
    parser.add_argument("--shifted-images", type=int, default=200,
                        help="test images evaluated in each shifted view (camera_views.SHIFTS)")
    parser.add_argument("--line-conditions", action=argparse.BooleanOptionalAction, default=True,
                        help="training images under random line conditions (camera_views.py)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2,
                        help="training processes, each computing the gradient of its share of "
                             "every step's images (data_parallel.py)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads per training process")
    parser.add_argument("--device", default="cpu",
                        help="torch device to train on (cpu, cuda); cuda needs --processes 1")
    parser.add_argument("--data-workers", type=int, default=0,
                        help="processes preparing each step's tensors ahead (0: the training "
                             "processes do it themselves); also the image generator's workers")
    parser.add_argument("--init-from",
                        help="model directory whose weights training continues from (same "
                             "config; the auxiliary heads start afresh), instead of seeded "
                             "random weights")
    parser.add_argument("--export", action=argparse.BooleanOptionalAction, default=True,
                        help="export the model directory (--no-export keeps training-report/"
                             "state.pt and tokenizer.json to export elsewhere with "
                             "export_model.py, e.g. with the serving machine's torch)")
    parser.add_argument("--cache", default=os.path.join(PYTHON_DIR, "..", "..", "build-demo",
                                                        "data"),
                        help="directory for the prepared images (reused across runs)")
    parser.add_argument("--eval-every", type=int, default=500)
    args = parser.parse_args(argv)
    smallest_step = min(args.vision_batch, args.images_per_step)
    if args.data_workers < 0:
        parser.error(f"--data-workers: {args.data_workers} is negative")
    if args.device != "cpu" and args.processes != 1:
        parser.error(f"--processes: {args.processes} processes on --device {args.device}; "
                     "one process trains on a GPU")
    if not 1 <= args.processes <= smallest_step:
        parser.error(f"--processes: {args.processes} is out of range: every process needs a share "
                     f"of each step's images, so 1 to {smallest_step} (the smaller of "
                     f"--vision-batch and --images-per-step)")
    started, cpu_started = time.time(), cpu_seconds()

    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "training-report")
    os.makedirs(work, exist_ok=True)
    tokenizer = os.path.join(work, "tokenizer.json")
    write_tokenizer(tokenizer)
    config = load_config(args.config)
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
    workers = max(2, args.data_workers)
    train_set = load_or_build(args.cache, "train", args.train_images, prep, workers,
                              view="training" if args.line_conditions else None)
    validation_set = load_or_build(args.cache, "validation", args.validation_images, prep, workers)
    test_set = load_or_build(args.cache, "test", args.test_images, prep, workers)
    shifted_sets = {shift: load_or_build(args.cache, "test", args.shifted_images, prep, workers,
                                         view=shift) for shift in SHIFTS}
    data_seconds = time.time() - started
    print(f"data ready after {data_seconds:.0f}s", flush=True)
    data_parallel.run(args.processes, work, train_and_export, args, config, chat, pad_id, prep,
                      (train_set, validation_set, test_set, shifted_sets),
                      (started, data_seconds, cpu_seconds() - cpu_started))
    return 0


def train_and_export(args, config, chat: ChatPrompt, pad_id: int, prep: Preprocessing, data,
                     timing) -> None:
    """Both stages and the evaluation in every process; the export and the
    report in the main one. timing: (start time, data wall seconds, data CPU seconds)."""
    cpu_started = cpu_seconds()
    started, data_seconds, data_cpu_seconds = timing
    # Forked before this process runs any torch computation (an OpenMP pool
    # does not survive fork).
    pool = (multiprocessing.get_context("fork").Pool(args.data_workers)
            if args.data_workers else None)
    torch.set_num_threads(args.threads)
    size_blas_pool(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, validation_set, test_set, shifted_sets = data
    work = os.path.join(args.out, "training-report")
    tokenizer = os.path.join(work, "tokenizer.json")
    model = SharedImageModel(config)
    init_module(model, args.seed, config.initializer_range)
    if args.init_from:
        model.load_state_dict(load_model_dir(args.init_from).state_dict())
    heads = AuxiliaryHeads(config.decoder.hidden_size, args.defect_weight)
    init_module(heads, args.seed, config.initializer_range, prefix="auxiliary.")
    model.to(device)
    heads.to(device)
    parameters = sum(p.numel() for p in model.parameters())
    if data_parallel.is_main():
        print(f"{config.name} ({args.path}): {parameters / 1e6:.2f}M parameters, "
              f"{config.visual_tokens_per_image} visual tokens per image", flush=True)
    order = ImageOrder(len(train_set), torch.Generator().manual_seed(args.seed))
    losses = {"vision stage (auxiliary loss)":
              train_vision(args, model, heads, train_set, validation_set, order, prep, pool)}
    losses["whole model (answer loss)"] = train_answers(
        args, model, heads, train_set, validation_set, order, chat, pad_id, prep, pool)
    if pool is not None:
        pool.close()

    accuracies = {"validation": evaluate(model, validation_set, chat, pad_id, prep),
                  "test": evaluate(model, test_set, chat, pad_id, prep)}
    for shift, shifted in shifted_sets.items():
        accuracies[f"test, {shift}"] = evaluate(model, shifted, chat, pad_id, prep)
    training_cpu_seconds = float(data_parallel.total(torch.tensor([cpu_seconds() - cpu_started])))
    if not data_parallel.is_main():
        return
    print(markdown_table(accuracies), flush=True)
    state_path = os.path.join(work, "state.pt")
    torch.save({name: tensor.cpu() for name, tensor in model.state_dict().items()}, state_path)
    if args.export:
        export(args, state_path, tokenizer)
        os.remove(state_path)
        os.remove(tokenizer)  # the model directory carries its copy
    summary = {"name": config.name, "path": args.path, "vision_steps": args.vision_steps,
               "vision_batch": args.vision_batch, "steps": args.steps,
               "images_per_step": args.images_per_step, "train_images": args.train_images,
               "questions_per_image": args.questions_per_image, "parameters": parameters,
               "mirror": args.mirror, "line_conditions": args.line_conditions,
               "init_from": args.init_from,
               "shifted_images": args.shifted_images, "seed": args.seed, "processes": args.processes,
               "threads": args.threads, "device": args.device,
               "data_workers": args.data_workers, "version": version(args),
               "data_seconds": round(data_seconds),
               "wall_seconds": round(time.time() - started),
               "cpu_seconds": round(data_cpu_seconds + training_cpu_seconds),
               "command": " ".join(shlex.quote(a) for a in sys.argv)}
    write_report(work, summary, losses, accuracies)
    print(f"wrote {args.out} and its report in {work}: {summary['wall_seconds']}s wall, "
          f"{summary['cpu_seconds']}s CPU", flush=True)


if __name__ == "__main__":
    sys.exit(main())
