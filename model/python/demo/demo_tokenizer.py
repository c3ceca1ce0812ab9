"""The demo model's own small byte-level BPE tokenizer.

Trained with model/python/train_bpe_tokenizer.py on its built-in corpus plus
the inspection task's questions and answers, so that the answers (the JSON
record above all) take few tokens.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import train_bpe_tokenizer  # noqa: E402
from inspection_task import QUESTIONS, all_answers  # noqa: E402

VOCAB_SIZE = 1024
TASK_REPEATS = 50  # weight of the task's text against the built-in corpus


def task_corpus() -> str:
    turns = ["user\n" + question for question in QUESTIONS.values()] + ["assistant\n"]
    return "\n".join((turns + all_answers()) * TASK_REPEATS)


def write_tokenizer(path: str) -> None:
    texts = train_bpe_tokenizer.builtin_corpus(0) + [task_corpus()]
    train_bpe_tokenizer.write(train_bpe_tokenizer.train(texts, VOCAB_SIZE), path)
