"""The inspection task's vocabulary: question wordings and answers, fixed here.

Training, evaluation and the accuracy test through the server all ask exactly
these questions and expect exactly these answers (exact match), so this is the
only place where they are spelled.
"""

import json
from dataclasses import dataclass
from typing import Dict, List, Optional

SHAPES = ("plate", "washer", "bracket", "gear")
COLOURS = ("silver", "gold", "copper", "black", "blue")
DEFECTS = ("scratch", "dent", "crack", "missing hole", "burr")
LOCATIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "centre")
NO_DEFECT = "none"
MAX_HOLES = 5

# Question type -> the exact wording a user sends.
QUESTIONS: Dict[str, str] = {
    "status": "Is the part OK or NG?",
    "defect": "Which defect does the part have?",
    "location": "Where is the defect?",
    "holes": "How many holes does the part have?",
    "shape": "What shape is the part?",
    "colour": "What colour is the part?",
    "record": "Give the inspection record as JSON.",
}
QUESTION_TYPES: List[str] = list(QUESTIONS)


@dataclass(frozen=True)
class PartTruth:
    """What is really in one synthetic image."""

    shape: str
    colour: str
    holes: int  # holes actually drilled (a missing hole is not counted)
    defect: str  # NO_DEFECT or one of DEFECTS
    location: str  # NO_DEFECT when the part is OK, else one of LOCATIONS

    @property
    def status(self) -> str:
        return "OK" if self.defect == NO_DEFECT else "NG"

    def record(self) -> Dict[str, object]:
        return {"status": self.status, "defect": self.defect,
                "location": self.location, "holes": self.holes}

    def to_json(self) -> Dict[str, object]:
        return {"shape": self.shape, "colour": self.colour, "holes": self.holes,
                "defect": self.defect, "location": self.location}

    @staticmethod
    def from_json(value: Dict[str, object]) -> "PartTruth":
        return PartTruth(shape=str(value["shape"]), colour=str(value["colour"]),
                         holes=int(value["holes"]), defect=str(value["defect"]),
                         location=str(value["location"]))


def answer(truth: PartTruth, question_type: str) -> str:
    """The one right answer, as the model must write it."""
    if question_type == "status":
        return truth.status
    if question_type == "defect":
        return truth.defect
    if question_type == "location":
        return truth.location
    if question_type == "holes":
        return str(truth.holes)
    if question_type == "shape":
        return truth.shape
    if question_type == "colour":
        return truth.colour
    if question_type == "record":
        return json.dumps(truth.record(), separators=(",", ":"))
    raise ValueError(f"question_type: unknown '{question_type}', expected one of {QUESTION_TYPES}")


def parse_record(text: str) -> Optional[Dict[str, object]]:
    """The model's JSON record as a dict, or None when it does not parse."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def all_answers() -> List[str]:
    """Every answer the task can ask for (for the tokenizer's training corpus)."""
    answers = {"OK", "NG", NO_DEFECT, *DEFECTS, *LOCATIONS, *SHAPES, *COLOURS}
    answers.update(str(n) for n in range(MAX_HOLES + 1))
    for defect in (NO_DEFECT, *DEFECTS):
        for location in ((NO_DEFECT,) if defect == NO_DEFECT else LOCATIONS):
            for holes in range(MAX_HOLES + 1):
                truth = PartTruth("plate", "silver", holes, defect, location)
                answers.add(answer(truth, "record"))
    return sorted(answers)
