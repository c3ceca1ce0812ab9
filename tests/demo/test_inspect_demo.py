"""The shipped demo model, through the real server, on 200 held-out images
(the test split, never trained on): Inspect with the labels OK and NG agrees
with the greedy Generate answer to the same question, its p(NG) is
calibrated against the truth (expected calibration error, reported), and
the schema-constrained record answer parses and validates every time (the
schema allows only consistent records: an OK part has no defect).

The figures go to stdout and to $AURORAEDGE_INSPECT_DEMO_REPORT (JSON) when
it is set."""

import io
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))

import synthetic_parts  # noqa: E402
from aurora_client import Client, pb, split_responses  # noqa: E402
from inspection_task import QUESTIONS  # noqa: E402

NUM_IMAGES = 200
CONCURRENT_STREAMS = 16
MIN_AGREEMENT = 0.99
CALIBRATION_BINS = 10
with open(os.path.join(ROOT, "model", "python", "demo", "record.schema.json")) as f:
    RECORD_VALIDATOR = jsonschema.Draft202012Validator(json.load(f))


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def held_out():
    return [(png_bytes(image), truth)
            for image, truth in synthetic_parts.generate(synthetic_parts.split_seed("test"),
                                                         NUM_IMAGES)]


def expected_calibration_error(probabilities, outcomes, bins=CALIBRATION_BINS):
    """Sum over equal-width bins of p of (share of the samples) x |mean p -
    observed frequency|."""
    total = 0.0
    for b in range(bins):
        members = [(p, y) for p, y in zip(probabilities, outcomes)
                   if b / bins <= p < (b + 1) / bins or (b == bins - 1 and p == 1.0)]
        if members:
            mean_p = sum(p for p, _ in members) / len(members)
            frequency = sum(y for _, y in members) / len(members)
            total += len(members) / len(probabilities) * abs(mean_p - frequency)
    return total


def test_expected_calibration_error_by_hand():
    assert expected_calibration_error([0.05, 0.15, 0.95, 0.95], [0, 0, 1, 1]) == pytest.approx(
        (0.05 + 0.15 + 2 * 0.05) / 4)
    assert expected_calibration_error([0.9] * 10, [1] * 9 + [0]) == pytest.approx(0.0)


def test_inspect_agrees_with_greedy_generate_and_is_calibrated(server, held_out):
    question = QUESTIONS["status"]

    def ask(png):
        inspect = client.inspect(pb.InspectRequest(images=[pb.Image(encoded=png)], prompt=question,
                                                   labels=["OK", "NG"]), timeout=600)
        chunks, final = split_responses(client.generate(pb.GenerateRequest(
            images=[pb.Image(encoded=png)], prompt=question,
            sampling=pb.SamplingParams(max_new_tokens=8, temperature=0.0)), timeout=600))
        return inspect, "".join(c.text for c in chunks)

    client = Client(server.address)
    try:
        with ThreadPoolExecutor(CONCURRENT_STREAMS) as pool:
            replies = list(pool.map(lambda job: ask(job[0]), held_out))
    finally:
        client.close()

    agree = sum(inspect.label == generated for inspect, generated in replies)
    p_ng = [next(s.probability for s in inspect.scores if s.label == "NG")
            for inspect, _ in replies]
    is_ng = [int(truth.status == "NG") for _, truth in held_out]
    right = sum(inspect.label == truth.status for (inspect, _), (_, truth) in zip(replies, held_out))
    ece = expected_calibration_error(p_ng, is_ng)
    report = {"images": NUM_IMAGES, "agreement_with_greedy_generate": agree / NUM_IMAGES,
              "inspect_accuracy": right / NUM_IMAGES, "p_ng_expected_calibration_error": ece,
              "calibration_bins": CALIBRATION_BINS}
    print("inspect demo: " + json.dumps(report))
    if os.environ.get("AURORAEDGE_INSPECT_DEMO_REPORT"):
        with open(os.environ["AURORAEDGE_INSPECT_DEMO_REPORT"], "w") as f:
            json.dump(report, f, indent=2)
    disagreements = [(inspect.label, generated) for inspect, generated in replies
                     if inspect.label != generated]
    assert agree / NUM_IMAGES >= MIN_AGREEMENT, disagreements
    assert all(0.0 <= p <= 1.0 for p in p_ng)
    # p(NG) carries the answer: calibrated to within a tenth.
    assert ece < 0.1, report


def test_schema_constrained_records_always_parse(server, held_out):
    schema = json.dumps(RECORD_VALIDATOR.schema)

    def ask(png):
        chunks, final = split_responses(client.generate(pb.GenerateRequest(
            images=[pb.Image(encoded=png)], prompt=QUESTIONS["record"],
            sampling=pb.SamplingParams(temperature=0.0, json_schema=schema)), timeout=600))
        return "".join(c.text for c in chunks), final.finish_reason

    client = Client(server.address)
    try:
        with ThreadPoolExecutor(CONCURRENT_STREAMS) as pool:
            replies = list(pool.map(lambda job: ask(job[0]), held_out))
    finally:
        client.close()
    failures = []
    matching = 0
    for (text, finish), (_, truth) in zip(replies, held_out):
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            failures.append(text)
            continue
        if finish != pb.FINISH_REASON_STOP or not RECORD_VALIDATOR.is_valid(record):
            failures.append(text)
        matching += record == truth.record()
    print(f"constrained records: {NUM_IMAGES - len(failures)}/{NUM_IMAGES} parse and validate, "
          f"{matching} equal the truth")
    assert not failures, failures[:5]
