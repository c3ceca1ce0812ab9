"""A fine-tuning dataset: labelled images, read and checked before training.

Two layouts (model/python/README.md, "Fine-tuning on your own images"):

  DIR/labels.jsonl   one JSON object a line: {"image": "a.png", "question":
                     "Is the part OK or NG?", "answer": "NG"}; image paths
                     relative to DIR; an image may have several lines
  DIR/labels.csv     the same three columns, with the header image,question,answer
  DIR/<label>/*.png  no labels file: one folder per label (OK and NG, or the
                     defect classes), every image asked one question
                     (default FOLDER_QUESTION), the folder's name its answer

Every problem is refused before training with the file and line it is on:
a missing or unreadable image, an empty question or answer, an answer the
model's tokenizer cannot write back exactly, too few examples of a label.
"""

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
FOLDER_QUESTION = "Is the part OK or NG?"
# Images are kept in memory at most this long on their longer side: the
# model sees at most a few hundred 16-pixel patches, so more is only memory.
MAX_SIDE = 1024
# A question with more different answers than this is free text, not a label.
MAX_LABELS = 20


class DatasetError(ValueError):
    """A dataset the fine-tuning refuses; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    image: int      # index into LabelledImages.pixels
    question: str
    answer: str
    where: str      # "labels.jsonl:12", "NG/part7.png": what an error names


@dataclass
class LabelledImages:
    directory: str
    pixels: List[np.ndarray] = field(default_factory=list)  # uint8 [H, W, 3]
    names: List[str] = field(default_factory=list)           # relative paths
    examples: List[Example] = field(default_factory=list)

    def questions(self) -> List[str]:
        return sorted({e.question for e in self.examples})


def load_image(path: str, where: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise DatasetError(f"{where}: image '{path}' does not exist")
    try:
        with Image.open(path) as image:
            image.load()
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.BOX)
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DatasetError(f"{where}: image '{path}' cannot be read: {error}") from error


def _rows_from_jsonl(path: str):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{where}: not a JSON object: {error}") from error
            if not isinstance(row, dict):
                raise DatasetError(f"{where}: not a JSON object")
            yield where, row


def _rows_from_csv(path: str):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"image", "question", "answer"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{path}:1: header lacks {sorted(missing)} "
                               "(expected image,question,answer)")
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def _read_labels_file(directory: str, path: str, rows) -> LabelledImages:
    data = LabelledImages(directory)
    index_of: Dict[str, int] = {}
    for where, row in rows:
        values = {}
        for name in ("image", "question", "answer"):
            value = row.get(name)
            if not isinstance(value, str):
                raise DatasetError(f"{where}: '{name}' is missing or not a string")
            if not value.strip():
                raise DatasetError(f"{where}: '{name}' is empty")
            values[name] = value
        name = os.path.normpath(values["image"])
        if name not in index_of:
            index_of[name] = len(data.pixels)
            data.pixels.append(load_image(os.path.join(directory, name), where))
            data.names.append(name)
        data.examples.append(Example(index_of[name], values["question"], values["answer"], where))
    if not data.examples:
        raise DatasetError(f"{path}: no examples")
    return data


def _read_folders(directory: str, question: str) -> LabelledImages:
    data = LabelledImages(directory)
    labels = sorted(d for d in os.listdir(directory)
                    if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    if not labels:
        raise DatasetError(f"{directory}: neither labels.jsonl, labels.csv nor a folder per label")
    for label in labels:
        files = sorted(f for f in os.listdir(os.path.join(directory, label))
                       if f.lower().endswith(IMAGE_SUFFIXES))
        for file in files:
            name = os.path.join(label, file)
            where = os.path.join(directory, name)
            data.examples.append(Example(len(data.pixels), question, label, where))
            data.pixels.append(load_image(where, where))
            data.names.append(name)
    return data


def read_dataset(directory: str, folder_question: str = FOLDER_QUESTION) -> LabelledImages:
    """The dataset in `directory` (either layout), every image decoded."""
    if not os.path.isdir(directory):
        raise DatasetError(f"{directory}: not a directory")
    jsonl, table = os.path.join(directory, "labels.jsonl"), os.path.join(directory, "labels.csv")
    if os.path.isfile(jsonl):
        return _read_labels_file(directory, jsonl, _rows_from_jsonl(jsonl))
    if os.path.isfile(table):
        return _read_labels_file(directory, table, _rows_from_csv(table))
    if not folder_question.strip():
        raise DatasetError("--question: empty (the folder layout asks it of every image)")
    return _read_folders(directory, folder_question)


def check_answers(data: LabelledImages, encodes: Callable[[str], Optional[str]]) -> None:
    """encodes(answer) -> None when the model can write the answer exactly,
    else why not."""
    for example in data.examples:
        problem = encodes(example.answer)
        if problem is not None:
            raise DatasetError(f"{example.where}: answer {example.answer!r}: {problem}")


def label_questions(data: LabelledImages) -> List[str]:
    """The questions whose answers are labels (at most MAX_LABELS values that
    repeat, like OK/NG or a defect class) rather than free text (a record
    per image)."""
    answers = defaultdict(list)
    for example in data.examples:
        answers[example.question].append(example.answer)
    return [q for q, given in answers.items()
            if len(set(given)) <= min(MAX_LABELS, len(given) / 2)]


def check_label_counts(data: LabelledImages, minimum: int) -> None:
    """Every label of every label question needs `minimum` images."""
    seen: Dict[Tuple[str, str], List[Example]] = defaultdict(list)
    for example in data.examples:
        seen[(example.question, example.answer)].append(example)
    for question in label_questions(data):
        for (asked, answer), examples in sorted(seen.items()):
            if asked == question and len(examples) < minimum:
                places = ", ".join(e.where for e in examples[:5])
                raise DatasetError(f"{examples[0].where}: answer {answer!r} to {question!r} has "
                                   f"{len(examples)} example(s) ({places}), at least {minimum} "
                                   "are needed (--min-per-label)")


def split_images(data: LabelledImages, validation_share: float,
                 seed: int) -> Tuple[List[Example], List[Example]]:
    """(training, validation) examples, split by image: images with the same
    answers are spread evenly (every label lands on both sides when it has
    enough images), in a seeded order."""
    answers_of: Dict[int, List[str]] = defaultdict(list)
    for example in data.examples:
        answers_of[example.image].append(f"{example.question}\0{example.answer}")
    rng = np.random.default_rng(seed)
    groups: Dict[Tuple[str, ...], List[int]] = defaultdict(list)
    for image in rng.permutation(sorted(answers_of)).tolist():
        groups[tuple(sorted(answers_of[image]))].append(image)
    held_out = set()
    carry = rng.random()
    for images in groups.values():
        for image in images:
            carry += validation_share
            if carry >= 1.0:
                carry -= 1.0
                held_out.add(image)
    training = [e for e in data.examples if e.image not in held_out]
    validation = [e for e in data.examples if e.image in held_out]
    if not training or not validation:
        raise DatasetError(f"{data.directory}: {len(answers_of)} image(s) cannot be split into "
                           f"training and validation at --validation-share {validation_share}")
    return training, validation


def repeat_shared_questions(examples: Sequence[Example], questions: Sequence[str],
                            times: int) -> List[Example]:
    """Replayed training examples, each one that asks one of `questions` (the
    new data's) `times` over, so that it is drawn that much more often: where
    the new data asks the same question, its new answers would otherwise
    crowd out the old ones."""
    shared = set(questions)
    return [e for e in examples for _ in range(times if e.question in shared else 1)]


def describe(data: LabelledImages, examples: Sequence[Example]) -> str:
    counts = defaultdict(int)
    for example in examples:
        counts[(example.question, example.answer)] += 1
    return "; ".join(f"{q!r} -> {a!r}: {n}" for (q, a), n in sorted(counts.items()))
