"""The shipped demo model, the server's embedded default (started without
--model), answers the inspection questions through the real server: every
question type on held-out images (the test split, never trained on), greedy,
exact match; and the CLI answers the shipped samples."""

import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))

import synthetic_parts  # noqa: E402
from aurora_client import Client, pb, split_responses  # noqa: E402
from inspection_task import QUESTION_TYPES, QUESTIONS, answer, parse_record  # noqa: E402
from server_process import ServerProcess  # noqa: E402

MODEL_DIR = os.environ["AURORAEDGE_TEST_MODEL"]
CLI_BIN = os.environ["AURORAEDGE_TEST_CLI"]
SAMPLES = os.path.join(ROOT, "models", "samples")
NUM_IMAGES = 200
CONCURRENT_STREAMS = 16
MIN_OVERALL = 0.95
MIN_PER_TYPE = 0.90


@pytest.fixture(scope="module")
def server():
    process = ServerProcess(model_dir=None)
    try:
        process.wait_serving()
        yield process
    finally:
        assert process.terminate() == 0, process.log()


def test_the_default_model_is_the_shipped_demo_model(server):
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        config = json.load(f)
    client = Client(server.address)
    try:
        info = client.info()
    finally:
        client.close()
    assert (info.name, info.version) == (config["name"], config["version"])


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ask(client, png, question):
    """The model's whole answer, greedy, and why it stopped."""
    request = pb.GenerateRequest(images=[pb.Image(encoded=png)], prompt=question,
                                 sampling=pb.SamplingParams(max_new_tokens=48, temperature=0.0))
    chunks, final = split_responses(client.generate(request, timeout=600))
    return "".join(c.text for c in chunks), final.finish_reason


def test_every_question_type_on_held_out_images(server):
    held_out = list(synthetic_parts.generate(synthetic_parts.split_seed("test"), NUM_IMAGES))
    jobs = [(png_bytes(image), truth, question_type)
            for image, truth in held_out for question_type in QUESTION_TYPES]
    client = Client(server.address)
    try:
        with ThreadPoolExecutor(CONCURRENT_STREAMS) as pool:
            replies = list(pool.map(lambda job: ask(client, job[0], QUESTIONS[job[2]]), jobs))
    finally:
        client.close()

    right = {t: 0 for t in QUESTION_TYPES}
    unparsed_records = []
    records_matching_truth = 0
    for (_, truth, question_type), (text, finish) in zip(jobs, replies):
        assert finish == pb.FINISH_REASON_STOP, f"{question_type}: '{text}' did not end its turn"
        right[question_type] += text == answer(truth, question_type)
        if question_type == "record":
            record = parse_record(text)
            if record is None:
                unparsed_records.append(text)
            records_matching_truth += record == truth.record()
    accuracy = {t: right[t] / NUM_IMAGES for t in QUESTION_TYPES}
    overall = sum(right.values()) / len(jobs)
    print("exact-match accuracy through the server: " +
          ", ".join(f"{t} {100 * a:.1f}%" for t, a in accuracy.items()) +
          f", overall {100 * overall:.1f}%")
    assert not unparsed_records, f"records that are not JSON: {unparsed_records[:5]}"
    assert records_matching_truth / NUM_IMAGES >= MIN_PER_TYPE
    assert overall >= MIN_OVERALL, accuracy
    for question_type, value in accuracy.items():
        assert value >= MIN_PER_TYPE, f"{question_type}: {100 * value:.1f}%"


def test_cli_answers_the_shipped_samples(server):
    with open(os.path.join(SAMPLES, "truth.json")) as f:
        truths = json.load(f)
    assert len(truths) >= 6
    wrong = []
    for name, truth in sorted(truths.items()):
        result = subprocess.run(
            [CLI_BIN, "--address", server.address, "generate", "--image",
             os.path.join(SAMPLES, name), "--prompt", QUESTIONS["status"], "--temperature", "0"],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        expected = "OK" if truth["defect"] == "none" else "NG"
        if result.stdout.strip() != expected:
            wrong.append((name, expected, result.stdout.strip()))
    assert not wrong, wrong
