#!/usr/bin/python3
"""Fine-tunes an AuroraEdge-V model directory on your own labelled images and
writes a new model directory the server loads.

  /usr/bin/python3 model/python/finetune.py --data DIR --from models/auroraedge-demo --out NEW_DIR
  /usr/bin/python3 model/python/finetune.py --data DIR --replay REPLAY_DIR --from MODEL --out NEW_DIR

DIR holds the images and labels.jsonl ({"image", "question", "answer"} a
line), labels.csv (image,question,answer) or one folder per label (OK/, NG/,
or a defect class each; every image is asked --question). --replay is a
second dataset of what the model must not forget (model/python/demo/
export_dataset.py writes one of the demo's parts), mixed into every step.
The images are split into training and validation; training sees them under
random line conditions (looser or tighter framing, padding, a rotated frame,
light, blur, noise, JPEG, a grey camera; with --any-orientation also turned
and mirrored); a moving average of the weights is validated, validation
stops it early and the best step's average is kept. NEW_DIR gets a new
version in config.json and the report in NEW_DIR/training-report (loss
curves, accuracy per question before and after). See model/python/README.md.
"""

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
import unicodedata
from typing import Optional

PYTHON_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, os.path.join(PYTHON_DIR, "demo"))
import data_parallel  # noqa: E402
from auroraedge.config import ConfigError, load_model_dir_config  # noqa: E402
from auroraedge.model_dir import (ModelDirError, Progress, run_with_fixed_hash_seed,  # noqa: E402
                                  verify_model_dir, write_model_dir)
from finetuning.dataset import (FOLDER_QUESTION, DatasetError, LabelledImages,  # noqa: E402
                                check_answers, check_label_counts, read_dataset,
                                repeat_shared_questions, split_images)
from finetuning.line_conditions import LineConditions  # noqa: E402
from finetuning.trainer import Settings, Split, train  # noqa: E402
from inspection_data import Preprocessing  # noqa: E402
from prompt_ids import BpeEncoder, ChatPrompt  # noqa: E402
from train import cpu_seconds, size_blas_pool  # noqa: E402
from training_report import markdown_table, write_loss_curve  # noqa: E402


def answer_problem(encoder: BpeEncoder, text: str, max_tokens: int) -> Optional[str]:
    """Why the model could not write `text` exactly as its answer, or None."""
    if unicodedata.normalize("NFC", text) != text:
        return "is not in Unicode NFC form (the tokenizer normalises it, so no answer equals it)"
    for special in encoder.special:
        if special in text:
            return f"contains the special token {special}"
    try:
        ids = encoder.encode(text)
    except KeyError as error:
        return f"has text the tokenizer has no token for ({error})"
    if encoder.decode(ids) != text:
        return "does not survive the tokenizer's encoding and decoding"
    if len(ids) + 1 > max_tokens:
        return (f"takes {len(ids)} tokens and the end of turn, more than the model's "
                f"max_new_tokens {max_tokens} (generation_config.json)")
    return None


def dataset_digest(datasets) -> str:
    digest = hashlib.sha256()
    for data in datasets:
        for example in data.examples:
            digest.update(f"{data.names[example.image]}\0{example.question}\0{example.answer}\n"
                          .encode())
        for pixels in data.pixels:
            digest.update(pixels.tobytes())
    return digest.hexdigest()


def read_checked(directory: str, question: str, encoder: BpeEncoder, max_tokens: int,
                 min_per_label: int) -> LabelledImages:
    data = read_dataset(directory, question)
    check_answers(data, lambda text: answer_problem(encoder, text, max_tokens))
    check_label_counts(data, min_per_label)
    return data


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--data", required=True, help="the labelled images (see above)")
    parser.add_argument("--from", dest="base", required=True, help="model directory to start from")
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--replay", help="dataset of what the model already answers, mixed in")
    parser.add_argument("--replay-share", type=float, default=0.5,
                        help="share of every step's rows taken from --replay")
    parser.add_argument("--shared-question-weight", type=int, default=3,
                        help="replayed examples of a question --data also asks are drawn this "
                             "many times as often as the others")
    parser.add_argument("--question", default=FOLDER_QUESTION,
                        help="the question asked of every image in the folder-per-label layout")
    parser.add_argument("--validation-share", type=float, default=0.15,
                        help="share of the images held out for validation")
    parser.add_argument("--min-per-label", type=int, default=5,
                        help="fewest images a label (an answer that repeats) may have")
    parser.add_argument("--steps", type=int, default=2000, help="most training steps")
    parser.add_argument("--rows-per-step", type=int, default=16,
                        help="(image, question, answer) rows per step")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (AdamW)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    parser.add_argument("--patience", type=int, default=6,
                        help="validations without improvement before stopping early")
    parser.add_argument("--average-decay", type=float, default=0.998,
                        help="decay of the moving average of the weights that is validated "
                             "and kept (0: the weights themselves)")
    parser.add_argument("--anchor-weight", type=float, default=0.0,
                        help="weight of the squared distance of the weights from the --from "
                             "model's, added to the loss (L2-SP; default 0: off)")
    parser.add_argument("--any-orientation", action="store_true",
                        help="no answer of --data depends on which way the part faces (as a "
                             "defect's location does): training also sees its images turned "
                             "by quarter turns and mirrored")
    parser.add_argument("--no-augment", dest="augment", action="store_false",
                        help="train on the images as they are")
    parser.add_argument("--version", help="version in config.json (default: the base's, "
                                          "+ft- and a digest of the data and seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2,
                        help="training processes, each with its share of every step's rows")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args(argv)
    if not 0.0 < args.validation_share < 1.0:
        parser.error(f"--validation-share: {args.validation_share} is outside (0, 1)")
    if not 0.0 <= args.replay_share < 1.0:
        parser.error(f"--replay-share: {args.replay_share} is outside [0, 1)")
    if not 0.0 <= args.average_decay < 1.0:
        parser.error(f"--average-decay: {args.average_decay} is outside [0, 1)")
    if args.shared_question_weight < 1:
        parser.error(f"--shared-question-weight: {args.shared_question_weight} is below 1")
    if args.anchor_weight < 0:
        parser.error(f"--anchor-weight: {args.anchor_weight} is negative")
    if not 1 <= args.processes <= args.rows_per_step:
        parser.error(f"--processes: {args.processes} is outside 1 to --rows-per-step "
                     f"({args.rows_per_step})")
    for name in ("steps", "eval_every", "patience", "min_per_label"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: must be at least 1")
    if os.path.abspath(args.out) == os.path.abspath(args.base):
        parser.error("--out: must not be the --from directory")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started, cpu_started = time.time(), cpu_seconds()
    try:
        verify_model_dir(args.base)
        config = load_model_dir_config(args.base)
        with open(os.path.join(args.base, "generation_config.json")) as f:
            max_tokens = int(json.load(f)["max_new_tokens"])
        tokenizer = os.path.join(args.base, "tokenizer.json")
        encoder = BpeEncoder(tokenizer)
        data = read_checked(args.data, args.question, encoder, max_tokens, args.min_per_label)
        replay = (read_checked(args.replay, args.question, encoder, max_tokens,
                               args.min_per_label) if args.replay else None)
        training, validation = split_images(data, args.validation_share, args.seed)
        splits = [Split(data, training, args.any_orientation)]
        checks = {"new data": Split(data, validation)}
        if replay:
            replay_training, replay_validation = split_images(replay, args.validation_share,
                                                              args.seed)
            replay_training = repeat_shared_questions(
                replay_training, {e.question for e in data.examples}, args.shared_question_weight)
            splits.append(Split(replay, replay_training))
            checks["replay"] = Split(replay, replay_validation)
    except (DatasetError, ModelDirError, ConfigError, OSError) as error:
        print(f"finetune.py: {error}", file=sys.stderr)
        return 1
    print(f"{args.data}: {len(data.pixels)} images, {len(data.examples)} examples "
          f"({len(training)} training, {len(validation)} validation)" +
          (f"; replay {args.replay}: {len(replay.examples)} examples" if replay else ""),
          flush=True)
    version = args.version or (f"{config.version}+ft-"
                               f"{dataset_digest([d for d in (data, replay) if d])[:10]}-"
                               f"seed{args.seed}")
    settings = Settings(args.steps, args.rows_per_step, args.replay_share if replay else 0.0,
                        args.lr, args.warmup, args.eval_every, args.patience, args.seed,
                        args.anchor_weight, args.average_decay)
    vision = config.vision
    prep = Preprocessing(vision.patch_size, vision.max_num_patches, tuple(vision.image_mean),
                         tuple(vision.image_std))
    conditions = LineConditions() if args.augment else LineConditions(
        margin_share=0, padding_share=0, rotation_share=0, zoom_in_share=0, light_share=0,
        blur_share=0, noise_share=0, jpeg_share=0, grey_share=0)
    os.makedirs(os.path.join(args.out, "training-report"), exist_ok=True)
    data_parallel.run(args.processes, os.path.join(args.out, "training-report"), train_and_write,
                      args, settings, splits, checks, conditions, prep, version,
                      (started, cpu_seconds() - cpu_started))
    return 0


def train_and_write(args, settings: Settings, splits, checks, conditions: LineConditions,
                    prep: Preprocessing, version: str, timing) -> None:
    """Training in every process; the model directory and report in the main one."""
    cpu_started = cpu_seconds()
    import torch
    torch.set_num_threads(args.threads)
    size_blas_pool(args.threads)
    config = load_model_dir_config(args.base)
    encoder = BpeEncoder(os.path.join(args.base, "tokenizer.json"))
    chat = ChatPrompt(encoder, config.visual_tokens_per_image)
    pad_id = encoder.special_id("<|endoftext|>")
    model, history = train(args.base, settings, splits, checks, conditions, chat, pad_id, prep)
    total_cpu = float(data_parallel.total(torch.tensor([cpu_seconds() - cpu_started],
                                                       dtype=torch.float64)))
    if not data_parallel.is_main():
        return
    config.version = version
    decoder = {name: tensor.float() for name, tensor in model.decoder.state_dict().items()}
    write_model_dir(args.out, config, model.vision, model.compress_fusion,
                    lambda name, shape: decoder[name], os.path.join(args.base, "tokenizer.json"),
                    Progress(quiet=True))
    started, setup_cpu = timing
    summary = {"base": os.path.abspath(args.base), "version": version, "data": args.data,
               "replay": args.replay, "best_step": history["best_step"],
               "last_step": history["last_step"], "stopped_early": history["stopped_early"],
               "steps": args.steps, "rows_per_step": args.rows_per_step,
               "replay_share": settings.replay_share, "lr": args.lr, "augment": args.augment,
               "any_orientation": args.any_orientation,
               "anchor_weight": args.anchor_weight, "average_decay": args.average_decay,
               "shared_question_weight": args.shared_question_weight,
               "seed": args.seed, "processes": args.processes,
               "wall_seconds": round(time.time() - started),
               "cpu_seconds": round(setup_cpu + total_cpu),
               "command": " ".join(shlex.quote(a) for a in sys.argv)}
    write_report(os.path.join(args.out, "training-report"), summary, history)
    print(f"wrote {args.out} (version {version}): best step {history['best_step']}, "
          f"{summary['wall_seconds']}s wall, {summary['cpu_seconds']}s CPU", flush=True)


def write_report(directory: str, summary, history) -> None:
    accuracies = {}
    for name in history["after"]:
        accuracies[f"{name}, before"] = history["before"][name]
        accuracies[f"{name}, after"] = history["after"][name]
    write_loss_curve(os.path.join(directory, "loss_curve.png"),
                     {"training (answer loss)": history["train_loss"],
                      "validation (answer loss)": history["validation_loss"]},
                     f"fine-tuning {summary['version']}")
    with open(os.path.join(directory, "report.json"), "w") as f:
        json.dump({**summary, "accuracy": accuracies, "loss": {
            "training": history["train_loss"], "validation": history["validation_loss"]}},
            f, indent=1)
        f.write("\n")
    with open(os.path.join(directory, "report.md"), "w") as f:
        f.write(f"# Fine-tuning report: {summary['version']}\n\n")
        for key, value in summary.items():
            f.write(f"- {key}: {value}\n")
        f.write("\nExact-match accuracy (greedy) per question on the validation images, "
                "before and after:\n\n")
        for name in history["after"]:
            f.write(f"{name}:\n\n" + markdown_table({"before": history["before"][name],
                                                    "after": history["after"][name]}) + "\n\n")
        f.write("![loss curves](loss_curve.png)\n")


if __name__ == "__main__":
    run_with_fixed_hash_seed(main)
