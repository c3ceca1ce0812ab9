"""Batches of (image, question, answer) sequences for teacher-forced training
and for exact-match evaluation.

Every image of a batch is asked the same number of questions, in consecutive
rows, so that SharedImageModel encodes each image once for all its questions.
"""

import dataclasses
import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auroraedge.reference import AuroraEdgeV  # noqa: E402
from inspection_task import QUESTION_TYPES, QUESTIONS, PartTruth, answer  # noqa: E402
from prompt_ids import ChatPrompt  # noqa: E402


class SharedImageModel(AuroraEdgeV):
    """The reference model, where the consecutive rows that ask about one image
    share one pass of the vision encoder (see `forward` below). Same parameters
    and state-dict names as AuroraEdgeV. `last_visual` keeps the last pass's V,
    one entry per image, for the auxiliary heads."""

    questions_per_image = 1
    last_visual: Optional[torch.Tensor] = None

    def encode_images(self, patches: torch.Tensor, grid_hw: torch.Tensor) -> torch.Tensor:
        step = self.questions_per_image
        self.last_visual = super().encode_images(patches[::step], grid_hw[::step])
        return self.last_visual.repeat_interleave(step, dim=0)


@dataclass
class QuestionBatch:
    input_ids: torch.Tensor       # [R, L] prompt + answer, right-padded
    attention_mask: torch.Tensor  # [R, L] 1 for tokens
    targets: torch.Tensor         # [R, L] the next token at answer positions, -100 elsewhere
    question_types: List[str]     # per row
    questions_per_image: int

    def to(self, device: torch.device) -> "QuestionBatch":
        return dataclasses.replace(self, input_ids=self.input_ids.to(device),
                                   attention_mask=self.attention_mask.to(device),
                                   targets=self.targets.to(device))


def build_batch(chat: ChatPrompt, truths: Sequence[PartTruth], pad_id: int,
                question_types: Optional[List[List[str]]] = None) -> QuestionBatch:
    """Rows for each image's question types (default: every type)."""
    if question_types is None:
        question_types = [QUESTION_TYPES] * len(truths)
    pairs, types = [], []
    for truth, asked in zip(truths, question_types):
        for question_type in asked:
            pairs.append((QUESTIONS[question_type], answer(truth, question_type)))
            types.append(question_type)
    return pair_batch(chat, pairs, pad_id, types, len(question_types[0]))


def pair_batch(chat: ChatPrompt, pairs: Sequence[Tuple[str, str]], pad_id: int,
               kinds: List[str], questions_per_image: int = 1) -> QuestionBatch:
    """Rows of (question, answer) text pairs; kinds names each row's kind of
    question (for accuracy per kind)."""
    rows, answer_starts = [], []
    for question, reply in pairs:
        prompt = chat.prompt(question)
        rows.append(prompt + chat.answer(reply))
        answer_starts.append(len(prompt))
    length = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros(len(rows), length, dtype=torch.long)
    targets = torch.full((len(rows), length), -100, dtype=torch.long)
    for i, (row, start) in enumerate(zip(rows, answer_starts)):
        input_ids[i, :len(row)] = torch.tensor(row)
        attention_mask[i, :len(row)] = 1
        # The logits at position t predict token t + 1.
        targets[i, start - 1:len(row) - 1] = torch.tensor(row[start:])
    return QuestionBatch(input_ids, attention_mask, targets, list(kinds), questions_per_image)


def forward(model: SharedImageModel, batch: QuestionBatch, patches: torch.Tensor,
            grid_hw: torch.Tensor) -> torch.Tensor:
    """Logits [R, L, vocab]; patches/grid_hw hold one entry per image."""
    repeats = batch.questions_per_image
    model.questions_per_image = repeats
    return model(batch.input_ids, patches.repeat_interleave(repeats, dim=0),
                 grid_hw.repeat_interleave(repeats, dim=0), batch.attention_mask)


def answer_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over each row's answer tokens, averaged per row, then over rows
    (so the long JSON record does not outweigh the one-word answers)."""
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100,
                                reduction="none")
    counts = (targets != -100).sum(dim=1).clamp(min=1)
    return (per_token.sum(dim=1) / counts).mean()


def exact_matches(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[R] bool: greedy decoding writes exactly the answer and ends the turn.

    With the right prefix at every step greedy decoding picks argmax, so the
    whole answer comes out exactly when every answer position's argmax is its
    target, which one teacher-forced pass shows."""
    predicted = logits.argmax(dim=-1)
    answer_positions = targets != -100
    return ((predicted == targets) | ~answer_positions).all(dim=1)
