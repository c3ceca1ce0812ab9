"""The demo training sees what the server sees: the same patches for an image
and the same token ids for every prompt and answer of the inspection task."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))
sys.path.insert(0, os.path.join(ROOT, "model", "python"))

import inspection_data  # noqa: E402
import naflex_reference  # noqa: E402
import synthetic_parts  # noqa: E402
from auroraedge.config import load_config  # noqa: E402
from demo_tokenizer import write_tokenizer  # noqa: E402
from inspection_task import QUESTIONS, all_answers  # noqa: E402
from prompt_ids import BpeEncoder, ChatPrompt  # noqa: E402
from train import DEFAULT_CONFIG  # noqa: E402

DUMP = os.environ["AURORAEDGE_PREPROCESS_DUMP"]
CHAT_PROMPT_IDS = os.environ["AURORAEDGE_CHAT_PROMPT_IDS"]
NUM_IMAGES = 12


@pytest.fixture(scope="module")
def prep():
    vision = load_config(DEFAULT_CONFIG).vision
    return inspection_data.Preprocessing(vision.patch_size, vision.max_num_patches,
                                         tuple(vision.image_mean), tuple(vision.image_std))


@pytest.fixture(scope="module")
def images():
    return [image for image, _ in synthetic_parts.generate(synthetic_parts.split_seed("test"),
                                                           NUM_IMAGES)]


@pytest.fixture(scope="module")
def training_patches(prep):
    data = inspection_data.build_set("test", NUM_IMAGES, prep, workers=1)
    patches, grid_hw = inspection_data.patch_batch(data, range(NUM_IMAGES), prep)
    return patches.numpy(), grid_hw.tolist()


def test_training_patches_are_the_reference_preprocessing(images, training_patches, prep):
    patches, grids = training_patches
    for i, image in enumerate(images):
        expected, grid_h, grid_w = naflex_reference.preprocess(
            image, prep.patch_size, prep.max_num_patches, prep.mean, prep.std)
        assert grids[i] == [grid_h, grid_w]
        np.testing.assert_array_equal(patches[i], expected)


def test_training_patches_match_the_servers_preprocessing(images, training_patches, prep,
                                                          tmp_path):
    """Through the C++ preprocessing, within tests/preprocessing/test_parity.py's
    tolerance: every value within one 8-bit level, at most 20% of values off."""
    patches, grids = training_patches
    one_level = np.tile(1.0 / (255.0 * np.asarray(prep.std)), prep.patch_size ** 2)
    for i, image in enumerate(images):
        png = tmp_path / f"part{i}.png"
        image.save(png)
        out = tmp_path / f"part{i}.npy"
        result = subprocess.run(
            [DUMP, "--encoded", str(png), "--out", str(out), "--patch-size", str(prep.patch_size),
             "--max-num-patches", str(prep.max_num_patches),
             "--mean", ",".join(map(str, prep.mean)), "--std", ",".join(map(str, prep.std))],
            capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        grid = json.loads(result.stdout)
        assert [grid["grid_h"], grid["grid_w"]] == grids[i]
        served = np.load(out)
        valid = grids[i][0] * grids[i][1]
        assert not served[valid:].any()
        difference = np.abs(served[:valid] - patches[i][:valid])
        assert (difference <= one_level + 1e-5).all(), f"image {i}: max {difference.max()}"
        assert (difference > 1e-5).mean() <= 0.2


def server_ids(tokenizer, visual_tokens, requests):
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    result = subprocess.run([CHAT_PROMPT_IDS, tokenizer, str(visual_tokens)], input=lines,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_prompt_and_answer_ids_match_the_servers_tokenizer(tmp_path):
    tokenizer = str(tmp_path / "tokenizer.json")
    write_tokenizer(tokenizer)
    encoder = BpeEncoder(tokenizer)
    visual_tokens = load_config(DEFAULT_CONFIG).compressor.num_tokens
    chat = ChatPrompt(encoder, visual_tokens)

    questions = list(QUESTIONS.values())
    served = server_ids(tokenizer, visual_tokens, [{"prompt": q} for q in questions])
    assert served == [chat.prompt(q) for q in questions]

    answers = all_answers()
    served = server_ids(tokenizer, visual_tokens, [{"text": a} for a in answers])
    assert [ids + [encoder.special_id("<|im_end|>")] for ids in served] == \
        [chat.answer(a) for a in answers]
