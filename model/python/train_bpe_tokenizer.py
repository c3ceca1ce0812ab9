#!/usr/bin/python3
"""Trains a small byte-level BPE tokenizer and writes it as a Hugging Face
tokenizer.json laid out exactly like Qwen2.5's: NFC normalizer, Split(Qwen2
regex, Isolated) + ByteLevel pre-tokenizer, ByteLevel decoder, BPE model
with vocab and merges, and Qwen's added tokens right after the BPE vocabulary.

The output depends only on the corpus and the arguments (ties between pairs
of equal count go to the smallest pair), so the same input gives the same
file byte for byte.

  /usr/bin/python3 model/python/train_bpe_tokenizer.py --vocab-size 1024 \
      --output tokenizer.json [--corpus a.txt b.txt]

Without --corpus it trains on a built-in generated corpus of inspection
reports, chat turns, numbers, code and some non-Latin text. Other scripts
can `import train_bpe_tokenizer` and call `train()` and `write()`.
"""

import argparse
import collections
import heapq
import json
import random
import sys
import unicodedata

import regex

QWEN2_PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen2.5's added tokens that the prompt format and the model use, in
# Qwen's order; all are special.
ADDED_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
    "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>",
    "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>",
]

MIN_VOCAB_SIZE = 256 + len(ADDED_TOKENS)
MAX_VOCAB_SIZE = 65536

BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
              "use_regex": False}


def bytes_to_unicode():
    """GPT-2's map from each byte to a printable character, in GPT-2's order
    (printable bytes first); BPE ids 0..255 follow this order as in Qwen."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return [(b, mapping[b]) for b in printable + sorted(set(range(256)) - set(printable))]


def count_words(texts):
    """Byte-level words (pre-tokenized pieces) and how often each occurs."""
    byte_map = dict(bytes_to_unicode())
    pattern = regex.compile(QWEN2_PRETOKENIZE_REGEX)
    counts = collections.Counter()
    for text in texts:
        for piece in pattern.findall(unicodedata.normalize("NFC", text)):
            counts["".join(byte_map[b] for b in piece.encode("utf-8"))] += 1
    return counts


class _PairIndex:
    """Pair counts over all words, with the words each pair occurs in and a
    lazy max-heap (stale entries are skipped when popped). A pair is merged
    once: should it form again later (a token can be built from different
    pairs), it stays unmerged, so that the merges list has no duplicates."""

    def __init__(self, words, counts):
        self.words = words
        self.counts = counts
        self.pair_count = collections.Counter()
        self.where = collections.defaultdict(set)
        self.heap = []
        self.merged = set()
        for index, symbols in enumerate(words):
            self._add(index, symbols, +1)
        for pair, count in self.pair_count.items():
            heapq.heappush(self.heap, (-count, pair))

    def _add(self, index, symbols, sign):
        for pair in zip(symbols, symbols[1:]):
            self.pair_count[pair] += sign * self.counts[index]
            if sign > 0:
                self.where[pair].add(index)

    def best(self):
        while self.heap:
            negative_count, pair = heapq.heappop(self.heap)
            if (self.pair_count.get(pair, 0) == -negative_count and negative_count < 0
                    and pair not in self.merged):
                return pair
        return None

    def merge(self, pair):
        self.merged.add(pair)
        merged = pair[0] + pair[1]
        touched = set()
        for index in sorted(self.where.pop(pair)):
            symbols = self.words[index]
            self._add(index, symbols, -1)
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    out.append(merged)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            self.words[index] = out
            self._add(index, out, +1)
            touched.update(zip(out, out[1:]))
            touched.update(zip(symbols, symbols[1:]))
        for changed in touched:
            count = self.pair_count.get(changed, 0)
            if count > 0:
                heapq.heappush(self.heap, (-count, changed))


def train(texts, vocab_size):
    """Returns the tokenizer.json content (a dict) for a vocabulary of
    vocab_size ids in all: 256 bytes, vocab_size - 270 merges, 14 added tokens."""
    if not MIN_VOCAB_SIZE <= vocab_size <= MAX_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be in [{MIN_VOCAB_SIZE}, {MAX_VOCAB_SIZE}], "
                         f"got {vocab_size}")
    word_counts = sorted(count_words(texts).items())
    index = _PairIndex([list(word) for word, _ in word_counts], [c for _, c in word_counts])
    vocab = {char: i for i, (_, char) in enumerate(bytes_to_unicode())}
    merges = []
    bpe_size = vocab_size - len(ADDED_TOKENS)
    while len(vocab) < bpe_size:
        pair = index.best()
        if pair is None:
            raise ValueError(f"the corpus allows only {len(vocab) + len(ADDED_TOKENS)} ids, "
                             f"fewer than vocab_size {vocab_size}: give more text")
        merges.append(f"{pair[0]} {pair[1]}")
        vocab.setdefault(pair[0] + pair[1], len(vocab))
        index.merge(pair)
    return tokenizer_json(vocab, merges)


def tokenizer_json(vocab, merges):
    added = [{"id": len(vocab) + i, "content": content, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i, content in enumerate(ADDED_TOKENS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PRETOKENIZE_REGEX},
             "behavior": "Isolated", "invert": False},
            dict(BYTE_LEVEL)]},
        "post_processor": dict(BYTE_LEVEL),
        "decoder": dict(BYTE_LEVEL),
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False, "vocab": vocab,
                  "merges": merges},
    }


def write(tokenizer, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=2)
        f.write("\n")


def builtin_corpus(seed=0, num_lines=20000):
    """Deterministic mixed text: inspection findings and chat turns like the
    demo task's, plus numbers, code, whitespace runs and non-Latin scripts."""
    rng = random.Random(seed)
    parts = ["bolt", "weld seam", "connector", "gasket", "label", "housing", "cable", "screw",
             "bracket", "solder joint", "circuit board", "panel", "casting", "bearing"]
    defects = ["scratch", "crack", "missing part", "misalignment", "burr", "dent", "corrosion",
               "discoloration", "contamination", "short shot", "porosity", "no defect"]
    verdicts = ["pass", "fail", "rework", "hold for review"]
    colors = ["red", "green", "blue", "yellow", "black", "white", "grey", "orange"]
    shapes = ["circle", "square", "triangle", "ring", "cross", "bar", "star"]
    positions = ["top left", "top right", "bottom left", "bottom right", "center", "edge"]
    questions = ["What defect is visible?", "Is the part acceptable?", "Describe the image.",
                 "How many objects are there?", "Which color is the marker?",
                 "Where is the defect?", "Does the weld pass inspection?"]
    other = ["Prüfung der Schweißnaht: Oberfläche glatt, Größe 12 mm.", "检测结果：合格，无缺陷。",
             "部品の外観検査を行います。", "용접 부위에 균열이 있습니다.", "Température: 21,5 °C",
             "✅ OK 👍🏽", "Наличие трещины: нет."]
    code = ["for (int i = 0; i < n; ++i) {\n\tsum += x[i];\n}", "if defect:\n    reject(part)\n",
            "def inspect(frame):\r\n    return model(frame)\r\n", "{\"verdict\": \"pass\", \"score\": 0.97}"]
    syllables = ["ka", "lo", "mi", "ne", "tra", "sen", "vor", "qui", "pel", "dus", "rin", "ath",
                 "be", "co", "fu", "gra", "hil", "jos", "wen", "xy", "zor", "ment", "tion", "ing"]
    # Operator notes: made-up words, a few frequent and many rare, so that large
    # vocabularies still find pairs to merge.
    lexicon = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
               for _ in range(12000)]
    lines = []
    for _ in range(num_lines):
        kind = rng.random()
        if kind < 0.25:
            words = [lexicon[int(len(lexicon) * rng.random() ** 3)]
                     for _ in range(rng.randint(4, 14))]
            lines.append("Note: " + " ".join(words).capitalize() + ".")
        elif kind < 0.55:
            lines.append(f"The {rng.choice(colors)} {rng.choice(parts)} at the "
                         f"{rng.choice(positions)} shows {rng.choice(defects)}; verdict: "
                         f"{rng.choice(verdicts)}.")
        elif kind < 0.7:
            lines.append(f"{rng.choice(questions)} There is a {rng.choice(colors)} "
                         f"{rng.choice(shapes)} and {rng.randint(0, 9)} "
                         f"{rng.choice(shapes)}s in the image.")
        elif kind < 0.8:
            lines.append(f"Lot {rng.randint(1000, 99999)}, line {rng.randint(1, 12)}, station "
                         f"{rng.randint(1, 40)}: {rng.uniform(0, 500):.2f} mm at "
                         f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}, "
                         f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.20{rng.randint(20, 30)}")
        elif kind < 0.9:
            lines.append(rng.choice(code) + " " * rng.randint(0, 6))
        else:
            lines.append(rng.choice(other))
    return ["\n".join(lines)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab-size", type=int, required=True,
                        help=f"ids in all, added tokens included ({MIN_VOCAB_SIZE}.."
                             f"{MAX_VOCAB_SIZE})")
    parser.add_argument("--output", required=True, help="where to write tokenizer.json")
    parser.add_argument("--corpus", nargs="*", default=[],
                        help="UTF-8 text files; default: the built-in generated corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed of the built-in corpus")
    args = parser.parse_args(argv)
    texts = []
    for path in args.corpus:
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    try:
        tokenizer = train(texts or builtin_corpus(args.seed), args.vocab_size)
    except ValueError as error:
        sys.exit(f"train_bpe_tokenizer.py: {error}")
    write(tokenizer, args.output)
    print(f"wrote {args.output}: {len(tokenizer['model']['vocab'])} BPE tokens, "
          f"{len(tokenizer['model']['merges'])} merges, {len(ADDED_TOKENS)} added tokens")


if __name__ == "__main__":
    main()
