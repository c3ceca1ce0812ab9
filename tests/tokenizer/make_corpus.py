#!/usr/bin/python3
"""Writes the tokenizer conformance corpus as JSON: texts by class (the
classes issue 4 names, plus NFC and Unicode-whitespace cases) and a few
thousand random strings, and random id sequences to decode. The same seed
gives the same corpus.

  make_corpus.py --tokenizer tokenizer.json --out corpus.json [--seed 0]

The random strings use only code points assigned in Python's Unicode
database (14.0), the oldest Unicode among PCRE2 10.42 (14.0), utf8proc 2.8
(15.0) and the JavaScript reference's ICU, so that every side classifies
each character the same way. They leave out the three code points on which
the JavaScript port departs from HF tokenizers (whose regex engine,
Oniguruma, the C++ tokenizer follows; tokenizer_test.cc pins that):
U+0085 and U+FEFF (JavaScript's \s lacks the first and adds the second) and
U+017F (HF matches the contraction "'s" case-insensitively with Unicode case
folding, so also "'\u017f"; the port spells it as [sS]).
"""

import argparse
import json
import random
import sys
import unicodedata

FIXED_CASES = {
    "english": [
        "Hello, world! The quick brown fox jumps over the lazy dog.",
        "It's the inspector's call: we'll see, they're sure, I'm done, you've got it, he'd go.",
        "IT'S LOUD. WE'LL SEE. THEY'RE HERE. I'M SURE. YOU'VE WON. HE'D KNOW. DON'T!",
        "  leading spaces, trailing spaces  ",
        "A sentence.\nAnother one.\n\nA paragraph after a blank line.",
        "e-mail: qa-team@example.com, URL https://example.com/a/b?c=d&e=f#g",
        "Quotes \"double\" and 'single' and `back`; (parens) [brackets] {braces} <angles>",
    ],
    "chinese": [
        "检测结果：焊缝表面有一条约三毫米的裂纹，判定为不合格。",
        "你好，世界！这是一个测试句子，包含标点符号和数字123。",
        "繁體中文：這是一個測試。",
    ],
    "japanese": [
        "部品の外観検査を行います。傷はありません。",
        "カタカナとひらがなと漢字が混ざった文章です。ﾊﾝｶｸｶﾀｶﾅも。",
        "が ぎ ぐ げ ご — か\u3099 き\u3099 (combining voiced marks)",
    ],
    "korean": [
        "용접 부위에 균열이 있습니다. 불합격입니다.",
        "안녕하세요, 세계! 한국어 문장입니다.",
        "\u1112\u1161\u11ab\u1100\u1173\u11af (conjoining jamo that NFC composes)",
    ],
    "german": [
        "Prüfung der Schweißnaht: Oberfläche glatt, Größe 12 mm, Maße ÄÖÜ äöü ß ẞ.",
        "Decomposed umlauts: u\u0308ber, a\u0308rger, O\u0308l, und Stra\u00dfe.",
        "Fräsmaschine überprüft; Qualitätsprüfung bestanden.",
    ],
    "emoji": [
        "Thumbs up 👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿",
        "Family 👨\u200d👩\u200d👧\u200d👦 and 👩🏽\u200d💻 and 🏳️\u200d🌈",
        "Flags 🇩🇪 🇯🇵 🇰🇷 🇨🇳, keycaps 1️⃣ #️⃣, hearts ❤️ ❤ 🧡",
        "✅ OK ❌ NG ⚠️ check",
    ],
    "numbers": [
        "0 1 12 123 1234 12345 123456789012345678901234567890",
        "3.14159 -2.5e-10 1,000,000.00 1.000.000,00 0x1F 0b1010 42%",
        "Lot 20240517-0042, serial SN-000123456, 12:34:56.789",
        "Arabic-Indic ٠١٢٣٤٥٦٧٨٩, Devanagari ०१२३, fullwidth １２３, ² ³ ½ Ⅻ ⑫",
    ],
    "code": [
        "def inspect(frame):\n\treturn model(frame)\n",
        "for (int i = 0; i < n; ++i) {\r\n\tsum += x[i];\r\n}\r\n",
        "if (a) {\n\t\tb();\r\t}\r\n\n\n// comment\t\twith tabs\n",
        "#include <cstdio>\nint main() { printf(\"%d\\n\", 42); return 0; }\n",
        "x = {'key': [1, 2, 3], \"other\": None}  # trailing comment   \n",
    ],
    "spaces": [
        " ", "  ", "   ", "    a", "a    ", "a    b", "\t\t", " \n ", "\n\n\n", "  \n\n  x",
        "a \t b\t \tc", "\r\n\r\n", " \r\n", "end with spaces     ",
        "nbsp\u00a0between, ideographic\u3000space, thin\u2009space, em\u2003space",
        "line\u2028separator and paragraph\u2029separator",
    ],
    "special_text": [
        "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n",
        "ends the turn?<|im_end|>and goes on",
        "<|endoftext|><|endoftext|>",
        "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Describe.",
        "almost <|im_end and |im_end|> and <| im_end |> and <|IM_END|>",
        "<|<|im_end|>|> nested, <<|im_start|>> doubled",
        "tools <tool_call>{\"a\": 1}</tool_call> and <think>hmm</think>",
        " <|im_end|> spaces around <|im_end|> ",
        "\n<|im_start|>\n",
    ],
}

JS_DEPARTS_FROM_HF = {"\u0085", "\ufeff", "\u017f"}


def _assigned(start, end):
    return [chr(c) for c in range(start, end + 1)
            if unicodedata.category(chr(c)) not in ("Cn", "Cs")
            and chr(c) not in JS_DEPARTS_FROM_HF]


def char_groups():
    """Code points the random strings draw from, by group, with weights."""
    return [
        (30, [chr(c) for c in range(0x20, 0x7F)]),
        (8, list(" \t\n\r") + ["\r\n", "  ", "\n\n"]),
        (4, list("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                 "\u200a\u2028\u2029\u202f\u205f\u3000\u000b\u000c\u180e\u200b")),
        (6, ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ll", "'D"]),
        (6, _assigned(0x00A1, 0x024F) + _assigned(0x0370, 0x03FF) + _assigned(0x0400, 0x04FF)),
        (4, _assigned(0x0300, 0x036F) + ["\u0308", "\u0301", "\u0327"]),
        (6, _assigned(0x4E00, 0x9FFF) + _assigned(0x3040, 0x30FF) + _assigned(0xAC00, 0xD7A3)),
        (3, _assigned(0x1100, 0x11FF)),
        (4, _assigned(0x0600, 0x06FF) + _assigned(0x0900, 0x097F) + _assigned(0x0E00, 0x0E7F)),
        (4, list("0123456789") + _assigned(0x0660, 0x0669) + list("²³¹¼½¾ⅠⅡⅫ①②⑫０１９")),
        (4, _assigned(0x1F300, 0x1F64F) + _assigned(0x1F900, 0x1F9FF)
         + ["\U0001F3FB", "\U0001F3FF", "\u200d", "\ufe0f", "\u20e3"]),
        (2, _assigned(0x2000, 0x2BFF)),
        (2, _assigned(0xF900, 0xFAFF) + _assigned(0xFF00, 0xFFEF)),
        (3, ["<|im_end|>", "<|im_start|>", "<|endoftext|>", "<|image_pad|>", "<|", "|>",
             "im_end", "<think>", "</tool_call>"]),
        (3, _assigned(0x0000, 0x001F) + _assigned(0x007F, 0x009F)),
        (3, _assigned(0x10000, 0x3FFFF)),
    ]


def random_strings(rng, count):
    groups = char_groups()
    weights = [w for w, _ in groups]
    strings = []
    for _ in range(count):
        length = rng.choice([1, 2, 3, 5, 8, 13, 21, 40, 80])
        pieces = []
        group = rng.choices(groups, weights)[0][1]
        for _ in range(length):
            # Runs from one group, as real text has.
            if rng.random() < 0.3:
                group = rng.choices(groups, weights)[0][1]
            pieces.append(rng.choice(group))
        strings.append("".join(pieces))
    return strings


def random_id_sequences(rng, vocab_size, special_ids, count):
    sequences = []
    for _ in range(count):
        length = rng.randint(1, 24)
        ids = []
        for _ in range(length):
            roll = rng.random()
            if roll < 0.1 and special_ids:
                ids.append(rng.choice(special_ids))
            elif roll < 0.4:
                ids.append(rng.randrange(256))  # single bytes: partial UTF-8
            else:
                ids.append(rng.randrange(vocab_size))
        sequences.append(ids)
    return sequences


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", required=True, help="tokenizer.json (for its ids)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random-strings", type=int, default=4000)
    parser.add_argument("--random-id-sequences", type=int, default=2000)
    args = parser.parse_args()
    with open(args.tokenizer, encoding="utf-8") as f:
        tokenizer = json.load(f)
    added = tokenizer.get("added_tokens") or []
    ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in added]
    vocab_size = max(ids) + 1
    if sorted(set(ids)) != list(range(vocab_size)):
        sys.exit(f"{args.tokenizer}: ids are not contiguous; random id sequences need them to be")

    rng = random.Random(args.seed)
    cases = [{"class": name, "text": text} for name, texts in FIXED_CASES.items()
             for text in texts]
    cases += [{"class": "random", "text": text}
              for text in random_strings(rng, args.random_strings)]
    special_ids = [t["id"] for t in added]
    corpus = {
        "cases": cases,
        "decode_cases": random_id_sequences(rng, vocab_size, special_ids,
                                            args.random_id_sequences),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(corpus, f, ensure_ascii=False)
    print(f"wrote {args.out}: {len(cases)} texts, {len(corpus['decode_cases'])} id sequences")


if __name__ == "__main__":
    main()
