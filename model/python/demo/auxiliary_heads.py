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
        self.register_buffer("patch_weights", torch.tensor(
            [PATCH_LABEL_WEIGHTS.get(label, defect_weight) for label in PIXEL_LABELS]),
            persistent=False)

    def forward(self, visual: torch.Tensor, valid: torch.Tensor):
        """visual [N, P, H], valid [N, P] -> (patch logits [N, P, labels],
        cell logits [N, P, CELLS * CELLS, labels], patch location logits
        [N, P, locations], one [N, classes] logits tensor per image
        attribute). Each attribute pools the valid rows with its own
        attention weights."""
        scores = self.pool_score(visual).masked_fill(~valid.unsqueeze(-1), float("-inf"))
        pooled = torch.einsum("npa,nph->nah", scores.softmax(dim=1), visual)
        cells = self.cells(visual).unflatten(-1, (CELLS * CELLS, len(PIXEL_LABELS)))
        return (self.patch(visual), cells, self.location(visual),
                [head(pooled[:, i]) for i, head in enumerate(self.attributes)])

    def loss(self, visual: torch.Tensor, valid: torch.Tensor, patch_targets: torch.Tensor,
             cell_targets: torch.Tensor, location_targets: torch.Tensor,
             attributes: torch.Tensor) -> torch.Tensor:
        """Weighted mean patch and cell cross-entropies, the patch locations'
        cross-entropy and the sum of the attributes' cross-entropies;
        patch_targets and location_targets [N, P], cell_targets
        [N, P, CELLS * CELLS], each -100 where ignored."""
        patch_logits, cell_logits, location_logits, attribute_logits = self(visual, valid)
        loss = F.cross_entropy(patch_logits.flatten(0, 1), patch_targets.flatten(),
                               weight=self.patch_weights, ignore_index=-100)
        loss = loss + F.cross_entropy(cell_logits.flatten(0, 2), cell_targets.flatten(),
                                      weight=self.patch_weights, ignore_index=-100)
        loss = loss + F.cross_entropy(location_logits.flatten(0, 1), location_targets.flatten(),
                                      ignore_index=-100)
        for i, logits in enumerate(attribute_logits):
            loss = loss + F.cross_entropy(logits, attributes[:, i])
        return loss

    @torch.no_grad()
    def accuracy(self, visual: torch.Tensor, valid: torch.Tensor, patch_targets: torch.Tensor,
                 cell_targets: torch.Tensor, location_targets: torch.Tensor,
                 attributes: torch.Tensor) -> dict:
        """Share of right answers per image attribute, of patches per kind
        (defect patches pooled: the rare ones that matter) and of the
        locations of defect patches."""
        patch_logits, cell_logits, location_logits, attribute_logits = self(visual, valid)
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
        return result
