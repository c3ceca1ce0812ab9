"""Prompt and answer token ids for training, as the server computes them.

A small Python encoder for the byte-level BPE tokenizer.json that the model
directory ships (NFC, the Split regex, ByteLevel, merges by rank, added
tokens), and the chat template of model/include/auroraedge/model/chat_template.h
(no system turn unless one is given). tests/demo/test_training_matches_serving.py
proves its ids identical to the C++ tokenizer's (`auroraedge-cli tokenize`).
"""

import json
import os
import sys
import unicodedata
from functools import lru_cache
from typing import Dict, List, Tuple

import regex

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from train_bpe_tokenizer import bytes_to_unicode  # noqa: E402


class BpeEncoder:
    """Encodes text with a Qwen2-layout tokenizer.json; special-token text in
    the input is plain text, as in the user's part of a prompt."""

    def __init__(self, tokenizer_path: str):
        with open(tokenizer_path, encoding="utf-8") as f:
            data = json.load(f)
        splits = [p for p in data["pre_tokenizer"]["pretokenizers"] if p["type"] == "Split"]
        self.pattern = regex.compile(splits[0]["pattern"]["Regex"])
        self.vocab: Dict[str, int] = data["model"]["vocab"]
        self.ranks: Dict[Tuple[str, str], int] = {
            tuple(merge.split(" ")): rank for rank, merge in enumerate(data["model"]["merges"])}
        self.special = {t["content"]: t["id"] for t in data["added_tokens"]}
        self.byte_map = dict(bytes_to_unicode())
        self.symbol_of = {i: symbol for symbol, i in self.vocab.items()}
        self.byte_of = {char: byte for byte, char in self.byte_map.items()}

    def special_id(self, content: str) -> int:
        return self.special[content]

    def decode(self, ids: List[int]) -> str:
        """The text of plain (not special) token ids."""
        data = bytes(self.byte_of[c] for i in ids for c in self.symbol_of[i])
        return data.decode("utf-8", errors="replace")

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        for piece in self.pattern.findall(unicodedata.normalize("NFC", text)):
            word = "".join(self.byte_map[b] for b in piece.encode("utf-8"))
            ids.extend(self.vocab[symbol] for symbol in self._bpe(word))
        return ids

    @lru_cache(maxsize=4096)
    def _bpe(self, word: str) -> Tuple[str, ...]:
        symbols = list(word)
        while len(symbols) > 1:
            pairs = [(self.ranks.get(pair, len(self.ranks)), i)
                     for i, pair in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(pairs)
            if rank == len(self.ranks):
                break
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        return tuple(symbols)


class ChatPrompt:
    """The server's prompt format for one image and a user question."""

    def __init__(self, encoder: BpeEncoder, visual_tokens_per_image: int):
        self.encoder = encoder
        self.visual_tokens = visual_tokens_per_image
        s = encoder.special_id
        self.im_start, self.im_end = s("<|im_start|>"), s("<|im_end|>")
        self.vision = ([s("<|vision_start|>")] + [s("<|image_pad|>")] * visual_tokens_per_image
                       + [s("<|vision_end|>")])

    def prompt(self, user: str, system: str = "") -> List[int]:
        e = self.encoder.encode
        ids: List[int] = []
        if system:
            ids += [self.im_start] + e("system\n" + system) + [self.im_end] + e("\n")
        ids += [self.im_start] + e("user\n") + self.vision + e(user) + [self.im_end] + e("\n")
        return ids + [self.im_start] + e("assistant\n")

    def answer(self, text: str) -> List[int]:
        """What the model must generate: the answer, then the end of its turn."""
        return self.encoder.encode(text) + [self.im_end]
