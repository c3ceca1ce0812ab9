"""Training-only heads on the visual rows V that the vision module gives the decoder.

A vision tower trained from scratch through the decoder alone learns the
image's colour within a few hundred steps and its shape, holes and defects
only after many thousands, far beyond the 45-minute CPU budget (measured:
after 1,600 steps of 8 images the answers were right for colour only).
These heads give it direct targets from the generator's ground truth: what
each patch shows (background, part, hole or which defect, from the render's
pixel labels), the same for each of the patch's cells (where inside the
patch a flaw lies: the patch embedding then learns local structure rather
than a patch's average), which location of the part each patch lies in (so
that a flaw's patches know where on the part they are, which is what the
location question asks) and each image's attributes. They are never exported: the
served model answers through the decoder only.
"""

import os
import sys
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inspection_task import (COLOURS, DEFECTS, LOCATIONS, MAX_HOLES, NO_DEFECT,  # noqa: E402
                             SHAPES, PartTruth)
from inspection_data import CELLS  # noqa: E402
from synthetic_parts import PIXEL_LABELS  # noqa: E402

# Loss weights of the patch and cell labels other than defects (whose weight
# is a training flag): a defect covers a few of an image's patches and a hole
# a few more, so both weigh more than background and part.
PATCH_LABEL_WEIGHTS = {"background": 1.0, "part": 1.0, "hole": 3.0}

IMAGE_ATTRIBUTES = {
    "shape": list(SHAPES),
    "colour": list(COLOURS),
    "holes": [str(n) for n in range(MAX_HOLES + 1)],
    "defect": [NO_DEFECT, *DEFECTS],
    "location": [NO_DEFECT, *LOCATIONS],
}
# The attributes that every visual row must also tell on its own: the
# decoder reads V through attention, a weighted average of rows, so a row
# that carries the image's answer makes any average of rows carry it.
EVERY_ROW_ATTRIBUTES = ("holes", "defect", "location")


def attribute_targets(truths: Sequence[PartTruth]) -> torch.Tensor:
    """[N, len(IMAGE_ATTRIBUTES)] class indices."""
    rows: List[List[int]] = []
    for truth in truths:
        values = {"shape": truth.shape, "colour": truth.colour, "holes": str(truth.holes),
                  "defect": truth.defect, "location": truth.location}
        rows.append([IMAGE_ATTRIBUTES[name].index(values[name]) for name in IMAGE_ATTRIBUTES])
    return torch.tensor(rows, dtype=torch.long)


class AuxiliaryHeads(nn.Module):
    def __init__(self, hidden_size: int, defect_weight: float):
        super().__init__()
        self.patch = nn.Linear(hidden_size, len(PIXEL_LABELS))
        self.cells = nn.Linear(hidden_size, CELLS * CELLS * len(PIXEL_LABELS))
        self.location = nn.Linear(hidden_size, len(LOCATIONS))
        self.pool_score = nn.Linear(hidden_size, len(IMAGE_ATTRIBUTES))
        self.attributes = nn.ModuleList(
            [nn.Linear(hidden_size, len(classes)) for classes in IMAGE_ATTRIBUTES.values()])
        self.every_row = nn.ModuleList(
            [nn.Linear(hidden_size, len(IMAGE_ATTRIBUTES[name])) for name in EVERY_ROW_ATTRIBUTES])
        self.register_buffer("patch_weights", torch.tensor(
            [PATCH_LABEL_WEIGHTS.get(label, defect_weight) for label in PIXEL_LABELS]),
            persistent=False)

    def forward(self, visual: torch.Tensor, valid: torch.Tensor):
        """visual [N, P, H], valid [N, P] -> (patch logits [N, P, labels],
        cell logits [N, P, CELLS * CELLS, labels], patch location logits
        [N, P, locations], one [N, classes] logits tensor per image
        attribute, one [N, P, classes] per EVERY_ROW_ATTRIBUTES). Each
        attribute pools the valid rows with its own attention weights."""
        scores = self.pool_score(visual).masked_fill(~valid.unsqueeze(-1), float("-inf"))
        pooled = torch.einsum("npa,nph->nah", scores.softmax(dim=1), visual)
        cells = self.cells(visual).unflatten(-1, (CELLS * CELLS, len(PIXEL_LABELS)))
        return (self.patch(visual), cells, self.location(visual),
                [head(pooled[:, i]) for i, head in enumerate(self.attributes)],
                [head(visual) for head in self.every_row])

    @staticmethod
    def every_row_targets(attributes: torch.Tensor, valid: torch.Tensor):
        """Each EVERY_ROW_ATTRIBUTES' image class on each valid row, -100 elsewhere."""
        names = list(IMAGE_ATTRIBUTES)
        return [attributes[:, names.index(name), None].expand(valid.shape).masked_fill(~valid, -100)
                for name in EVERY_ROW_ATTRIBUTES]

    def loss(self, visual: torch.Tensor, valid: torch.Tensor, patch_targets: torch.Tensor,
             cell_targets: torch.Tensor, location_targets: torch.Tensor,
             attributes: torch.Tensor) -> torch.Tensor:
        """Weighted mean patch and cell cross-entropies, the patch locations'
        cross-entropy and the sum of the attributes' cross-entropies, pooled
        and on every row;
        patch_targets and location_targets [N, P], cell_targets
        [N, P, CELLS * CELLS], each -100 where ignored."""
        patch_logits, cell_logits, location_logits, attribute_logits, row_logits = \
            self(visual, valid)
        loss = F.cross_entropy(patch_logits.flatten(0, 1), patch_targets.flatten(),
                               weight=self.patch_weights, ignore_index=-100)
        loss = loss + F.cross_entropy(cell_logits.flatten(0, 2), cell_targets.flatten(),
                                      weight=self.patch_weights, ignore_index=-100)
        loss = loss + F.cross_entropy(location_logits.flatten(0, 1), location_targets.flatten(),
                                      ignore_index=-100)
        for i, logits in enumerate(attribute_logits):
            loss = loss + F.cross_entropy(logits, attributes[:, i])
        for logits, targets in zip(row_logits, self.every_row_targets(attributes, valid)):
            loss = loss + F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        return loss

    @torch.no_grad()
    def accuracy(self, visual: torch.Tensor, valid: torch.Tensor, patch_targets: torch.Tensor,
                 cell_targets: torch.Tensor, location_targets: torch.Tensor,
                 attributes: torch.Tensor) -> dict:
        """Share of right answers per image attribute, of patches per kind
        (defect patches pooled: the rare ones that matter) and of the
        locations of defect patches."""
        patch_logits, cell_logits, location_logits, attribute_logits, row_logits = \
            self(visual, valid)
        result = {name: float((logits.argmax(-1) == attributes[:, i]).float().mean())
                  for i, (name, logits) in enumerate(zip(IMAGE_ATTRIBUTES, attribute_logits))}
        right = patch_logits.argmax(-1) == patch_targets
        first_defect = PIXEL_LABELS.index(DEFECTS[0])
        for kind, chosen in (("hole patches", patch_targets == PIXEL_LABELS.index("hole")),
                             ("defect patches", patch_targets >= first_defect)):
            result[kind] = float(right[chosen].float().mean()) if chosen.any() else 0.0
        chosen = cell_targets >= first_defect
        right = cell_logits.argmax(-1) == cell_targets
        result["defect cells"] = float(right[chosen].float().mean()) if chosen.any() else 0.0
        chosen = (patch_targets >= first_defect) & (location_targets >= 0)
        right = location_logits.argmax(-1) == location_targets
        result["defect patch locations"] = float(right[chosen].float().mean()) if chosen.any() else 0.0
        for name, logits, targets in zip(EVERY_ROW_ATTRIBUTES, row_logits,
                                         self.every_row_targets(attributes, valid)):
            result[f"{name} per row"] = float((logits.argmax(-1) == targets)[valid].float().mean())
        return result
