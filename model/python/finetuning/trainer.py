"""The fine-tuning loop: a model directory's weights trained further on
labelled images (and replayed examples of what it already knows), every
image under random line conditions and prepared by the preprocessing's
Python reference, so that training sees the patches the server computes.

Runs in every process of data_parallel.run; each takes its share of every
step's rows. Validation is teacher-forced exact match (what greedy decoding
would write), on clean images.
"""

import copy
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel

FINETUNING_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(FINETUNING_DIR)
REPO_ROOT = os.path.dirname(os.path.dirname(PYTHON_DIR))
for path in (PYTHON_DIR, os.path.join(PYTHON_DIR, "demo"),
             os.path.join(REPO_ROOT, "preprocessing", "python")):
    sys.path.insert(0, path)
import data_parallel  # noqa: E402
import naflex_reference  # noqa: E402
from auroraedge.model_dir import load_model_dir  # noqa: E402
from finetuning.dataset import Example, LabelledImages  # noqa: E402
from finetuning.line_conditions import LineConditions, turned_or_mirrored  # noqa: E402
from inspection_data import Preprocessing  # noqa: E402
from prompt_ids import ChatPrompt  # noqa: E402
from question_batch import (SharedImageModel, answer_loss, exact_matches, forward,  # noqa: E402
                            pair_batch)
from train import learning_rate, take_step  # noqa: E402

Accuracy = Dict[str, float]  # question (and "overall") -> exact-match share


@dataclass
class Split:
    """Examples of one dataset with the images they refer to."""

    data: LabelledImages
    examples: List[Example]
    any_orientation: bool = False  # trained turned and mirrored too (turned_or_mirrored)


@dataclass
class Settings:
    steps: int
    rows_per_step: int
    replay_share: float
    lr: float
    warmup: int
    eval_every: int
    patience: int
    seed: int
    anchor_weight: float
    average_decay: float


def prepare(pixels: np.ndarray, prep: Preprocessing) -> Tuple[np.ndarray, Tuple[int, int]]:
    """The server's patches of an image: naflex_reference.preprocess."""
    patches, grid_h, grid_w = naflex_reference.preprocess(
        pixels, prep.patch_size, prep.max_num_patches, prep.mean, prep.std)
    return patches, (grid_h, grid_w)


def batch_tensors(prepared: Sequence[Tuple[np.ndarray, Tuple[int, int]]]):
    patches = torch.from_numpy(np.stack([p for p, _ in prepared]))
    return patches, torch.tensor([g for _, g in prepared], dtype=torch.long)


class Validation:
    """This process's share of a split, prepared once (clean images)."""

    def __init__(self, split: Split, prep: Preprocessing, rows_per_batch: int = 32):
        self.examples = data_parallel.share(split.examples)
        self.questions = sorted({e.question for e in split.examples})
        self.batches = []
        for start in range(0, len(self.examples), rows_per_batch):
            chunk = self.examples[start:start + rows_per_batch]
            self.batches.append((chunk, batch_tensors(
                [prepare(split.data.pixels[e.image], prep) for e in chunk])))

    @torch.no_grad()
    def evaluate(self, model: SharedImageModel, chat: ChatPrompt,
                 pad_id: int) -> Tuple[Accuracy, float]:
        """(accuracy per question and overall, mean answer loss), over all processes."""
        was_training = model.training
        model.eval()
        right = torch.zeros(len(self.questions) + 2, dtype=torch.float64)  # ..., loss sum, rows
        asked = torch.zeros(len(self.questions), dtype=torch.float64)
        for chunk, (patches, grid_hw) in self.batches:
            batch = pair_batch(chat, [(e.question, e.answer) for e in chunk], pad_id,
                               [e.question for e in chunk])
            logits = forward(model, batch, patches, grid_hw)
            for example, match in zip(chunk, exact_matches(logits, batch.targets).tolist()):
                right[self.questions.index(example.question)] += float(match)
                asked[self.questions.index(example.question)] += 1
            right[-2] += float(answer_loss(logits, batch.targets)) * len(chunk)
            right[-1] += len(chunk)
        model.train(was_training)
        right, asked = data_parallel.total(right), data_parallel.total(asked)
        accuracy = {q: float(right[i] / max(asked[i], 1)) for i, q in enumerate(self.questions)}
        accuracy["overall"] = float(right[:-2].sum() / max(asked.sum(), 1))
        return accuracy, float(right[-2] / max(right[-1], 1))


class RowDrawer:
    """Each step's training rows: new and replayed examples in reshuffled
    epochs, from one seeded generator (the same in every process)."""

    def __init__(self, splits: Sequence[Split], shares: Sequence[float], seed: int):
        self.splits, self.shares = list(splits), list(shares)
        self.generator = np.random.default_rng(seed)
        self.pending: List[List[int]] = [[] for _ in self.splits]

    def take(self, rows: int) -> List[Tuple[Split, Example]]:
        counts = [int(round(rows * share)) for share in self.shares[:-1]]
        counts.append(rows - sum(counts))
        taken = []
        for which, (split, count) in enumerate(zip(self.splits, counts)):
            while len(self.pending[which]) < count:
                self.pending[which] += self.generator.permutation(len(split.examples)).tolist()
            chosen, self.pending[which] = (self.pending[which][:count],
                                           self.pending[which][count:])
            taken += [(split, split.examples[i]) for i in chosen]
        return taken


def load_model(model_dir: str) -> SharedImageModel:
    reference = load_model_dir(model_dir)
    model = SharedImageModel(reference.config)
    model.load_state_dict(reference.state_dict())
    return model.float().train()


def anchor_distance(model: SharedImageModel, anchor: Sequence[torch.Tensor]) -> torch.Tensor:
    """Squared distance of the weights from where fine-tuning started (L2-SP,
    Li et al. 2018): what keeps the model answering what it already knew."""
    return sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), anchor))


def weight_average(model: SharedImageModel, decay: float) -> Optional[AveragedModel]:
    """An exponential moving average of the weights (decay per step), or None
    for decay 0. The weights swing from step to step on a few hundred
    images; their average is steadier than any one step."""
    if decay == 0:
        return None
    return AveragedModel(model, avg_fn=lambda average, now, _: decay * average + (1 - decay) * now)


def train(model_dir: str, settings: Settings, training: Sequence[Split],
          validation: Dict[str, Split], conditions: LineConditions, chat: ChatPrompt,
          pad_id: int, prep: Preprocessing, report_every: int = 10):
    """Fine-tunes and returns (the model at its best validation, history):
    history holds the losses, the accuracies before and after, the best
    step and whether validation stopped it early."""
    torch.manual_seed(settings.seed)
    model = load_model(model_dir)
    averaged = weight_average(model, settings.average_decay)
    kept = averaged.module if averaged else model  # what is validated and written
    checks = {name: Validation(split, prep) for name, split in validation.items()}
    main = data_parallel.is_main()

    def validate(step: int) -> Tuple[float, float, Dict[str, Accuracy]]:
        """(score, loss, accuracies): the score is the mean of the sets' overall accuracies."""
        results = {name: check.evaluate(kept, chat, pad_id) for name, check in checks.items()}
        accuracies = {name: accuracy for name, (accuracy, _) in results.items()}
        loss = sum(loss for _, loss in results.values()) / len(results)
        score = sum(a["overall"] for a in accuracies.values()) / len(accuracies)
        if main:
            print(f"validation at step {step}: " + "; ".join(
                f"{name} {100 * a['overall']:.1f}% (" +
                ", ".join(f"{q!r} {100 * v:.1f}%" for q, v in a.items() if q != "overall") + ")"
                for name, a in accuracies.items()) + f"; loss {loss:.4f}", flush=True)
        return score, loss, accuracies

    best_score, best_loss, before = validate(0)
    best_state, best_step = copy.deepcopy(kept.state_dict()), 0
    history = {"before": before, "train_loss": [], "validation_loss": [(0, best_loss)]}
    anchor = ([p.detach().clone() for p in model.parameters()]
              if settings.anchor_weight > 0 else None)  # a second copy of the weights
    parameters = list(model.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    shares = [1.0 - settings.replay_share, settings.replay_share] if len(training) > 1 else [1.0]
    drawer = RowDrawer(training, shares, settings.seed)
    stale, started, stopped_early = 0, time.time(), False
    for step in range(1, settings.steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step - 1, settings.steps, settings.lr, settings.warmup)
        rows = drawer.take(settings.rows_per_step)
        mine = data_parallel.share(list(enumerate(rows)))
        prepared = []
        for i, (split, example) in mine:
            rng = np.random.default_rng([settings.seed, step, i])
            pixels = split.data.pixels[example.image]
            if split.any_orientation:
                pixels = turned_or_mirrored(rng, pixels)
            pixels, _ = conditions.apply(rng, pixels)
            prepared.append(prepare(pixels, prep))
        patches, grid_hw = batch_tensors(prepared)
        batch = pair_batch(chat, [(e.question, e.answer) for _, (_, e) in mine], pad_id,
                           [e.question for _, (_, e) in mine])
        answers = answer_loss(forward(model, batch, patches, grid_hw), batch.targets)
        loss = answers
        if settings.anchor_weight > 0:
            loss = loss + settings.anchor_weight * anchor_distance(model, anchor)
        take_step(optimizer, loss, parameters)
        if averaged:
            averaged.update_parameters(model)
        history["train_loss"].append((step, float(data_parallel.total(answers.detach().clone()))
                                      / data_parallel.process_count()))
        if main and step % report_every == 0:
            elapsed = time.time() - started
            recent = [v for _, v in history["train_loss"][-report_every:]]
            print(f"step {step}/{settings.steps} loss {sum(recent) / len(recent):.4f} "
                  f"{elapsed:.0f}s elapsed, at most {elapsed / step * (settings.steps - step):.0f}s "
                  "to go", flush=True)
        if step % settings.eval_every == 0 or step == settings.steps:
            score, val_loss, _ = validate(step)
            history["validation_loss"].append((step, val_loss))
            if (score, -val_loss) > (best_score, -best_loss):
                best_score, best_loss, best_step, stale = score, val_loss, step, 0
                best_state = copy.deepcopy(kept.state_dict())
            else:
                stale += 1
                if stale >= settings.patience:
                    stopped_early = True
                    if main:
                        print(f"stopping early: no better validation in {stale} checks; "
                              f"keeping step {best_step}", flush=True)
                    break
    kept.load_state_dict(best_state)
    _, _, after = validate(best_step)
    history.update(after=after, best_step=best_step, last_step=step, stopped_early=stopped_early)
    return kept, history
