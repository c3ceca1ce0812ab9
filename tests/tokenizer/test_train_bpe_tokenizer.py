"""Tests of model/python/train_bpe_tokenizer.py: the layout of the file it
writes, its vocabulary size, determinism and its argument checks. (The C++
conformance test also encodes with a trained tokenizer against the
JavaScript reference.)"""

import json
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "model" / "python"
sys.path.insert(0, str(SCRIPT))

import train_bpe_tokenizer as trainer  # noqa: E402

QWEN_ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
              "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>",
              "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
              "<|image_pad|>", "<|video_pad|>"]


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT / "train_bpe_tokenizer.py"), *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    result = run("--vocab-size", "600", "--output", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_layout_is_qwen25(trained):
    tokenizer = json.loads(trained.read_text(encoding="utf-8"))
    assert tokenizer["normalizer"] == {"type": "NFC"}
    split, byte_level = tokenizer["pre_tokenizer"]["pretokenizers"]
    assert split["type"] == "Split" and split["behavior"] == "Isolated"
    assert split["pattern"]["Regex"] == trainer.QWEN2_PRETOKENIZE_REGEX
    assert byte_level == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                          "use_regex": False}
    assert tokenizer["decoder"]["type"] == "ByteLevel"
    assert tokenizer["model"]["type"] == "BPE"


def test_vocabulary_size_counts_the_added_tokens_after_the_bpe_ids(trained):
    tokenizer = json.loads(trained.read_text(encoding="utf-8"))
    vocab = tokenizer["model"]["vocab"]
    assert sorted(vocab.values()) == list(range(600 - len(QWEN_ADDED)))
    added = tokenizer["added_tokens"]
    assert [t["content"] for t in added] == QWEN_ADDED
    assert [t["id"] for t in added] == list(range(len(vocab), 600))
    assert all(t["special"] and not t["normalized"] for t in added)


def test_bytes_come_first_and_every_merge_builds_a_token(trained):
    model = json.loads(trained.read_text(encoding="utf-8"))["model"]
    by_id = {i: token for token, i in model["vocab"].items()}
    assert [by_id[i] for i in range(256)] == [char for _, char in trainer.bytes_to_unicode()]
    assert len(set(model["merges"])) == len(model["merges"])
    for merge in model["merges"]:
        left, right = merge.split(" ")
        assert left in model["vocab"] and right in model["vocab"]
        assert left + right in model["vocab"]


def test_output_is_deterministic(tmp_path, trained):
    again = tmp_path / "again.json"
    assert run("--vocab-size", "600", "--output", str(again)).returncode == 0
    assert again.read_bytes() == trained.read_bytes()


def test_corpus_files_are_used(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("inspection " * 50 + "weld seam crack " * 40, encoding="utf-8")
    out = tmp_path / "tokenizer.json"
    assert run("--vocab-size", "280", "--output", str(out), "--corpus", str(corpus)).returncode == 0
    vocab = json.loads(out.read_text(encoding="utf-8"))["model"]["vocab"]
    assert "Ġinspection" in vocab or "inspection" in vocab


def test_bad_sizes_and_small_corpora_are_refused(tmp_path):
    too_small = run("--vocab-size", "100", "--output", str(tmp_path / "t.json"))
    assert too_small.returncode != 0
    assert "vocab_size must be in [270, 65536], got 100" in too_small.stderr
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("ab", encoding="utf-8")
    tiny = run("--vocab-size", "4096", "--output", str(tmp_path / "t.json"), "--corpus",
               str(corpus))
    assert tiny.returncode != 0
    assert "fewer than vocab_size 4096" in tiny.stderr
