"""Shared fixtures of the model/python tests: a tiny tokenizer.json and the
small configuration bound to it."""

import json
import os
import sys

import pytest

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "model",
                          "python")
sys.path.insert(0, os.path.abspath(PYTHON_DIR))

from auroraedge.config import load_config  # noqa: E402
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info  # noqa: E402

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|image_pad|>"]
NUM_BPE_TOKENS = 300


@pytest.fixture(scope="session")
def tokenizer_path(tmp_path_factory):
    """A tokenizer.json with 300 plain tokens and the special tokens after them."""
    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.json"
    vocab = {f"t{i}": i for i in range(NUM_BPE_TOKENS)}
    added = [{"id": NUM_BPE_TOKENS + k, "content": c, "special": True}
             for k, c in enumerate(SPECIAL_TOKENS)]
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": vocab, "merges": []},
                                "added_tokens": added}))
    return str(path)


@pytest.fixture()
def small_config(tokenizer_path):
    def make(path="compressed"):
        config = load_config("small")
        config.path = path
        apply_tokenizer(config, read_tokenizer_info(tokenizer_path), tokenizer_path)
        return config.validate()
    return make
