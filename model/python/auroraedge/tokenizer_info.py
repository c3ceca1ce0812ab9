"""What the model needs to know of a Hugging Face tokenizer.json: the number
of ids and the ids of the special tokens the prompt format uses."""

import json
import os
import sys
from dataclasses import dataclass
from typing import List

from .config import ConfigError, ModelConfig

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The default small tokenizer: model/python/train_bpe_tokenizer.py on its
# built-in corpus.
DEFAULT_VOCAB_SIZE = 1024
DEFAULT_CORPUS_SEED = 0
EOS_TOKENS = ("<|im_end|>", "<|endoftext|>")


@dataclass
class TokenizerInfo:
    vocab_size: int
    image_pad: int
    vision_start: int
    vision_end: int
    eos: List[int]


def read_tokenizer_info(path: str) -> TokenizerInfo:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    ids = list(data.get("model", {}).get("vocab", {}).values())
    added = {token["content"]: token["id"] for token in data.get("added_tokens", [])}
    ids += list(added.values())
    if not ids:
        raise ConfigError(f"{path}: no tokens in model.vocab or added_tokens")

    def special(content: str) -> int:
        if content not in added:
            raise ConfigError(f"{path}: added_tokens has no '{content}', which the prompt "
                              "format needs")
        return added[content]

    eos = [added[t] for t in EOS_TOKENS if t in added]
    if not eos:
        raise ConfigError(f"{path}: added_tokens has none of the end tokens {EOS_TOKENS}")
    return TokenizerInfo(vocab_size=max(ids) + 1, image_pad=special("<|image_pad|>"),
                         vision_start=special("<|vision_start|>"),
                         vision_end=special("<|vision_end|>"), eos=eos)


def apply_tokenizer(config: ModelConfig, info: TokenizerInfo, where: str) -> None:
    """Special ids follow the tokenizer; so does vocab_size when the config
    leaves it at 0, otherwise the config's (padded) vocabulary must hold it."""
    decoder = config.decoder
    if decoder.vocab_size == 0:
        decoder.vocab_size = info.vocab_size
    elif decoder.vocab_size < info.vocab_size:
        raise ConfigError(f"config field 'decoder.vocab_size': expected at least the "
                          f"{info.vocab_size} ids of {where}, found {decoder.vocab_size}")
    config.image_pad_token_id = info.image_pad
    config.vision_start_token_id = info.vision_start
    config.vision_end_token_id = info.vision_end
    config.eos_token_ids = info.eos


def write_default_tokenizer(path: str) -> None:
    """Trains the small tokenizer (deterministic) with the tokenizer issue's trainer."""
    sys.path.insert(0, PYTHON_DIR)
    import train_bpe_tokenizer  # pylint: disable=import-outside-toplevel

    tokenizer = train_bpe_tokenizer.train(
        train_bpe_tokenizer.builtin_corpus(DEFAULT_CORPUS_SEED), DEFAULT_VOCAB_SIZE)
    train_bpe_tokenizer.write(tokenizer, path)
