"""Training-only heads that read each label question's answer straight off
the image's visual rows V.

The answers reach the vision module only through the compressor, the fusion
layer and the decoder, a weak signal for learning what a new part's defect
looks like from a few hundred images (measured on the walk-through's
flanges: OK/NG at 67-73 % of validation images after 200 steps on the
answers alone). For every label question (finetuning.dataset.label_questions)
a head pools the valid rows of V with its own attention weights and
classifies the answer, as the demo training's auxiliary heads do. They are
never exported: the served model answers through the decoder only.
"""

from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class LabelHeads(nn.Module):
    def __init__(self, hidden_size: int, labels: Dict[str, List[str]]):
        """labels: label question -> its answers."""
        super().__init__()
        self.questions = sorted(labels)
        self.labels = {q: sorted(labels[q]) for q in self.questions}
        self.pool_score = nn.Linear(hidden_size, max(1, len(self.questions)))
        self.heads = nn.ModuleList([nn.Linear(hidden_size, len(self.labels[q]))
                                    for q in self.questions])

    def loss(self, visual: torch.Tensor, valid: torch.Tensor, questions: Sequence[str],
             answers: Sequence[str]) -> torch.Tensor:
        """Mean cross-entropy over the rows that ask a label question (zero
        when none does); visual [N, P, H] and valid [N, P], one per row."""
        scores = self.pool_score(visual).masked_fill(~valid.unsqueeze(-1), float("-inf"))
        pooled = torch.einsum("npq,nph->nqh", scores.softmax(dim=1), visual)
        losses = []
        for row, (question, answer) in enumerate(zip(questions, answers)):
            if question in self.labels and answer in self.labels[question]:
                q = self.questions.index(question)
                target = torch.tensor([self.labels[question].index(answer)], device=visual.device)
                losses.append(F.cross_entropy(self.heads[q](pooled[row, q]).unsqueeze(0), target))
        return torch.stack(losses).mean() if losses else visual.sum() * 0.0
